#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <set>
#include <string>

#include "decode/params.h"

namespace ead::decode {
namespace {

std::string error_of(const nlohmann::json& j) {
    DecodeParams p;
    try {
        apply_json(p, j);
    } catch (const ParamError& e) {
        return e.what();
    }
    return "";
}

TEST(Params, DefaultsReproduceThePaper) {
    const DecodeParams p;
    EXPECT_EQ(p.strategy, "ead");
    EXPECT_EQ(p.window, 5);
    EXPECT_EQ(p.min_dwell, 10);
    EXPECT_FALSE(p.start_large);
    EXPECT_FALSE(p.reset_window_on_switch);
    EXPECT_TRUE(p.lazy_prefill);
    EXPECT_TRUE(std::isnan(p.tau_up));
    EXPECT_TRUE(std::isnan(p.tau_down));
    EXPECT_EQ(p.effective_tau_up(), p.tau);
    EXPECT_EQ(p.effective_tau_down(), p.tau);
    EXPECT_NO_THROW(validate(p));
}

TEST(Params, TableIsConsistent) {
    std::set<std::string> names, envs, flags;
    const DecodeParams defaults;
    for (const auto& d : param_decls()) {
        EXPECT_TRUE(names.insert(std::string(d.name)).second) << d.name;
        EXPECT_TRUE(envs.insert(std::string(d.env)).second) << d.env;
        EXPECT_TRUE(flags.insert(d.flag()).second) << d.flag();
        EXPECT_FALSE(d.help.empty()) << d.name;
        EXPECT_EQ(d.env.substr(0, 4), "EAD_");
        // Every default is inside its declared range and round-trips through text.
        DecodeParams p;
        EXPECT_NO_THROW(set_param(p, d, param_text(defaults, d))) << d.name;
        EXPECT_EQ(to_json(p), to_json(defaults)) << d.name;
    }
    for (const char* required : {"strategy",
                                 "tau",
                                 "tau_up",
                                 "tau_down",
                                 "window",
                                 "min_dwell",
                                 "start_large",
                                 "reset_window_on_switch",
                                 "draft_max",
                                 "p_min",
                                 "temperature",
                                 "top_k",
                                 "top_p",
                                 "min_p",
                                 "repeat_penalty",
                                 "repeat_last_n",
                                 "presence_penalty",
                                 "frequency_penalty",
                                 "seed",
                                 "n_predict",
                                 "threads"})
        EXPECT_TRUE(find_param(required)) << required;
    EXPECT_EQ(find_param("min_dwell")->flag(), "--min-dwell");
    EXPECT_EQ(to_json(defaults).size(), param_decls().size());
}

TEST(Params, JsonRoundTrip) {
    DecodeParams p;
    apply_json(p, {{"strategy", "ead-spec"},
                   {"tau", 2.5},
                   {"tau_up", 3},
                   {"window", 7},
                   {"start_large", true},
                   {"seed", 123},
                   {"top_p", 0.9}});
    EXPECT_EQ(p.strategy, "ead-spec");
    EXPECT_EQ(p.strategy_id(), Strategy::kEadSpec);
    EXPECT_EQ(p.tau, 2.5);
    EXPECT_EQ(p.effective_tau_up(), 3.0);
    EXPECT_EQ(p.effective_tau_down(), 2.5);
    EXPECT_EQ(p.window, 7);
    EXPECT_TRUE(p.start_large);
    EXPECT_EQ(p.seed, 123);
    const auto j = to_json(p);
    EXPECT_TRUE(j["tau_down"].is_null());
    DecodeParams q;
    apply_json(q, j);
    EXPECT_EQ(to_json(q), j);
    apply_json(q, {{"tau_up", nullptr}});
    EXPECT_TRUE(std::isnan(q.tau_up));
}

TEST(Params, JsonErrorsNameTheField) {
    EXPECT_EQ(error_of({{"window", 0}}), "decode parameter 'window': value 0 is out of range [1, 4096]");
    EXPECT_EQ(error_of({{"window", 2.5}}), "decode parameter 'window': expected an integer, got a fraction");
    EXPECT_EQ(error_of({{"tau", "high"}}), "decode parameter 'tau': expected a number, got string");
    EXPECT_EQ(error_of({{"start_large", 1}}),
              "decode parameter 'start_large': expected a boolean, got number");
    EXPECT_EQ(error_of({{"strategy", "fast"}}),
              "decode parameter 'strategy': expected one of small, large, ead, spec, ead-spec, got 'fast'");
    EXPECT_EQ(error_of({{"top_p", 1.5}}), "decode parameter 'top_p': value 1.5 is out of range [0, 1]");
    EXPECT_EQ(error_of({{"tau", nullptr}}), "decode parameter 'tau': expected a number, got null");
    EXPECT_EQ(error_of({{"bogus", 1}}), "decode parameter 'bogus': unknown parameter");
    EXPECT_EQ(error_of({{"tau_up", 1.0}, {"tau_down", 2.0}}),
              "decode parameters 'tau_up' and 'tau_down': tau_up (1) must be >= tau_down (2)");
    EXPECT_EQ(error_of(nlohmann::json::array()), "decode parameters: expected a JSON object");
    // A failed apply leaves the params untouched.
    DecodeParams p;
    EXPECT_THROW(apply_json(p, {{"tau", 5.0}, {"window", -1}}), ParamError);
    EXPECT_EQ(p.tau, DecodeParams{}.tau);
    // Unknown fields may be ignored (server requests).
    EXPECT_NO_THROW(apply_json(p, {{"messages", 1}, {"tau", 5.0}}, true));
    EXPECT_EQ(p.tau, 5.0);
}

TEST(Params, TextParsing) {
    DecodeParams p;
    set_param(p, *find_param("tau"), "inf");
    EXPECT_TRUE(std::isinf(p.tau));
    set_param(p, *find_param("tau"), "-1");
    EXPECT_EQ(p.tau, -1.0);
    set_param(p, *find_param("start_large"), "yes");
    EXPECT_TRUE(p.start_large);
    set_param(p, *find_param("tau_up"), "none");
    EXPECT_TRUE(std::isnan(p.tau_up));
    set_param(p, *find_param("seed"), "9007199254740993");
    EXPECT_EQ(p.seed, 9007199254740993LL);
    try {
        set_param(p, *find_param("min_dwell"), "ten");
        FAIL();
    } catch (const ParamError& e) {
        EXPECT_STREQ(e.what(), "decode parameter 'min_dwell': expected an integer, got 'ten'");
    }
    EXPECT_THROW(set_param(p, *find_param("start_large"), "maybe"), ParamError);
    EXPECT_THROW(set_param(p, *find_param("temperature"), "1.0x"), ParamError);
}

TEST(Params, Environment) {
    ::setenv("EAD_MIN_DWELL", "3", 1);
    ::setenv("EAD_STRATEGY", "spec", 1);
    DecodeParams p;
    apply_env(p);
    EXPECT_EQ(p.min_dwell, 3);
    EXPECT_EQ(p.strategy, "spec");
    ::setenv("EAD_WINDOW", "zero", 1);
    try {
        apply_env(p);
        FAIL();
    } catch (const ParamError& e) {
        EXPECT_STREQ(e.what(),
                     "decode parameter 'window': expected an integer, got 'zero' (from environment variable "
                     "EAD_WINDOW)");
    }
    ::unsetenv("EAD_MIN_DWELL");
    ::unsetenv("EAD_STRATEGY");
    ::unsetenv("EAD_WINDOW");
}

}  // namespace
}  // namespace ead::decode
