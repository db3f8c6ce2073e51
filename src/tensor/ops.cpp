// Scalar reference implementations of the small transformer operations (tensor/ops_ref.h). The public, Highway
// versions live in ops_simd.cpp and are tested against these.
#include "tensor/ops_ref.h"

#include <cmath>
#include <vector>

namespace ead::tensor::ref {

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
    if (w != nullptr) {
        for (int64_t i = 0; i < n; ++i) out[i] = x[i] * inv * w[i];
    } else {
        for (int64_t i = 0; i < n; ++i) out[i] = x[i] * inv;
    }
}

void rope_angles(int64_t n_rot, int64_t pos, float base, float freq_scale, const float* freq_factors,
                 float* cs) {
    for (int64_t i = 0; i < n_rot / 2; ++i) {
        double theta = static_cast<double>(pos) * freq_scale *
                       std::pow(static_cast<double>(base), -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
        if (freq_factors != nullptr) theta /= freq_factors[i];
        cs[2 * i] = static_cast<float>(std::cos(theta));
        cs[2 * i + 1] = static_cast<float>(std::sin(theta));
    }
}

void rope_rotate(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs,
                 RopeStyle style) {
    const int64_t half = n_rot / 2;
    for (int64_t h = 0; h < n_heads; ++h) {
        float* v = x + h * head_dim;
        for (int64_t i = 0; i < half; ++i) {
            const int64_t a = style == RopeStyle::kNormal ? 2 * i : i;
            const int64_t b = style == RopeStyle::kNormal ? 2 * i + 1 : i + half;
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const float x0 = v[a], x1 = v[b];
            v[a] = x0 * c - x1 * s;
            v[b] = x0 * s + x1 * c;
        }
    }
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float base,
          float freq_scale, const float* freq_factors, RopeStyle style) {
    thread_local std::vector<float> cs;  // [half][2]: cos, sin of each pair's angle
    if (static_cast<int64_t>(cs.size()) < n_rot) cs.resize(static_cast<size_t>(n_rot));
    ref::rope_angles(n_rot, pos, base, freq_scale, freq_factors, cs.data());
    ref::rope_rotate(x, n_heads, head_dim, n_rot, cs.data(), style);
}

void softmax(float* x, int64_t n) {
    if (n <= 0) return;
    float mx = x[0];
    for (int64_t i = 1; i < n; ++i) mx = std::fmax(mx, x[i]);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - mx);
        sum += x[i];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu(const float* x, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void gelu_tanh(const float* x, float* out, int64_t n) {
    constexpr float kSqrt2OverPi = 0.79788456080286535588f;
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        out[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
    }
}

void add(const float* a, const float* b, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void mul(const float* a, const float* b, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

void scale(float* x, float s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

float dot(const float* a, const float* b, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
    float sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

void axpy(float s, const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += s * x[i];
}

}  // namespace ead::tensor::ref
