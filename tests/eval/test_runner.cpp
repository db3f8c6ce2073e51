// `ead eval run` and its runner, on a tiny random-weight model pair (model/synthetic.h) and a generated
// MATH-style JSONL: one record per (configuration, problem) with consistent statistics, resume after an
// interruption (a stop after k records, a cut last line) giving the same file as an uninterrupted run, the
// --target-share bisection, and the refusal to overwrite an existing results file.
#include "eval/runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/test_env.h"
#include "model/synthetic.h"

namespace ead::eval {
namespace {

namespace fs = std::filesystem;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Files {
    std::string dir, small, large, data;
    size_t n_problems = 0;
};

const Files& files() {
    static const Files f = [] {
        Files x;
        x.dir = (fs::path(::testing::TempDir()) / ("ead_test_runner_" + std::to_string(::getpid()))).string();
        fs::create_directories(x.dir);
        model::SyntheticSpec s;
        s.n_layer = 2;
        s.n_embd = 64;
        s.n_vocab = 512;
        s.seed = 5;
        x.small = x.dir + "/small.gguf";
        model::write_synthetic_model(s, x.small);
        model::SyntheticSpec l = s;
        l.n_layer = 3;
        l.n_embd = 96;
        l.n_ff = 192;
        l.seed = 6;
        x.large = x.dir + "/large.gguf";
        model::write_synthetic_model(l, x.large);
        x.n_problems = test::quick() ? 4 : 6;
        x.data = x.dir + "/problems.jsonl";
        std::ofstream out(x.data);
        const char* subjects[] = {"Algebra", "Geometry"};
        for (size_t i = 0; i < x.n_problems; ++i) {
            nlohmann::json j = {{"problem", "What is " + std::to_string(i) + " + " + std::to_string(i) + "?"},
                                {"solution", "It is $\\boxed{" + std::to_string(2 * i) + "}$."},
                                {"level", "Level " + std::to_string(1 + i % 5)},
                                {"type", subjects[i % 2]},
                                {"unique_id", std::string("p").append(std::to_string(i))}};
            out << j.dump() << "\n";
        }
        return x;
    }();
    return f;
}

class RunnerTest : public ::testing::Test {
  protected:
    static void TearDownTestSuite() {
        std::error_code ec;
        fs::remove_all(files().dir, ec);
    }
    void SetUp() override { files(); }
};

std::string out_path(const std::string& name) {
    const std::string p = files().dir + "/" + name;
    std::error_code ec;
    fs::remove(p, ec);
    return p;
}

RunnerOptions options(const std::string& out) {
    RunnerOptions o;
    o.small_model = files().small;
    o.large_model = files().large;
    o.data = files().data;
    o.out = out;
    o.chat = false;  // the synthetic vocabulary has no chat tokens
    o.prompt_template = "Problem: {problem}\nAnswer:";
    o.ctx = 128;
    o.progress = false;
    o.base.n_predict = test::quick() ? 10 : 16;
    o.base.threads = 1;
    o.base.min_dwell = 2;
    o.base.window = 2;
    o.base.seed = 7;
    return o;
}

std::vector<nlohmann::json> read_lines(const std::string& path) {
    std::ifstream f(path);
    std::vector<nlohmann::json> out;
    std::string line;
    while (std::getline(f, line)) out.push_back(nlohmann::json::parse(line));
    return out;
}

TEST(RunnerUnits, ConfigNamesAndPromptTemplate) {
    decode::DecodeParams base;
    base.tau = 2;
    auto c = make_configs({"small", "ead", "large", "ead-spec", "spec"}, {1.5, kInf}, base);
    std::vector<std::string> names;
    for (const auto& x : c) names.push_back(x.name);
    EXPECT_EQ(names, (std::vector<std::string>{"small", "ead@tau=1.5", "ead@tau=inf", "large",
                                               "ead-spec@tau=1.5", "ead-spec@tau=inf", "spec"}));
    EXPECT_EQ(c[1].params.strategy, "ead");
    EXPECT_EQ(c[1].params.tau, 1.5);
    EXPECT_EQ(c[4].params.strategy, "ead-spec");
    c = make_configs({"ead"}, {}, base);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].name, "ead@tau=2");
    EXPECT_THROW(make_configs({"medium"}, {}, base), std::invalid_argument);
    EXPECT_THROW(make_configs({}, {}, base), std::invalid_argument);

    EXPECT_EQ(fill_prompt_template("Q: {problem} ({problem})", "1+1"), "Q: 1+1 (1+1)");
    EXPECT_THROW(fill_prompt_template("no placeholder", "x"), std::invalid_argument);
}

TEST(RunnerUnits, BisectionMovesTauTheRightWay) {
    // A fake pair whose large share falls with tau: exp(-tau).
    auto share = [](double tau) { return std::exp(-tau); };
    std::vector<std::pair<double, double>> trace;
    const double t = bisect_tau(share, 0.3, 0.0, 8.0, 8, &trace);
    EXPECT_EQ(trace.size(), 8u);
    EXPECT_NEAR(t, -std::log(0.3), 8.0 / 256 * 2);
    EXPECT_LT(bisect_tau(share, 0.8, 0.0, 8.0, 7), bisect_tau(share, 0.2, 0.0, 8.0, 7));
    EXPECT_NEAR(bisect_tau(share, 0.0, 0.0, 8.0, 6), 8.0, 0.2);  // nothing for the large model
    EXPECT_NEAR(bisect_tau(share, 1.0, 0.0, 8.0, 6), 0.0, 0.2);  // everything
}

TEST_F(RunnerTest, PrepareResultsFile) {
    const std::string p = out_path("prepare.jsonl");
    EXPECT_TRUE(prepare_results_file(p, false).empty());  // absent
    { std::ofstream(p) << ""; }
    EXPECT_TRUE(prepare_results_file(p, false).empty());  // empty
    {
        std::ofstream f(p);
        f << R"({"config":"small","problem_id":"a","verdict":"correct","settings":{"x":1}})" << "\n"
          << R"({"config":"small","problem_id":"b","verd)";
    }
    EXPECT_THROW(prepare_results_file(p, false), std::runtime_error);
    const auto r = prepare_results_file(p, true);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].problem_id, "a");
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    EXPECT_EQ(ss.str(), R"({"config":"small","problem_id":"a","verdict":"correct","settings":{"x":1}})"
                        "\n");
    // Only a cut line: the file becomes empty.
    { std::ofstream(p) << R"({"config":"sm)"; }
    EXPECT_TRUE(prepare_results_file(p, true).empty());
    EXPECT_EQ(fs::file_size(p), 0u);
}

TEST_F(RunnerTest, OneValidRecordPerConfigAndProblem) {
    const std::string out = out_path("all.jsonl");
    RunnerOptions o = options(out);
    o.strategies = {"small", "large", "ead", "spec"};
    o.taus = {0.5, kInf};
    const RunOutcome r = run_eval(o, nullptr);
    const size_t n_configs = 5;
    EXPECT_EQ(r.n_new, n_configs * files().n_problems);
    EXPECT_EQ(r.n_skipped, 0u);
    ASSERT_EQ(r.results.size(), n_configs * files().n_problems);

    const auto lines = read_lines(out);
    ASSERT_EQ(lines.size(), r.results.size());
    for (size_t i = 0; i < lines.size(); ++i) {
        const auto& j = lines[i];
        const ProblemResult& x = r.results[i];
        for (const char* f : {kConfigField, kProblemIdField, kLevelField, kSubjectField, kGraderField, kVerdictField,
                              kExtractedAnswerField, kTokensSmallField, kTokensLargeField, kSwitchesField,
                              kCatchupField, kFlopsField, kFlopsLargeEqField, kParamsSmallField,
                              kParamsLargeField, kWallSecondsField, kTextField})
            EXPECT_TRUE(j.contains(f)) << f;
        const int64_t n_generated = j.at("n_generated").get<int64_t>();
        EXPECT_EQ(x.n_tokens_small + x.n_tokens_large, n_generated) << x.config;
        EXPECT_GT(n_generated, 0);
        EXPECT_LE(n_generated, o.base.n_predict);
        EXPECT_GT(x.flops, 0);
        EXPECT_GT(x.flops_large_equivalent, 0);
        EXPECT_GT(x.params_small, 0);
        EXPECT_GT(x.params_large, x.params_small);
        EXPECT_GE(x.level, 1);
        EXPECT_FALSE(x.subject.empty());
        const auto& s = j.at("settings");
        EXPECT_EQ(s.at("prompt_template"), o.prompt_template);
        EXPECT_EQ(s.at("max_tokens"), o.base.n_predict);
        EXPECT_EQ(s.at("temperature"), 0.0);
        EXPECT_EQ(s.at("seed"), 7);
        EXPECT_TRUE(s.at("stop_ids").is_array());
        EXPECT_EQ(s.at("decode").at("strategy"), x.config.substr(0, x.config.find('@')));
        if (x.config == "small" || x.config == "ead@tau=inf") {
            EXPECT_EQ(x.n_tokens_large, 0) << x.config;
        }
        if (x.config == "large" || x.config == "spec") {
            EXPECT_EQ(x.n_tokens_small, 0) << x.config;
        }
    }
    // Problem-major order: every configuration of a problem before the next problem.
    EXPECT_EQ(r.results[0].config, "small");
    EXPECT_EQ(r.results[1].config, "large");
    EXPECT_EQ(r.results[2].config, "ead@tau=0.5");
    EXPECT_EQ(r.results[3].config, "ead@tau=inf");
    EXPECT_EQ(r.results[4].config, "spec");
    EXPECT_EQ(r.results[5].problem_id, "p1");
    // Greedy: ead at tau = inf writes what the small model writes; spec what the large model writes.
    for (size_t p = 0; p < files().n_problems; ++p) {
        EXPECT_EQ(r.results[p * n_configs + 3].text, r.results[p * n_configs].text);
        EXPECT_EQ(r.results[p * n_configs + 4].text, r.results[p * n_configs + 1].text);
    }
    // report.h reads the file, extra fields and all.
    const auto summaries = summarize(read_results(out), ReportOptions{});
    EXPECT_EQ(summaries.size(), n_configs);

    // Existing output without --resume is an error, and the file is left as it was.
    const auto size = fs::file_size(out);
    EXPECT_THROW(run_eval(options(out), nullptr), std::runtime_error);
    EXPECT_EQ(fs::file_size(out), size);
    // With --resume and nothing left to do, nothing is added.
    RunnerOptions again = o;
    again.resume = true;
    const RunOutcome r2 = run_eval(again, nullptr);
    EXPECT_EQ(r2.n_new, 0u);
    EXPECT_EQ(r2.n_skipped, r.results.size());
    EXPECT_EQ(fs::file_size(out), size);
}

TEST_F(RunnerTest, KillAndResumeEqualsUninterruptedRun) {
    auto configure = [](RunnerOptions& o) {
        o.strategies = {"small", "ead"};
        o.taus = {1.0};
        o.selection.limit = test::quick() ? 3 : 5;
    };
    const std::string full = out_path("full.jsonl");
    RunnerOptions a = options(full);
    configure(a);
    const RunOutcome ra = run_eval(a, nullptr);
    ASSERT_EQ(ra.results.size(), 2 * a.selection.limit);

    // Stopped after 3 records (a Ctrl-C between problems), then a record cut mid-line (kill -9 in a write).
    const std::string cut = out_path("cut.jsonl");
    RunnerOptions b = options(cut);
    configure(b);
    b.max_new_results = 3;
    const RunOutcome rb = run_eval(b, nullptr);
    EXPECT_TRUE(rb.stopped_early);
    EXPECT_EQ(rb.results.size(), 3u);
    {
        std::ofstream f(cut, std::ios::app);
        f << R"({"config":"ead@tau=1","problem_id":"p1","level":2,"subj)";
    }
    b.max_new_results = 0;
    EXPECT_THROW(run_eval(b, nullptr), std::runtime_error);  // no --resume
    b.resume = true;
    const RunOutcome rc = run_eval(b, nullptr);
    EXPECT_EQ(rc.n_skipped, 3u);
    EXPECT_EQ(rc.n_new, ra.results.size() - 3);
    ASSERT_EQ(rc.results.size(), ra.results.size());
    for (size_t i = 0; i < ra.results.size(); ++i) {
        const auto &x = ra.results[i], &y = rc.results[i];
        EXPECT_EQ(x.config, y.config);
        EXPECT_EQ(x.problem_id, y.problem_id);
        EXPECT_EQ(x.text, y.text) << i;
        EXPECT_EQ(x.verdict, y.verdict) << i;
        EXPECT_EQ(x.extracted_answer, y.extracted_answer) << i;
        EXPECT_EQ(x.n_tokens_small, y.n_tokens_small) << i;
        EXPECT_EQ(x.n_tokens_large, y.n_tokens_large) << i;
        EXPECT_EQ(x.n_switches, y.n_switches) << i;
    }
}

TEST_F(RunnerTest, TargetShareMovesTauTheRightWay) {
    auto chosen = [](double target, const std::string& name) {
        RunnerOptions o = options(out_path(name));
        o.strategies = {"ead"};
        o.target_share = target;
        o.calibration = 2;
        o.bisection_iterations = 5;  // cheap: two calibration problems
        o.selection.limit = 3;
        const RunOutcome r = run_eval(o, nullptr);
        EXPECT_TRUE(r.chosen_tau.has_value());
        EXPECT_EQ(r.calibration_trace.size(), static_cast<size_t>(o.bisection_iterations));
        EXPECT_EQ(r.results.size(), 1u);  // 3 selected, 2 used for calibration
        if (!r.results.empty()) {
            EXPECT_EQ(r.results[0].config, config_name("ead", *r.chosen_tau));
        }
        // The trace's shares fall (weakly) as tau rises.
        auto trace = r.calibration_trace;
        std::sort(trace.begin(), trace.end());
        for (size_t i = 1; i < trace.size(); ++i) EXPECT_LE(trace[i].second, trace[i - 1].second + 1e-12);
        return r.chosen_tau.value_or(0);
    };
    const double high_share_tau = chosen(0.9, "share_high.jsonl");
    const double low_share_tau = chosen(0.05, "share_low.jsonl");
    EXPECT_LT(high_share_tau, low_share_tau);
}

TEST_F(RunnerTest, Cli) {
    const std::string out = out_path("cli.jsonl");
    const std::string common = "eval run -m " + files().small + " -M " + files().large + " --data " +
                               files().data + " --out " + out +
                               " --no-chat --prompt-template 'Q: {problem}' --limit 2 --configs small,ead "
                               "--tau 1,inf -n 8 -t 1 -c 128 --no-progress";
    auto r = test::run_cli(common + " --report " + files().dir + "/rep");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("ead@tau=inf"), std::string::npos) << r.out;
    EXPECT_EQ(read_lines(out).size(), 6u);
    for (const char* ext : {".md", ".csv", ".json", "_accuracy_vs_large_share.svg", "_accuracy_vs_cost.svg"})
        EXPECT_TRUE(fs::exists(files().dir + "/rep" + ext)) << ext;
    r = test::run_cli(common);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("--resume"), std::string::npos) << r.out;
    r = test::run_cli(common + " --resume");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(read_lines(out).size(), 6u);
}

}  // namespace
}  // namespace ead::eval
