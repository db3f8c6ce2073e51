// One statistics struct for every strategy, and the per-token trace. Both serialize to JSON (nlohmann).
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "decode/sequence.h"

namespace ead::decode {

// The rule moved generation from one model to the other: tokens from index `position` on (0-based, among the
// generated tokens) come from `to`, until the next switch.
struct SwitchEvent {
    int32_t position = 0;
    ModelId from = ModelId::kSmall;
    ModelId to = ModelId::kLarge;
    double rolling_entropy = 0.0;  // the rolling mean that triggered it, bits

    bool up() const { return to == ModelId::kLarge; }
};

// One generated token.
struct TokenTrace {
    int32_t id = 0;
    ModelId model = ModelId::kSmall;  // the model that produced it (for spec: the large model, whose
                                      // distribution it follows; accepted drafts count as large-model tokens)
    double entropy = 0.0;          // bits, of the producing model's raw logits at this position
    double rolling_entropy = 0.0;  // mean of the window after this token's entropy entered it
    bool drafted = false;          // spec / ead-spec: an accepted small-model draft
};

enum class StopReason : uint8_t { kNone, kNPredict, kEog, kCallback, kContext };
std::string_view stop_reason_name(StopReason r);  // "none", "n_predict", "eog", "callback", "context"

struct DecodeStats {
    std::string strategy;
    uint64_t seed = 0;  // the seed actually used
    StopReason stop_reason = StopReason::kNone;

    int32_t n_prompt = 0;
    int32_t n_generated = 0;
    std::array<int32_t, kNumModels> tokens{};  // generated tokens per model (index_of(ModelId))

    std::vector<SwitchEvent> switches;

    std::array<int32_t, kNumModels> catch_up_tokens{};  // tokens a model evaluated at its activation that the
                                                        // other model had generated while it was inactive
    std::array<int32_t, kNumModels> catch_up_calls{};

    // Speculative decoding (spec, ead-spec).
    int32_t spec_rounds = 0;  // verification batches
    int32_t drafted = 0;      // tokens drafted by the small model
    int32_t accepted = 0;     // drafts the large model accepted (all of them are output)
    int32_t draft_unchecked =
        0;  // drafts never verified: a switch (ead-spec) or a stop ended the round first

    std::array<int32_t, kNumModels> forward_passes{};    // eval calls
    std::array<int64_t, kNumModels> evaluated_tokens{};  // tokens in those calls
    std::array<double, kNumModels> flops{};              // sum of forward_flops of every call
    std::array<int64_t, kNumModels> n_params{};          // 0 when the model is absent
    double large_only_flops =
        0.0;  // a large-only greedy run of the same prompt and length (0: no large model)

    // Wall time, seconds.
    double time_prompt = 0.0;    // prompt prefill
    double time_catch_up = 0.0;  // catch-up prefill at activations
    double time_decode = 0.0;    // other forward passes (decode steps, drafts, verification)
    double time_sampling = 0.0;  // entropy, sampler chains, acceptance tests
    double time_total = 0.0;     // the whole run

    double entropy_sum = 0.0;  // of TokenTrace::entropy

    // Derived.
    double large_share() const;           // f_L = tokens[large] / n_generated
    double acceptance_rate() const;       // accepted / (drafted - draft_unchecked)
    double mean_accepted_length() const;  // accepted / spec_rounds
    double nominal_cost_ratio() const;    // f_L + (1 - f_L) * P_S / P_L (paper section 6); NaN without both
    double measured_cost_ratio()
        const;                         // (flops[small] + flops[large]) / large_only_flops; NaN without large
    double tokens_per_second() const;  // n_generated / (time_total - time_prompt)
    double prompt_tokens_per_second() const;
    double mean_entropy() const;
};

// {"strategy", "seed", "stop_reason", "n_prompt", "n_generated", "tokens": {"small", "large"}, "large_share",
//  "switches": {"count", "up", "down", "events": [{"position", "from", "to", "rolling_entropy"}]},
//  "catch_up": {"tokens": {"small", "large"}, "calls": {...}},
//  "spec": {"rounds", "drafted", "accepted", "unchecked", "acceptance_rate", "mean_accepted_length"},
//  "forward_passes": {...}, "evaluated_tokens": {...},
//  "time_s": {"prompt", "catch_up", "decode", "sampling", "total"}, "tokens_per_s", "prompt_tokens_per_s",
//  "params": {"small", "large"}, "nominal_cost_ratio", "nominal_reduction",
//  "flops": {"small", "large", "total", "large_only"}, "measured_cost_ratio", "mean_entropy"}
// NaN values are written as null.
nlohmann::ordered_json to_json(const DecodeStats& s);
nlohmann::ordered_json to_json(const SwitchEvent& e);
// {"id", "model", "entropy", "rolling_entropy", "drafted"}
nlohmann::ordered_json to_json(const TokenTrace& t);

// Sums of several runs (the eval harness's pooled f_L): counts, times and flops add; events are concatenated
// with positions left as they were; strategy/seed/stop_reason are taken from the first run.
DecodeStats pool(const std::vector<DecodeStats>& runs);

}  // namespace ead::decode
