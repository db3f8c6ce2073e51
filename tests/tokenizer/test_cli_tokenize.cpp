// `ead tokenize` / `ead detokenize` end to end on a fixture vocabulary.
#include <gtest/gtest.h>

#include "common/test_env.h"

namespace {

std::string gpt2_vocab() {
    const std::string dir = ead::test::shared_dir();
    const std::string p = dir.empty() ? "" : dir + "/tokenizer/ggml-vocab-gpt-2.gguf";
    return !p.empty() && ead::test::file_exists(p) ? p : std::string();
}

TEST(CliTokenize, IdsAndBack) {
    const std::string v = gpt2_vocab();
    if (v.empty()) GTEST_SKIP() << "gpt-2 fixture vocabulary not present";
    auto r = ead::test::run_cli("tokenize -m '" + v + "' --ids 'Hello world'");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "[15496, 995]\n");
    r = ead::test::run_cli("detokenize -m '" + v + "' '[15496, 995]'");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "Hello world\n");
    r = ead::test::run_cli("detokenize -m '" + v + "' 15496,995");
    EXPECT_EQ(r.out, "Hello world\n");
    r = ead::test::run_cli("tokenize -m '" + v + "' --pieces 'Hello world'");
    EXPECT_EQ(r.out, "[\"Hello\", \" world\"]\n");
    // -p as in generate and llama.cpp's llama-tokenize; not together with -f.
    r = ead::test::run_cli("tokenize -m '" + v + "' --ids -p 'Hello world'");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "[15496, 995]\n");
    r = ead::test::run_cli("tokenize -m '" + v + "' --ids -p 'Hello world' -f /dev/null");
    EXPECT_NE(r.exit_code, 0) << r.out;
}

TEST(CliTokenize, Errors) {
    const std::string v = gpt2_vocab();
    if (v.empty()) GTEST_SKIP() << "gpt-2 fixture vocabulary not present";
    auto r = ead::test::run_cli("detokenize -m '" + v + "' 1,99999999");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("out of range"), std::string::npos) << r.out;
    r = ead::test::run_cli("tokenize -m '" + v + "' --tokenizer-pre no-such-pre hi");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("no-such-pre"), std::string::npos) << r.out;
    r = ead::test::run_cli("tokenize -m /nonexistent.gguf hi");
    EXPECT_EQ(r.exit_code, 1);
}

}  // namespace
