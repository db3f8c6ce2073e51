#include "decode/entropy.h"

#include <cmath>
#include <limits>

namespace ead::decode {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Maximum of the logits; NaN if an entry is NaN or +inf or no entry is finite.
double max_logit(const float* logits, int32_t n) {
    double mx = -std::numeric_limits<double>::infinity();
    for (int32_t i = 0; i < n; ++i) {
        const float l = logits[i];
        if (std::isnan(l) || l == std::numeric_limits<float>::infinity()) return kNaN;
        if (l > mx) mx = l;
    }
    return std::isfinite(mx) ? mx : kNaN;
}

}  // namespace

double entropy_bits(const float* logits, int32_t n) {
    if (n < 1) return kNaN;
    const double mx = max_logit(logits, n);
    if (std::isnan(mx)) return kNaN;
    // With s_i = l_i - max <= 0 and Z = sum exp(s_i) >= 1:  H_nats = log Z - sum_i exp(s_i) * s_i / Z.
    // Both terms are >= 0, so nothing cancels.
    double z = 0.0, weighted = 0.0;
    for (int32_t i = 0; i < n; ++i) {
        if (logits[i] == -std::numeric_limits<float>::infinity()) continue;
        const double s = static_cast<double>(logits[i]) - mx;
        const double e = std::exp(s);
        z += e;
        weighted += e * s;
    }
    const double h_nats = std::log(z) - weighted / z;
    return (h_nats > 0.0 ? h_nats : 0.0) / std::log(2.0);
}

double max_probability(const float* logits, int32_t n) {
    if (n < 1) return kNaN;
    const double mx = max_logit(logits, n);
    if (std::isnan(mx)) return kNaN;
    double z = 0.0;
    for (int32_t i = 0; i < n; ++i) {
        if (logits[i] == -std::numeric_limits<float>::infinity()) continue;
        z += std::exp(static_cast<double>(logits[i]) - mx);
    }
    return 1.0 / z;
}

void RollingWindow::push(double value) {
    values_.push_back(value);
    while (static_cast<int32_t>(values_.size()) > window_) values_.pop_front();
}

double RollingWindow::mean() const {
    if (values_.empty()) return kNaN;
    double sum = 0.0;
    for (double v : values_) sum += v;
    return sum / static_cast<double>(values_.size());
}

}  // namespace ead::decode
