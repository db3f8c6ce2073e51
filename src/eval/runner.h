// `ead eval run`: generate answers for a MATH-style dataset with a list of decoding configurations (small,
// large, ead / ead-spec at several thresholds, spec) over one loaded model pair, grade them and append one
// ProblemResult per (configuration, problem) to a JSONL file as soon as it is finished (flushed and fsynced),
// so that an interrupted run loses nothing finished and `resume` continues where it stopped.
//
// Every record holds report.h's fields plus extra ones that read_results ignores: "n_generated",
// "stop_reason", "n_prompt" and "settings" (the prompt template, chat template, stop ids and every decoding
// knob of that configuration, seed included).
//
// --target-share F: before the main run, tau is chosen by bisection on a calibration subset (the first N
// selected problems, run with the ead strategy) so that the large model writes about F of the generated
// tokens; the remaining problems are then run with ead / ead-spec at that tau.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "decode/params.h"
#include "eval/dataset.h"
#include "eval/grading.h"
#include "eval/report.h"

namespace ead::eval {

// Zero-shot instruction; `{problem}` is replaced by the problem text.
inline constexpr const char* kDefaultPromptTemplate =
    "{problem}\n\nPlease reason step by step, and put your final answer within \\boxed{}.";
// Thresholds of --tau-sweep, bits.
inline const std::vector<double> kDefaultTauSweep = {0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0};

// One configuration of the run: its name in the results ("small", "ead@tau=1.5") and its knobs.
struct RunConfig {
    std::string name;
    decode::DecodeParams params;
};

// "ead@tau=1.5" (%g of tau; "inf" for +infinity).
std::string config_name(const std::string& strategy, double tau);
// `strategies` in order; ead and ead-spec once per tau (with `base.tau` when `taus` is empty), the others once.
// Every configuration copies `base` (same seed and sampling). Throws std::invalid_argument for an unknown
// strategy name or no strategies.
std::vector<RunConfig> make_configs(const std::vector<std::string>& strategies, const std::vector<double>& taus,
                                    const decode::DecodeParams& base);
// `templ` with every `{problem}` replaced by `problem`; throws std::invalid_argument when it has none.
std::string fill_prompt_template(const std::string& templ, const std::string& problem);

// Bisection on tau for a target large-model share: `share_at(tau)` must decrease (weakly) with tau.
// Evaluates `iterations` midpoints of [lo, hi] and returns the evaluated tau whose share is nearest the target
// (ties: the first). `trace`, when given, receives every (tau, share) evaluated.
double bisect_tau(const std::function<double(double)>& share_at, double target, double lo, double hi,
                  int iterations, std::vector<std::pair<double, double>>* trace = nullptr);

// Prepares a results file for appending. Without `resume`, a file that exists and is not empty is an error
// (std::runtime_error naming it). With `resume`, a last line without its newline (a write cut by kill -9) is
// cut off the file, and the complete records are returned (DatasetError for a malformed complete line).
std::vector<ProblemResult> prepare_results_file(const std::string& path, bool resume,
                                                std::vector<nlohmann::json>* raw = nullptr);

struct RunnerOptions {
    std::string small_model;  // -m
    std::string large_model;  // -M (needed unless every configuration is "small")
    std::string data;         // JSONL problems
    Selection selection;      // --offset / --limit / --sample (seeded by selection.seed)

    std::vector<std::string> strategies = {"small", "large", "ead"};
    std::vector<double> taus;  // empty: base.tau
    decode::DecodeParams base;  // every other knob (seed -1 is replaced by 0: runs must be reproducible)

    std::string prompt_template = kDefaultPromptTemplate;
    bool chat = true;           // render through the chat template (else the filled template is the prompt)
    std::string chat_template;  // "": detect from the small model's file
    std::string system;         // system message ("" = the template's default)
    Grader grader = Grader::kHendrycks;
    int ctx = 0;                // context of each model, tokens (0: the model's training context, at most 4096)

    std::string out;  // results JSONL
    bool resume = false;

    double target_share = std::numeric_limits<double>::quiet_NaN();  // NaN: off
    size_t calibration = 20;
    int bisection_iterations = 7;

    bool progress = true;              // progress bar on `log`
    size_t max_new_results = 0;        // stop after this many new records (0 = no limit; tests)
    std::function<void(const ProblemResult&)> on_result;  // after each record is written
};

struct RunOutcome {
    std::vector<ProblemResult> results;  // the whole file after the run (old and new records)
    size_t n_new = 0;
    size_t n_skipped = 0;               // (config, problem) pairs already in the file
    bool stopped_early = false;         // max_new_results reached
    std::optional<double> chosen_tau;   // --target-share
    std::vector<std::pair<double, double>> calibration_trace;  // (tau, share) evaluated
    double wall_seconds = 0;
};

// Loads the models once and runs every (configuration, problem) pair not already in the file, problem by
// problem (every configuration of a problem before the next problem). Progress and notes go to `log`
// (nullptr: silent).
RunOutcome run_eval(const RunnerOptions& options, std::FILE* log = stderr);

}  // namespace ead::eval
