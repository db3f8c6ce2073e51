#include "decode/params.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace ead::decode {
namespace {

using P = DecodeParams;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string fmt_double(double v) {
    if (std::isnan(v)) return "none";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    // Shortest form that round-trips.
    for (int prec = 1; prec <= 17; ++prec) {
        char b2[64];
        std::snprintf(b2, sizeof b2, "%.*g", prec, v);
        if (std::strtod(b2, nullptr) == v) return b2;
    }
    return buf;
}

[[noreturn]] void fail(const ParamDecl& d, const std::string& what) {
    throw ParamError("decode parameter '" + std::string(d.name) + "': " + what);
}

void check_range(const ParamDecl& d, double v) {
    if (std::isnan(v) && !d.nullable) fail(d, "expected a number, got NaN");
    if (!std::isnan(v) && (v < d.min || v > d.max))
        fail(d, "value " + fmt_double(v) + " is out of range [" + fmt_double(d.min) + ", " +
                    fmt_double(d.max) + "]");
}

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return r;
}

}  // namespace

std::string_view strategy_name(Strategy s) {
    switch (s) {
        case Strategy::kSmall:
            return "small";
        case Strategy::kLarge:
            return "large";
        case Strategy::kEad:
            return "ead";
        case Strategy::kSpec:
            return "spec";
        case Strategy::kEadSpec:
            return "ead-spec";
    }
    return "?";
}

Strategy parse_strategy(std::string_view name) {
    for (Strategy s :
         {Strategy::kSmall, Strategy::kLarge, Strategy::kEad, Strategy::kSpec, Strategy::kEadSpec})
        if (strategy_name(s) == name) return s;
    throw ParamError("decode parameter 'strategy': unknown strategy '" + std::string(name) +
                     "' (expected small, large, ead, spec or ead-spec)");
}

ParamType ParamDecl::type() const {
    switch (field.index()) {
        case 0:
            return ParamType::kBool;
        case 1:
        case 2:
            return ParamType::kInt;
        case 3:
            return ParamType::kFloat;
        default:
            return ParamType::kString;
    }
}

std::string ParamDecl::flag() const {
    std::string f = "--" + std::string(name);
    std::replace(f.begin(), f.end(), '_', '-');
    return f;
}

std::string ParamDecl::cli_names() const {
    std::string names = flag();
    if (name == "n_predict") names = "-n," + names;
    if (name == "seed") names = "-s," + names;
    if (name == "threads") names = "-t," + names;
    if (name == "temperature") names += ",--temp";
    return names;
}

const std::vector<ParamDecl>& param_decls() {
    static const std::vector<ParamDecl> decls = {
        {"strategy",
         "EAD_STRATEGY",
         "decoding strategy: small or large (one model alone), ead (entropy adaptive), spec (speculative: "
         "small "
         "drafts, large verifies), ead-spec (ead whose large-model tokens are produced speculatively)",
         &P::strategy,
         -kInf,
         kInf,
         {"small", "large", "ead", "spec", "ead-spec"}},
        {"tau", "EAD_TAU", "EAD threshold on the rolling entropy, in bits of the raw logits", &P::tau, -kInf,
         kInf},
        {"tau_up",
         "EAD_TAU_UP",
         "switch small->large when the rolling entropy is > tau_up (bits; default: tau)",
         &P::tau_up,
         -kInf,
         kInf,
         {},
         true},
        {"tau_down",
         "EAD_TAU_DOWN",
         "switch large->small when the rolling entropy is <= tau_down (bits; default: tau)",
         &P::tau_down,
         -kInf,
         kInf,
         {},
         true},
        {"window", "EAD_WINDOW", "w: number of recent token entropies in the rolling mean", &P::window, 1,
         4096},
        {"min_dwell", "EAD_MIN_DWELL",
         "d_min: tokens the active model generates after a switch before the rule may switch again",
         &P::min_dwell, 0, 1e9},
        {"start_large", "EAD_START_LARGE", "start generation on the large model (paper: small)",
         &P::start_large},
        {"reset_window_on_switch", "EAD_RESET_WINDOW_ON_SWITCH",
         "clear the entropy window at each switch (paper: kept)", &P::reset_window_on_switch},
        {"lazy_prefill", "EAD_LAZY_PREFILL",
         "a model not active at the start prefills the prompt at its first activation (false: at the start)",
         &P::lazy_prefill},
        {"draft_max", "EAD_DRAFT_MAX", "spec / ead-spec: maximum tokens the small model drafts per round",
         &P::draft_max, 1, 1024},
        {"p_min", "EAD_P_MIN",
         "spec / ead-spec: stop drafting when the small model's top raw probability is below p_min",
         &P::p_min, 0, 1},
        {"temperature", "EAD_TEMPERATURE", "sampling temperature; 0 = greedy", &P::temperature, 0, 100},
        {"top_k", "EAD_TOP_K", "keep the k most likely tokens; 0 = off", &P::top_k, 0, 1e9},
        {"top_p", "EAD_TOP_P", "nucleus: keep the smallest set with probability >= top_p; 1 = off", &P::top_p,
         0, 1},
        {"min_p", "EAD_MIN_P", "keep tokens with probability >= min_p * the top probability; 0 = off",
         &P::min_p, 0, 1},
        {"repeat_penalty", "EAD_REPEAT_PENALTY", "repetition penalty (logit/r if > 0, else logit*r); 1 = off",
         &P::repeat_penalty, 1e-6, 1e6},
        {"repeat_last_n", "EAD_REPEAT_LAST_N",
         "tokens of history the penalties look at; -1 = all, 0 = penalties off", &P::repeat_last_n, -1, 1e9},
        {"presence_penalty", "EAD_PRESENCE_PENALTY", "subtracted from the logit of every token in the window",
         &P::presence_penalty, -100, 100},
        {"frequency_penalty", "EAD_FREQUENCY_PENALTY",
         "subtracted from a token's logit once per occurrence in the window", &P::frequency_penalty, -100,
         100},
        {"seed", "EAD_SEED", "random seed (std::mt19937_64); -1 = random", &P::seed, -1,
         static_cast<double>(std::numeric_limits<int64_t>::max())},
        {"n_predict", "EAD_N_PREDICT", "maximum tokens to generate; -1 = until end of generation or context",
         &P::n_predict, -1, 1e9},
        {"threads", "EAD_THREADS", "CPU threads for the models; 0 = all cores", &P::threads, 0, 4096},
    };
    return decls;
}

const ParamDecl* find_param(std::string_view name) {
    for (const auto& d : param_decls())
        if (d.name == name) return &d;
    return nullptr;
}

void set_param(DecodeParams& p, const ParamDecl& d, std::string_view text) {
    std::visit(
        [&](auto field) {
            using T = std::remove_reference_t<decltype(p.*field)>;
            if constexpr (std::is_same_v<T, bool>) {
                const std::string t = lower(text);
                if (t == "true" || t == "1" || t == "yes" || t == "on")
                    p.*field = true;
                else if (t == "false" || t == "0" || t == "no" || t == "off")
                    p.*field = false;
                else
                    fail(d, "expected true or false, got '" + std::string(text) + "'");
            } else if constexpr (std::is_integral_v<T>) {
                int64_t v = 0;
                auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
                if (ec != std::errc() || ptr != text.data() + text.size() || text.empty())
                    fail(d, "expected an integer, got '" + std::string(text) + "'");
                check_range(d, static_cast<double>(v));
                p.*field = static_cast<T>(v);
            } else if constexpr (std::is_same_v<T, double>) {
                const std::string t = lower(text);
                if (d.nullable && (t.empty() || t == "none" || t == "null")) {
                    p.*field = DecodeParams::kUnset;
                    return;
                }
                const std::string s(text);
                char* end = nullptr;
                const double v = std::strtod(s.c_str(), &end);
                if (s.empty() || end != s.c_str() + s.size()) fail(d, "expected a number, got '" + s + "'");
                check_range(d, v);
                p.*field = v;
            } else {
                if (!d.choices.empty() &&
                    std::find(d.choices.begin(), d.choices.end(), text) == d.choices.end()) {
                    std::string list;
                    for (auto c : d.choices) list += (list.empty() ? "" : ", ") + std::string(c);
                    fail(d, "expected one of " + list + ", got '" + std::string(text) + "'");
                }
                p.*field = std::string(text);
            }
        },
        d.field);
}

std::string param_text(const DecodeParams& p, const ParamDecl& d) {
    return std::visit(
        [&](auto field) -> std::string {
            using T = std::remove_cvref_t<decltype(p.*field)>;
            if constexpr (std::is_same_v<T, bool>)
                return p.*field ? "true" : "false";
            else if constexpr (std::is_integral_v<T>)
                return std::to_string(p.*field);
            else if constexpr (std::is_same_v<T, double>)
                return fmt_double(p.*field);
            else
                return p.*field;
        },
        d.field);
}

void apply_json(DecodeParams& p, const nlohmann::json& j, bool ignore_unknown) {
    if (!j.is_object()) throw ParamError("decode parameters: expected a JSON object");
    DecodeParams out = p;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const ParamDecl* d = find_param(it.key());
        if (!d) {
            if (ignore_unknown) continue;
            throw ParamError("decode parameter '" + it.key() + "': unknown parameter");
        }
        const nlohmann::json& v = it.value();
        std::visit(
            [&](auto field) {
                using T = std::remove_reference_t<decltype(out.*field)>;
                if constexpr (std::is_same_v<T, bool>) {
                    if (!v.is_boolean()) fail(*d, std::string("expected a boolean, got ") + v.type_name());
                    out.*field = v.get<bool>();
                } else if constexpr (std::is_integral_v<T>) {
                    if (v.is_number_integer()) {
                        const double x = v.is_number_unsigned() ? static_cast<double>(v.get<uint64_t>())
                                                                : static_cast<double>(v.get<int64_t>());
                        check_range(*d, x);
                        out.*field = static_cast<T>(v.get<int64_t>());
                    } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
                        check_range(*d, v.get<double>());
                        out.*field = static_cast<T>(v.get<double>());
                    } else {
                        fail(*d, std::string("expected an integer, got ") +
                                     (v.is_number() ? "a fraction" : v.type_name()));
                    }
                } else if constexpr (std::is_same_v<T, double>) {
                    if (v.is_null() && d->nullable) {
                        out.*field = DecodeParams::kUnset;
                        return;
                    }
                    if (!v.is_number()) fail(*d, std::string("expected a number, got ") + v.type_name());
                    check_range(*d, v.get<double>());
                    out.*field = v.get<double>();
                } else {
                    if (!v.is_string()) fail(*d, std::string("expected a string, got ") + v.type_name());
                    set_param(out, *d, v.get<std::string>());
                }
            },
            d->field);
    }
    validate(out);
    p = std::move(out);
}

nlohmann::ordered_json to_json(const DecodeParams& p) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& d : param_decls()) {
        std::visit(
            [&](auto field) {
                using T = std::remove_cvref_t<decltype(p.*field)>;
                if constexpr (std::is_same_v<T, double>) {
                    if (std::isnan(p.*field))
                        j[std::string(d.name)] = nullptr;
                    else
                        j[std::string(d.name)] = p.*field;
                } else {
                    j[std::string(d.name)] = p.*field;
                }
            },
            d.field);
    }
    return j;
}

void apply_env(DecodeParams& p) {
    DecodeParams out = p;
    for (const auto& d : param_decls()) {
        const char* v = std::getenv(std::string(d.env).c_str());
        if (v) {
            try {
                set_param(out, d, v);
            } catch (const ParamError& e) {
                throw ParamError(std::string(e.what()) + " (from environment variable " + std::string(d.env) +
                                 ")");
            }
        }
    }
    validate(out);
    p = std::move(out);
}

void validate(const DecodeParams& p) {
    (void)parse_strategy(p.strategy);
    if (std::isnan(p.tau)) throw ParamError("decode parameter 'tau': expected a number, got NaN");
    if (p.effective_tau_up() < p.effective_tau_down())
        throw ParamError("decode parameters 'tau_up' and 'tau_down': tau_up (" +
                         fmt_double(p.effective_tau_up()) + ") must be >= tau_down (" +
                         fmt_double(p.effective_tau_down()) + ")");
}

}  // namespace ead::decode
