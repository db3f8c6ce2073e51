// Aggregation of per-problem results and the report writers (see report.h).
#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "eval/dataset.h"

namespace ead::eval {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string require_string(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
        throw std::invalid_argument(std::string("missing string field \"") + key + "\"");
    }
    return it->get<std::string>();
}

template <typename T>
T get_or(const json& j, const char* key, T fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if constexpr (std::is_same_v<T, std::string>) {
        if (!it->is_string())
            throw std::invalid_argument(std::string("field \"") + key + "\" must be a string");
    } else if constexpr (std::is_integral_v<T>) {
        if (!it->is_number_integer())
            throw std::invalid_argument(std::string("field \"") + key + "\" must be an integer");
    } else {
        if (!it->is_number())
            throw std::invalid_argument(std::string("field \"") + key + "\" must be a number");
    }
    return it->get<T>();
}

double ratio(double a, double b) {
    return b > 0 ? a / b : kNaN;
}

ordered_json number_or_null(double v) {
    return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr);
}

std::string fmt(const char* f, double v) {
    if (!std::isfinite(v)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string group_key(const ProblemResult& r, GroupBy by) {
    switch (by) {
        case GroupBy::kNone:
            return "all";
        case GroupBy::kLevel:
            return r.level > 0 ? "Level " + std::to_string(r.level) : "Level ?";
        case GroupBy::kSubject:
            return r.subject.empty() ? "(none)" : r.subject;
    }
    return "all";
}

// Levels numerically with "Level ?" last; subjects alphabetically with "(none)" last.
bool group_less(const std::string& a, const std::string& b) {
    auto rank = [](const std::string& s) -> std::pair<int, std::string> {
        if (s == "Level ?" || s == "(none)") return {2, s};
        if (s.rfind("Level ", 0) == 0)
            return {0, std::string(8 - std::min<size_t>(8, s.size() - 6), '0') + s.substr(6)};
        return {1, s};
    };
    return rank(a) < rank(b);
}

struct Accumulator {
    Summary s;
    std::set<std::string> graders;
    double flops_large_eq = 0;
    double params_small = 0, params_large = 0;
};

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string md_cell(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '|')
            out += "\\|";
        else if (c == '\n')
            out += ' ';
        else
            out += c;
    }
    return out;
}

}  // namespace

// =====================================================================================================================
// Records
// =====================================================================================================================

ordered_json to_json(const ProblemResult& r) {
    ordered_json j;
    j[kConfigField] = r.config;
    j[kProblemIdField] = r.problem_id;
    j[kLevelField] = r.level;
    j[kSubjectField] = r.subject;
    j[kGraderField] = grader_name(r.grader);
    j[kVerdictField] = verdict_name(r.verdict);
    j[kExtractedAnswerField] = r.extracted_answer;
    j[kTokensSmallField] = r.n_tokens_small;
    j[kTokensLargeField] = r.n_tokens_large;
    j[kSwitchesField] = r.n_switches;
    j[kCatchupField] = r.n_catchup_tokens;
    j[kFlopsField] = r.flops;
    j[kFlopsLargeEqField] = r.flops_large_equivalent;
    j[kParamsSmallField] = r.params_small;
    j[kParamsLargeField] = r.params_large;
    j[kWallSecondsField] = r.wall_seconds;
    j[kTextField] = r.text;
    return j;
}

ProblemResult problem_result_from_json(const json& j) {
    if (!j.is_object()) throw std::invalid_argument("expected a JSON object");
    ProblemResult r;
    r.config = require_string(j, kConfigField);
    r.problem_id = require_string(j, kProblemIdField);
    r.verdict = parse_verdict(require_string(j, kVerdictField));
    r.level = get_or<int>(j, kLevelField, 0);
    r.subject = get_or<std::string>(j, kSubjectField, "");
    r.grader = parse_grader(get_or<std::string>(j, kGraderField, "hendrycks"));
    r.extracted_answer = get_or<std::string>(j, kExtractedAnswerField, "");
    r.n_tokens_small = get_or<int64_t>(j, kTokensSmallField, 0);
    r.n_tokens_large = get_or<int64_t>(j, kTokensLargeField, 0);
    r.n_switches = get_or<int64_t>(j, kSwitchesField, 0);
    r.n_catchup_tokens = get_or<int64_t>(j, kCatchupField, 0);
    r.flops = get_or<double>(j, kFlopsField, 0.0);
    r.flops_large_equivalent = get_or<double>(j, kFlopsLargeEqField, 0.0);
    r.params_small = get_or<double>(j, kParamsSmallField, 0.0);
    r.params_large = get_or<double>(j, kParamsLargeField, 0.0);
    r.wall_seconds = get_or<double>(j, kWallSecondsField, 0.0);
    r.text = get_or<std::string>(j, kTextField, "");
    if (r.n_tokens_small < 0 || r.n_tokens_large < 0 || r.n_switches < 0 || r.n_catchup_tokens < 0) {
        throw std::invalid_argument("token and switch counts must not be negative");
    }
    return r;
}

std::vector<ProblemResult> parse_results(std::istream& in, const std::string& source) {
    std::vector<ProblemResult> out;
    std::string text;
    for (size_t line = 1; std::getline(in, text); ++line) {
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
            out.push_back(problem_result_from_json(json::parse(text)));
        } catch (const std::exception& e) {
            throw DatasetError(source + ":" + std::to_string(line) + ": " + e.what());
        }
    }
    return out;
}

std::vector<ProblemResult> read_results(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw DatasetError(path + ": cannot open results file");
    return parse_results(f, path);
}

// =====================================================================================================================
// Statistics
// =====================================================================================================================

Interval wilson_interval(int64_t successes, int64_t n, double z) {
    if (n <= 0) return {0, 1};
    const double nn = static_cast<double>(n);
    const double p = static_cast<double>(successes) / nn;
    const double z2 = z * z;
    const double denom = 1 + z2 / nn;
    const double center = (p + z2 / (2 * nn)) / denom;
    const double half = z / denom * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

std::vector<Summary> summarize(const std::vector<ProblemResult>& results, const ReportOptions& opts,
                               GroupBy by) {
    std::vector<std::string> configs;
    std::map<std::pair<std::string, std::string>, Accumulator> acc;
    for (const auto& r : results) {
        if (std::find(configs.begin(), configs.end(), r.config) == configs.end()) configs.push_back(r.config);
        Accumulator& a = acc[{r.config, group_key(r, by)}];
        Summary& s = a.s;
        s.n += 1;
        s.correct += r.verdict == Verdict::kCorrect;
        s.no_answer += r.verdict == Verdict::kNoAnswer;
        s.tokens_small += r.n_tokens_small;
        s.tokens_large += r.n_tokens_large;
        s.switches += r.n_switches;
        s.catchup_tokens += r.n_catchup_tokens;
        s.flops += r.flops;
        s.wall_seconds += r.wall_seconds;
        a.flops_large_eq += r.flops_large_equivalent;
        a.graders.insert(std::string(grader_name(r.grader)));
        if (r.params_small > 0) a.params_small = r.params_small;
        if (r.params_large > 0) a.params_large = r.params_large;
    }
    // Parameter counts describe the model pair: a configuration whose records lack them uses any record's.
    double any_params_small = 0, any_params_large = 0;
    for (const auto& r : results) {
        if (r.params_small > 0 && any_params_small == 0) any_params_small = r.params_small;
        if (r.params_large > 0 && any_params_large == 0) any_params_large = r.params_large;
    }
    std::vector<Summary> out;
    for (const auto& config : configs) {
        std::vector<std::string> groups;
        for (const auto& [key, a] : acc) {
            if (key.first == config) groups.push_back(key.second);
        }
        std::sort(groups.begin(), groups.end(), group_less);
        for (const auto& group : groups) {
            Accumulator& a = acc.at({config, group});
            Summary s = a.s;
            s.config = config;
            s.group = group;
            for (const auto& g : a.graders) s.grader += (s.grader.empty() ? "" : "+") + g;
            s.accuracy = static_cast<double>(s.correct) / static_cast<double>(s.n);
            s.ci = wilson_interval(s.correct, s.n);
            const double tokens = static_cast<double>(s.tokens_small + s.tokens_large);
            s.large_share = ratio(static_cast<double>(s.tokens_large), tokens);
            s.switches_per_100 = 100 * ratio(static_cast<double>(s.switches), tokens);
            const double ps = opts.params_small > 0 ? opts.params_small
                              : a.params_small > 0  ? a.params_small
                                                    : any_params_small;
            const double pl = opts.params_large > 0 ? opts.params_large
                              : a.params_large > 0  ? a.params_large
                                                    : any_params_large;
            s.nominal_cost_ratio = std::isfinite(s.large_share) && ps > 0 && pl > 0
                                       ? s.large_share + (1 - s.large_share) * ps / pl
                                       : kNaN;
            s.measured_cost_ratio = ratio(s.flops, a.flops_large_eq);
            s.tokens_per_second = ratio(tokens, s.wall_seconds);
            s.retained = kNaN;
            s.cost_vs_baseline = kNaN;
            auto base = acc.find({opts.baseline, group});
            if (!opts.baseline.empty() && base != acc.end()) {
                const Summary& b = base->second.s;
                s.retained = ratio(s.accuracy, static_cast<double>(b.correct) / static_cast<double>(b.n));
                s.cost_vs_baseline = ratio(s.flops, b.flops);
            }
            out.push_back(std::move(s));
        }
    }
    return out;
}

// =====================================================================================================================
// Writers
// =====================================================================================================================

std::string to_markdown(const std::vector<Summary>& rows) {
    std::string o =
        "| config | group | grader | n | correct | no answer | accuracy | 95% CI | retained | f_L | "
        "switches/100 tok "
        "| catch-up tok | nominal cost | measured cost | cost vs baseline | tok/s |\n"
        "|---|---|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|\n";
    for (const auto& s : rows) {
        o += "| " + md_cell(s.config) + " | " + md_cell(s.group) + " | " + s.grader + " | " +
             std::to_string(s.n) + " | " + std::to_string(s.correct) + " | " + std::to_string(s.no_answer) +
             " | " + fmt("%.1f%%", 100 * s.accuracy) + " | " + fmt("%.1f", 100 * s.ci.lo) + "–" +
             fmt("%.1f%%", 100 * s.ci.hi) + " | " + fmt("%.1f%%", 100 * s.retained) + " | " +
             fmt("%.1f%%", 100 * s.large_share) + " | " + fmt("%.2f", s.switches_per_100) + " | " +
             std::to_string(s.catchup_tokens) + " | " + fmt("%.3f", s.nominal_cost_ratio) + " | " +
             fmt("%.3f", s.measured_cost_ratio) + " | " + fmt("%.3f", s.cost_vs_baseline) + " | " +
             fmt("%.1f", s.tokens_per_second) + " |\n";
    }
    return o;
}

std::string to_csv(const std::vector<Summary>& rows) {
    std::string o =
        "config,group,grader,n,correct,no_answer,accuracy,ci_lo,ci_hi,retained,tokens_small,tokens_large,"
        "large_share,"
        "switches,switches_per_100,catchup_tokens,nominal_cost_ratio,measured_cost_ratio,cost_vs_baseline,"
        "flops,"
        "wall_seconds,tokens_per_second\n";
    auto g = [](double v) { return std::isfinite(v) ? fmt("%.6g", v) : std::string(); };
    for (const auto& s : rows) {
        o += csv_field(s.config) + "," + csv_field(s.group) + "," + csv_field(s.grader) + "," +
             std::to_string(s.n) + "," + std::to_string(s.correct) + "," + std::to_string(s.no_answer) + "," +
             g(s.accuracy) + "," + g(s.ci.lo) + "," + g(s.ci.hi) + "," + g(s.retained) + "," +
             std::to_string(s.tokens_small) + "," + std::to_string(s.tokens_large) + "," + g(s.large_share) +
             "," + std::to_string(s.switches) + "," + g(s.switches_per_100) + "," +
             std::to_string(s.catchup_tokens) + "," + g(s.nominal_cost_ratio) + "," +
             g(s.measured_cost_ratio) + "," + g(s.cost_vs_baseline) + "," + g(s.flops) + "," +
             g(s.wall_seconds) + "," + g(s.tokens_per_second) + "\n";
    }
    return o;
}

ordered_json to_json(const std::vector<Summary>& rows) {
    ordered_json a = ordered_json::array();
    for (const auto& s : rows) {
        ordered_json j;
        j["config"] = s.config;
        j["group"] = s.group;
        j["grader"] = s.grader;
        j["n"] = s.n;
        j["correct"] = s.correct;
        j["no_answer"] = s.no_answer;
        j["accuracy"] = s.accuracy;
        j["ci95"] = {s.ci.lo, s.ci.hi};
        j["retained"] = number_or_null(s.retained);
        j["tokens_small"] = s.tokens_small;
        j["tokens_large"] = s.tokens_large;
        j["large_share"] = number_or_null(s.large_share);
        j["switches"] = s.switches;
        j["switches_per_100"] = number_or_null(s.switches_per_100);
        j["catchup_tokens"] = s.catchup_tokens;
        j["nominal_cost_ratio"] = number_or_null(s.nominal_cost_ratio);
        j["measured_cost_ratio"] = number_or_null(s.measured_cost_ratio);
        j["cost_vs_baseline"] = number_or_null(s.cost_vs_baseline);
        j["flops"] = s.flops;
        j["wall_seconds"] = s.wall_seconds;
        j["tokens_per_second"] = number_or_null(s.tokens_per_second);
        a.push_back(std::move(j));
    }
    return a;
}

namespace {

size_t distinct_groups(const std::vector<Summary>& rows) {
    std::set<std::string> g;
    for (const auto& s : rows) g.insert(s.group);
    return g.size();
}

}  // namespace

std::string markdown_report(const std::vector<ProblemResult>& results, const ReportOptions& opts) {
    std::string o = "## Overall\n\n" + to_markdown(summarize(results, opts));
    const auto by_level = summarize(results, opts, GroupBy::kLevel);
    if (distinct_groups(by_level) > 1) o += "\n## By level\n\n" + to_markdown(by_level);
    const auto by_subject = summarize(results, opts, GroupBy::kSubject);
    if (distinct_groups(by_subject) > 1) o += "\n## By subject\n\n" + to_markdown(by_subject);
    if (!opts.baseline.empty())
        o += "\nretained and cost vs baseline compare with configuration \"" + opts.baseline + "\".\n";
    return o;
}

ordered_json json_report(const std::vector<ProblemResult>& results, const ReportOptions& opts) {
    ordered_json j;
    j["baseline"] = opts.baseline;
    j["overall"] = to_json(summarize(results, opts));
    j["by_level"] = to_json(summarize(results, opts, GroupBy::kLevel));
    j["by_subject"] = to_json(summarize(results, opts, GroupBy::kSubject));
    return j;
}

// =====================================================================================================================
// Plots
// =====================================================================================================================

namespace {

Plot accuracy_plot(const std::vector<Summary>& overall, bool cost) {
    Plot p;
    p.title = cost ? "Accuracy vs measured cost" : "Accuracy vs large-model token share";
    p.x_label = cost ? "measured cost (FLOPs / large-only FLOPs)" : "large-model token share f_L (%)";
    p.y_label = "accuracy (%)";
    p.y_min = 0;
    p.y_max = 100;
    if (cost) {
        p.x_min = 0;
    } else {
        p.x_min = -5;  // ticks 0..100, baselines off the axes
        p.x_max = 105;
    }
    PlotSeries small{"small only", {}, Marker::kSquare, false, "#2ca02c"};
    PlotSeries large{"large only", {}, Marker::kTriangle, false, "#d62728"};
    PlotSeries ead{"EAD", {}, Marker::kCircle, true, "#1f77b4"};
    for (const auto& s : overall) {
        const double x = cost ? s.measured_cost_ratio : 100 * s.large_share;
        if (!std::isfinite(x)) continue;
        PlotPoint pt{x, 100 * s.accuracy, s.config};
        if (s.config == "small")
            small.points.push_back(pt);
        else if (s.config == "large")
            large.points.push_back(pt);
        else
            ead.points.push_back(pt);
    }
    std::sort(ead.points.begin(), ead.points.end(),
              [](const PlotPoint& a, const PlotPoint& b) { return a.x < b.x; });
    for (auto* s : {&ead, &small, &large}) {
        if (!s->points.empty()) p.series.push_back(std::move(*s));
    }
    return p;
}

}  // namespace

Plot accuracy_vs_large_share(const std::vector<Summary>& overall) {
    return accuracy_plot(overall, false);
}
Plot accuracy_vs_cost(const std::vector<Summary>& overall) {
    return accuracy_plot(overall, true);
}

}  // namespace ead::eval
