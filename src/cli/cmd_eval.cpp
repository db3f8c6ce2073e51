// `ead eval ...`: the evaluation stage's front end.
//
//   ead eval grade --grader hendrycks|minerva --reference REF ANSWER_OR_SOLUTION   prints true or false
//   ead eval report RESULTS.jsonl... [--baseline large] [--md FILE] [--csv FILE] [--json FILE] [--svg PREFIX]
//   ead eval run -m SMALL -M LARGE --data FILE --out RESULTS.jsonl [--configs small,large,ead] [--tau 1,2]
//                [--resume] [--target-share F] [--report PREFIX] [decode knobs...]   (runner.h)
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "decode/params.h"
#include "eval/grading.h"
#include "eval/report.h"
#include "eval/runner.h"
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


struct RunCliOptions {
    eval::RunnerOptions runner;
    std::string grader = "hendrycks";
    bool no_chat = false;
    bool tau_sweep = false;
    bool no_progress = false;
    std::string report;    // PREFIX for .md/.csv/.json/.svg
    std::string baseline;  // "": "large" when it is one of the configurations
    // Decode knobs given on the command line, by declaration index (empty: not given).
    std::vector<std::string> knob_values;
    std::vector<CLI::Option*> knob_options;
};

// The knobs that `eval run` sets itself: the strategy (--configs) and tau (--tau, a list).
bool knob_owned_by_run(const decode::ParamDecl& d) {
    return d.name == "strategy" || d.name == "tau";
}

std::string run_knob_names(const decode::ParamDecl& d) {
    return d.name == "n_predict" ? d.cli_names() + ",--max-tokens" : d.cli_names();
}

int run_run(RunCliOptions& o) {
    eval::RunnerOptions& r = o.runner;
    decode::DecodeParams params;
    decode::apply_env(params);
    const auto& decls = decode::param_decls();
    for (size_t i = 0; i < decls.size(); ++i)
        if (o.knob_options[i] && o.knob_options[i]->count() > 0)
            decode::set_param(params, decls[i], o.knob_values[i]);
    if (params.seed < 0) params.seed = 0;  // reproducible and resumable
    r.base = params;
    r.grader = eval::parse_grader(o.grader);
    r.chat = !o.no_chat;
    r.progress = !o.no_progress;
    if (o.tau_sweep) r.taus = eval::kDefaultTauSweep;

    const eval::RunOutcome out = eval::run_eval(r, stderr);
    std::fprintf(stderr, "%zu new results, %zu already in %s; %.1f s\n", out.n_new, out.n_skipped,
                 r.out.c_str(), out.wall_seconds);
    if (out.chosen_tau)
        std::fprintf(stderr, "target large share %.3f: tau = %g\n", r.target_share, *out.chosen_tau);

    eval::ReportOptions ropts;
    ropts.baseline = o.baseline;
    if (ropts.baseline.empty()) {
        const bool has_large = std::any_of(out.results.begin(), out.results.end(),
                                           [](const eval::ProblemResult& x) { return x.config == "large"; });
        ropts.baseline = has_large ? "large" : "";
    }
    const std::string md = eval::markdown_report(out.results, ropts);
    std::printf("%s", md.c_str());
    if (!o.report.empty()) {
        const auto overall = eval::summarize(out.results, ropts);
        write_file(o.report + ".md", md);
        write_file(o.report + ".csv", eval::to_csv(overall));
        write_file(o.report + ".json", eval::json_report(out.results, ropts).dump(2) + "\n");
        write_file(o.report + "_accuracy_vs_large_share.svg",
                   eval::render_svg(eval::accuracy_vs_large_share(overall)));
        write_file(o.report + "_accuracy_vs_cost.svg", eval::render_svg(eval::accuracy_vs_cost(overall)));
    }
    return 0;
}

void add_run_options(CLI::App* cmd, const std::shared_ptr<RunCliOptions>& o) {
    eval::RunnerOptions& r = o->runner;
    cmd->add_option("-m,--model", r.small_model, "GGUF file of the small model")->required();
    cmd->add_option("-M,--large", r.large_model, "GGUF file of the large model");
    cmd->add_option("--data", r.data, "MATH-format JSONL problems")->required();
    cmd->add_option("--out", r.out, "results JSONL (one record per configuration and problem)")->required();
    cmd->add_flag("--resume", r.resume, "continue --out: skip the (configuration, problem) pairs it holds");
    cmd->add_option("--limit", r.selection.limit, "run at most N problems (0 = all)");
    cmd->add_option("--offset", r.selection.offset, "skip the first N problems");
    cmd->add_option("--sample", r.selection.sample, "a seeded random sample of N problems (0 = all)");
    cmd->add_option("--sample-seed", r.selection.seed, "seed of --sample")->capture_default_str();
    cmd->add_option("--configs", r.strategies, "configurations: small, large, ead, spec, ead-spec")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--tau", r.taus, "thresholds for ead / ead-spec, bits (comma-separated; inf allowed)")
        ->delimiter(',');
    cmd->add_flag("--tau-sweep", o->tau_sweep, "ead / ead-spec at tau = 0.25,0.5,0.75,1,1.5,2,2.5,3,4");
    cmd->add_option("--target-share", r.target_share,
                    "choose tau so that the large model writes about this fraction of the tokens")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--calibration", r.calibration, "problems used to choose tau for --target-share")
        ->capture_default_str();
    cmd->add_option("--bisection-iterations", r.bisection_iterations, "bisection steps for --target-share")
        ->capture_default_str()
        ->check(CLI::Range(1, 30));
    cmd->add_option("--prompt-template", r.prompt_template,
                    "prompt text with a {problem} placeholder (default: a zero-shot \\boxed{} instruction)");
    cmd->add_flag("--no-chat", o->no_chat, "use the filled prompt template as is, without the chat template");
    cmd->add_option("--chat-template", r.chat_template, "chatml, llama3 or gemma3 (default: detect)");
    cmd->add_option("--system", r.system, "system message (default: the chat template's own)");
    cmd->add_option("--grader", o->grader, "hendrycks or minerva")
        ->check(CLI::IsMember({"hendrycks", "minerva"}))
        ->capture_default_str();
    cmd->add_option("-c,--ctx", r.ctx, "context length of each model in tokens (0: the model's, at most 4096)")
        ->capture_default_str()
        ->check(CLI::Range(0, 1 << 20));
    cmd->add_option("--report", o->report,
                    "also write PREFIX.md, .csv, .json, _accuracy_vs_large_share.svg, _accuracy_vs_cost.svg");
    cmd->add_option("--baseline", o->baseline, "configuration the report compares with (default: large)");
    cmd->add_flag("--no-progress", o->no_progress, "no progress bar on stderr");
    const decode::DecodeParams defaults;
    const auto& decls = decode::param_decls();
    o->knob_values.resize(decls.size());
    o->knob_options.assign(decls.size(), nullptr);
    for (size_t i = 0; i < decls.size(); ++i) {
        const auto& d = decls[i];
        if (knob_owned_by_run(d)) continue;
        const std::string help = std::string(d.help) + " [default: " + decode::param_text(defaults, d) +
                                 "; env " + std::string(d.env) + "]";
        o->knob_options[i] = cmd->add_option(run_knob_names(d), o->knob_values[i], help);
    }
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

         auto run = std::make_shared<RunCliOptions>();
         CLI::App* run_cmd = app.add_subcommand(
             "run", "Generate and grade answers for a dataset with small / large / EAD configurations");
         add_run_options(run_cmd, run);

         return [grade, report, run, grade_cmd, report_cmd, run_cmd] {
             if (grade_cmd->parsed()) return run_grade(*grade);
             if (report_cmd->parsed()) return run_report(*report);
             if (run_cmd->parsed()) return run_run(*run);
             return 1;
         };
     }});

}  // namespace
}  // namespace ead::cli
