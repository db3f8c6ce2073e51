// `ead eval ...`: the evaluation stage's front end.
//
//   ead eval grade --grader hendrycks|minerva --reference REF ANSWER_OR_SOLUTION   prints true or false
//   ead eval report RESULTS.jsonl... [--baseline large] [--md FILE] [--csv FILE] [--json FILE] [--svg PREFIX]
//
// `ead eval run` (generate answers for a dataset with small / large / EAD configurations and write result
// JSONL) belongs beside these once the decode stage exists: its options and loop go in
// src/eval/runner.{h,cpp} and it is registered here as a third nested subcommand.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "eval/grading.h"
#include "eval/report.h"
#include "eval/svg_plot.h"

namespace ead::cli {
namespace {

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(path + ": cannot open for writing");
    f << text;
    if (!f.flush()) throw std::runtime_error(path + ": write failed");
}

struct GradeOptions {
    std::string grader = "hendrycks";
    std::string reference;
    std::string answer;
    bool verbose = false;
};

int run_grade(const GradeOptions& o) {
    const eval::Grader grader = eval::parse_grader(o.grader);
    const eval::GradeResult r = eval::grade_answer_or_solution(o.reference, o.answer, grader);
    const bool equal = r.verdict == eval::Verdict::kCorrect;
    if (o.verbose) {
        std::printf("grader:     %s\n", std::string(eval::grader_name(grader)).c_str());
        std::printf("reference:  %s  ->  %s\n", r.reference.c_str(), r.normalized_reference.c_str());
        std::printf("answer:     %s (%s)  ->  %s\n", r.extracted.c_str(),
                    std::string(eval::extraction_method_name(r.method)).c_str(),
                    r.normalized_extracted.c_str());
        std::printf("verdict:    %s\n", std::string(eval::verdict_name(r.verdict)).c_str());
    }
    std::printf("%s\n", equal ? "true" : "false");
    return 0;
}

struct ReportCliOptions {
    std::vector<std::string> files;
    std::string baseline = "large";
    std::string md, csv, json, svg;
    double params_small = 0, params_large = 0;
};

int run_report(const ReportCliOptions& o) {
    std::vector<eval::ProblemResult> results;
    for (const auto& f : o.files) {
        auto part = eval::read_results(f);
        results.insert(results.end(), part.begin(), part.end());
    }
    eval::ReportOptions opts;
    opts.baseline = o.baseline;
    opts.params_small = o.params_small;
    opts.params_large = o.params_large;
    const std::string md = eval::markdown_report(results, opts);
    std::printf("%s", md.c_str());
    if (!o.md.empty()) write_file(o.md, md);
    if (!o.csv.empty()) write_file(o.csv, eval::to_csv(eval::summarize(results, opts)));
    if (!o.json.empty()) write_file(o.json, eval::json_report(results, opts).dump(2) + "\n");
    if (!o.svg.empty()) {
        const auto overall = eval::summarize(results, opts);
        write_file(o.svg + "_accuracy_vs_large_share.svg",
                   eval::render_svg(eval::accuracy_vs_large_share(overall)));
        write_file(o.svg + "_accuracy_vs_cost.svg", eval::render_svg(eval::accuracy_vs_cost(overall)));
    }
    return 0;
}

const bool kRegistered = register_command(
    {"eval", "MATH-style evaluation: grade answers, report results", [](CLI::App& app) -> Runner {
         app.require_subcommand(1);

         auto grade = std::make_shared<GradeOptions>();
         CLI::App* grade_cmd = app.add_subcommand(
             "grade", "Grade one answer (or full solution) against a reference; prints true or false");
         grade_cmd->add_option("--grader", grade->grader, "hendrycks or minerva")
             ->check(CLI::IsMember({"hendrycks", "minerva"}))
             ->capture_default_str();
         grade_cmd
             ->add_option("--reference", grade->reference,
                          "reference answer or solution (its last \\boxed{})")
             ->required();
         grade_cmd
             ->add_option("answer", grade->answer, "answer, or a solution / model output to extract it from")
             ->required();
         grade_cmd->add_flag("-v,--verbose", grade->verbose, "also print the extracted and normalized forms");

         auto report = std::make_shared<ReportCliOptions>();
         CLI::App* report_cmd =
             app.add_subcommand("report", "Aggregate result JSONL files and print a Markdown table");
         report_cmd->add_option("results", report->files, "result JSONL files (one ProblemResult per line)")
             ->required();
         report_cmd
             ->add_option("--baseline", report->baseline, "configuration to compare with (\"\" for none)")
             ->capture_default_str();
         report_cmd->add_option("--md", report->md, "also write the Markdown report to FILE");
         report_cmd->add_option("--csv", report->csv, "write the overall table as CSV to FILE");
         report_cmd->add_option("--json", report->json,
                                "write overall / by level / by subject tables as JSON to FILE");
         report_cmd->add_option("--svg", report->svg,
                                "write PREFIX_accuracy_vs_large_share.svg and PREFIX_accuracy_vs_cost.svg");
         report_cmd->add_option("--params-small", report->params_small,
                                "small model parameter count for the nominal cost (overrides the records)");
         report_cmd->add_option("--params-large", report->params_large,
                                "large model parameter count for the nominal cost (overrides the records)");

         return [grade, report, grade_cmd, report_cmd] {
             if (grade_cmd->parsed()) return run_grade(*grade);
             if (report_cmd->parsed()) return run_report(*report);
             return 1;
         };
     }});

}  // namespace
}  // namespace ead::cli
