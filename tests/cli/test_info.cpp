// `ead info` reads every GGUF under ../shared/conformance and ../shared/tokenizer and both real models.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/test_env.h"

using ead::test::run_cli;

namespace {

void expect_info_ok(const std::string& path, const std::string& expect_arch) {
    auto r = run_cli("info '" + path + "'");
    EXPECT_EQ(r.exit_code, 0) << path << "\n" << r.out;
    EXPECT_NE(r.out.find("architecture:       " + expect_arch), std::string::npos) << r.out;
    if (expect_arch.empty()) return;  // vocab-only files name various architectures
    auto j = run_cli("info --json '" + path + "'");
    EXPECT_EQ(j.exit_code, 0) << j.out;
    EXPECT_NE(j.out.find("\"architecture\": \"" + expect_arch + "\""), std::string::npos) << j.out;
}

}  // namespace

TEST(CliInfo, EverySharedGguf) {
    std::string shared = ead::test::shared_dir();
    if (shared.empty()) GTEST_SKIP() << "../shared not found: conformance/tokenizer files not checked";
    int n = 0;
    for (const char* sub : {"conformance", "tokenizer"}) {
        for (const auto& e : std::filesystem::directory_iterator(shared + "/" + sub)) {
            if (e.path().extension() != ".gguf") continue;
            std::string name = e.path().filename().string();
            // Conformance files are named ARCH.TYPE.gguf (llama3rope is a llama model).
            std::string arch = std::string(sub) == "conformance" ? name.substr(0, name.find('.')) : "";
            if (arch == "llama3rope") arch = "llama";
            expect_info_ok(e.path().string(), arch);
            ++n;
        }
    }
    EXPECT_GE(n, 30);
}

TEST(CliInfo, RealModels) {
    std::string smol = ead::test::real_model("SmolLM2-135M-Instruct.Q4_1.gguf");
    std::string gemma = ead::test::real_model("gemma-3-270m-q4_k_m.gguf");
    if (smol.empty() || gemma.empty()) GTEST_SKIP() << "real models not fetched (tools/fetch_models.py)";
    expect_info_ok(smol, "llama");
    expect_info_ok(gemma, "gemma3");
    auto r = run_cli("info '" + smol + "'");
    EXPECT_NE(r.out.find("tokenizer:          gpt2 (pre: smollm)"), std::string::npos) << r.out;
}

TEST(CliInfo, CorruptFileIsAnErrorNotACrash) {
    std::string path = ::testing::TempDir() + "/garbage.gguf";
    FILE* f = std::fopen(path.c_str(), "wb");
    std::fputs("GGUF\x03\x00\x00\x00garbage", f);
    std::fclose(f);
    auto r = run_cli("info '" + path + "'");
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("error: " + path), std::string::npos) << r.out;
}
