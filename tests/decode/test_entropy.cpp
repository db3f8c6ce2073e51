#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "decode/entropy.h"

namespace ead::decode {
namespace {

// float64 (long double) reference: H = -sum p log2 p with p from an unshifted-then-normalized softmax.
long double reference_entropy(const std::vector<float>& l) {
    long double mx = -INFINITY;
    for (float x : l) mx = std::max<long double>(mx, x);
    long double z = 0;
    for (float x : l) z += std::exp(static_cast<long double>(x) - mx);
    long double h = 0;
    for (float x : l) {
        const long double p = std::exp(static_cast<long double>(x) - mx) / z;
        if (p > 0) h -= p * std::log2(p);
    }
    return h;
}

TEST(Entropy, UniformIsLog2V) {
    for (int32_t v : {1, 2, 3, 7, 64, 1000, 32000, 151936}) {
        for (float level : {0.0f, -3.5f, 17.25f}) {
            std::vector<float> l(static_cast<size_t>(v), level);
            const double h = entropy_bits(l.data(), v);
            // Error model: log of a sum of v ones (exact in double) and one division: a few ulps of log2(v).
            EXPECT_NEAR(h, std::log2(static_cast<double>(v)),
                        4 * std::numeric_limits<double>::epsilon() * (1 + std::log2(v)))
                << "v=" << v << " level=" << level;
        }
    }
}

TEST(Entropy, OneHotIsZero) {
    for (int32_t v : {1, 2, 50, 151936}) {
        std::vector<float> l(static_cast<size_t>(v), -std::numeric_limits<float>::infinity());
        l[static_cast<size_t>(v) / 2] = 3.0f;
        EXPECT_EQ(entropy_bits(l.data(), v), 0.0) << v;
        // Finite but overwhelming: exp(-1000) underflows to 0 in double.
        std::vector<float> m(static_cast<size_t>(v), 0.0f);
        m[0] = 1000.0f;
        EXPECT_EQ(entropy_bits(m.data(), v), 0.0) << v;
    }
}

TEST(Entropy, MatchesFloat64ReferenceOnRandomLogits) {
    std::mt19937_64 rng(12345);
    for (int32_t v : {2, 3, 17, 256, 1001, 50000}) {
        for (double scale : {0.01, 1.0, 5.0, 40.0}) {
            std::normal_distribution<double> normal(0.0, scale);
            std::vector<float> l(static_cast<size_t>(v));
            for (auto& x : l) x = static_cast<float>(normal(rng) + 7.0);
            const double h = entropy_bits(l.data(), v);
            const double ref = static_cast<double>(reference_entropy(l));
            // Double accumulation of v terms: relative error ~ v * eps in the sums; bound it generously.
            const double tol = 1e-13 * (1.0 + v * 1e-3) * (1.0 + ref) + 1e-12;
            EXPECT_NEAR(h, ref, tol) << "v=" << v << " scale=" << scale;
            EXPECT_GE(h, 0.0);
            EXPECT_LE(h, std::log2(static_cast<double>(v)) + 1e-12);
        }
    }
}

TEST(Entropy, MinusInfinityEntriesHaveProbabilityZero) {
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> l = {0.0f, -inf, 0.0f, -inf, 0.0f, 0.0f};
    EXPECT_DOUBLE_EQ(entropy_bits(l.data(), 6), 2.0);
    EXPECT_DOUBLE_EQ(max_probability(l.data(), 6), 0.25);
}

TEST(Entropy, LargeLogitsDoNotOverflow) {
    std::vector<float> l = {3e38f, 3e38f, -3e38f};
    EXPECT_DOUBLE_EQ(entropy_bits(l.data(), 3), 1.0);
}

TEST(Entropy, InvalidInputGivesNaN) {
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> nan_in = {0.0f, std::numeric_limits<float>::quiet_NaN()};
    std::vector<float> pos_inf = {0.0f, inf};
    std::vector<float> all_neg_inf = {-inf, -inf};
    EXPECT_TRUE(std::isnan(entropy_bits(nan_in.data(), 2)));
    EXPECT_TRUE(std::isnan(entropy_bits(pos_inf.data(), 2)));
    EXPECT_TRUE(std::isnan(entropy_bits(all_neg_inf.data(), 2)));
    EXPECT_TRUE(std::isnan(entropy_bits(nan_in.data(), 0)));
}

TEST(Entropy, MaxProbability) {
    std::vector<float> l = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
    EXPECT_NEAR(max_probability(l.data(), 3), 0.5, 1e-7);
}

TEST(RollingWindow, MeanOverAvailableThenLastW) {
    RollingWindow w(3);
    EXPECT_TRUE(std::isnan(w.mean()));
    w.push(3.0);
    EXPECT_EQ(w.mean(), 3.0);  // one value: its own mean (paper section 3 [choice])
    w.push(1.0);
    EXPECT_EQ(w.mean(), 2.0);
    w.push(2.0);
    EXPECT_EQ(w.mean(), 2.0);
    w.push(6.0);  // drops 3
    EXPECT_EQ(w.mean(), 3.0);
    EXPECT_EQ(w.size(), 3);
    w.clear();
    EXPECT_EQ(w.size(), 0);
    w.push(0.5);
    EXPECT_EQ(w.mean(), 0.5);
}

}  // namespace
}  // namespace ead::decode
