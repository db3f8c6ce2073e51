#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/params.h"
#include "decode/switch_rule.h"

namespace ead::decode {
namespace {

// Feeds the entropies; returns the model that produced each token ('S'/'L').
std::string run(SwitchRule& rule, const std::vector<double>& entropies) {
    std::string out;
    for (double h : entropies) {
        out += rule.active() == ModelId::kSmall ? 'S' : 'L';
        rule.step(h);
    }
    return out;
}

SwitchConfig config(double tau, int32_t window, int32_t min_dwell) {
    SwitchConfig c;
    c.tau_up = c.tau_down = tau;
    c.window = window;
    c.min_dwell = min_dwell;
    return c;
}

TEST(SwitchRule, StartsOnSmallWithZeroDwell) {
    SwitchRule r(config(1.0, 5, 10));
    EXPECT_EQ(r.active(), ModelId::kSmall);
    EXPECT_EQ(r.dwell(), 0);
    SwitchConfig c = config(1.0, 5, 10);
    c.start_large = true;
    EXPECT_EQ(SwitchRule(c).active(), ModelId::kLarge);
}

TEST(SwitchRule, DwellBlocksUntilMinDwellTokens) {
    SwitchRule r(config(1.0, 1, 3));
    // Every token is uncertain; the small model still produces d_min = 3 tokens first.
    EXPECT_EQ(run(r, {5, 5, 5, 5, 5}), "SSSLL");
    // Then certain: once the large model has produced 3 tokens (counter reset at the switch), back to small.
    EXPECT_EQ(run(r, {0, 0, 0, 0}), "LSSS");
}

TEST(SwitchRule, DecisionAfterEachTokenForTheNext) {
    SwitchRule r(config(1.0, 1, 0));
    const auto d = r.step(2.0);  // the small model's token was uncertain: the next one is the large model's
    EXPECT_TRUE(d.switched);
    EXPECT_EQ(d.next, ModelId::kLarge);
    EXPECT_EQ(d.rolling, 2.0);
    EXPECT_EQ(r.dwell(), 0);
    EXPECT_EQ(run(r, {2, 0, 2, 0}), "LLSL");
}

TEST(SwitchRule, TiesAtTau) {
    // `>` up: rolling == tau does not switch up ...
    SwitchRule up(config(1.0, 1, 0));
    EXPECT_FALSE(up.step(1.0).switched);
    EXPECT_EQ(up.active(), ModelId::kSmall);
    // ... and `<=` down: rolling == tau switches down.
    SwitchConfig c = config(1.0, 1, 0);
    c.start_large = true;
    SwitchRule down(c);
    const auto d = down.step(1.0);
    EXPECT_TRUE(d.switched);
    EXPECT_EQ(d.next, ModelId::kSmall);
}

TEST(SwitchRule, WindowBeforeWTokensIsMeanOfAvailable) {
    SwitchRule r(config(1.0, 5, 0));
    // One token of entropy 2: the mean of the one available value is 2 > 1 (a mean over 5 slots would be
    // 0.4).
    const auto d = r.step(2.0);
    EXPECT_EQ(d.rolling, 2.0);
    EXPECT_TRUE(d.switched);
}

TEST(SwitchRule, RollingMeanOfLastW) {
    SwitchRule r(config(1.0, 3, 100));
    EXPECT_EQ(r.step(3).rolling, 3.0);
    EXPECT_EQ(r.step(0).rolling, 1.5);
    EXPECT_EQ(r.step(0).rolling, 1.0);
    EXPECT_EQ(r.step(0).rolling, 0.0);
    EXPECT_EQ(r.step(6).rolling, 2.0);
}

TEST(SwitchRule, WindowKeptAcrossSwitchByDefault) {
    SwitchRule r(config(1.0, 2, 1));
    r.step(4.0);  // -> large
    ASSERT_EQ(r.active(), ModelId::kLarge);
    // The window still holds the 4: (4 + 0) / 2 = 2 > 1, so the large model stays.
    const auto d = r.step(0.0);
    EXPECT_EQ(d.rolling, 2.0);
    EXPECT_FALSE(d.switched);
}

TEST(SwitchRule, ResetWindowOnSwitch) {
    SwitchConfig c = config(1.0, 2, 1);
    c.reset_window_on_switch = true;
    SwitchRule r(c);
    r.step(4.0);
    ASSERT_EQ(r.active(), ModelId::kLarge);
    EXPECT_EQ(r.window().size(), 0);
    const auto d = r.step(0.0);
    EXPECT_EQ(d.rolling, 0.0);
    EXPECT_TRUE(d.switched);
}

TEST(SwitchRule, Hysteresis) {
    SwitchConfig c = config(0.0, 1, 0);
    c.tau_up = 2.0;
    c.tau_down = 1.0;
    SwitchRule r(c);
    // 1.5 is between the thresholds: stay wherever we are.
    EXPECT_EQ(run(r, {1.5, 2.0, 2.5, 1.5, 1.1, 1.0, 1.5}), "SSSLLLS");
    EXPECT_EQ(r.active(), ModelId::kSmall);
}

TEST(SwitchRule, PaperDefaultsFromParams) {
    DecodeParams p;
    p.tau = 0.75;
    const SwitchConfig c = SwitchConfig::from(p);
    EXPECT_EQ(c.tau_up, 0.75);
    EXPECT_EQ(c.tau_down, 0.75);
    EXPECT_EQ(c.window, 5);
    EXPECT_EQ(c.min_dwell, 10);
    EXPECT_FALSE(c.start_large);
    EXPECT_FALSE(c.reset_window_on_switch);
}

}  // namespace
}  // namespace ead::decode
