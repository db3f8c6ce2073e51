// Perplexity of a model over a token sequence, in non-overlapping windows (as llama.cpp's perplexity tool).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/context.h"

namespace ead::model {

struct PerplexityOptions {
    int window = 512;    // tokens per window; windows are non-overlapping, a partial last window is dropped
    int batch = 128;     // rows per eval (logits memory: batch * n_vocab floats)
    // false (default, as llama.cpp): score the second half of each window (positions window/2 .. window-1), so
    // every scored token has at least window/2 tokens of context. true: score every position after the first.
    bool score_all = false;
    int32_t bos = -1;    // >= 0: the first token of every window is replaced by this id (as llama.cpp does)
    int max_windows = 0; // 0: all
    // Called after each window with its index, the window count and the running perplexity.
    std::function<void(int, int, double)> progress;
};

struct PerplexityResult {
    int n_windows = 0;
    int64_t n_scored = 0;     // predictions scored
    int64_t n_evaluated = 0;  // tokens run through the model
    double nll_mean = 0;      // nats per scored token
    double nll_stderr = 0;    // standard error of nll_mean
    double ppl = 0;           // exp(nll_mean)
    double ppl_lo = 0, ppl_hi = 0;  // 95% confidence interval: exp(nll_mean -/+ 1.96 * nll_stderr)
    double seconds = 0;
    std::string fingerprint;  // logits_fingerprint of the last batch's logits
};

// Throws std::invalid_argument when the sequence is shorter than one window or the window exceeds the
// context's n_ctx. Resets the context (n_past 0) before each window.
PerplexityResult perplexity(Context& ctx, const std::vector<int32_t>& tokens, const PerplexityOptions& opts);

}  // namespace ead::model
