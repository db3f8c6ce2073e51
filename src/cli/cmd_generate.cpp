// `ead generate -m SMALL [-M LARGE] --strategy small|large|ead|spec|ead-spec -p PROMPT [--chat] ...`:
// generate text with one model or a pair, streaming it as it comes (coloured by the model that produced each
// token on a terminal), then the statistics and the effective parameters; `--json` writes one object instead.
//
// Every decoding knob comes from the declarations in decode/params.h (flag, default, help, environment
// variable).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "decode/model_sequence.h"
#include "decode/params.h"
#include "decode/strategy.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace ead::cli {
namespace {

using decode::DecodeParams;
using decode::ModelId;
using nlohmann::ordered_json;

struct GenerateOptions {
    std::string small_model;
    std::string large_model;
    std::string prompt;
    bool chat = false;
    std::string system;
    std::string chat_template;  // empty: detect from the small model's file
    std::vector<std::string> stop;
    int ctx = 4096;
    std::string color = "auto";
    bool json = false;
    // Knob values given on the command line, by declaration index (empty: not given).
    std::vector<std::string> knob_values;
    std::vector<CLI::Option*> knob_options;
};

constexpr const char* kColorSmall = "\033[32m";  // green
constexpr const char* kColorLarge = "\033[35m";  // magenta
constexpr const char* kColorReset = "\033[0m";

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string pct(double v) {
    return std::isfinite(v) ? fmt("%.1f%%", 100.0 * v) : "n/a";
}
std::string num(const char* f, double v) {
    return std::isfinite(v) ? fmt(f, v) : "n/a";
}

void print_stats(FILE* out, const decode::DecodeStats& s, const DecodeParams& p) {
    int up = 0;
    for (const auto& e : s.switches) up += e.up() ? 1 : 0;
    std::fprintf(out, "\n--- %s: %d prompt tokens, %d generated (small %d, large %d: f_L = %s), stop: %s\n",
                 s.strategy.c_str(), s.n_prompt, s.n_generated, s.tokens[0], s.tokens[1],
                 num("%.3f", s.large_share()).c_str(),
                 std::string(decode::stop_reason_name(s.stop_reason)).c_str());
    std::fprintf(out, "switches:       %zu (%d up, %d down)", s.switches.size(), up,
                 static_cast<int>(s.switches.size()) - up);
    for (size_t i = 0; i < s.switches.size() && i < 12; ++i)
        std::fprintf(out, "%s %d%s", i == 0 ? ":" : ",", s.switches[i].position,
                     s.switches[i].up() ? "↑" : "↓");
    std::fprintf(out, "%s\n", s.switches.size() > 12 ? ", ..." : "");
    std::fprintf(out, "catch-up:       small %d tokens in %d calls, large %d tokens in %d calls\n",
                 s.catch_up_tokens[0], s.catch_up_calls[0], s.catch_up_tokens[1], s.catch_up_calls[1]);
    if (s.drafted > 0)
        std::fprintf(out,
                     "speculative:    %d rounds, %d drafted, %d accepted (%s of %d verified), mean accepted "
                     "length %s\n",
                     s.spec_rounds, s.drafted, s.accepted, pct(s.acceptance_rate()).c_str(),
                     s.drafted - s.draft_unchecked, num("%.2f", s.mean_accepted_length()).c_str());
    std::fprintf(out, "forward passes: small %d (%lld tokens), large %d (%lld tokens)\n", s.forward_passes[0],
                 static_cast<long long>(s.evaluated_tokens[0]), s.forward_passes[1],
                 static_cast<long long>(s.evaluated_tokens[1]));
    std::fprintf(
        out,
        "time:           prompt %.3f s, catch-up %.3f s, decode %.3f s, sampling %.3f s, total %.3f s; "
        "%s tokens/s (prompt %s tokens/s)\n",
        s.time_prompt, s.time_catch_up, s.time_decode, s.time_sampling, s.time_total,
        num("%.2f", s.tokens_per_second()).c_str(), num("%.1f", s.prompt_tokens_per_second()).c_str());
    std::fprintf(out,
                 "cost:           nominal %s of large-only (reduction %s), measured FLOPs %s of large-only\n",
                 num("%.3f", s.nominal_cost_ratio()).c_str(), pct(1.0 - s.nominal_cost_ratio()).c_str(),
                 num("%.3f", s.measured_cost_ratio()).c_str());
    std::fprintf(out, "entropy:        mean %s bits\n", num("%.3f", s.mean_entropy()).c_str());
    std::string params;
    for (const auto& d : decode::param_decls())
        params += " " + std::string(d.name) + "=" + decode::param_text(p, d);
    std::fprintf(out, "params:        %s (seed used: %llu)\n", params.c_str(),
                 static_cast<unsigned long long>(s.seed));
}

// Output that holds back any tail that could still become a stop string, and stops at one.
class StopStringFilter {
  public:
    StopStringFilter(std::vector<std::string> stops, bool color, bool enabled)
        : stops_(std::move(stops)), color_(color), enabled_(enabled) {}

    // Returns false when a stop string appeared (text up to it is printed).
    bool push(const std::string& piece, ModelId model) {
        pending_.push_back({piece, model});
        pending_text_ += piece;
        for (const auto& s : stops_) {
            const size_t at = s.empty() ? std::string::npos : pending_text_.find(s);
            if (at != std::string::npos) {
                print(at);
                pending_.clear();
                pending_text_.clear();
                return false;
            }
        }
        size_t hold = 0;  // longest suffix of the pending text that is a prefix of a stop string
        for (const auto& s : stops_)
            for (size_t n = std::min(s.size() - (s.empty() ? 0 : 1), pending_text_.size()); n > hold; --n)
                if (pending_text_.compare(pending_text_.size() - n, n, s, 0, n) == 0) {
                    hold = n;
                    break;
                }
        print(pending_text_.size() - hold);
        return true;
    }

    void finish() { print(pending_text_.size()); }

  private:
    struct Piece {
        std::string text;
        ModelId model;
    };

    // Prints the first n bytes of the pending text.
    void print(size_t n) {
        size_t done = 0;
        while (done < n && !pending_.empty()) {
            Piece& p = pending_.front();
            const size_t take = std::min(n - done, p.text.size());
            if (enabled_) {
                if (color_) std::fputs(p.model == ModelId::kSmall ? kColorSmall : kColorLarge, stdout);
                std::fwrite(p.text.data(), 1, take, stdout);
                if (color_) std::fputs(kColorReset, stdout);
            }
            done += take;
            if (take == p.text.size())
                pending_.erase(pending_.begin());
            else
                p.text.erase(0, take);
        }
        pending_text_.erase(0, n);
        if (enabled_) std::fflush(stdout);
    }

    std::vector<std::string> stops_;
    bool color_;
    bool enabled_;
    std::vector<Piece> pending_;
    std::string pending_text_;
};

int run(GenerateOptions& o) {
    // Knobs: defaults, then environment, then command line.
    DecodeParams params;
    decode::apply_env(params);
    const auto& decls = decode::param_decls();
    for (size_t i = 0; i < decls.size(); ++i)
        if (o.knob_options[i]->count() > 0) decode::set_param(params, decls[i], o.knob_values[i]);
    decode::validate(params);
    const decode::Strategy strategy = params.strategy_id();
    if (strategy != decode::Strategy::kSmall && o.large_model.empty())
        throw std::invalid_argument("strategy '" + params.strategy + "' needs a large model (-M LARGE)");
    if (o.prompt.empty()) throw std::invalid_argument("no prompt: give -p PROMPT");

    model::ContextOptions co;
    co.n_ctx = o.ctx;
    co.n_threads = params.threads > 0 ? params.threads
                                      : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    decode::ModelPair pair = decode::load_pair(o.small_model, o.large_model, co);
    const tokenizer::Tokenizer& tok = *pair.small.tokenizer;

    // Prompt.
    std::vector<int32_t> prompt;
    std::vector<std::string> stops = o.stop;
    if (o.chat) {
        const tokenizer::ChatTemplate tmpl = o.chat_template.empty()
                                                 ? tokenizer::ChatTemplate::detect(pair.small.model->file())
                                                 : tokenizer::ChatTemplate::by_name(o.chat_template);
        std::vector<tokenizer::ChatMessage> messages;
        if (!o.system.empty()) messages.push_back({"system", o.system});
        messages.push_back({"user", o.prompt});
        prompt = tok.encode(tmpl.render(messages, true), !tmpl.renders_bos(), /*parse_special=*/true);
        for (const auto& s : tmpl.stop_strings()) stops.push_back(s);
    } else {
        prompt = tok.encode(o.prompt, /*add_special=*/true, /*parse_special=*/false);
    }
    if (prompt.empty()) throw std::invalid_argument("the prompt encodes to no tokens");
    int32_t n_ctx = pair.small_sequence()->n_ctx();
    if (pair.large) n_ctx = std::min(n_ctx, pair.large_sequence()->n_ctx());
    if (const std::string e = decode::prompt_overflow(static_cast<int64_t>(prompt.size()), n_ctx); !e.empty())
        throw std::invalid_argument(e + "; -c sets the context length");

    const bool color = !o.json && (o.color == "always" || (o.color == "auto" && ::isatty(::fileno(stdout)) &&
                                                           !std::getenv("NO_COLOR")));
    if (!o.json) {
        std::fprintf(stderr, "small: %s\n", pair.small.model->summary().c_str());
        if (pair.large) std::fprintf(stderr, "large: %s\n", pair.large->model->summary().c_str());
        if (color)
            std::fprintf(stderr, "legend: %ssmall model%s %slarge model%s\n", kColorSmall, kColorReset,
                         kColorLarge, kColorReset);
    }

    // Generate, streaming.
    tokenizer::StreamDecoder stream(tok);
    StopStringFilter out(stops, color, !o.json);
    std::vector<std::string> texts;  // per token, for --json
    decode::RunOptions ro;
    ro.eog_ids = tok.eog_ids();
    ro.n_vocab_common = pair.info.n_vocab_common;
    ro.on_token = [&](const decode::TokenEvent& ev) {
        texts.push_back(tok.token_to_piece(ev.token.id, /*print_special=*/true));
        if (tok.is_eog(ev.token.id)) return true;  // ends generation anyway; not printed
        return out.push(stream.push(ev.token.id), ev.token.model);
    };
    const decode::DecodeResult r =
        decode::generate(params, pair.small_sequence(), pair.large_sequence(), prompt, ro);
    if (r.stats.stop_reason != decode::StopReason::kCallback) {
        out.push(stream.flush(), ModelId::kSmall);
        out.finish();
    }

    if (o.json) {
        ordered_json j;
        ordered_json tokens = ordered_json::array();
        for (size_t i = 0; i < r.trace.size(); ++i) {
            const auto& t = r.trace[i];
            ordered_json tj = decode::to_json(t);
            tj["text"] = i < texts.size() ? texts[i] : std::string();
            tokens.push_back(ordered_json{{"id", t.id},
                                          {"text", tj["text"]},
                                          {"model", tj["model"]},
                                          {"entropy", tj["entropy"]},
                                          {"rolling_entropy", tj["rolling_entropy"]},
                                          {"drafted", t.drafted}});
        }
        j["text"] = tok.decode(r.tokens);
        j["prompt_tokens"] = prompt.size();
        j["tokens"] = tokens;
        ordered_json sw = ordered_json::array();
        for (const auto& e : r.stats.switches) sw.push_back(decode::to_json(e));
        j["switches"] = sw;
        j["stats"] = decode::to_json(r.stats);
        j["params"] = decode::to_json(params);
        j["models"] = {
            {"small", o.small_model},
            {"large", o.large_model.empty() ? ordered_json(nullptr) : ordered_json(o.large_model)}};
        // Lone bytes of a split UTF-8 sequence are replaced rather than rejected.
        std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        std::printf("\n");
        std::fflush(stdout);
        print_stats(stderr, r.stats, params);
    }
    return 0;
}

const bool kRegistered = register_command(
    {"generate", "Generate text with one model or an EAD / speculative pair", [](CLI::App& app) -> Runner {
         auto o = std::make_shared<GenerateOptions>();
         app.add_option("-m,--model", o->small_model,
                        "GGUF file of the small model (the only one for --strategy small)")
             ->required();
         app.add_option("-M,--large", o->large_model, "GGUF file of the large model");
         app.add_option("-p,--prompt", o->prompt, "prompt text");
         app.add_flag("--chat", o->chat,
                      "treat the prompt as a user message and apply the model's chat template");
         app.add_option("--system", o->system, "system message (with --chat)");
         app.add_option("--chat-template", o->chat_template,
                        "chat template: chatml, llama3 or gemma3 (default: detect)");
         app.add_option("--stop", o->stop, "stop when the output contains this text (repeatable)");
         app.add_option("-c,--ctx", o->ctx, "context length of each model in tokens")
             ->capture_default_str()
             ->check(CLI::Range(8, 1 << 20));
         app.add_option("--color", o->color, "colour each token by its model: auto, always or never")
             ->capture_default_str()
             ->check(CLI::IsMember({"auto", "always", "never"}));
         app.add_flag("--json", o->json,
                      "write one JSON object (tokens, switches, stats, params) instead of the text");
         const DecodeParams defaults;
         const auto& decls = decode::param_decls();
         o->knob_values.resize(decls.size());
         for (size_t i = 0; i < decls.size(); ++i) {
             const auto& d = decls[i];
             const std::string help = std::string(d.help) + " [default: " + decode::param_text(defaults, d) +
                                      "; env " + std::string(d.env) + "]";
             o->knob_options.push_back(app.add_option(d.cli_names(), o->knob_values[i], help));
         }
         return [o] { return run(*o); };
     }});

}  // namespace
}  // namespace ead::cli
