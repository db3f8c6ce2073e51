// One sequence being evaluated by a model: its KV cache, position and scratch buffers.
// A Context is not thread-safe; use one per sequence (several may share one Model).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/blocks.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace ead::model {

struct ContextOptions {
    int n_ctx = 0;  // positions the KV cache holds; 0: the model's training context, capped at 4096
    tensor::TensorType kv_type = tensor::TensorType::kF16;  // F16 or F32
    int n_threads = 1;
    int n_batch = 512;  // rows per forward pass: longer evals are split (scratch memory grows with it)
};

class Context {
public:
    // Allocates the KV cache and scratch buffers. Throws std::invalid_argument for a bad option.
    Context(std::shared_ptr<const Model> model, const ContextOptions& opts = {});

    // Evaluates tokens[0..n) at positions [n_past, n_past + n) and advances n_past by n.
    // Returns the logits, valid until the next eval: [n][n_vocab] when all_logits (row t predicts the token
    // after tokens[t]), else [1][n_vocab] for the last token.
    // Throws std::length_error (naming both numbers) when n_past + n exceeds n_ctx, std::invalid_argument for
    // a token id outside [0, n_vocab) or n <= 0; the context is unchanged then.
    const float* eval(const int32_t* tokens, int n, bool all_logits = false);
    const float* eval(const std::vector<int32_t>& tokens, bool all_logits = false) {
        return eval(tokens.data(), static_cast<int>(tokens.size()), all_logits);
    }

    // Forgets every position >= n_past (0 <= n_past <= this->n_past(); else std::invalid_argument).
    void truncate(int n_past);
    void reset() { truncate(0); }

    int n_past() const { return n_past_; }
    int n_ctx() const { return n_ctx_; }
    int n_vocab() const { return model_->n_vocab(); }
    int n_threads() const { return n_threads_; }
    void set_n_threads(int n);
    const Model& model() const { return *model_; }
    const std::shared_ptr<const Model>& model_ptr() const { return model_; }
    size_t kv_bytes() const { return kv_.bytes(); }
    size_t kv_bytes_per_token() const { return kv_.bytes_per_token(); }

private:
    // One forward pass of n <= n_batch tokens; writes logits of rows [first_out, n) to out.
    void forward(const int32_t* tokens, int n, int first_out, float* out);

    std::shared_ptr<const Model> model_;
    int n_ctx_;
    int n_batch_;
    int n_threads_;
    int n_past_ = 0;
    KvCache kv_;
    ForwardBuffers buf_;
    std::vector<float> logits_;  // [rows][n_vocab], grows to the largest all-logits eval
};

}  // namespace ead::model
