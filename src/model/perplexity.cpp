#include "model/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "model/fingerprint.h"

namespace ead::model {

namespace {

// -log softmax(row)[target], in double.
double nll(const float* row, int n, int target) {
    float mx = row[0];
    for (int i = 1; i < n; ++i) mx = std::max(mx, row[i]);
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += std::exp(static_cast<double>(row[i]) - mx);
    return std::log(sum) - (static_cast<double>(row[target]) - mx);
}

}  // namespace

PerplexityResult perplexity(Context& ctx, const std::vector<int32_t>& tokens, const PerplexityOptions& o) {
    if (o.window < 2) throw std::invalid_argument("perplexity: window " + std::to_string(o.window) + " must be >= 2");
    if (o.window > ctx.n_ctx()) {
        throw std::invalid_argument("perplexity: window of " + std::to_string(o.window) +
                                    " tokens exceeds the context of " + std::to_string(ctx.n_ctx()));
    }
    if (o.batch < 1) throw std::invalid_argument("perplexity: batch must be positive");
    int n_windows = static_cast<int>(tokens.size() / static_cast<size_t>(o.window));
    if (n_windows == 0) {
        throw std::invalid_argument("perplexity: " + std::to_string(tokens.size()) +
                                    " tokens are fewer than one window of " + std::to_string(o.window));
    }
    if (o.max_windows > 0) n_windows = std::min(n_windows, o.max_windows);
    const int n_vocab = ctx.n_vocab();
    const int first = o.score_all ? 0 : o.window / 2;  // logits row j predicts token j + 1; rows [first, window-1)

    PerplexityResult r;
    double sum = 0, sum_sq = 0;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<int32_t> win(static_cast<size_t>(o.window));
    for (int w = 0; w < n_windows; ++w) {
        std::copy_n(tokens.begin() + static_cast<ptrdiff_t>(w) * o.window, o.window, win.begin());
        if (o.bos >= 0) win[0] = o.bos;
        ctx.reset();
        // Rows before `first` only fill the KV cache: no logits are computed for them.
        for (int b0 = 0; b0 < o.window;) {
            const bool scored = b0 >= first;
            const int nb = std::min(o.batch, (scored ? o.window : first) - b0);
            const float* logits = ctx.eval(win.data() + b0, nb, /*all_logits=*/scored);
            r.n_evaluated += nb;
            for (int i = 0; scored && i < nb; ++i) {
                const int j = b0 + i;  // logits row j predicts win[j + 1] (never the replaced first token)
                if (j + 1 >= o.window) continue;
                const double v = nll(logits + static_cast<size_t>(i) * n_vocab, n_vocab, win[j + 1]);
                sum += v;
                sum_sq += v * v;
                ++r.n_scored;
            }
            b0 += nb;
            if (w == n_windows - 1 && b0 == o.window) {
                r.fingerprint = logits_fingerprint(logits, static_cast<size_t>(nb) * n_vocab);
            }
        }
        r.n_windows = w + 1;
        if (o.progress) o.progress(w, n_windows, std::exp(sum / static_cast<double>(r.n_scored)));
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double n = static_cast<double>(r.n_scored);
    r.nll_mean = sum / n;
    const double var = n > 1 ? std::max(0.0, (sum_sq / n - r.nll_mean * r.nll_mean) * n / (n - 1)) : 0.0;
    r.nll_stderr = std::sqrt(var / n);
    r.ppl = std::exp(r.nll_mean);
    r.ppl_lo = std::exp(r.nll_mean - 1.96 * r.nll_stderr);
    r.ppl_hi = std::exp(r.nll_mean + 1.96 * r.nll_stderr);
    return r;
}

}  // namespace ead::model
