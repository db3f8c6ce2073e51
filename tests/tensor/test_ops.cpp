// The small ops against float64 references, over many lengths (vector tails included).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/ops.h"
#include "tensor_test_util.h"

namespace ead::tensor {
namespace {

using testutil::gaussian;

const int64_t kLengths[] = {1, 3, 7, 8, 9, 31, 64, 100, 257, 1000};

TEST(Ops, RmsNorm) {
    std::mt19937 rng(1);
    for (int64_t n : kLengths) {
        const auto x = gaussian(n, rng, 3.0f), w = gaussian(n, rng);
        std::vector<float> out(n), out_nw(n);
        rms_norm(x.data(), w.data(), out.data(), n, 1e-6f);
        rms_norm(x.data(), nullptr, out_nw.data(), n, 1e-6f);
        double ss = 0;
        for (float v : x) ss += double(v) * v;
        const double inv = 1.0 / std::sqrt(ss / n + 1e-6);
        for (int64_t i = 0; i < n; ++i) {
            EXPECT_NEAR(out[i], x[i] * inv * w[i], 1e-6 * (1 + std::fabs(x[i] * inv * w[i])));
            EXPECT_NEAR(out_nw[i], x[i] * inv, 1e-6 * (1 + std::fabs(x[i] * inv)));
        }
        // In place.
        std::vector<float> y = x;
        rms_norm(y.data(), w.data(), y.data(), n, 1e-6f);
        for (int64_t i = 0; i < n; ++i) EXPECT_EQ(y[i], out[i]);
    }
}

TEST(Ops, Softmax) {
    std::mt19937 rng(2);
    for (int64_t n : kLengths) {
        auto x = gaussian(n, rng, 10.0f);
        x[0] = 80.0f;  // large values must not overflow
        std::vector<double> ref(n);
        double mx = -1e300, sum = 0;
        for (float v : x) mx = std::max(mx, double(v));
        for (int64_t i = 0; i < n; ++i) sum += (ref[i] = std::exp(x[i] - mx));
        softmax(x.data(), n);
        double total = 0;
        for (int64_t i = 0; i < n; ++i) {
            EXPECT_NEAR(x[i], ref[i] / sum, 1e-6);
            total += x[i];
        }
        EXPECT_NEAR(total, 1.0, 1e-5);
    }
}

TEST(Ops, Activations) {
    std::mt19937 rng(3);
    for (int64_t n : kLengths) {
        const auto x = gaussian(n, rng, 4.0f);
        std::vector<float> s(n), g(n);
        silu(x.data(), s.data(), n);
        gelu_tanh(x.data(), g.data(), n);
        for (int64_t i = 0; i < n; ++i) {
            const double v = x[i];
            EXPECT_NEAR(s[i], v / (1 + std::exp(-v)), 1e-6 * (1 + std::fabs(v)));
            const double gr = 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
            EXPECT_NEAR(g[i], gr, 1e-6 * (1 + std::fabs(v)));
        }
    }
}

TEST(Ops, Elementwise) {
    std::mt19937 rng(4);
    for (int64_t n : kLengths) {
        const auto a = gaussian(n, rng), b = gaussian(n, rng);
        std::vector<float> s(n), m(n), y = b, c = a;
        add(a.data(), b.data(), s.data(), n);
        mul(a.data(), b.data(), m.data(), n);
        axpy(0.5f, a.data(), y.data(), n);
        scale(c.data(), -3.0f, n);
        double d = 0, absd = 0;
        for (int64_t i = 0; i < n; ++i) {
            EXPECT_EQ(s[i], a[i] + b[i]);
            EXPECT_EQ(m[i], a[i] * b[i]);
            EXPECT_NEAR(y[i], b[i] + 0.5 * a[i], 1e-6 * (1 + std::fabs(y[i])));
            EXPECT_EQ(c[i], a[i] * -3.0f);
            d += double(a[i]) * b[i];
            absd += std::fabs(double(a[i]) * b[i]);
        }
        EXPECT_NEAR(dot(a.data(), b.data(), n), d, 1e-6 * absd + 1e-7);
        // Aliasing out == a.
        std::vector<float> al = a;
        add(al.data(), b.data(), al.data(), n);
        for (int64_t i = 0; i < n; ++i) EXPECT_EQ(al[i], s[i]);
    }
}

TEST(Ops, Rope) {
    std::mt19937 rng(5);
    const int64_t heads = 3, head_dim = 16;
    const float ff[] = {1, 2, 4, 8, 1, 1, 1, 1};
    for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
        for (int64_t n_rot : {int64_t{16}, int64_t{8}}) {
            for (const float* factors : {static_cast<const float*>(nullptr), ff}) {
                for (int64_t pos : {0, 1, 17, 4000}) {
                    const auto x = gaussian(heads * head_dim, rng);
                    auto y = x;
                    rope(y.data(), heads, head_dim, n_rot, pos, 10000.0f, 0.5f, factors, style);
                    for (int64_t h = 0; h < heads; ++h) {
                        const float* xv = x.data() + h * head_dim;
                        const float* yv = y.data() + h * head_dim;
                        for (int64_t i = 0; i < n_rot / 2; ++i) {
                            const int64_t a = style == RopeStyle::kNormal ? 2 * i : i;
                            const int64_t b = style == RopeStyle::kNormal ? 2 * i + 1 : i + n_rot / 2;
                            double th = pos * 0.5 * std::pow(10000.0, -2.0 * i / n_rot);
                            if (factors) th /= factors[i];
                            EXPECT_NEAR(yv[a], xv[a] * std::cos(th) - xv[b] * std::sin(th), 1e-5);
                            EXPECT_NEAR(yv[b], xv[a] * std::sin(th) + xv[b] * std::cos(th), 1e-5);
                        }
                        for (int64_t i = n_rot; i < head_dim; ++i) EXPECT_EQ(yv[i], xv[i]);  // not rotated
                    }
                }
            }
        }
    }
}

}  // namespace
}  // namespace ead::tensor
