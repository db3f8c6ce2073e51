#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "decode/params.h"
#include "decode/sampler.h"

namespace ead::decode {
namespace {

std::map<int32_t, double> probs(const Candidates& c) {
    std::map<int32_t, double> m;
    for (const auto& x : c.data()) m[x.id] = x.p;
    return m;
}

std::vector<double> softmax(const std::vector<double>& l) {
    double mx = l[0];
    for (double x : l) mx = std::max(mx, x);
    double z = 0;
    for (double x : l) z += std::exp(x - mx);
    std::vector<double> p;
    for (double x : l) p.push_back(std::exp(x - mx) / z);
    return p;
}

constexpr double kTol = 1e-6;  // float logits

TEST(Sampler, PlainChainIsSoftmax) {
    SamplerChain chain;
    std::vector<float> l = {1.0f, 2.0f, 3.0f};
    Candidates c;
    chain.distribution(l.data(), 3, {}, c);
    const auto p = softmax({1, 2, 3});
    auto got = probs(c);
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(got[i], p[i], kTol);
}

TEST(Sampler, Temperature) {
    SamplerChain chain;
    chain.add(std::make_unique<TemperatureSampler>(2.0f));
    std::vector<float> l = {1.0f, 2.0f, 3.0f};
    Candidates c;
    chain.distribution(l.data(), 3, {}, c);
    const auto p = softmax({0.5, 1.0, 1.5});
    auto got = probs(c);
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(got[i], p[i], kTol);
}

TEST(Sampler, TopK) {
    SamplerChain chain;
    chain.add(std::make_unique<TopKSampler>(2));
    std::vector<float> l = {1.0f, 3.0f, 2.0f, 0.0f};
    Candidates c;
    chain.distribution(l.data(), 4, {}, c);
    ASSERT_EQ(c.size(), 2);
    EXPECT_EQ(c.data()[0].id, 1);
    EXPECT_EQ(c.data()[1].id, 2);
    const auto p = softmax({3, 2});
    EXPECT_NEAR(c.data()[0].p, p[0], kTol);
    EXPECT_NEAR(c.data()[1].p, p[1], kTol);
}

TEST(Sampler, TopP) {
    std::vector<float> l = {std::log(0.2f), std::log(0.5f), std::log(0.3f)};
    Candidates c;
    {
        SamplerChain chain;
        chain.add(std::make_unique<TopPSampler>(0.7f));  // 0.5 < 0.7 <= 0.5 + 0.3: keep two
        chain.distribution(l.data(), 3, {}, c);
        auto got = probs(c);
        ASSERT_EQ(got.size(), 2u);
        EXPECT_NEAR(got[1], 0.5 / 0.8, kTol);
        EXPECT_NEAR(got[2], 0.3 / 0.8, kTol);
    }
    {
        SamplerChain chain;
        chain.add(std::make_unique<TopPSampler>(0.4f));  // the top token alone
        chain.distribution(l.data(), 3, {}, c);
        ASSERT_EQ(c.size(), 1);
        EXPECT_EQ(c.data()[0].id, 1);
        EXPECT_NEAR(c.data()[0].p, 1.0, kTol);
    }
}

TEST(Sampler, MinP) {
    std::vector<float> l = {std::log(0.2f), std::log(0.5f), std::log(0.3f)};
    SamplerChain chain;
    chain.add(std::make_unique<MinPSampler>(0.5f));  // keep p >= 0.25
    Candidates c;
    chain.distribution(l.data(), 3, {}, c);
    auto got = probs(c);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NEAR(got[1], 0.5 / 0.8, kTol);
    EXPECT_NEAR(got[2], 0.3 / 0.8, kTol);
}

TEST(Sampler, Penalties) {
    // history: id 0 twice, id 1 once; id 2 absent.
    std::vector<int32_t> history = {0, 0, 1};
    std::vector<float> l = {2.0f, -1.0f, 1.0f};
    {
        PenaltySampler s(2.0f, -1, 0.0f, 0.0f);
        Candidates c;
        c.reset(l.data(), 3);
        s.apply(c, history);
        EXPECT_FLOAT_EQ(c.data()[0].logit, 1.0f);   // 2 / 2
        EXPECT_FLOAT_EQ(c.data()[1].logit, -2.0f);  // -1 * 2
        EXPECT_FLOAT_EQ(c.data()[2].logit, 1.0f);
    }
    {
        PenaltySampler s(1.0f, -1, 0.25f, 0.5f);
        Candidates c;
        c.reset(l.data(), 3);
        s.apply(c, history);
        EXPECT_FLOAT_EQ(c.data()[0].logit, 2.0f - 0.25f - 1.0f);
        EXPECT_FLOAT_EQ(c.data()[1].logit, -1.0f - 0.25f - 0.5f);
        EXPECT_FLOAT_EQ(c.data()[2].logit, 1.0f);
    }
    {
        PenaltySampler s(2.0f, 1, 0.0f, 0.0f);  // only the last token (id 1) is looked at
        Candidates c;
        c.reset(l.data(), 3);
        s.apply(c, history);
        EXPECT_FLOAT_EQ(c.data()[0].logit, 2.0f);
        EXPECT_FLOAT_EQ(c.data()[1].logit, -2.0f);
    }
}

TEST(Sampler, GreedyTiesGoToLowestId) {
    SamplerChain chain;
    chain.add(std::make_unique<GreedySampler>());
    EXPECT_TRUE(chain.greedy());
    std::vector<float> l = {1.0f, 4.0f, 2.0f, 4.0f};
    Candidates c;
    chain.distribution(l.data(), 4, {}, c);
    ASSERT_EQ(c.size(), 1);
    EXPECT_EQ(c.data()[0].id, 1);
    EXPECT_EQ(c.data()[0].p, 1.0);
    Rng rng(1);
    EXPECT_EQ(sample(c, rng), 1);
}

TEST(Sampler, DrawsFollowTheDistribution) {
    std::vector<float> l = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
    SamplerChain chain;
    Candidates c;
    chain.distribution(l.data(), 3, {}, c);
    Rng rng(42);
    const int n = 200000;
    std::vector<int> counts(3);
    for (int i = 0; i < n; ++i) counts[sample(c, rng)]++;
    // 5 sigma of a binomial count.
    for (int i = 0; i < 3; ++i) {
        const double p = std::vector<double>{0.5, 0.3, 0.2}[i];
        EXPECT_NEAR(counts[i], n * p, 5 * std::sqrt(n * p * (1 - p))) << i;
    }
}

TEST(Sampler, RngIsReproducibleAndUniform) {
    Rng a(7), b(7), c(8);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        const double x = a.uniform();
        EXPECT_EQ(x, b.uniform());
        differs |= x != c.uniform();
        EXPECT_GE(x, 0.0);
        EXPECT_LT(x, 1.0);
    }
    EXPECT_TRUE(differs);
    // mt19937_64's 10000th output for the default seed is fixed by the standard.
    std::mt19937_64 ref;
    ref.discard(9999);
    EXPECT_EQ(ref(), 9981545732273789042ULL);
}

TEST(Sampler, ChainFromParams) {
    DecodeParams p;
    EXPECT_TRUE(make_sampler_chain(p).greedy());  // temperature 0 by default
    EXPECT_EQ(make_sampler_chain(p).describe(), "greedy");
    p.temperature = 0.8;
    p.top_k = 40;
    p.top_p = 0.95;
    p.min_p = 0.05;
    p.repeat_penalty = 1.1;
    const SamplerChain chain = make_sampler_chain(p);
    EXPECT_FALSE(chain.greedy());
    EXPECT_EQ(chain.describe(),
              "penalties(repeat=1.1, last_n=64, presence=0, frequency=0) -> temperature(0.8) -> top_k(40) -> "
              "top_p(0.95) -> min_p(0.05)");
}

TEST(Sampler, ComposedChainMatchesHandComputation) {
    // temperature 0.5 then top-k 3 then top-p 0.8 on logits {0, 1, 2, 3, -1}.
    SamplerChain chain;
    chain.add(std::make_unique<TemperatureSampler>(0.5f));
    chain.add(std::make_unique<TopKSampler>(3));
    chain.add(std::make_unique<TopPSampler>(0.8f));
    std::vector<float> l = {0.0f, 1.0f, 2.0f, 3.0f, -1.0f};
    Candidates c;
    chain.distribution(l.data(), 5, {}, c);
    // After temperature: {0,2,4,6,-2}; top-3: ids 3,2,1 with softmax {6,4,2} = {0.8668, 0.1173, 0.0159}:
    // 0.8668 >= 0.8, so only id 3 remains.
    ASSERT_EQ(c.size(), 1);
    EXPECT_EQ(c.data()[0].id, 3);
}

}  // namespace
}  // namespace ead::decode
