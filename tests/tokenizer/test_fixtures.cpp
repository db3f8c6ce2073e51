// Every fixture in shared/tokenizer/ (vocab-only GGUF + .inp texts + .out expected ids from the families'
// Hugging Face tokenizers) must tokenize to exactly the expected ids with add_special = false, parse_special
// = false.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/test_env.h"
#include "gguf/reader.h"
#include "tokenizer/tokenizer.h"

namespace ead::tokenizer {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> split_inputs(const std::string& all) {
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> texts;
    size_t pos = 0;
    for (size_t next; (next = all.find(sep, pos)) != std::string::npos; pos = next + sep.size())
        texts.push_back(all.substr(pos, next - pos));
    return texts;  // what follows the last separator is not a test
}

std::vector<std::vector<int32_t>> parse_outputs(const std::string& all) {
    std::vector<std::vector<int32_t>> out;
    std::istringstream lines(all);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream ids(line);
        std::vector<int32_t> v;
        for (long id; ids >> id;) v.push_back(static_cast<int32_t>(id));
        out.push_back(std::move(v));
    }
    return out;
}

std::string show(const std::vector<int32_t>& ids) {
    std::ostringstream ss;
    ss << "[";
    for (size_t i = 0; i < ids.size(); ++i) ss << (i ? " " : "") << ids[i];
    ss << "]";
    return ss.str();
}

class Fixture : public ::testing::TestWithParam<std::string> {};

TEST_P(Fixture, EncodesToExpectedIds) {
    const std::string dir = ead::test::shared_dir();
    if (dir.empty()) GTEST_SKIP() << "shared/ directory not found: no tokenizer fixtures to check";
    const std::string base = dir + "/tokenizer/ggml-vocab-" + GetParam() + ".gguf";
    if (!ead::test::file_exists(base)) GTEST_SKIP() << "fixture not present: " << base;
    gguf::File f = gguf::File::open(base);
    Tokenizer tok = Tokenizer::from_gguf(f);
    const auto texts = split_inputs(read_file(base + ".inp"));
    const auto expected = parse_outputs(read_file(base + ".out"));
    ASSERT_EQ(texts.size(), expected.size()) << base;
    size_t pass = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
        const std::vector<int32_t> got = tok.encode(texts[i], false, false);
        if (got == expected[i]) {
            ++pass;
            // Decoding gives the text back (all fixture texts are valid UTF-8 without U+2581).
            EXPECT_EQ(tok.decode(got), texts[i]) << "text #" << i;
        } else {
            ADD_FAILURE() << GetParam() << " text #" << i << " '" << texts[i] << "'\n  expected "
                          << show(expected[i]) << "\n  got      " << show(got);
        }
    }
    std::printf("[ fixture  ] %-16s %zu / %zu texts pass\n", GetParam().c_str(), pass, texts.size());
}

INSTANTIATE_TEST_SUITE_P(Vocabs, Fixture,
                         ::testing::Values("gpt-2", "llama-spm", "starcoder", "refact", "falcon",
                                           "deepseek-llm", "deepseek-coder"),
                         [](const auto& info) {
                             std::string n = info.param;
                             for (char& c : n)
                                 if (c == '-') c = '_';
                             return n;
                         });

}  // namespace
}  // namespace ead::tokenizer
