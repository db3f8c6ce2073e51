// `ead bench` on a small random-weight model: the llama-bench fields, one object per test, and a bandwidth
// fraction for generation only.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>

#include "common/test_env.h"

using ead::test::run_cli;

TEST(CliBench, JsonHasOneObjectPerTestWithLlamaBenchFields) {
    const std::string path =
        (std::filesystem::temp_directory_path() / ("ead_test_bench_" + std::to_string(::getpid()) + ".gguf")).string();
    auto made = run_cli("make-model --arch qwen2 --type Q4_0 --embd 128 --ff 256 --vocab 300 -o '" + path + "'");
    ASSERT_EQ(made.exit_code, 0) << made.out;
    auto r = run_cli("bench -m '" + path + "' -t 1,2 -p 8 -n 4 -r 2 --bw-mib 64 --json");
    std::filesystem::remove(path);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('[')), nullptr, false);
    ASSERT_TRUE(j.is_array()) << r.out;
    ASSERT_EQ(j.size(), 4u);  // {1, 2} threads x {pp8, tg4}
    for (const auto& t : j) {
        const bool tg = t["n_gen"].get<int>() > 0;
        EXPECT_EQ(t["test"], tg ? "tg4" : "pp8");
        EXPECT_EQ(t["n_prompt"].get<int>(), tg ? 0 : 8);
        EXPECT_TRUE(t["n_threads"] == 1 || t["n_threads"] == 2);
        EXPECT_EQ(t["samples_ts"].size(), 2u);
        EXPECT_GT(t["avg_ts"].get<double>(), 0.0);
        EXPECT_GT(t["median_ts"].get<double>(), 0.0);
        EXPECT_GT(t["bandwidth_gbs"].get<double>(), 0.0);
        EXPECT_EQ(t["bandwidth_fraction"].is_null(), !tg);
        if (tg) {
            EXPECT_GT(t["bandwidth_fraction"].get<double>(), 0.0);
        }
    }
}

TEST(CliBench, RejectsBadThreadList) {
    auto r = run_cli("bench -m /nonexistent.gguf -t 1,x");
    EXPECT_NE(r.exit_code, 0);
}
