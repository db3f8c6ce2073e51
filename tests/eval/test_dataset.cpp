// MATH-style JSONL reader and the selection helpers (src/eval/dataset.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "eval/dataset.h"

namespace ead::eval {
namespace {

std::vector<Problem> parse(const std::string& text) {
    std::istringstream in(text);
    return parse_problems(in, "set.jsonl");
}

// The DatasetError message for `text`, or "" when it parses.
std::string error_of(const std::string& text) {
    try {
        parse(text);
    } catch (const DatasetError& e) {
        return e.what();
    }
    return "";
}

TEST(Dataset, Math500Fields) {
    auto p = parse(
        R"({"problem": "What is $1+1$?", "solution": "It is $\\boxed{2}$.", "answer": "2", "subject": "Algebra", )"
        R"("level": 1, "unique_id": "test/algebra/1.json"})"
        "\n");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].problem, "What is $1+1$?");
    EXPECT_EQ(p[0].answer, "2");
    EXPECT_EQ(p[0].subject, "Algebra");
    EXPECT_EQ(p[0].level, 1);
    EXPECT_EQ(p[0].unique_id, "test/algebra/1.json");
    EXPECT_EQ(p[0].line, 1u);
}

TEST(Dataset, HendrycksFieldsDeriveTheAnswer) {
    auto p = parse(
        "\n"
        R"({"problem": "p1", "solution": "So $\\boxed{\\frac{1}{2}}$.", "level": "Level 3", "type": "Geometry"})"
        "\r\n"
        "   \n"
        R"({"problem": "p2", "solution": "\\fbox{7}", "level": "Level ?", "type": "Number Theory"})"
        "\n");
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].answer, R"(\frac{1}{2})");
    EXPECT_EQ(p[0].level, 3);
    EXPECT_EQ(p[0].subject, "Geometry");
    EXPECT_EQ(p[0].unique_id, "set.jsonl:2");
    EXPECT_EQ(p[0].line, 2u);
    EXPECT_EQ(p[1].answer, "7");
    EXPECT_EQ(p[1].level, 0);
    EXPECT_EQ(p[1].line, 4u);
}

TEST(Dataset, AnswerOnlyAndNumericAnswer) {
    auto p = parse(R"({"problem": "p", "answer": 12})");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].answer, "12");
    EXPECT_EQ(p[0].solution, "");
}

TEST(Dataset, ErrorsNameFileAndLine) {
    const std::string good = R"({"problem": "p", "answer": "1"})";
    EXPECT_EQ(error_of(good + "\n{not json\n").rfind("set.jsonl:2: invalid JSON", 0), 0u)
        << error_of(good + "\n{not json\n");
    EXPECT_EQ(error_of("[1,2]\n"), "set.jsonl:1: expected a JSON object, got array");
    EXPECT_EQ(error_of(R"({"answer": "1"})"), "set.jsonl:1: missing string field \"problem\"");
    EXPECT_EQ(error_of(R"({"problem": 3, "answer": "1"})"), "set.jsonl:1: missing string field \"problem\"");
    EXPECT_EQ(error_of(R"({"problem": "p"})"), "set.jsonl:1: needs a \"solution\" or an \"answer\"");
    EXPECT_EQ(error_of(good + "\n\n" + R"({"problem": "p", "solution": "no box"})"),
              "set.jsonl:3: field \"solution\" has no \\boxed{...} answer and there is no \"answer\"");
    EXPECT_EQ(error_of(R"({"problem": "p", "answer": "1", "level": "hard"})"),
              "set.jsonl:1: field \"level\" must be an integer or \"Level N\", got \"hard\"");
    EXPECT_EQ(error_of(R"({"problem": "p", "answer": "1", "subject": 5})"),
              "set.jsonl:1: field \"subject\" must be a string");
    EXPECT_EQ(error_of(R"({"problem": "p", "answer": [1]})"),
              "set.jsonl:1: field \"answer\" must be a string or a number");
    EXPECT_EQ(error_of(R"({"problem": "p", "answer": "1", "unique_id": "a"})"
                       "\n"
                       R"({"problem": "q", "answer": "2", "unique_id": "a"})"),
              "set.jsonl:2: duplicate unique_id \"a\"");
}

TEST(Dataset, ReadFile) {
    const std::string path = ::testing::TempDir() + "ead_eval_dataset.jsonl";
    {
        std::ofstream f(path);
        f << R"({"problem": "p", "answer": "1"})"
          << "\n"
          << "oops\n";
    }
    try {
        read_problems(path);
        FAIL() << "expected DatasetError";
    } catch (const DatasetError& e) {
        EXPECT_EQ(std::string(e.what()).rfind(path + ":2: invalid JSON", 0), 0u) << e.what();
    }
    std::remove(path.c_str());
    EXPECT_THROW(read_problems(path), DatasetError);
}

std::vector<Problem> numbered(size_t n) {
    std::vector<Problem> v(n);
    for (size_t i = 0; i < n; ++i) v[i].unique_id = std::to_string(i);
    return v;
}

std::vector<std::string> ids(const std::vector<Problem>& v) {
    std::vector<std::string> out;
    for (const auto& p : v) out.push_back(p.unique_id);
    return out;
}

TEST(Dataset, OffsetAndLimit) {
    const auto all = numbered(10);
    EXPECT_EQ(ids(select(all, {})), ids(all));
    EXPECT_EQ(ids(select(all, {.offset = 3, .limit = 2})), (std::vector<std::string>{"3", "4"}));
    EXPECT_EQ(ids(select(all, {.offset = 8, .limit = 5})), (std::vector<std::string>{"8", "9"}));
    EXPECT_TRUE(select(all, {.offset = 20}).empty());
}

TEST(Dataset, SeededSampleIsDeterministic) {
    const auto a = sample_indices(1000, 50, 42);
    EXPECT_EQ(a, sample_indices(1000, 50, 42));
    EXPECT_NE(a, sample_indices(1000, 50, 43));
    ASSERT_EQ(a.size(), 50u);
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
    EXPECT_EQ(std::adjacent_find(a.begin(), a.end()), a.end());  // distinct
    EXPECT_LT(a.back(), 1000u);
    EXPECT_EQ(sample_indices(5, 10, 1).size(), 5u);
    // Fixed values: SplitMix64 and the rejection sampler are ours, so these never change across platforms.
    EXPECT_EQ(sample_indices(10, 3, 0), (std::vector<size_t>{1, 5, 9}));
    EXPECT_EQ(sample_indices(500, 5, 1234), (std::vector<size_t>{152, 195, 258, 297, 335}));

    const auto all = numbered(100);
    const auto s = select(all, {.limit = 5, .sample = 20, .seed = 7});
    const auto full = select(all, {.sample = 20, .seed = 7});
    ASSERT_EQ(full.size(), 20u);
    ASSERT_EQ(s.size(), 5u);
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(s[i].unique_id, full[i].unique_id);
}

}  // namespace
}  // namespace ead::eval
