#include "decode/stats.h"

#include <cmath>
#include <limits>

namespace ead::decode {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

nlohmann::ordered_json num(double v) {
    return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

template <class T>
nlohmann::ordered_json per_model(const std::array<T, kNumModels>& a) {
    return {{"small", a[0]}, {"large", a[1]}};
}

double ratio(double a, double b) {
    return b > 0 ? a / b : kNaN;
}

}  // namespace

std::string_view stop_reason_name(StopReason r) {
    switch (r) {
        case StopReason::kNone:
            return "none";
        case StopReason::kNPredict:
            return "n_predict";
        case StopReason::kEog:
            return "eog";
        case StopReason::kCallback:
            return "callback";
        case StopReason::kContext:
            return "context";
    }
    return "?";
}

double DecodeStats::large_share() const {
    return ratio(tokens[1], n_generated);
}
double DecodeStats::acceptance_rate() const {
    return ratio(accepted, drafted - draft_unchecked);
}
double DecodeStats::mean_accepted_length() const {
    return ratio(accepted, spec_rounds);
}

double DecodeStats::nominal_cost_ratio() const {
    if (n_params[0] <= 0 || n_params[1] <= 0 || n_generated == 0) return kNaN;
    const double f_l = large_share();
    return f_l + (1.0 - f_l) * static_cast<double>(n_params[0]) / static_cast<double>(n_params[1]);
}

double DecodeStats::measured_cost_ratio() const {
    return ratio(flops[0] + flops[1], large_only_flops);
}
double DecodeStats::tokens_per_second() const {
    return ratio(n_generated, time_total - time_prompt);
}
double DecodeStats::prompt_tokens_per_second() const {
    return ratio(n_prompt, time_prompt);
}
double DecodeStats::mean_entropy() const {
    return ratio(entropy_sum, n_generated);
}

nlohmann::ordered_json to_json(const SwitchEvent& e) {
    return {{"position", e.position},
            {"from", model_name(e.from)},
            {"to", model_name(e.to)},
            {"rolling_entropy", num(e.rolling_entropy)}};
}

nlohmann::ordered_json to_json(const TokenTrace& t) {
    return {{"id", t.id},
            {"model", model_name(t.model)},
            {"entropy", num(t.entropy)},
            {"rolling_entropy", num(t.rolling_entropy)},
            {"drafted", t.drafted}};
}

nlohmann::ordered_json to_json(const DecodeStats& s) {
    nlohmann::ordered_json j;
    j["strategy"] = s.strategy;
    j["seed"] = s.seed;
    j["stop_reason"] = stop_reason_name(s.stop_reason);
    j["n_prompt"] = s.n_prompt;
    j["n_generated"] = s.n_generated;
    j["tokens"] = per_model(s.tokens);
    j["large_share"] = num(s.large_share());
    int32_t up = 0;
    nlohmann::ordered_json events = nlohmann::ordered_json::array();
    for (const auto& e : s.switches) {
        up += e.up() ? 1 : 0;
        events.push_back(to_json(e));
    }
    j["switches"] = {{"count", s.switches.size()},
                     {"up", up},
                     {"down", static_cast<int32_t>(s.switches.size()) - up},
                     {"events", events}};
    j["catch_up"] = {{"tokens", per_model(s.catch_up_tokens)}, {"calls", per_model(s.catch_up_calls)}};
    j["spec"] = {{"rounds", s.spec_rounds},
                 {"drafted", s.drafted},
                 {"accepted", s.accepted},
                 {"unchecked", s.draft_unchecked},
                 {"acceptance_rate", num(s.acceptance_rate())},
                 {"mean_accepted_length", num(s.mean_accepted_length())}};
    j["forward_passes"] = per_model(s.forward_passes);
    j["evaluated_tokens"] = per_model(s.evaluated_tokens);
    j["time_s"] = {{"prompt", s.time_prompt},
                   {"catch_up", s.time_catch_up},
                   {"decode", s.time_decode},
                   {"sampling", s.time_sampling},
                   {"total", s.time_total}};
    j["tokens_per_s"] = num(s.tokens_per_second());
    j["prompt_tokens_per_s"] = num(s.prompt_tokens_per_second());
    j["params"] = per_model(s.n_params);
    j["nominal_cost_ratio"] = num(s.nominal_cost_ratio());
    j["nominal_reduction"] = num(1.0 - s.nominal_cost_ratio());
    j["flops"] = {{"small", s.flops[0]},
                  {"large", s.flops[1]},
                  {"total", s.flops[0] + s.flops[1]},
                  {"large_only", s.large_only_flops}};
    j["measured_cost_ratio"] = num(s.measured_cost_ratio());
    j["mean_entropy"] = num(s.mean_entropy());
    return j;
}

DecodeStats pool(const std::vector<DecodeStats>& runs) {
    DecodeStats out;
    if (runs.empty()) return out;
    out.strategy = runs[0].strategy;
    out.seed = runs[0].seed;
    out.stop_reason = runs[0].stop_reason;
    out.n_params = runs[0].n_params;
    for (const auto& r : runs) {
        out.n_prompt += r.n_prompt;
        out.n_generated += r.n_generated;
        out.switches.insert(out.switches.end(), r.switches.begin(), r.switches.end());
        out.spec_rounds += r.spec_rounds;
        out.drafted += r.drafted;
        out.accepted += r.accepted;
        out.draft_unchecked += r.draft_unchecked;
        for (int m = 0; m < kNumModels; ++m) {
            out.tokens[m] += r.tokens[m];
            out.catch_up_tokens[m] += r.catch_up_tokens[m];
            out.catch_up_calls[m] += r.catch_up_calls[m];
            out.forward_passes[m] += r.forward_passes[m];
            out.evaluated_tokens[m] += r.evaluated_tokens[m];
            out.flops[m] += r.flops[m];
        }
        out.large_only_flops += r.large_only_flops;
        out.time_prompt += r.time_prompt;
        out.time_catch_up += r.time_catch_up;
        out.time_decode += r.time_decode;
        out.time_sampling += r.time_sampling;
        out.time_total += r.time_total;
        out.entropy_sum += r.entropy_sum;
    }
    return out;
}

}  // namespace ead::decode
