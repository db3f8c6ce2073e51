#include "model/context.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "tensor/matmul.h"
#include "tensor/ops.h"

namespace ead::model {

namespace {

constexpr int kDefaultMaxCtx = 4096;

int resolve_n_ctx(const Model& m, int n_ctx) {
    if (n_ctx < 0) throw std::invalid_argument("context length " + std::to_string(n_ctx) + " is negative");
    if (n_ctx == 0) n_ctx = std::min(m.n_ctx_train(), kDefaultMaxCtx);
    return n_ctx;
}

const Model& checked(const std::shared_ptr<const Model>& m) {
    if (!m) throw std::invalid_argument("Context: null model");
    return *m;
}

}  // namespace

Context::Context(std::shared_ptr<const Model> model, const ContextOptions& opts)
    : model_(std::move(model)),
      n_ctx_(resolve_n_ctx(checked(model_), opts.n_ctx)),
      n_batch_(std::clamp(opts.n_batch, 1, n_ctx_)),
      n_threads_(1),
      kv_(model_->hparams().n_layer, model_->hparams().n_head_kv, model_->hparams().head_dim, n_ctx_,
          opts.kv_type) {
    if (opts.n_batch <= 0) throw std::invalid_argument("n_batch " + std::to_string(opts.n_batch) + " must be positive");
    set_n_threads(opts.n_threads);
    buf_.allocate(model_->hparams(), n_batch_);
    logits_.assign(static_cast<size_t>(model_->n_vocab()), 0.0f);
}

void Context::set_n_threads(int n) {
    if (n <= 0 || n > 1024) throw std::invalid_argument("thread count " + std::to_string(n) + " is out of range");
    n_threads_ = n;
}

void Context::truncate(int n_past) {
    if (n_past < 0 || n_past > n_past_) {
        throw std::invalid_argument("truncate(" + std::to_string(n_past) + "): must be in [0, " +
                                    std::to_string(n_past_) + "]");
    }
    n_past_ = n_past;  // positions >= n_past are overwritten by the next eval before they are read
}

const float* Context::eval(const int32_t* tokens, int n, bool all_logits) {
    if (n <= 0) throw std::invalid_argument("eval: token count " + std::to_string(n) + " must be positive");
    if (static_cast<int64_t>(n_past_) + n > n_ctx_) {
        throw std::length_error("eval: " + std::to_string(n) + " tokens at position " + std::to_string(n_past_) +
                                " need a context of " + std::to_string(int64_t{n_past_} + n) +
                                " positions, but the context holds " + std::to_string(n_ctx_));
    }
    const int n_vocab = model_->n_vocab();
    for (int i = 0; i < n; ++i) {
        if (tokens[i] < 0 || tokens[i] >= n_vocab) {
            throw std::invalid_argument("eval: token " + std::to_string(tokens[i]) + " at index " +
                                        std::to_string(i) + " is outside the vocabulary [0, " +
                                        std::to_string(n_vocab) + ")");
        }
    }
    const size_t rows = all_logits ? static_cast<size_t>(n) : 1;
    if (logits_.size() < rows * n_vocab) logits_.resize(rows * n_vocab);
    for (int i0 = 0; i0 < n; i0 += n_batch_) {
        const int nb = std::min(n_batch_, n - i0);
        const bool last = i0 + nb == n;
        if (all_logits) {
            forward(tokens + i0, nb, 0, logits_.data() + static_cast<size_t>(i0) * n_vocab);
        } else {
            forward(tokens + i0, nb, last ? nb - 1 : nb, logits_.data());
        }
        n_past_ += nb;
    }
    return logits_.data();
}

void Context::forward(const int32_t* tokens, int n, int first_out, float* out) {
    const Model& m = *model_;
    const HParams& hp = m.hparams();
    const GlobalWeights& g = m.globals();
    ForwardPass pass{m, hp, kv_, buf_, n, n_past_, n_threads_};
    float* x = buf_.x.data();  // [n][n_embd]
    for (int t = 0; t < n; ++t) {
        float* xt = x + static_cast<size_t>(t) * hp.n_embd;
        tensor::dequantize_row(g.token_embd.type, g.token_embd.data, hp.n_embd, tokens[t], xt);
        if (hp.embd_scale != 1.0f) tensor::scale(xt, hp.embd_scale, hp.n_embd);
    }
    for (int il = 0; il < hp.n_layer; ++il) m.architecture().layer(pass, il);
    if (first_out >= n) return;

    // Final norm and output matrix, only for the rows whose logits are wanted.
    const int n_out = n - first_out;
    float* h = buf_.h.data();  // [n_out][n_embd]
    for (int r = 0; r < n_out; ++r) {
        tensor::rms_norm(x + static_cast<size_t>(first_out + r) * hp.n_embd, g.output_norm.f32,
                         h + static_cast<size_t>(r) * hp.n_embd, hp.n_embd, hp.rms_eps);
    }
    tensor::matmul(g.output.type, g.output.layout, g.output.data, g.output.rows, g.output.cols, h, n_out, out, n_threads_);
    if (hp.final_logit_softcap > 0.0f) {
        const float c = hp.final_logit_softcap;
        const size_t total = static_cast<size_t>(n_out) * hp.n_vocab;
        for (size_t i = 0; i < total; ++i) out[i] = c * std::tanh(out[i] / c);
    }
}

}  // namespace ead::model
