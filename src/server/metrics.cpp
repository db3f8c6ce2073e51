#include "server/metrics.h"

#include <cstdio>

namespace ead::server {
namespace {

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
    std::lock_guard lock(mu_);
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    ++counts_[i];
    sum_ += v;
    ++count_;
}

void Histogram::write(std::string& out, const std::string& name) const {
    std::lock_guard lock(mu_);
    uint64_t cum = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cum += counts_[i];
        out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
    }
    cum += counts_.back();
    out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
    out += name + "_sum " + num(sum_) + "\n";
    out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : latency_({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}),
      ttft_({0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}) {}

void Metrics::count_request(const std::string& endpoint, int status) {
    std::lock_guard lock(mu_);
    ++requests_[{endpoint, status}];
}

uint64_t Metrics::requests(const std::string& endpoint, int status) const {
    std::lock_guard lock(mu_);
    auto it = requests_.find({endpoint, status});
    return it == requests_.end() ? 0 : it->second;
}

void Metrics::count_generation(const decode::DecodeStats& s, bool cancelled) {
    std::lock_guard lock(mu_);
    prompt_tokens_ += static_cast<uint64_t>(s.n_prompt);
    for (int m = 0; m < decode::kNumModels; ++m) {
        generated_[m] += static_cast<uint64_t>(s.tokens[m]);
        catch_up_[m] += static_cast<uint64_t>(s.catch_up_tokens[m]);
    }
    for (const auto& e : s.switches) (e.up() ? switches_up_ : switches_down_)++;
    drafted_ += static_cast<uint64_t>(s.drafted);
    accepted_ += static_cast<uint64_t>(s.accepted);
    if (cancelled) ++cancelled_;
}

std::string Metrics::render(int queue_length, int slots_busy, int slots_total) const {
    std::string out;
    {
        std::lock_guard lock(mu_);
        header(out, "ead_requests_total", "counter", "HTTP responses by endpoint and status");
        for (const auto& [key, n] : requests_) {
            out += "ead_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
                   "\"} " + std::to_string(n) + "\n";
        }
        header(out, "ead_prompt_tokens_total", "counter", "prompt tokens of generations");
        out += "ead_prompt_tokens_total " + std::to_string(prompt_tokens_) + "\n";
        header(out, "ead_tokens_generated_total", "counter", "generated tokens by producing model");
        header(out, "ead_catch_up_tokens_total", "counter", "catch-up prefill tokens by model");
        for (int m = 0; m < decode::kNumModels; ++m) {
            const std::string name(decode::model_name(static_cast<decode::ModelId>(m)));
            out += "ead_tokens_generated_total{model=\"" + name + "\"} " + std::to_string(generated_[m]) + "\n";
            out += "ead_catch_up_tokens_total{model=\"" + name + "\"} " + std::to_string(catch_up_[m]) + "\n";
        }
        header(out, "ead_switches_total", "counter", "EAD model switches by direction");
        out += "ead_switches_total{direction=\"up\"} " + std::to_string(switches_up_) + "\n";
        out += "ead_switches_total{direction=\"down\"} " + std::to_string(switches_down_) + "\n";
        header(out, "ead_drafted_tokens_total", "counter", "tokens drafted by the small model (speculative)");
        out += "ead_drafted_tokens_total " + std::to_string(drafted_) + "\n";
        header(out, "ead_accepted_tokens_total", "counter", "drafted tokens accepted (speculative)");
        out += "ead_accepted_tokens_total " + std::to_string(accepted_) + "\n";
        header(out, "ead_requests_cancelled_total", "counter", "generations stopped because the client went away");
        out += "ead_requests_cancelled_total " + std::to_string(cancelled_) + "\n";
    }
    header(out, "ead_queue_length", "gauge", "requests waiting for a slot");
    out += "ead_queue_length " + std::to_string(queue_length) + "\n";
    header(out, "ead_slots_busy", "gauge", "slots generating");
    out += "ead_slots_busy " + std::to_string(slots_busy) + "\n";
    header(out, "ead_slots_total", "gauge", "slots");
    out += "ead_slots_total " + std::to_string(slots_total) + "\n";
    header(out, "ead_request_duration_seconds", "histogram", "completion request latency");
    latency_.write(out, "ead_request_duration_seconds");
    header(out, "ead_time_to_first_token_seconds", "histogram", "time from arrival to the first generated token");
    ttft_.write(out, "ead_time_to_first_token_seconds");
    return out;
}

}  // namespace ead::server
