// Strategies on fake sequences: the invariants that hold by construction (tau = +inf is small-only greedy,
// ...), the switching rule end to end, speculative decoding (greedy identity, lossless sampling), statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/test_env.h"
#include "decode/fake_sequence.h"
#include "decode/sampler.h"
#include "decode/strategy.h"

namespace ead::decode {
namespace {

using test::FakePair;
using test::FakeSequence;

const std::vector<int32_t> kPrompt = {1, 2, 3, 4, 5};
constexpr double kInf = std::numeric_limits<double>::infinity();

DecodeParams params(const std::string& strategy, int32_t n_predict = 64) {
    DecodeParams p;
    p.strategy = strategy;
    p.n_predict = n_predict;
    p.seed = 1;
    return p;
}

DecodeResult run(const DecodeParams& p, FakeSequence& small, FakeSequence& large,
                 const std::vector<int32_t>& prompt = kPrompt, const RunOptions& options = {}) {
    small.clear_batches();
    large.clear_batches();
    return generate(p, &small, &large, prompt, options);
}

// 'S'/'L' per generated token.
std::string models(const DecodeResult& r) {
    std::string s;
    for (const auto& t : r.trace) s += t.model == ModelId::kSmall ? 'S' : 'L';
    return s;
}

std::vector<std::pair<int32_t, bool>> switches(const DecodeResult& r) {
    std::vector<std::pair<int32_t, bool>> s;
    for (const auto& e : r.stats.switches) s.emplace_back(e.position, e.up());
    return s;
}

int64_t sum(const std::vector<int32_t>& v) {
    int64_t s = 0;
    for (int32_t x : v) s += x;
    return s;
}

// The statistics are internally consistent and agree with what the fakes saw.
void expect_stats_add_up(const DecodeResult& r, const FakeSequence& small, const FakeSequence& large) {
    const DecodeStats& st = r.stats;
    EXPECT_EQ(st.n_generated, static_cast<int32_t>(r.tokens.size()));
    EXPECT_EQ(r.trace.size(), r.tokens.size());
    EXPECT_EQ(st.tokens[0] + st.tokens[1], st.n_generated);
    int32_t per_model[2] = {0, 0};
    for (const auto& t : r.trace) per_model[index_of(t.model)]++;
    EXPECT_EQ(st.tokens[0], per_model[0]);
    EXPECT_EQ(st.tokens[1], per_model[1]);
    EXPECT_EQ(st.forward_passes[0], static_cast<int32_t>(small.batches().size()));
    EXPECT_EQ(st.forward_passes[1], static_cast<int32_t>(large.batches().size()));
    EXPECT_EQ(st.evaluated_tokens[0], sum(small.batches()));
    EXPECT_EQ(st.evaluated_tokens[1], sum(large.batches()));
    EXPECT_LE(st.accepted + st.draft_unchecked, st.drafted);
    // Switch events match the trace: the model changes exactly at each event's position.
    size_t next_event = 0;
    for (size_t i = 1; i < r.trace.size(); ++i) {
        if (r.trace[i].model != r.trace[i - 1].model) {
            ASSERT_LT(next_event, st.switches.size());
            EXPECT_EQ(st.switches[next_event].position, static_cast<int32_t>(i));
            EXPECT_EQ(st.switches[next_event].to, r.trace[i].model);
            ++next_event;
        }
    }
    EXPECT_EQ(next_event, st.switches.size());
    EXPECT_GE(st.time_prompt, 0.0);
    EXPECT_GE(st.time_total, st.time_prompt + st.time_catch_up + st.time_decode + st.time_sampling - 1e-9);
    // Both caches hold a prefix of prompt + generated.
    std::vector<int32_t> all = kPrompt;
    all.insert(all.end(), r.tokens.begin(), r.tokens.end());
    for (const FakeSequence* s : {&small, &large}) {
        ASSERT_LE(s->cache().size(), all.size());
        EXPECT_TRUE(std::equal(s->cache().begin(), s->cache().end(), all.begin()));
    }
}

// Quantile q of the rolling entropies (w = 5) along the small model's greedy output: thresholds that make EAD
// switch back and forth on the fake pair.
double entropy_quantile(FakePair& pair, double q) {
    auto r = run(params("small", 200), pair.small, pair.large);
    std::vector<double> h;
    for (const auto& t : r.trace) h.push_back(t.rolling_entropy);
    std::sort(h.begin(), h.end());
    return h[static_cast<size_t>(q * (h.size() - 1))];
}

// -----------------------------------------------------------------------------------------------------------
// Invariants
// -----------------------------------------------------------------------------------------------------------

TEST(Strategy, EadWithInfiniteTauIsSmallOnlyGreedy) {
    FakePair pair;
    const auto small_only = run(params("small"), pair.small, pair.large);
    DecodeParams p = params("ead");
    p.tau = kInf;
    const auto ead = run(p, pair.small, pair.large);
    EXPECT_EQ(ead.tokens, small_only.tokens);
    EXPECT_EQ(models(ead), std::string(64, 'S'));
    EXPECT_EQ(ead.stats.forward_passes[1], 0);  // the large model is prefilled lazily: never
    EXPECT_TRUE(ead.stats.switches.empty());
    expect_stats_add_up(ead, pair.small, pair.large);
}

TEST(Strategy, EadStartingLargeWithTauBelowEveryEntropyIsLargeOnlyGreedy) {
    FakePair pair(64, 4096, 1.0, 1.0, 0.35, /*large_rows=*/80);  // 16 padding rows with high logits
    const auto large_only = run(params("large"), pair.small, pair.large);
    DecodeParams p = params("ead");
    p.tau = -1.0;
    p.start_large = true;
    const auto ead = run(p, pair.small, pair.large);
    EXPECT_EQ(ead.tokens, large_only.tokens);
    EXPECT_EQ(models(ead), std::string(64, 'L'));
    EXPECT_EQ(ead.stats.forward_passes[0], 0);
    for (int32_t t : ead.tokens) EXPECT_LT(t, 64);  // padding rows are never drawn
    expect_stats_add_up(ead, pair.small, pair.large);
}

TEST(Strategy, SmallAndLargeDiffer) {
    // (Otherwise the identities above would prove nothing.)
    FakePair pair;
    EXPECT_NE(run(params("small"), pair.small, pair.large).tokens,
              run(params("large"), pair.small, pair.large).tokens);
}

TEST(Strategy, GreedySpecIsLargeOnlyGreedy) {
    FakePair pair;
    const auto large_only = run(params("large", 96), pair.small, pair.large);
    for (int32_t draft_max : {1, 2, 3, 4, 7, 16}) {
        for (double p_min : {0.0, 0.5}) {
            DecodeParams p = params("spec", 96);
            p.draft_max = draft_max;
            p.p_min = p_min;
            const auto spec = run(p, pair.small, pair.large);
            EXPECT_EQ(spec.tokens, large_only.tokens) << "draft_max=" << draft_max << " p_min=" << p_min;
            EXPECT_EQ(models(spec), std::string(96, 'L'));
            expect_stats_add_up(spec, pair.small, pair.large);
            const DecodeStats& st = spec.stats;
            if (p_min == 0.0) {
                EXPECT_GT(st.drafted, 0);
                EXPECT_GT(st.accepted, 0);
            }
            EXPECT_LE(st.drafted, st.spec_rounds * draft_max);
            if (p_min == 0.0 && draft_max > 1) {
                EXPECT_LT(st.forward_passes[1], large_only.stats.forward_passes[1]);
            }
            // Entropies are the large model's.
            for (size_t i = 0; i < spec.trace.size(); ++i)
                EXPECT_EQ(spec.trace[i].entropy, large_only.trace[i].entropy) << i;
        }
    }
}

TEST(Strategy, GreedyEadSpecIsEad) {
    FakePair pair;
    int64_t ead_large_passes = 0, ead_spec_large_passes = 0;
    int configs_with_switches = 0;
    for (double q : {0.2, 0.4, 0.6, 0.8}) {
        const double tau = entropy_quantile(pair, q);
        for (int32_t min_dwell : {0, 3, 10}) {
            for (bool start_large : {false, true}) {
                for (int32_t draft_max : {1, 4, 8}) {
                    DecodeParams p = params("ead", 80);
                    p.tau = tau;
                    p.min_dwell = min_dwell;
                    p.start_large = start_large;
                    p.draft_max = draft_max;
                    p.reset_window_on_switch = min_dwell == 3;
                    const auto ead = run(p, pair.small, pair.large);
                    expect_stats_add_up(ead, pair.small, pair.large);
                    p.strategy = "ead-spec";
                    const auto ead_spec = run(p, pair.small, pair.large);
                    expect_stats_add_up(ead_spec, pair.small, pair.large);
                    const std::string where = "tau=" + std::to_string(tau) +
                                              " d_min=" + std::to_string(min_dwell) +
                                              " start_large=" + std::to_string(start_large) +
                                              " draft_max=" + std::to_string(draft_max);
                    ASSERT_EQ(ead_spec.tokens, ead.tokens) << where;
                    EXPECT_EQ(models(ead_spec), models(ead)) << where;
                    EXPECT_EQ(switches(ead_spec), switches(ead)) << where;
                    for (size_t i = 0; i < ead.trace.size(); ++i) {
                        EXPECT_EQ(ead_spec.trace[i].entropy, ead.trace[i].entropy) << where << " i=" << i;
                        EXPECT_EQ(ead_spec.trace[i].rolling_entropy, ead.trace[i].rolling_entropy) << where;
                    }
                    EXPECT_EQ(ead_spec.stats.tokens, ead.stats.tokens);
                    ead_large_passes += ead.stats.forward_passes[1];
                    ead_spec_large_passes += ead_spec.stats.forward_passes[1];
                    configs_with_switches += ead.stats.switches.size() >= 2 ? 1 : 0;
                }
            }
        }
    }
    EXPECT_GT(configs_with_switches, 20);
    EXPECT_LT(ead_spec_large_passes, ead_large_passes);
}

TEST(Strategy, SamplingEadWithInfiniteTauIsSmallOnlySampling) {
    FakePair pair;
    DecodeParams p = params("small");
    p.temperature = 0.9;
    p.top_k = 20;
    p.seed = 77;
    const auto small_only = run(p, pair.small, pair.large);
    p.strategy = "ead";
    p.tau = kInf;
    EXPECT_EQ(run(p, pair.small, pair.large).tokens, small_only.tokens);
    p.seed = 78;
    EXPECT_NE(run(p, pair.small, pair.large).tokens, small_only.tokens);
}

TEST(Strategy, SamplingIsReproducibleForASeed) {
    FakePair pair;
    for (const char* s : {"ead", "spec", "ead-spec"}) {
        DecodeParams p = params(s);
        p.temperature = 1.0;
        p.tau = entropy_quantile(pair, 0.5);
        p.seed = 5;
        const auto a = run(p, pair.small, pair.large);
        const auto b = run(p, pair.small, pair.large);
        EXPECT_EQ(a.tokens, b.tokens) << s;
        EXPECT_EQ(a.stats.seed, 5u);
        expect_stats_add_up(a, pair.small, pair.large);
    }
    DecodeParams p = params("ead");
    p.seed = -1;  // random: the run reports what it used
    p.temperature = 1.0;
    const auto r = run(p, pair.small, pair.large);
    p.seed = static_cast<int64_t>(r.stats.seed & 0x7fffffffffffffffULL);
    if (p.seed == static_cast<int64_t>(r.stats.seed)) {
        EXPECT_EQ(run(p, pair.small, pair.large).tokens, r.tokens);
    }
}

// -----------------------------------------------------------------------------------------------------------
// The switching rule end to end, on models with scripted entropies
// -----------------------------------------------------------------------------------------------------------

// Entropy of each model at generated index g, in bits from {0, 1, 2, 4} (exact in double); -1 means 0 bits as
// a one-hot. The large model is always certain (0 bits).
struct ScriptedPair {
    static constexpr int32_t kVocab = 64;
    FakeSequence small, large;
    explicit ScriptedPair(std::function<int(int32_t)> small_bits)
        : small(kVocab, 4096, 1'000'000,
                [=](std::span<const int32_t> h, float* out) {
                    const int32_t g = static_cast<int32_t>(h.size()) - static_cast<int32_t>(kPrompt.size());
                    test::leveled_logits(h, small_bits(g), out, kVocab);
                }),
          large(kVocab, 4096, 8'000'000,
                [](std::span<const int32_t> h, float* out) { test::leveled_logits(h, -1, out, kVocab); }) {}
};

// Runs ead and ead-spec (which must agree) and returns ead's result.
DecodeResult run_scripted(const DecodeParams& base, std::function<int(int32_t)> small_bits, int32_t n = 50) {
    ScriptedPair pair(std::move(small_bits));
    DecodeParams p = base;
    p.n_predict = n;
    p.strategy = "ead";
    const auto ead = run(p, pair.small, pair.large);
    expect_stats_add_up(ead, pair.small, pair.large);
    p.strategy = "ead-spec";
    const auto ead_spec = run(p, pair.small, pair.large);
    expect_stats_add_up(ead_spec, pair.small, pair.large);
    EXPECT_EQ(ead_spec.tokens, ead.tokens);
    EXPECT_EQ(switches(ead_spec), switches(ead));
    return ead;
}

std::string repeat(std::initializer_list<std::pair<char, int>> runs) {
    std::string s;
    for (auto [c, n] : runs) s += std::string(static_cast<size_t>(n), c);
    return s;
}

// Small: certain for 12 tokens, then 2 bits. Windows (w = 5) after token g: 0 up to g = 11, then 0.4,
// 0.8, 1.2 ...
int step_at_12(int32_t g) {
    return g < 12 ? -1 : 2;
}

TEST(ScriptedSwitching, UpDownAndDwell) {
    DecodeParams p;
    p.tau = 1.0;  // w = 5, d_min = 10: the paper's
    const auto r = run_scripted(p, step_at_12);
    // g = 14: rolling 1.2 > 1 with dwell 15 -> up. The large model is certain, but dwell holds it for 10
    // tokens; then down; the small model's uncertainty holds it again for 10 tokens (dwell blocks the earlier
    // up).
    EXPECT_EQ(switches(r),
              (std::vector<std::pair<int32_t, bool>>{{15, true}, {25, false}, {35, true}, {45, false}}));
    EXPECT_EQ(models(r), repeat({{'S', 15}, {'L', 10}, {'S', 10}, {'L', 10}, {'S', 5}}));
    EXPECT_EQ(r.trace[13].rolling_entropy, 0.8);
    EXPECT_EQ(r.trace[14].rolling_entropy, 1.2);
    EXPECT_EQ(r.trace[14].entropy, 2.0);
    EXPECT_EQ(r.trace[15].entropy, 0.0);  // the large model's
    EXPECT_EQ(r.stats.switches[0].rolling_entropy, 1.2);
    EXPECT_EQ(r.stats.tokens[0], 30);
    EXPECT_EQ(r.stats.tokens[1], 20);
}

TEST(ScriptedSwitching, TieAtTauGoesUpOnlyAbove) {
    DecodeParams p;
    p.tau = 1.2;  // g = 14 has rolling exactly 1.2: stays small; g = 15 has 1.6: up
    EXPECT_EQ(switches(run_scripted(p, step_at_12))[0], std::make_pair(16, true));
    p.tau = 1.19;
    EXPECT_EQ(switches(run_scripted(p, step_at_12))[0], std::make_pair(15, true));
}

TEST(ScriptedSwitching, TieAtTauGoesDown) {
    DecodeParams p;
    p.tau = 1.2;
    p.min_dwell = 2;
    // Up at 16; at g = 17 (dwell 2) the window {2,2,2,0,0} has mean exactly 1.2: down.
    auto s = switches(run_scripted(p, step_at_12));
    ASSERT_GE(s.size(), 4u);
    EXPECT_EQ(s[0], std::make_pair(16, true));
    EXPECT_EQ(s[1], std::make_pair(18, false));
    // Back on small, windows of mean 1.2 keep it there (<= is "small"), 1.6 at g = 21 goes up.
    EXPECT_EQ(s[2], std::make_pair(22, true));
    EXPECT_EQ(s[3], std::make_pair(24, false));
    // Down threshold just below 1.2: at g = 17 the large model stays; g = 18 has 0.8 -> down at 19.
    p.tau_up = 1.2;
    p.tau_down = 1.19;
    s = switches(run_scripted(p, step_at_12));
    EXPECT_EQ(s[0], std::make_pair(16, true));
    EXPECT_EQ(s[1], std::make_pair(19, false));
}

TEST(ScriptedSwitching, WindowBeforeWTokensAveragesWhatExists) {
    DecodeParams p;
    p.tau = 1.0;
    p.min_dwell = 0;
    // Token 0: rolling = its own entropy 2 > 1 -> up at once (a mean over 5 slots would give 0.4 and stay).
    // Then {2,0} = 1 <= 1 -> down, {2,0,2} = 1.33 -> up, {2,0,2,0} = 1 -> down, ...
    const auto r = run_scripted(
        p, [](int32_t) { return 2; }, 8);
    EXPECT_EQ(models(r), "SLSLSLSL");
    EXPECT_EQ(r.trace[0].rolling_entropy, 2.0);
}

TEST(ScriptedSwitching, StartOnLarge) {
    DecodeParams p;
    p.tau = 1.0;
    p.start_large = true;
    const auto r = run_scripted(
        p, [](int32_t) { return 2; }, 30);
    // Large (certain) for d_min = 10 tokens, then down; small (2 bits): rolling 0.4 0.8 1.2 ... but dwell
    // holds it for 10 tokens, then up.
    EXPECT_EQ(models(r), repeat({{'L', 10}, {'S', 10}, {'L', 10}}));
    EXPECT_EQ(r.stats.forward_passes[0],
              10);  // lazy prefill: the small model's first pass is at its activation
}

TEST(ScriptedSwitching, HysteresisAndWindowReset) {
    DecodeParams p;
    p.tau_up = 1.0;
    p.tau_down = 0.5;
    p.min_dwell = 0;
    p.window = 2;
    // Small: 2 bits from g = 3 on. g=3: {0,2} = 1 (not > 1), g=4: 2 -> up at 5; large: {2,0} = 1 (between),
    // {0,0} = 0 -> down at 7; small {0,2} = 1 stays, {2,2} -> up at 9 ...
    auto r = run_scripted(
        p, [](int32_t g) { return g < 3 ? -1 : 2; }, 12);
    EXPECT_EQ(models(r), "SSSSSLLSSLLS");
    p.reset_window_on_switch = true;
    // With the reset, the large model's first window is {0} = 0 -> down at once; the small model's first {2}
    // -> up.
    r = run_scripted(
        p, [](int32_t g) { return g < 3 ? -1 : 2; }, 12);
    EXPECT_EQ(models(r), "SSSSSLSLSLSL");
}

// -----------------------------------------------------------------------------------------------------------
// Statistics
// -----------------------------------------------------------------------------------------------------------

TEST(Stats, CatchUpTokensAreTheTokensEachModelMissed) {
    FakePair pair;
    for (bool lazy : {true, false}) {
        for (bool start_large : {false, true}) {
            DecodeParams p = params("ead", 120);
            p.tau = entropy_quantile(pair, 0.5);
            p.min_dwell = 4;
            p.lazy_prefill = lazy;
            p.start_large = start_large;
            const auto r = run(p, pair.small, pair.large);
            expect_stats_add_up(r, pair.small, pair.large);
            ASSERT_GE(r.stats.switches.size(), 3u);
            // A model catches up on every token the other one generated before its last token.
            for (ModelId m : {ModelId::kSmall, ModelId::kLarge}) {
                int32_t last = -1;
                for (size_t i = 0; i < r.trace.size(); ++i)
                    if (r.trace[i].model == m) last = static_cast<int32_t>(i);
                int32_t missed = 0, calls = 0;
                for (int32_t i = 0; i < last; ++i) {
                    missed += r.trace[i].model != m ? 1 : 0;
                    calls += (r.trace[i].model != m && r.trace[i + 1].model == m) ? 1 : 0;
                }
                EXPECT_EQ(r.stats.catch_up_tokens[index_of(m)], missed) << model_name(m);
                EXPECT_EQ(r.stats.catch_up_calls[index_of(m)], calls) << model_name(m);
            }
            // Lazy: the non-starting model's first pass holds the prompt and the tokens it missed, in one
            // batch.
            const FakeSequence& late = start_large ? pair.small : pair.large;
            ASSERT_FALSE(late.batches().empty());
            if (lazy) {
                int32_t before_first = 0;
                const ModelId late_id = start_large ? ModelId::kSmall : ModelId::kLarge;
                while (r.trace[before_first].model != late_id) ++before_first;
                EXPECT_EQ(late.batches()[0], static_cast<int32_t>(kPrompt.size()) + before_first);
            } else {
                EXPECT_EQ(late.batches()[0], static_cast<int32_t>(kPrompt.size()));
            }
        }
    }
}

TEST(Stats, CostRatios) {
    FakePair pair;
    const auto large = run(params("large"), pair.small, pair.large);
    EXPECT_DOUBLE_EQ(large.stats.measured_cost_ratio(), 1.0);
    EXPECT_DOUBLE_EQ(large.stats.large_share(), 1.0);
    const auto small = run(params("small"), pair.small, pair.large);
    EXPECT_DOUBLE_EQ(small.stats.large_share(), 0.0);
    EXPECT_DOUBLE_EQ(small.stats.nominal_cost_ratio(), 1e6 / 8e6);
    EXPECT_LT(small.stats.measured_cost_ratio(), 0.2);
    EXPECT_EQ(small.stats.forward_passes[1], 0);

    DecodeParams p = params("ead", 100);
    p.tau = entropy_quantile(pair, 0.7);
    const auto ead = run(p, pair.small, pair.large);
    const double f_l = static_cast<double>(ead.stats.tokens[1]) / ead.stats.n_generated;
    EXPECT_GT(f_l, 0.0);
    EXPECT_LT(f_l, 1.0);
    EXPECT_DOUBLE_EQ(ead.stats.large_share(), f_l);
    EXPECT_DOUBLE_EQ(ead.stats.nominal_cost_ratio(), f_l + (1 - f_l) * 1e6 / 8e6);
    // Measured: the FLOPs of every pass of both models, relative to a large-only run of the same length.
    double large_only = pair.large.forward_flops(5, 0);
    for (int32_t i = 0; i + 1 < 100; ++i) large_only += pair.large.forward_flops(1, 5 + i);
    EXPECT_DOUBLE_EQ(ead.stats.large_only_flops, large_only);
    EXPECT_DOUBLE_EQ(ead.stats.measured_cost_ratio(), (ead.stats.flops[0] + ead.stats.flops[1]) / large_only);
    // Prefill and catch-up cost extra: in FLOPs a catch-up token costs the large model as much as a decoded
    // one, so the measured ratio is at least the nominal one (it is cheaper only in wall-clock time, being
    // batched).
    EXPECT_GT(ead.stats.measured_cost_ratio(), ead.stats.nominal_cost_ratio());
}

TEST(Stats, JsonHasEveryField) {
    FakePair pair;
    DecodeParams p = params("ead-spec", 60);
    p.tau = entropy_quantile(pair, 0.5);
    const auto r = run(p, pair.small, pair.large);
    const auto j = to_json(r.stats);
    for (const char* k : {"strategy",
                          "seed",
                          "stop_reason",
                          "n_prompt",
                          "n_generated",
                          "tokens",
                          "large_share",
                          "switches",
                          "catch_up",
                          "spec",
                          "forward_passes",
                          "evaluated_tokens",
                          "time_s",
                          "tokens_per_s",
                          "prompt_tokens_per_s",
                          "params",
                          "nominal_cost_ratio",
                          "nominal_reduction",
                          "flops",
                          "measured_cost_ratio",
                          "mean_entropy"})
        EXPECT_TRUE(j.contains(k)) << k;
    EXPECT_EQ(j["strategy"], "ead-spec");
    EXPECT_EQ(j["stop_reason"], "n_predict");
    EXPECT_EQ(j["tokens"]["small"].get<int>() + j["tokens"]["large"].get<int>(), 60);
    EXPECT_EQ(j["switches"]["count"].get<size_t>(), r.stats.switches.size());
    EXPECT_EQ(j["switches"]["events"].size(), r.stats.switches.size());
    EXPECT_EQ(j["spec"]["drafted"], r.stats.drafted);
    EXPECT_EQ(j["params"]["large"], 8'000'000);
    const auto t = to_json(r.trace[0]);
    EXPECT_EQ(t["model"], model_name(r.trace[0].model));
    EXPECT_EQ(t["id"], r.tokens[0]);
    // Pooling adds up.
    const DecodeStats pooled = pool({r.stats, r.stats});
    EXPECT_EQ(pooled.n_generated, 120);
    EXPECT_DOUBLE_EQ(pooled.large_share(), r.stats.large_share());
}

// -----------------------------------------------------------------------------------------------------------
// Stop conditions and streaming
// -----------------------------------------------------------------------------------------------------------

TEST(Stop, EogCallbackNPredictContext) {
    FakePair pair;
    for (const char* s : {"small", "large", "ead", "spec", "ead-spec"}) {
        DecodeParams p = params(s);
        p.tau = entropy_quantile(pair, 0.5);
        const auto base = run(p, pair.small, pair.large);
        ASSERT_EQ(base.stats.stop_reason, StopReason::kNPredict) << s;
        ASSERT_EQ(base.tokens.size(), 64u);
        // EOG: the first occurrence of the token at index 20 ends generation, and is kept.
        RunOptions eog;
        eog.eog_ids = {base.tokens[20]};
        const auto e = run(p, pair.small, pair.large, kPrompt, eog);
        EXPECT_EQ(e.stats.stop_reason, StopReason::kEog) << s;
        EXPECT_EQ(e.tokens.back(), base.tokens[20]);
        EXPECT_LE(e.tokens.size(), 21u);
        EXPECT_TRUE(std::equal(e.tokens.begin(), e.tokens.end(), base.tokens.begin()));
        // Callback: streams every token in order, and may stop.
        std::vector<int32_t> streamed;
        RunOptions cb;
        cb.on_token = [&](const TokenEvent& ev) {
            EXPECT_EQ(ev.index, static_cast<int32_t>(streamed.size()));
            streamed.push_back(ev.token.id);
            return streamed.size() < 7;
        };
        const auto c = run(p, pair.small, pair.large, kPrompt, cb);
        EXPECT_EQ(c.stats.stop_reason, StopReason::kCallback) << s;
        EXPECT_EQ(c.tokens, streamed);
        EXPECT_EQ(c.tokens.size(), 7u);
        // Context: 5 prompt tokens in a 30-token context.
        FakePair tiny(64, 30);
        const auto ctx = run(p, tiny.small, tiny.large);
        EXPECT_EQ(ctx.stats.stop_reason, StopReason::kContext) << s;
        EXPECT_EQ(ctx.tokens.size(), 26u) << s;  // the last token fills position 30 without being evaluated
        EXPECT_TRUE(std::equal(ctx.tokens.begin(), ctx.tokens.end(), base.tokens.begin())) << s;
        // n_predict 0.
        p.n_predict = 0;
        EXPECT_TRUE(run(p, pair.small, pair.large).tokens.empty());
    }
}

TEST(Strategy, Errors) {
    FakePair pair;
    EXPECT_THROW(generate(params("ead"), &pair.small, nullptr, kPrompt), std::invalid_argument);
    EXPECT_THROW(generate(params("large"), &pair.small, nullptr, kPrompt), std::invalid_argument);
    EXPECT_NO_THROW(generate(params("small"), &pair.small, nullptr, kPrompt));
    EXPECT_THROW(generate(params("small"), &pair.small, nullptr, std::vector<int32_t>{}),
                 std::invalid_argument);
    DecodeParams bad = params("ead");
    bad.strategy = "nope";
    EXPECT_THROW(generate(bad, &pair.small, &pair.large, kPrompt), ParamError);
}

// -----------------------------------------------------------------------------------------------------------
// Speculative sampling is lossless: the output follows the large model's distribution
// -----------------------------------------------------------------------------------------------------------

// Chi-square statistic over cells with expected count >= 5 (the rest pooled into one cell) and its degrees of
// freedom.
std::pair<double, int> chi_square(const std::vector<double>& expected_p, const std::vector<int64_t>& counts,
                                  int64_t n) {
    double chi = 0, pooled_e = 0, pooled_o = 0;
    int cells = 0;
    for (size_t i = 0; i < expected_p.size(); ++i) {
        const double e = expected_p[i] * static_cast<double>(n);
        if (e < 5) {
            pooled_e += e;
            pooled_o += static_cast<double>(counts[i]);
            continue;
        }
        chi += (counts[i] - e) * (counts[i] - e) / e;
        ++cells;
    }
    if (pooled_e >= 5) {
        chi += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e;
        ++cells;
    } else {
        EXPECT_LE(pooled_o, 15 + pooled_e * 3);  // rare cells stay rare
    }
    return {chi, cells - 1};
}

// Upper 1e-4 quantile of chi-square with k degrees of freedom (Wilson-Hilferty).
double chi_square_critical(int k) {
    const double z = 3.719;
    const double a = 2.0 / (9.0 * k);
    return k * std::pow(1 - a + z * std::sqrt(a), 3);
}

class SpecSampling : public ::testing::TestWithParam<int> {};

TEST_P(SpecSampling, FirstTwoTokensFollowTheLargeModel) {
    constexpr int32_t kV = 6;
    // A small model that disagrees a lot with the large one (mix 0.7), so drafts are often rejected.
    FakePair pair(kV, 64, 1.0, 1.0, 0.7);
    DecodeParams p = params("spec", 2);
    p.temperature = 1.0;
    p.draft_max = 3;
    if (GetParam() == 1) {  // the target is then the large model's processed distribution
        p.temperature = 0.7;
        p.top_k = 4;
        p.repeat_penalty = 1.3;
    }
    const std::vector<int32_t> prompt = {1, 2, 3};
    const SamplerChain chain = make_sampler_chain(p);
    auto large_dist = [&](const std::vector<int32_t>& h) {
        std::vector<float> l(kV);
        test::hash_logits(1, 1.0, h, l.data(), kV);
        Candidates c;
        chain.distribution(l.data(), kV, h, c);
        std::vector<double> d(kV, 0.0);
        for (const auto& x : c.data()) d[x.id] = x.p;
        return d;
    };
    std::vector<double> p1 = large_dist(prompt), p12(kV * kV);
    for (int32_t a = 0; a < kV; ++a) {
        std::vector<int32_t> h = prompt;
        h.push_back(a);
        const auto p2 = large_dist(h);
        for (int32_t b = 0; b < kV; ++b) p12[a * kV + b] = p1[a] * p2[b];
    }
    const int64_t n = ::ead::test::quick() ? 4000 : 20000;
    std::vector<int64_t> c1(kV), c12(kV * kV);
    int64_t rejected_rounds = 0;
    for (int64_t seed = 0; seed < n; ++seed) {
        p.seed = seed;
        const auto r = generate(p, &pair.small, &pair.large, prompt);
        ASSERT_EQ(r.tokens.size(), 2u);
        c1[r.tokens[0]]++;
        c12[r.tokens[0] * kV + r.tokens[1]]++;
        rejected_rounds += r.stats.accepted < r.stats.drafted ? 1 : 0;
    }
    EXPECT_GT(rejected_rounds, n / 10);  // the residual distribution was exercised
    const auto [chi1, df1] = chi_square(p1, c1, n);
    EXPECT_LT(chi1, chi_square_critical(df1)) << "df=" << df1;
    const auto [chi2, df2] = chi_square(p12, c12, n);
    EXPECT_LT(chi2, chi_square_critical(df2)) << "df=" << df2;
}

INSTANTIATE_TEST_SUITE_P(Chains, SpecSampling, ::testing::Values(0, 1));

}  // namespace
}  // namespace ead::decode

namespace ead::decode {
namespace {

TEST(Strategy, IdenticalModelsAcceptEveryDraft) {
    FakePair pair(64, 4096, 1.0, 1.0, /*mix=*/0.0);  // the small model computes the large one's logits
    DecodeParams p = params("spec", 90);
    p.draft_max = 8;
    const auto r = run(p, pair.small, pair.large);
    EXPECT_EQ(r.stats.accepted, r.stats.drafted - r.stats.draft_unchecked);
    EXPECT_DOUBLE_EQ(r.stats.acceptance_rate(), 1.0);
    EXPECT_EQ(r.stats.forward_passes[1], 1 + 10);  // prompt, then 10 rounds of 8 drafts + 1 bonus token
    expect_stats_add_up(r, pair.small, pair.large);
}

}  // namespace
}  // namespace ead::decode
