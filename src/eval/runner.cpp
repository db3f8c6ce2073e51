#include "eval/runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "decode/model_sequence.h"
#include "decode/stats.h"
#include "decode/strategy.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace ead::eval {

using nlohmann::json;
using nlohmann::ordered_json;

std::string config_name(const std::string& strategy, double tau) {
    if (std::isinf(tau)) return strategy + (tau > 0 ? "@tau=inf" : "@tau=-inf");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s@tau=%g", strategy.c_str(), tau);
    return buf;
}

std::vector<RunConfig> make_configs(const std::vector<std::string>& strategies, const std::vector<double>& taus,
                                    const decode::DecodeParams& base) {
    if (strategies.empty()) throw std::invalid_argument("--configs: no configuration given");
    std::vector<RunConfig> out;
    std::set<std::string> seen;
    auto add = [&](RunConfig c) {
        if (seen.insert(c.name).second) out.push_back(std::move(c));
    };
    for (const auto& s : strategies) {
        decode::Strategy kind;
        try {
            kind = decode::parse_strategy(s);
        } catch (const std::exception&) {
            throw std::invalid_argument("--configs: unknown configuration '" + s +
                                        "' (expected small, large, ead, spec or ead-spec)");
        }
        RunConfig c{s, base};
        c.params.strategy = std::string(decode::strategy_name(kind));
        if (kind == decode::Strategy::kEad || kind == decode::Strategy::kEadSpec) {
            const std::vector<double> ts = taus.empty() ? std::vector<double>{base.tau} : taus;
            for (double t : ts) {
                if (std::isnan(t)) throw std::invalid_argument("--tau: NaN is not a threshold");
                RunConfig e = c;
                e.params.tau = t;
                e.name = config_name(c.params.strategy, t);
                add(std::move(e));
            }
        } else {
            add(std::move(c));
        }
    }
    return out;
}

std::string fill_prompt_template(const std::string& templ, const std::string& problem) {
    static const std::string kKey = "{problem}";
    if (templ.find(kKey) == std::string::npos)
        throw std::invalid_argument("--prompt-template: the template has no {problem} placeholder");
    std::string out;
    size_t at = 0;
    for (size_t p; (p = templ.find(kKey, at)) != std::string::npos; at = p + kKey.size()) {
        out.append(templ, at, p - at);
        out += problem;
    }
    out.append(templ, at, std::string::npos);
    return out;
}

double bisect_tau(const std::function<double(double)>& share_at, double target, double lo, double hi,
                  int iterations, std::vector<std::pair<double, double>>* trace) {
    double best_tau = (lo + hi) / 2, best_err = std::numeric_limits<double>::infinity();
    for (int i = 0; i < std::max(1, iterations); ++i) {
        const double mid = (lo + hi) / 2;
        const double share = share_at(mid);
        if (trace) trace->emplace_back(mid, share);
        const double err = std::isnan(share) ? std::numeric_limits<double>::infinity() : std::abs(share - target);
        if (err < best_err) {
            best_err = err;
            best_tau = mid;
        }
        // The share falls as tau rises: too much large-model text -> raise tau.
        if (share > target)
            lo = mid;
        else
            hi = mid;
    }
    return best_tau;
}

std::vector<ProblemResult> prepare_results_file(const std::string& path, bool resume, std::vector<json>* raw) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path, ec)) return {};
    const auto size = fs::file_size(path, ec);
    if (ec) throw std::runtime_error(path + ": cannot read the results file (" + ec.message() + ")");
    if (size == 0) return {};
    if (!resume)
        throw std::runtime_error(path + ": the results file already exists and is not empty; pass --resume to "
                                        "continue it, or choose another --out");
    std::string text;
    {
        std::ifstream f(path, std::ios::binary);
        if (!f) throw std::runtime_error(path + ": cannot open the results file");
        std::ostringstream ss;
        ss << f.rdbuf();
        text = ss.str();
    }
    // A last line without its newline was cut by an interrupted write: drop it.
    const size_t last_nl = text.rfind('\n');
    const size_t keep = last_nl == std::string::npos ? 0 : last_nl + 1;
    if (keep < text.size()) {
        fs::resize_file(path, keep, ec);
        if (ec) throw std::runtime_error(path + ": cannot truncate the partial last line (" + ec.message() + ")");
        text.resize(keep);
    }
    std::vector<ProblemResult> out;
    std::istringstream in(text);
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
            json j = json::parse(line);
            out.push_back(problem_result_from_json(j));
            if (raw) raw->push_back(std::move(j));
        } catch (const std::exception& e) {
            throw DatasetError(path + ":" + std::to_string(n) + ": " + e.what());
        }
    }
    return out;
}

namespace {

// Appends lines, each flushed to the disk before append() returns.
class ResultWriter {
  public:
    explicit ResultWriter(const std::string& path) : path_(path) {
        file_ = std::fopen(path.c_str(), "ab");
        if (!file_) throw std::runtime_error(path + ": cannot open for appending");
    }
    ~ResultWriter() {
        if (file_) std::fclose(file_);
    }
    ResultWriter(const ResultWriter&) = delete;
    ResultWriter& operator=(const ResultWriter&) = delete;

    void append(const std::string& line) {
        if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fputc('\n', file_) == EOF ||
            std::fflush(file_) != 0)
            throw std::runtime_error(path_ + ": write failed");
        ::fsync(::fileno(file_));
    }

  private:
    std::string path_;
    std::FILE* file_ = nullptr;
};

std::string format_duration(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    char buf[32];
    const long t = std::lround(s);
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", t);
    return buf;
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Everything a generation needs, set up once.
class Engine {
  public:
    Engine(const RunnerOptions& o, bool need_large) : o_(o) {
        model::ContextOptions co;
        co.n_ctx = o.ctx;
        co.n_threads = o.base.threads > 0 ? o.base.threads
                                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
        pair_ = decode::load_pair(o.small_model, need_large ? o.large_model : std::string(), co);
        tok_ = &*pair_.small.tokenizer;
        stop_ids_ = tok_->eog_ids();
        if (o.chat) {
            tmpl_.emplace(o.chat_template.empty() ? tokenizer::ChatTemplate::detect(pair_.small.model->file())
                                                  : tokenizer::ChatTemplate::by_name(o.chat_template));
            for (const auto& s : tmpl_->stop_strings()) {
                const int32_t id = tok_->find_token(s);
                if (id >= 0 && std::find(stop_ids_.begin(), stop_ids_.end(), id) == stop_ids_.end())
                    stop_ids_.push_back(id);
            }
        }
        std::sort(stop_ids_.begin(), stop_ids_.end());
    }

    std::vector<int32_t> encode_prompt(const Problem& p) const {
        const std::string text = fill_prompt_template(o_.prompt_template, p.problem);
        if (!tmpl_) return tok_->encode(text, /*add_special=*/true, /*parse_special=*/false);
        std::vector<tokenizer::ChatMessage> messages;
        if (!o_.system.empty()) messages.push_back({"system", o_.system});
        messages.push_back({"user", text});
        return tok_->encode(tmpl_->render(messages, true), !tmpl_->renders_bos(), /*parse_special=*/true);
    }

    decode::DecodeResult generate(const decode::DecodeParams& params, const std::vector<int32_t>& prompt) {
        decode::RunOptions ro;
        ro.eog_ids = stop_ids_;
        ro.n_vocab_common = pair_.info.n_vocab_common;
        return decode::generate(params, pair_.small_sequence(), pair_.large_sequence(), prompt, ro);
    }

    // The generated text without the end-of-generation token.
    std::string text_of(const std::vector<int32_t>& tokens) const {
        std::vector<int32_t> ids = tokens;
        while (!ids.empty() && std::binary_search(stop_ids_.begin(), stop_ids_.end(), ids.back())) ids.pop_back();
        return tok_->decode(ids);
    }

    std::string template_name() const { return tmpl_ ? tmpl_->name() : std::string(); }
    const std::vector<int32_t>& stop_ids() const { return stop_ids_; }
    int32_t n_vocab_common() const { return pair_.info.n_vocab_common; }
    const decode::ModelPair& pair() const { return pair_; }

  private:
    const RunnerOptions& o_;
    decode::ModelPair pair_;
    const tokenizer::Tokenizer* tok_ = nullptr;
    std::optional<tokenizer::ChatTemplate> tmpl_;
    std::vector<int32_t> stop_ids_;
};

ordered_json settings_json(const RunnerOptions& o, const Engine& engine, const decode::DecodeParams& p,
                           std::optional<double> chosen_tau) {
    ordered_json s;
    s["prompt_template"] = o.prompt_template;
    s["chat"] = o.chat;
    s["chat_template"] = o.chat ? ordered_json(engine.template_name()) : ordered_json(nullptr);
    s["system"] = o.system;
    s["max_tokens"] = p.n_predict;
    s["temperature"] = p.temperature;
    s["seed"] = p.seed;
    s["stop_ids"] = engine.stop_ids();
    s["grader"] = std::string(grader_name(o.grader));
    s["ctx"] = o.ctx;
    s["models"] = {{"small", o.small_model}, {"large", o.large_model}};
    if (chosen_tau) {
        s["target_share"] = o.target_share;
        s["calibration"] = o.calibration;
        s["calibrated_tau"] = *chosen_tau;
    }
    s["decode"] = decode::to_json(p);
    return s;
}

}  // namespace

RunOutcome run_eval(const RunnerOptions& o, std::FILE* log) {
    const auto t_start = Clock::now();
    RunOutcome outcome;
    if (o.out.empty()) throw std::invalid_argument("--out: no results file given");

    // Problems and configurations (checked before anything is loaded or written).
    std::vector<Problem> problems = select(read_problems(o.data), o.selection);
    if (problems.empty()) throw std::invalid_argument(o.data + ": no problems selected");
    decode::DecodeParams base = o.base;
    if (base.seed < 0) base.seed = 0;
    base.strategy = "small";  // placeholder, each configuration sets its own
    const bool calibrate = !std::isnan(o.target_share);
    if (calibrate) {
        if (!(o.target_share >= 0 && o.target_share <= 1))
            throw std::invalid_argument("--target-share: expected a fraction in [0, 1]");
        if (o.calibration == 0 || o.calibration >= problems.size())
            throw std::invalid_argument("--calibration: " + std::to_string(o.calibration) +
                                        " calibration problems leave none of the " +
                                        std::to_string(problems.size()) + " selected problems to run");
    }
    // Validate the names now; with --target-share the taus are replaced by the chosen one later.
    std::vector<RunConfig> configs = make_configs(o.strategies, calibrate ? std::vector<double>{} : o.taus, base);
    for (const auto& c : configs) decode::validate(c.params);
    const bool need_large = std::any_of(configs.begin(), configs.end(),
                                        [](const RunConfig& c) { return c.params.strategy != "small"; });
    if (need_large && o.large_model.empty())
        throw std::invalid_argument("configuration '" + configs.front().name + "' needs a large model (-M LARGE)");
    if (o.prompt_template.find("{problem}") == std::string::npos)
        throw std::invalid_argument("--prompt-template: the template has no {problem} placeholder");

    // Results already there.
    std::vector<json> raw;
    const std::vector<ProblemResult> existing = prepare_results_file(o.out, o.resume, &raw);
    std::set<std::pair<std::string, std::string>> done;
    std::map<std::string, std::pair<int64_t, int64_t>> acc;  // config -> (correct, n)
    for (const auto& r : existing) {
        done.insert({r.config, r.problem_id});
    }

    Engine engine(o, need_large || calibrate);
    if (log)
        std::fprintf(log, "small: %s\n%s%s%s", engine.pair().small.model->summary().c_str(),
                     engine.pair().large ? "large: " : "",
                     engine.pair().large ? engine.pair().large->model->summary().c_str() : "",
                     engine.pair().large ? "\n" : "");

    // --target-share: choose tau on the first `calibration` problems (reused from the file on --resume).
    if (calibrate) {
        for (const auto& j : raw) {
            const auto s = j.find("settings");
            if (s == j.end() || !s->is_object() || !s->contains("calibrated_tau") ||
                !s->contains("target_share"))
                continue;
            if ((*s)["target_share"].is_number() && (*s)["target_share"].get<double>() == o.target_share &&
                (*s)["calibrated_tau"].is_number()) {
                outcome.chosen_tau = (*s)["calibrated_tau"].get<double>();
                break;
            }
        }
        const std::vector<Problem> calib(problems.begin(), problems.begin() + static_cast<long>(o.calibration));
        problems.erase(problems.begin(), problems.begin() + static_cast<long>(o.calibration));
        if (outcome.chosen_tau) {
            if (log)
                std::fprintf(log, "target share %.3f: tau = %g (calibrated earlier, from %s)\n", o.target_share,
                             *outcome.chosen_tau, o.out.c_str());
        } else {
            std::vector<std::vector<int32_t>> prompts;
            for (const auto& p : calib) prompts.push_back(engine.encode_prompt(p));
            decode::DecodeParams cp = base;
            cp.strategy = "ead";
            auto share_at = [&](double tau) {
                cp.tau = tau;
                int64_t large = 0, total = 0;
                for (const auto& prompt : prompts) {
                    const auto r = engine.generate(cp, prompt);
                    large += r.stats.tokens[1];
                    total += r.stats.n_generated;
                }
                const double share = total > 0 ? static_cast<double>(large) / static_cast<double>(total)
                                               : std::numeric_limits<double>::quiet_NaN();
                if (log)
                    std::fprintf(log, "calibration: tau = %-8.4g large share %.3f (%lld of %lld tokens)\n", tau,
                                 share, static_cast<long long>(large), static_cast<long long>(total));
                return share;
            };
            // The rolling entropy cannot exceed log2 of the vocabulary.
            const double hi = std::log2(std::max<int32_t>(2, engine.n_vocab_common()));
            outcome.chosen_tau = bisect_tau(share_at, o.target_share, 0.0, hi, o.bisection_iterations,
                                            &outcome.calibration_trace);
            if (log)
                std::fprintf(log, "target share %.3f: chosen tau = %g (on %zu calibration problems)\n",
                             o.target_share, *outcome.chosen_tau, calib.size());
        }
        configs = make_configs(o.strategies, {*outcome.chosen_tau}, base);
    }

    std::set<std::string> config_names;
    for (const auto& c : configs) config_names.insert(c.name);
    for (const auto& r : existing) {
        if (!config_names.count(r.config)) continue;
        auto& a = acc[r.config];
        a.first += r.verdict == Verdict::kCorrect;
        a.second += 1;
    }

    size_t total = 0;
    for (const auto& p : problems)
        for (const auto& c : configs) (done.count({c.name, p.unique_id}) ? outcome.n_skipped : total) += 1;
    if (log && outcome.n_skipped > 0)
        std::fprintf(log, "resume: %zu of %zu runs already in %s\n", outcome.n_skipped, total + outcome.n_skipped,
                     o.out.c_str());

    ResultWriter writer(o.out);
    const bool tty = log && ::isatty(::fileno(log));
    const auto t_loop = Clock::now();
    size_t n_done = 0;
    auto show_progress = [&](const std::string& config) {
        if (!log || !o.progress) return;
        const double elapsed = seconds_since(t_loop);
        const double eta = n_done > 0 ? elapsed / static_cast<double>(n_done) * static_cast<double>(total - n_done)
                                      : std::numeric_limits<double>::quiet_NaN();
        const auto a = acc[config];
        const int width = 24;
        const int filled = total ? static_cast<int>(width * n_done / total) : width;
        std::string bar(static_cast<size_t>(filled), '#');
        bar.resize(width, '.');
        std::fprintf(log, "%s[%s] %zu/%zu  %s acc %.1f%% (%lld/%lld)  elapsed %s  ETA %s%s", tty ? "\r\033[K" : "",
                     bar.c_str(), n_done, total, config.c_str(),
                     a.second ? 100.0 * static_cast<double>(a.first) / static_cast<double>(a.second) : 0.0,
                     static_cast<long long>(a.first), static_cast<long long>(a.second),
                     format_duration(elapsed).c_str(), format_duration(eta).c_str(), tty ? "" : "\n");
        std::fflush(log);
    };

    for (const auto& p : problems) {
        if (outcome.stopped_early) break;
        std::vector<int32_t> prompt;
        bool encoded = false;
        for (const auto& c : configs) {
            if (done.count({c.name, p.unique_id})) continue;
            if (o.max_new_results > 0 && outcome.n_new >= o.max_new_results) {
                outcome.stopped_early = true;
                break;
            }
            if (!encoded) {
                prompt = engine.encode_prompt(p);
                encoded = true;
            }
            const decode::DecodeResult r = engine.generate(c.params, prompt);
            const decode::DecodeStats& s = r.stats;

            ProblemResult res;
            res.config = c.name;
            res.problem_id = p.unique_id;
            res.level = p.level;
            res.subject = p.subject;
            res.text = engine.text_of(r.tokens);
            const GradeResult g = grade(p.answer, res.text, o.grader);
            res.grader = o.grader;
            res.verdict = g.verdict;
            res.extracted_answer = g.extracted;
            res.n_tokens_small = s.tokens[0];
            res.n_tokens_large = s.tokens[1];
            res.n_switches = static_cast<int64_t>(s.switches.size());
            res.n_catchup_tokens = s.catch_up_tokens[0] + s.catch_up_tokens[1];
            res.flops = s.flops[0] + s.flops[1];
            res.flops_large_equivalent = s.large_only_flops;
            res.params_small = static_cast<double>(s.n_params[0]);
            res.params_large = static_cast<double>(s.n_params[1]);
            res.wall_seconds = s.time_total;

            ordered_json j = to_json(res);
            j["n_generated"] = s.n_generated;
            j["n_prompt"] = s.n_prompt;
            j["stop_reason"] = std::string(decode::stop_reason_name(s.stop_reason));
            j["settings"] = settings_json(o, engine, c.params, outcome.chosen_tau);
            writer.append(j.dump(-1, ' ', false, json::error_handler_t::replace));

            ++outcome.n_new;
            ++n_done;
            auto& a = acc[c.name];
            a.first += res.verdict == Verdict::kCorrect;
            a.second += 1;
            if (o.on_result) o.on_result(res);
            show_progress(c.name);
        }
    }
    if (log && o.progress && tty && n_done > 0) std::fprintf(log, "\n");

    outcome.results = read_results(o.out);
    outcome.wall_seconds = seconds_since(t_start);
    return outcome;
}

}  // namespace ead::eval
