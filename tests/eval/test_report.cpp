// Statistics and aggregation of per-problem results (src/eval/report.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "common/test_env.h"
#include "eval/dataset.h"
#include "eval/report.h"

namespace ead::eval {
namespace {

TEST(Wilson, KnownValues) {
    // 0/10: upper bound z^2 / (n + z^2); 10/10: lower bound n / (n + z^2).
    Interval i = wilson_interval(0, 10);
    EXPECT_NEAR(i.lo, 0.0, 1e-12);
    EXPECT_NEAR(i.hi, 0.277533, 1e-6);
    i = wilson_interval(10, 10);
    EXPECT_NEAR(i.lo, 0.722467, 1e-6);
    EXPECT_NEAR(i.hi, 1.0, 1e-12);
    i = wilson_interval(5, 10);  // textbook: [0.2366, 0.7634]
    EXPECT_NEAR(i.lo, 0.236593, 1e-6);
    EXPECT_NEAR(i.hi, 0.763407, 1e-6);
    i = wilson_interval(81, 263);
    EXPECT_NEAR(i.lo, 0.255289, 1e-6);
    EXPECT_NEAR(i.hi, 0.366210, 1e-6);
    i = wilson_interval(430, 500);
    EXPECT_NEAR(i.lo, 0.826833, 1e-6);
    EXPECT_NEAR(i.hi, 0.887677, 1e-6);
    i = wilson_interval(0, 0);
    EXPECT_EQ(i.lo, 0.0);
    EXPECT_EQ(i.hi, 1.0);
}

ProblemResult make(const std::string& config, const std::string& id, Verdict v, int64_t small, int64_t large,
                   int level = 1, const std::string& subject = "Algebra") {
    ProblemResult r;
    r.config = config;
    r.problem_id = id;
    r.verdict = v;
    r.n_tokens_small = small;
    r.n_tokens_large = large;
    r.level = level;
    r.subject = subject;
    r.n_switches = large > 0 && small > 0 ? 2 : 0;
    r.n_catchup_tokens = r.n_switches * 5;
    r.flops = 2.0 * static_cast<double>(small) + 10.0 * static_cast<double>(large);
    r.flops_large_equivalent = 10.0 * static_cast<double>(small + large);
    r.params_small = 1;
    r.params_large = 5;
    r.wall_seconds = 0.5;
    return r;
}

std::vector<ProblemResult> sample_results() {
    using V = Verdict;
    return {
        make("small", "a", V::kCorrect, 100, 0, 1, "Algebra"),
        make("small", "b", V::kIncorrect, 100, 0, 2, "Geometry"),
        make("small", "c", V::kNoAnswer, 100, 0, 2, "Algebra"),
        make("small", "d", V::kIncorrect, 100, 0, 0, ""),
        make("large", "a", V::kCorrect, 0, 100, 1, "Algebra"),
        make("large", "b", V::kCorrect, 0, 100, 2, "Geometry"),
        make("large", "c", V::kCorrect, 0, 100, 2, "Algebra"),
        make("large", "d", V::kIncorrect, 0, 100, 0, ""),
        make("tau=2", "a", V::kCorrect, 80, 20, 1, "Algebra"),
        make("tau=2", "b", V::kCorrect, 70, 30, 2, "Geometry"),
        make("tau=2", "c", V::kIncorrect, 90, 10, 2, "Algebra"),
        make("tau=2", "d", V::kIncorrect, 60, 40, 0, ""),
    };
}

TEST(Report, OverallSums) {
    const auto rows = summarize(sample_results(), {});
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].config, "small");  // order of first appearance
    EXPECT_EQ(rows[1].config, "large");
    const Summary& e = rows[2];
    EXPECT_EQ(e.config, "tau=2");
    EXPECT_EQ(e.group, "all");
    EXPECT_EQ(e.grader, "hendrycks");
    EXPECT_EQ(e.n, 4);
    EXPECT_EQ(e.correct, 2);
    EXPECT_EQ(e.no_answer, 0);
    EXPECT_DOUBLE_EQ(e.accuracy, 0.5);
    EXPECT_NEAR(e.ci.lo, wilson_interval(2, 4).lo, 1e-15);
    EXPECT_EQ(e.tokens_small, 300);
    EXPECT_EQ(e.tokens_large, 100);
    EXPECT_DOUBLE_EQ(e.large_share, 0.25);  // pooled: 100 / 400
    EXPECT_EQ(e.switches, 8);
    EXPECT_DOUBLE_EQ(e.switches_per_100, 2.0);
    EXPECT_EQ(e.catchup_tokens, 40);
    EXPECT_DOUBLE_EQ(e.nominal_cost_ratio, 0.25 + 0.75 * 0.2);
    EXPECT_DOUBLE_EQ(e.measured_cost_ratio, (2.0 * 300 + 10.0 * 100) / (10.0 * 400));
    EXPECT_DOUBLE_EQ(e.cost_vs_baseline, 1600.0 / 4000.0);
    EXPECT_DOUBLE_EQ(e.retained, 0.5 / 0.75);
    EXPECT_DOUBLE_EQ(e.wall_seconds, 2.0);
    EXPECT_DOUBLE_EQ(e.tokens_per_second, 200.0);

    EXPECT_EQ(rows[0].no_answer, 1);
    EXPECT_DOUBLE_EQ(rows[0].large_share, 0.0);
    EXPECT_DOUBLE_EQ(rows[1].large_share, 1.0);
    EXPECT_DOUBLE_EQ(rows[1].retained, 1.0);
    EXPECT_DOUBLE_EQ(rows[1].nominal_cost_ratio, 1.0);
}

TEST(Report, NoBaselineAndParamOverride) {
    ReportOptions opts;
    opts.baseline = "";
    opts.params_small = 3;
    opts.params_large = 11;
    const auto rows = summarize(sample_results(), opts);
    EXPECT_TRUE(std::isnan(rows[2].retained));
    EXPECT_TRUE(std::isnan(rows[2].cost_vs_baseline));
    // The spec's check: LLaMA 3 -> 11 with f_L = 0.43 gives a 41.45% reduction.
    EXPECT_NEAR(0.43 + 0.57 * 3.0 / 11.0, 1 - 0.4145, 1e-4);
    EXPECT_DOUBLE_EQ(rows[2].nominal_cost_ratio, 0.25 + 0.75 * 3.0 / 11.0);
}

TEST(Report, ParamsFromAnyRecord) {
    auto results = sample_results();
    for (auto& r : results) r.params_small = r.params_large = 0;
    EXPECT_TRUE(std::isnan(summarize(results, {})[2].nominal_cost_ratio));
    results[0].params_small = 2;  // a "small" record
    results[5].params_large = 8;  // a "large" record
    EXPECT_DOUBLE_EQ(summarize(results, {})[2].nominal_cost_ratio, 0.25 + 0.75 * 0.25);
}

TEST(Report, GroupByLevelAndSubject) {
    const auto by_level = summarize(sample_results(), {}, GroupBy::kLevel);
    // 3 configurations x {Level 1, Level 2, Level ?}, levels in order, unknown last.
    ASSERT_EQ(by_level.size(), 9u);
    EXPECT_EQ(by_level[0].group, "Level 1");
    EXPECT_EQ(by_level[1].group, "Level 2");
    EXPECT_EQ(by_level[2].group, "Level ?");
    const Summary& ead_l2 = by_level[7];
    EXPECT_EQ(ead_l2.config, "tau=2");
    EXPECT_EQ(ead_l2.group, "Level 2");
    EXPECT_EQ(ead_l2.n, 2);
    EXPECT_EQ(ead_l2.correct, 1);
    EXPECT_DOUBLE_EQ(ead_l2.retained, 0.5);  // large is 2/2 on level 2
    EXPECT_DOUBLE_EQ(ead_l2.large_share, 40.0 / 200.0);

    const auto by_subject = summarize(sample_results(), {}, GroupBy::kSubject);
    ASSERT_EQ(by_subject.size(), 9u);
    EXPECT_EQ(by_subject[0].group, "Algebra");
    EXPECT_EQ(by_subject[1].group, "Geometry");
    EXPECT_EQ(by_subject[2].group, "(none)");
    int64_t n = 0;
    for (const auto& s : by_subject) n += s.n;
    EXPECT_EQ(n, 12);
}

TEST(Report, TablesAndJson) {
    const auto rows = summarize(sample_results(), {});
    const std::string md = to_markdown(rows);
    EXPECT_NE(md.find("| config | group |"), std::string::npos);
    EXPECT_NE(md.find("| tau=2 | all | hendrycks | 4 | 2 | 0 | 50.0% |"), std::string::npos) << md;
    EXPECT_NE(md.find("| 25.0% |"), std::string::npos) << md;
    EXPECT_EQ(std::count(md.begin(), md.end(), '\n'), 5);

    const std::string csv = to_csv(rows);
    EXPECT_EQ(csv.rfind("config,group,grader,n,correct,", 0), 0u);
    EXPECT_NE(csv.find("\ntau=2,all,hendrycks,4,2,0,0.5,"), std::string::npos) << csv;

    const auto j = to_json(rows);
    ASSERT_EQ(j.size(), 3u);
    EXPECT_EQ(j[2]["large_share"].get<double>(), 0.25);
    EXPECT_EQ(j[2]["correct"].get<int>(), 2);

    const std::string report = markdown_report(sample_results(), {});
    EXPECT_NE(report.find("## By level"), std::string::npos);
    EXPECT_NE(report.find("## By subject"), std::string::npos);
    const auto jr = json_report(sample_results(), {});
    EXPECT_EQ(jr["by_level"].size(), 9u);
}

TEST(Report, ResultRoundTripAndErrors) {
    ProblemResult r = make("tau=1.5", "test/x.json", Verdict::kNoAnswer, 7, 3, 4, "Precalculus");
    r.grader = Grader::kMinerva;
    r.extracted_answer = "\\frac{1}{2}";
    r.text = "line1\nline2";
    const auto j = to_json(r);
    EXPECT_EQ(j[kVerdictField], "no_answer");
    EXPECT_EQ(j[kGraderField], "minerva");
    const ProblemResult back = problem_result_from_json(nlohmann::json::parse(j.dump()));
    EXPECT_EQ(back.config, r.config);
    EXPECT_EQ(back.problem_id, r.problem_id);
    EXPECT_EQ(back.level, 4);
    EXPECT_EQ(back.subject, "Precalculus");
    EXPECT_EQ(back.grader, Grader::kMinerva);
    EXPECT_EQ(back.verdict, Verdict::kNoAnswer);
    EXPECT_EQ(back.extracted_answer, r.extracted_answer);
    EXPECT_EQ(back.n_tokens_small, 7);
    EXPECT_EQ(back.n_tokens_large, 3);
    EXPECT_EQ(back.n_switches, r.n_switches);
    EXPECT_EQ(back.n_catchup_tokens, r.n_catchup_tokens);
    EXPECT_EQ(back.flops, r.flops);
    EXPECT_EQ(back.flops_large_equivalent, r.flops_large_equivalent);
    EXPECT_EQ(back.wall_seconds, r.wall_seconds);
    EXPECT_EQ(back.text, r.text);

    std::istringstream in(j.dump() + "\n\n" + R"({"config": "a", "problem_id": "b", "verdict": "right"})" +
                          "\n");
    try {
        parse_results(in, "r.jsonl");
        FAIL() << "expected DatasetError";
    } catch (const DatasetError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("r.jsonl:3: unknown verdict \"right\"", 0), 0u) << e.what();
    }
    std::istringstream in2(R"({"config": "a", "verdict": "correct"})");
    EXPECT_THROW(parse_results(in2, "r.jsonl"), DatasetError);
    std::istringstream in3(
        R"({"config": "a", "problem_id": "b", "verdict": "correct", "n_tokens_small": "7"})");
    try {
        parse_results(in3, "r.jsonl");
        FAIL() << "expected DatasetError";
    } catch (const DatasetError& e) {
        EXPECT_EQ(std::string(e.what()), "r.jsonl:1: field \"n_tokens_small\" must be an integer");
    }
}

TEST(Report, Cli) {
    const std::string dir = ::testing::TempDir();
    const std::string path = dir + "ead_eval_results.jsonl";
    {
        std::ofstream f(path);
        for (const auto& r : sample_results()) f << to_json(r).dump() << "\n";
    }
    const std::string prefix = dir + "ead_eval_plot";
    auto res = test::run_cli("eval report " + path + " --csv " + dir + "ead_eval.csv --json " + dir +
                             "ead_eval.json --svg " + prefix);
    EXPECT_EQ(res.exit_code, 0) << res.out;
    EXPECT_NE(res.out.find("| tau=2 | all |"), std::string::npos) << res.out;
    std::ifstream svg(prefix + "_accuracy_vs_large_share.svg");
    std::stringstream ss;
    ss << svg.rdbuf();
    EXPECT_NE(ss.str().find("</svg>"), std::string::npos);
    EXPECT_NE(ss.str().find("tau=2"), std::string::npos);

    res = test::run_cli("eval report " + dir + "does_not_exist.jsonl");
    EXPECT_EQ(res.exit_code, 1);
    EXPECT_NE(res.out.find("error: "), std::string::npos) << res.out;
}

}  // namespace
}  // namespace ead::eval
