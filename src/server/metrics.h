// Server metrics in the Prometheus text exposition format (GET /metrics). Thread-safe.
//
//   ead_requests_total{endpoint, status}         responses sent, by route and HTTP status
//   ead_prompt_tokens_total                      prompt tokens of completed generations
//   ead_tokens_generated_total{model}            generated tokens by the model that produced them
//   ead_switches_total{direction}                EAD switches ("up": small->large, "down": large->small)
//   ead_catch_up_tokens_total{model}             tokens evaluated at a model's activation (catch-up prefill)
//   ead_drafted_tokens_total, ead_accepted_tokens_total   speculative decoding
//   ead_requests_cancelled_total                 generations stopped because the client went away
//   ead_queue_length, ead_slots_busy, ead_slots_total     gauges
//   ead_request_duration_seconds                 histogram: arrival to last byte of generation (completions)
//   ead_time_to_first_token_seconds              histogram: arrival to the first generated token
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "decode/stats.h"

namespace ead::server {

class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v);
    // Appends the _bucket/_sum/_count lines of metric `name`.
    void write(std::string& out, const std::string& name) const;

private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bucket (not cumulative); last = +Inf
    double sum_ = 0.0;
    uint64_t count_ = 0;
    mutable std::mutex mu_;
};

class Metrics {
public:
    Metrics();

    void count_request(const std::string& endpoint, int status);
    void count_generation(const decode::DecodeStats& stats, bool cancelled);
    void observe_latency(double seconds) { latency_.observe(seconds); }
    void observe_ttft(double seconds) { ttft_.observe(seconds); }

    // Gauges are read at render time.
    std::string render(int queue_length, int slots_busy, int slots_total) const;

    uint64_t requests(const std::string& endpoint, int status) const;

private:
    mutable std::mutex mu_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    uint64_t prompt_tokens_ = 0;
    std::array<uint64_t, decode::kNumModels> generated_{};
    std::array<uint64_t, decode::kNumModels> catch_up_{};
    uint64_t switches_up_ = 0;
    uint64_t switches_down_ = 0;
    uint64_t drafted_ = 0;
    uint64_t accepted_ = 0;
    uint64_t cancelled_ = 0;
    Histogram latency_;
    Histogram ttft_;
};

}  // namespace ead::server
