#include "decode/strategy.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <optional>
#include <random>
#include <stdexcept>

#include "decode/entropy.h"
#include "decode/sampler.h"
#include "decode/switch_rule.h"

namespace ead::decode {

DecodeStrategy::~DecodeStrategy() = default;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr ModelId kS = ModelId::kSmall;
constexpr ModelId kL = ModelId::kLarge;

// -----------------------------------------------------------------------------------------------------------
// The engine every strategy shares: token history, one slot per model (KV cache + its latest logits), timed
// and counted forward passes, token emission (trace, statistics, callback, stop conditions), and one
// speculative round.
// -----------------------------------------------------------------------------------------------------------
class Engine : public DecodeStrategy {
  public:
    Engine(Strategy kind, const DecodeParams& params, Sequence* small, Sequence* large)
        : kind_(kind), params_(params), chain_(make_sampler_chain(params)), window_(params.window) {
        slots_[0].seq = small;
        slots_[1].seq = large;
    }

    Strategy kind() const override { return kind_; }

    DecodeResult run(std::span<const int32_t> prompt, const RunOptions& options) override {
        if (prompt.empty())
            throw std::invalid_argument("decode: the prompt is empty (it needs at least one token)");
        const auto t_start = Clock::now();
        options_ = &options;
        result_ = DecodeResult{};
        DecodeStats& st = result_.stats;
        st.strategy = std::string(strategy_name(kind_));
        uint64_t seed = static_cast<uint64_t>(params_.seed);
        if (params_.seed < 0) {
            std::random_device rd;
            seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
        }
        st.seed = seed;
        rng_.emplace(seed);
        window_ = RollingWindow(params_.window);
        rule_.reset();
        if (kind_ == Strategy::kEad || kind_ == Strategy::kEadSpec)
            rule_.emplace(SwitchConfig::from(params_));

        n_common_ = INT32_MAX;
        for (int m = 0; m < kNumModels; ++m) {
            Slot& sl = slots_[m];
            sl.logits_valid = false;
            if (!sl.seq) continue;
            if (uses(static_cast<ModelId>(m))) sl.seq->truncate(0);
            sl.n_vocab = sl.seq->n_vocab();
            n_common_ = std::min(n_common_, sl.n_vocab);
            st.n_params[m] = sl.seq->n_params();
        }
        if (options.n_vocab_common > 0) n_common_ = std::min(n_common_, options.n_vocab_common);

        history_.assign(prompt.begin(), prompt.end());
        origin_.clear();
        n_prompt_ = static_cast<int32_t>(prompt.size());
        st.n_prompt = n_prompt_;
        stop_ = StopReason::kNone;

        if (remaining() <= 0)
            stop_ = StopReason::kNPredict;
        else
            decode_loop();

        st.stop_reason = stop_;
        if (Sequence* l = slots_[1].seq) {
            const int32_t n_gen = st.n_generated;
            double f = l->forward_flops(n_prompt_, 0);
            for (int32_t i = 0; i + 1 < n_gen; ++i) f += l->forward_flops(1, n_prompt_ + i);
            st.large_only_flops = f;
        }
        st.time_total = seconds_since(t_start);
        options_ = nullptr;
        return std::move(result_);
    }

  protected:
    struct Slot {
        Sequence* seq = nullptr;
        std::vector<float> logits;  // [n_vocab]: the distribution of the token at position seq->n_past()
        bool logits_valid = false;
        int32_t n_vocab = 0;
    };

    virtual void decode_loop() = 0;

    Slot& slot(ModelId m) { return slots_[index_of(m)]; }
    // Whether this strategy runs model m (small / large get the other model too, for the vocabulary and the
    // cost statistics, but never evaluate it).
    bool uses(ModelId m) const {
        return !(kind_ == Strategy::kSmall && m == kL) && !(kind_ == Strategy::kLarge && m == kS);
    }
    int32_t n_generated() const { return static_cast<int32_t>(history_.size()) - n_prompt_; }
    int32_t remaining() const {
        return params_.n_predict < 0 ? INT32_MAX : params_.n_predict - n_generated();
    }

    // One timed, counted forward pass. Of the n tokens, the first n_prompt_part are prompt prefill, the next
    // n_catch_up_part catch-up, the rest decode; the call's time is split between the phases in that
    // proportion.
    const float* eval(ModelId m, const int32_t* tokens, int32_t n, bool all_logits, int32_t n_prompt_part,
                      int32_t n_catch_up_part) {
        Sequence& s = *slot(m).seq;
        const int32_t past = s.n_past();
        const auto t0 = Clock::now();
        const float* out = s.eval(tokens, n, all_logits);
        const double dt = seconds_since(t0);
        DecodeStats& st = result_.stats;
        const int i = index_of(m);
        st.forward_passes[i]++;
        st.evaluated_tokens[i] += n;
        st.flops[i] += s.forward_flops(n, past);
        st.time_prompt += dt * n_prompt_part / n;
        st.time_catch_up += dt * n_catch_up_part / n;
        st.time_decode += dt * (n - n_prompt_part - n_catch_up_part) / n;
        if (n_catch_up_part > 0) {
            st.catch_up_tokens[i] += n_catch_up_part;
            st.catch_up_calls[i]++;
        }
        return out;
    }

    // Of the history positions [from, to): how many are prompt, and (at an activation) how many were
    // generated by the other model (catch-up).
    std::pair<int32_t, int32_t> classify(ModelId m, int32_t from, int32_t to, bool activation) const {
        const int32_t n_prompt_part = std::max(0, std::min(to, n_prompt_) - from);
        int32_t n_catch_up = 0;
        if (activation)
            for (int32_t pos = std::max(from, n_prompt_); pos < to; ++pos)
                n_catch_up += origin_[pos - n_prompt_] != m ? 1 : 0;
        return {n_prompt_part, n_catch_up};
    }

    // Evaluates, in one batch, the history tokens model m has not seen, so that its slot holds the logits for
    // the next position. Returns false when the history no longer fits its context.
    bool sync(ModelId m, bool activation) {
        Slot& sl = slot(m);
        Sequence& s = *sl.seq;
        const int32_t n_hist = static_cast<int32_t>(history_.size());
        if (n_hist > s.n_ctx()) return false;
        int32_t past = s.n_past();
        if (past == n_hist && sl.logits_valid) return true;
        if (past == n_hist) s.truncate(--past);  // logits lost: evaluate the last token again
        const auto [n_prompt_part, n_catch_up] = classify(m, past, n_hist, activation);
        const float* out = eval(m, history_.data() + past, n_hist - past, false, n_prompt_part, n_catch_up);
        sl.logits.assign(out, out + sl.n_vocab);
        sl.logits_valid = true;
        return true;
    }

    // Entropy and a draw from model m's current logits.
    std::pair<int32_t, double> pick(ModelId m) {
        const auto t0 = Clock::now();
        const Slot& sl = slot(m);
        const double h = entropy_bits(sl.logits.data(), sl.n_vocab);
        chain_.distribution(sl.logits.data(), n_common_, history_, dist_);
        const int32_t id = sample(dist_, *rng_);
        result_.stats.time_sampling += seconds_since(t0);
        return {id, h};
    }

    // Appends a token produced by m (with the entropy of m's raw logits at its position): window or rule,
    // trace, statistics, callback, stop conditions. Returns false when generation ends with this token.
    // *decision gets the rule's decision (no switch without a rule).
    bool emit(ModelId m, int32_t id, double entropy, bool drafted, SwitchRule::Decision* decision) {
        history_.push_back(id);
        origin_.push_back(m);
        SwitchRule::Decision d{m, false, 0.0};
        if (rule_) {
            d = rule_->step(entropy);
        } else {
            window_.push(entropy);
            d.rolling = window_.mean();
        }
        if (decision) *decision = d;
        DecodeStats& st = result_.stats;
        const int32_t index = st.n_generated;
        result_.tokens.push_back(id);
        result_.trace.push_back(TokenTrace{id, m, entropy, d.rolling, drafted});
        st.n_generated++;
        st.tokens[index_of(m)]++;
        st.entropy_sum += entropy;
        const bool go_on = !options_->on_token || options_->on_token(TokenEvent{index, result_.trace.back()});
        const auto& eog = options_->eog_ids;
        if (std::find(eog.begin(), eog.end(), id) != eog.end())
            stop_ = StopReason::kEog;
        else if (!go_on)
            stop_ = StopReason::kCallback;
        else if (remaining() <= 0)
            stop_ = StopReason::kNPredict;
        if (stop_ != StopReason::kNone) return false;
        if (d.switched) st.switches.push_back(SwitchEvent{index + 1, m, d.next, d.rolling});
        return true;
    }

    // One step of the model m alone: catch up if needed, draw, emit. Returns false when generation ends.
    bool single_step(ModelId m, bool activation, SwitchRule::Decision* decision) {
        if (!sync(m, activation)) {
            stop_ = StopReason::kContext;
            return false;
        }
        const auto [id, h] = pick(m);
        return emit(m, id, h, false, decision);
    }

    // A draw from norm(max(0, p - q)); p when that is empty (p <= q everywhere, up to rounding).
    int32_t sample_residual(const Candidates& p, const Candidates& q) {
        dense_q_.assign(static_cast<size_t>(n_common_), 0.0);
        for (const auto& c : q.data()) dense_q_[c.id] = c.p;
        residual_.data().clear();
        double total = 0.0;
        for (const auto& c : p.data()) {
            const double w = std::max(0.0, c.p - dense_q_[c.id]);
            if (w > 0.0) {
                residual_.data().push_back(Candidate{c.id, c.logit, w});
                total += w;
            }
        }
        if (total <= 0.0) return sample(p, *rng_);
        return sample(residual_, *rng_);
    }

    // One speculative round: the small model drafts up to draft_max tokens, the large one scores them in one
    // batch (with the tokens it has not seen in front), and at least one token with the large model's
    // distribution is emitted: the accepted drafts, then the large model's correction or bonus token. With a
    // rule (ead-spec) each emitted token takes its entropy from the large model's row and goes through the
    // rule; a switch ends the round
    // (*switched = true) and discards the rest. Both caches are cut back to what is still valid. Returns
    // false when generation ends.
    bool spec_round(bool activation, bool* switched) {
        Slot& ss = slot(kS);
        Slot& ls = slot(kL);
        DecodeStats& st = result_.stats;
        const int32_t n0 = static_cast<int32_t>(history_.size());
        if (n0 > ls.seq->n_ctx()) {
            stop_ = StopReason::kContext;
            return false;
        }
        const int32_t v_s = ss.n_vocab, v_l = ls.n_vocab;

        // --- draft
        // -------------------------------------------------------------------------------------------
        int64_t k_max = params_.draft_max;
        k_max = std::min<int64_t>(k_max, static_cast<int64_t>(remaining()) - 1);
        k_max = std::min<int64_t>(k_max, ls.seq->n_ctx() - n0);      // verification ends at n0 + k
        k_max = std::min<int64_t>(k_max, ss.seq->n_ctx() - n0 + 1);  // drafting evaluates up to n0 + k - 1
        drafts_.clear();
        draft_q_.clear();
        int32_t e = 0;  // small-model evaluations while drafting; its cache ends at n0 + e
        if (k_max > 0 && n0 <= ss.seq->n_ctx()) {
            sync(kS, false);
            s_rows_.assign(ss.logits.begin(), ss.logits.end());  // row j: position n0 + j
            ctx_ = history_;
            if (draft_dists_.size() < static_cast<size_t>(k_max))
                draft_dists_.resize(static_cast<size_t>(k_max));
            for (int32_t i = 0; i < k_max; ++i) {
                if (i > 0) {
                    const float* out = eval(kS, &drafts_[i - 1], 1, false, 0, 0);
                    ++e;
                    s_rows_.insert(s_rows_.end(), out, out + v_s);
                }
                const auto t0 = Clock::now();
                const float* row = s_rows_.data() + static_cast<size_t>(i) * v_s;
                bool stop_drafting = params_.p_min > 0.0 && max_probability(row, v_s) < params_.p_min;
                if (!stop_drafting) {
                    Candidates& q = draft_dists_[i];
                    chain_.distribution(row, n_common_, ctx_, q);
                    const int32_t x = sample(q, *rng_);
                    drafts_.push_back(x);
                    draft_q_.push_back(q.prob_of(x));
                    ctx_.push_back(x);
                }
                st.time_sampling += seconds_since(t0);
                if (stop_drafting) break;
            }
            ss.logits_valid = e == 0;  // still the logits for position n0
        }
        const int32_t k = static_cast<int32_t>(drafts_.size());
        st.drafted += k;
        if (k > 0) st.spec_rounds++;

        // --- verify
        // ------------------------------------------------------------------------------------------
        int32_t past = ls.seq->n_past();
        if (past == n0 && !ls.logits_valid) ls.seq->truncate(--past);
        const int32_t u = n0 - past;                       // history tokens the large model has not evaluated
        l_rows_.resize(static_cast<size_t>(k + 1) * v_l);  // row i: position n0 + i
        if (u == 0 && k == 0) {
            std::copy(ls.logits.begin(), ls.logits.end(), l_rows_.begin());
        } else {
            batch_.assign(history_.begin() + past, history_.end());
            batch_.insert(batch_.end(), drafts_.begin(), drafts_.end());
            const auto [n_prompt_part, n_catch_up] = classify(kL, past, n0, activation);
            const float* out =
                eval(kL, batch_.data(), static_cast<int32_t>(batch_.size()), true, n_prompt_part, n_catch_up);
            // Output row j is position past + j + 1, so position n0 + i is row u - 1 + i.
            for (int32_t i = 0; i <= k; ++i) {
                const float* row =
                    (u == 0 && i == 0) ? ls.logits.data() : out + static_cast<size_t>(u - 1 + i) * v_l;
                std::copy(row, row + v_l, l_rows_.begin() + static_cast<size_t>(i) * v_l);
            }
        }

        // --- accept
        // ------------------------------------------------------------------------------------------
        int32_t kept = 0, checked = 0;
        bool go_on = true;
        for (int32_t i = 0; i <= k; ++i) {
            checked = std::min(i + 1, k);
            const auto t0 = Clock::now();
            const float* row = l_rows_.data() + static_cast<size_t>(i) * v_l;
            const double h = entropy_bits(row, v_l);
            chain_.distribution(row, n_common_, history_, dist_);  // history_ holds the drafts kept so far
            int32_t token;
            bool accepted = false;
            if (i < k) {
                const int32_t x = drafts_[i];
                if (chain_.greedy()) {
                    accepted = x == dist_.data()[0].id;
                } else {
                    // accept with probability min(1, p_L(x) / p_S(x))
                    accepted = rng_->uniform() * draft_q_[i] < dist_.prob_of(x);
                }
                token = accepted ? x
                                 : (chain_.greedy() ? dist_.data()[0].id
                                                    : sample_residual(dist_, draft_dists_[i]));
            } else {
                token = sample(dist_, *rng_);  // bonus token: every draft was accepted
            }
            st.time_sampling += seconds_since(t0);
            if (accepted) {
                ++kept;
                st.accepted++;
            }
            SwitchRule::Decision d{kL, false, 0.0};
            go_on = emit(kL, token, h, accepted, &d);
            if (!go_on) break;
            if (d.switched) {
                *switched = true;
                break;
            }
            if (!accepted) break;
        }

        st.draft_unchecked += k - checked;

        // --- cut the caches back
        // ----------------------------------------------------------------------------- Large: evaluated up
        // to n0 + k (or n0 when nothing was evaluated); valid up to n0 + kept.
        if (ls.seq->n_past() > n0 + kept) ls.seq->truncate(n0 + kept);
        ls.logits.assign(l_rows_.begin() + static_cast<size_t>(kept) * v_l,
                         l_rows_.begin() + static_cast<size_t>(kept + 1) * v_l);
        ls.logits_valid = ls.seq->n_past() == n0 + kept;
        // Small: evaluated up to n0 + e while drafting; valid up to n0 + min(e, kept).
        if (k_max > 0 && n0 <= ss.seq->n_ctx()) {
            const int32_t j = std::min(e, kept);
            if (ss.seq->n_past() > n0 + j) ss.seq->truncate(n0 + j);
            ss.logits.assign(s_rows_.begin() + static_cast<size_t>(j) * v_s,
                             s_rows_.begin() + static_cast<size_t>(j + 1) * v_s);
            ss.logits_valid = ss.seq->n_past() == n0 + j;
        }
        return go_on;
    }

    Strategy kind_;
    DecodeParams params_;
    SamplerChain chain_;
    std::array<Slot, kNumModels> slots_;
    const RunOptions* options_ = nullptr;
    DecodeResult result_;
    std::optional<Rng> rng_;
    std::optional<SwitchRule> rule_;
    RollingWindow window_;  // for the trace when there is no rule
    int32_t n_common_ = 0;
    std::vector<int32_t> history_;  // prompt + generated
    std::vector<ModelId> origin_;   // per generated token: the model that produced it
    int32_t n_prompt_ = 0;
    StopReason stop_ = StopReason::kNone;

    // Scratch.
    Candidates dist_, residual_;
    std::vector<Candidates> draft_dists_;
    std::vector<int32_t> drafts_, ctx_, batch_;
    std::vector<double> draft_q_, dense_q_;
    std::vector<float> s_rows_, l_rows_;
};

// -----------------------------------------------------------------------------------------------------------
// The strategies
// -----------------------------------------------------------------------------------------------------------

class SingleModelStrategy final : public Engine {
  public:
    SingleModelStrategy(Strategy kind, const DecodeParams& p, Sequence* small, Sequence* large)
        : Engine(kind, p, small, large) {}

  private:
    void decode_loop() override {
        const ModelId m = kind_ == Strategy::kSmall ? kS : kL;
        while (single_step(m, false, nullptr)) {
        }
    }
};

// Paper sections 2-5: the active model produces a token, its entropy enters the window, the rule picks the
// model for the next token; a newly active model catches up in one batch.
class EadStrategy final : public Engine {
  public:
    EadStrategy(const DecodeParams& p, Sequence* small, Sequence* large)
        : Engine(Strategy::kEad, p, small, large) {}

  private:
    void decode_loop() override {
        ModelId m = rule_->active();
        if (!params_.lazy_prefill && !sync(other(m), false)) {
            stop_ = StopReason::kContext;
            return;
        }
        bool activation = false;
        SwitchRule::Decision d{};
        while (single_step(m, activation, &d)) {
            activation = d.switched;
            m = d.next;
        }
    }
};

class SpecStrategy final : public Engine {
  public:
    SpecStrategy(const DecodeParams& p, Sequence* small, Sequence* large)
        : Engine(Strategy::kSpec, p, small, large) {}

  private:
    void decode_loop() override {
        if (!sync(kL, false) || !sync(kS, false)) {
            stop_ = StopReason::kContext;
            return;
        }
        bool unused = false;
        while (spec_round(false, &unused)) {
        }
    }
};

class EadSpecStrategy final : public Engine {
  public:
    EadSpecStrategy(const DecodeParams& p, Sequence* small, Sequence* large)
        : Engine(Strategy::kEadSpec, p, small, large) {}

  private:
    void decode_loop() override {
        ModelId m = rule_->active();
        if (!sync(m, false) || (!params_.lazy_prefill && !sync(other(m), false))) {
            stop_ = StopReason::kContext;
            return;
        }
        bool activation = false;
        while (true) {
            if (m == kS) {
                SwitchRule::Decision d{};
                if (!single_step(kS, activation, &d)) return;
                activation = d.switched;
                m = d.next;
            } else {
                bool switched = false;
                if (!spec_round(activation, &switched)) return;
                activation = switched;
                if (switched) m = kS;
            }
        }
    }
};

}  // namespace

std::unique_ptr<DecodeStrategy> make_strategy(const DecodeParams& params, Sequence* small, Sequence* large) {
    validate(params);
    const Strategy kind = params.strategy_id();
    const bool need_small = kind != Strategy::kLarge;
    const bool need_large = kind != Strategy::kSmall;
    if (need_small && !small)
        throw std::invalid_argument("decode: strategy '" + params.strategy + "' needs a small model");
    if (need_large && !large)
        throw std::invalid_argument("decode: strategy '" + params.strategy + "' needs a large model");
    switch (kind) {
        case Strategy::kSmall:
        case Strategy::kLarge:
            return std::make_unique<SingleModelStrategy>(kind, params, small, large);
        case Strategy::kEad:
            return std::make_unique<EadStrategy>(params, small, large);
        case Strategy::kSpec:
            return std::make_unique<SpecStrategy>(params, small, large);
        case Strategy::kEadSpec:
            return std::make_unique<EadSpecStrategy>(params, small, large);
    }
    throw std::logic_error("decode: unhandled strategy");
}

DecodeResult generate(const DecodeParams& params, Sequence* small, Sequence* large,
                      std::span<const int32_t> prompt, const RunOptions& options) {
    return make_strategy(params, small, large)->run(prompt, options);
}

}  // namespace ead::decode
