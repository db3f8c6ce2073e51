// Shannon entropy of a next-token distribution, and the rolling mean EAD thresholds (paper sections 2 and 3).
#pragma once

#include <cstdint>
#include <deque>

namespace ead::decode {

// Entropy in bits of softmax(logits) over all n entries: H = (logsumexp(l) - sum_i p_i*l_i) / ln 2, computed
// with the maximum subtracted and accumulated in double. Always called on the RAW logits (before temperature,
// penalties or truncation); it is not a sampler. Entries equal to -inf have probability 0 and are skipped.
// Uniform logits give log2(n); a single finite entry gives exactly 0. Returns NaN if any entry is NaN or
// +inf, or if n < 1 or every entry is -inf.
double entropy_bits(const float* logits, int32_t n);

// Largest probability of softmax(logits) (raw logits, double accumulation); NaN as for entropy_bits.
double max_probability(const float* logits, int32_t n);

// Mean of the last `window` values pushed; before `window` values exist, the mean of those available
// (paper section 3, [choice]). The mean is recomputed from the stored values, so equal inputs give exact
// ties.
class RollingWindow {
  public:
    explicit RollingWindow(int32_t window) : window_(window < 1 ? 1 : window) {}
    void push(double value);
    void clear() { values_.clear(); }
    // NaN when empty.
    double mean() const;
    int32_t size() const { return static_cast<int32_t>(values_.size()); }
    int32_t window() const { return window_; }

  private:
    int32_t window_;
    std::deque<double> values_;
};

}  // namespace ead::decode
