// Fake model contexts for the decode tests: logits are a deterministic function of the token history, so two
// fakes behave like a small/large pair without any model weights.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <vector>

#include "decode/sequence.h"

namespace ead::decode::test {

// Logits of the token at position history.size(), written to out[0..n_vocab).
using LogitFn = std::function<void(std::span<const int32_t> history, float* out)>;

class FakeSequence : public Sequence {
  public:
    FakeSequence(int32_t n_vocab, int32_t n_ctx, int64_t n_params, LogitFn fn)
        : n_vocab_(n_vocab), n_ctx_(n_ctx), n_params_(n_params), fn_(std::move(fn)) {}

    int32_t n_vocab() const override { return n_vocab_; }
    int32_t n_ctx() const override { return n_ctx_; }
    int32_t n_past() const override { return static_cast<int32_t>(cache_.size()); }

    const float* eval(const int32_t* tokens, int32_t n, bool all_logits) override {
        if (n < 1 || n_past() + n > n_ctx_) throw std::logic_error("FakeSequence::eval: bad batch");
        batches_.push_back(n);
        out_.resize(static_cast<size_t>(all_logits ? n : 1) * n_vocab_);
        for (int32_t i = 0; i < n; ++i) {
            if (tokens[i] < 0 || tokens[i] >= n_vocab_)
                throw std::logic_error("FakeSequence::eval: bad token");
            cache_.push_back(tokens[i]);
            if (all_logits) fn_(cache_, out_.data() + static_cast<size_t>(i) * n_vocab_);
        }
        if (!all_logits) fn_(cache_, out_.data());
        return out_.data();
    }

    void truncate(int32_t n_past) override {
        if (n_past < 0 || n_past > this->n_past())
            throw std::logic_error("FakeSequence::truncate: bad n_past");
        cache_.resize(static_cast<size_t>(n_past));
    }

    // A transformer-like cost: 2 FLOPs per parameter per token plus attention over the context.
    double forward_flops(int32_t n_tokens, int32_t n_past) const override {
        return 2.0 * static_cast<double>(n_params_) * n_tokens +
               64.0 * n_tokens * (n_past + 0.5 * (n_tokens + 1));
    }
    int64_t n_params() const override { return n_params_; }

    const std::vector<int32_t>& cache() const { return cache_; }
    const std::vector<int32_t>& batches() const { return batches_; }  // size of every eval call
    void clear_batches() { batches_.clear(); }

  private:
    int32_t n_vocab_, n_ctx_;
    int64_t n_params_;
    LogitFn fn_;
    std::vector<int32_t> cache_;
    std::vector<int32_t> batches_;
    std::vector<float> out_;
};

inline uint64_t mix64(uint64_t x) {  // splitmix64 finalizer
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Uniform in [-1, 1) from a hash.
inline double unit(uint64_t h) {
    return static_cast<double>(h >> 11) * 0x1.0p-52 - 1.0;
}

// A context hash over the last `order` tokens and the position.
inline uint64_t context_hash(uint64_t seed, std::span<const int32_t> history, int order = 3) {
    uint64_t h = mix64(seed ^ (history.size() * 0x1234567ULL));
    const size_t n = history.size();
    for (size_t i = n > static_cast<size_t>(order) ? n - order : 0; i < n; ++i)
        h = mix64(h ^ static_cast<uint64_t>(history[i]));
    return h;
}

// "Model" `seed`: logits_i = sharpness(ctx) * unit(hash(ctx, i)) / temperature, with sharpness in [0.5, 8]
// varying with the context so that entropy rises and falls along a sequence. The temperature knob scales the
// entropy.
inline void hash_logits(uint64_t seed, double temperature, std::span<const int32_t> history, float* out,
                        int32_t n_vocab) {
    const uint64_t ctx = context_hash(seed, history);
    const uint64_t shared = context_hash(0xC0FFEE, history);  // the same for every seed: sharpness
    const double sharpness = 0.5 + 7.5 * (0.5 + 0.5 * unit(mix64(shared)));
    for (int32_t i = 0; i < n_vocab; ++i)
        out[i] =
            static_cast<float>(sharpness * unit(mix64(ctx ^ (static_cast<uint64_t>(i) << 32))) / temperature);
}

// A small/large pair over one vocabulary: the large model is hash model 1; the small model mixes it with hash
// model 2, so the two agree on most but not all tokens.
struct FakePair {
    int32_t n_vocab;
    FakeSequence small;
    FakeSequence large;

    explicit FakePair(int32_t vocab = 64, int32_t n_ctx = 4096, double small_temperature = 1.0,
                      double large_temperature = 1.0, double mix = 0.35, int32_t large_rows = 0)
        : n_vocab(vocab),
          small(vocab, n_ctx, 1'000'000,
                [=](std::span<const int32_t> h, float* out) {
                    std::vector<float> a(vocab), b(vocab);
                    hash_logits(1, small_temperature, h, a.data(), vocab);
                    hash_logits(2, small_temperature, h, b.data(), vocab);
                    for (int32_t i = 0; i < vocab; ++i)
                        out[i] = static_cast<float>((1.0 - mix) * a[i] + mix * b[i]);
                }),
          large(large_rows > 0 ? large_rows : vocab, n_ctx, 8'000'000,
                [=](std::span<const int32_t> h, float* out) {
                    hash_logits(1, large_temperature, h, out, vocab);
                    for (int32_t i = vocab; i < large_rows; ++i)
                        out[i] = 50.0f;  // padding rows, never to be drawn
                }) {}
};

// Uniform over the first 2^bits ids after rotating by a history hash (entropy exactly `bits`); bits < 0:
// one-hot (entropy 0) on a history-dependent id.
inline void leveled_logits(std::span<const int32_t> history, int bits, float* out, int32_t n_vocab) {
    const int32_t start = static_cast<int32_t>(context_hash(7, history) % static_cast<uint64_t>(n_vocab));
    const int32_t width = bits < 0 ? 1 : (1 << bits);
    for (int32_t i = 0; i < n_vocab; ++i) out[i] = -INFINITY;
    for (int32_t j = 0; j < width; ++j) out[(start + j) % n_vocab] = 0.0f;
    if (bits < 0) out[start] = 5.0f;
}

}  // namespace ead::decode::test
