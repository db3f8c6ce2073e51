// The decoding stage's view of one model's context: one token sequence with its own KV cache.
//
// A strategy (strategy.h) drives one or two Sequences; it never sees model weights. The model stage provides
// the real implementation (model_sequence.h); tests provide scripted fakes (tests/decode/fake_sequence.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ead::decode {

// Which model of a pair. The values index per-model arrays (statistics, slots).
enum class ModelId : uint8_t { kSmall = 0, kLarge = 1 };

inline constexpr int kNumModels = 2;
inline constexpr int index_of(ModelId m) {
    return static_cast<int>(m);
}
inline constexpr ModelId other(ModelId m) {
    return m == ModelId::kSmall ? ModelId::kLarge : ModelId::kSmall;
}
// "small" / "large"
std::string_view model_name(ModelId m);

// Empty when a prompt of n_prompt tokens leaves at least one position of n_ctx to generate into; otherwise
// the error a front end reports ("the prompt has N tokens but the context length is M tokens ...").
std::string prompt_overflow(int64_t n_prompt, int32_t n_ctx);

class Sequence {
  public:
    virtual ~Sequence();

    // Rows of the output (logit) matrix. May exceed the tokenizer's token count (padding rows).
    virtual int32_t n_vocab() const = 0;
    // Capacity of the KV cache in tokens: n_past() never exceeds it.
    virtual int32_t n_ctx() const = 0;
    // Tokens held in the KV cache (positions 0 .. n_past-1).
    virtual int32_t n_past() const = 0;

    // Appends tokens[0..n) at positions n_past .. n_past+n-1 and evaluates them in one batch (n >= 1,
    // n_past + n <= n_ctx). Returns the raw logits: [n][n_vocab] row-major if all_logits, else [n_vocab] for
    // the last token only. Row i is the distribution of the token at position n_past_before + i + 1. The
    // pointer is valid until the next call on this sequence.
    virtual const float* eval(const int32_t* tokens, int32_t n, bool all_logits) = 0;

    // Drops every cached position >= n_past (0 <= n_past <= n_past()).
    virtual void truncate(int32_t n_past) = 0;

    // FLOPs of one eval call of n_tokens tokens on top of n_past cached ones (the cost model used for the
    // "measured cost" statistic).
    virtual double forward_flops(int32_t n_tokens, int32_t n_past) const = 0;

    // Parameter count of the model (the "nominal cost" statistic, paper section 6).
    virtual int64_t n_params() const = 0;
};

}  // namespace ead::decode
