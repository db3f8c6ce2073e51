// `ead logits -m MODEL (--tokens 1,2,3 | -p TEXT) [-o FILE]`: evaluates the tokens in one batch and writes the
// logits of every position as raw little-endian float32 [n_tokens][n_vocab]; prints the top-5 ids of the last
// position and a fingerprint of all logits.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "gguf/reader.h"
#include "model/context.h"
#include "model/fingerprint.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace ead::cli {
namespace {

struct LogitsOptions {
    std::string model;
    std::string tokens;
    std::string prompt;
    std::string out;
    bool parse_special = false;
    bool no_bos = false;
    int threads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
    std::string kv_type = "f32";
};

std::vector<int32_t> parse_token_list(const std::string& s) {
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i <= s.size()) {
        const size_t j = std::min(s.find(',', i), s.size());
        const std::string item = s.substr(i, j - i);
        size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (item.empty() || used != item.size() || v < 0 || v > INT32_MAX) {
            throw std::invalid_argument("--tokens: '" + item + "' is not a token id (expected e.g. 1,2,3)");
        }
        ids.push_back(static_cast<int32_t>(v));
        i = j + 1;
    }
    return ids;
}

tensor::TensorType parse_kv_type(const std::string& s) {
    if (s == "f16" || s == "F16") return tensor::TensorType::kF16;
    if (s == "f32" || s == "F32") return tensor::TensorType::kF32;
    throw std::invalid_argument("--kv-type: '" + s + "' is not f16 or f32");
}

int run(const LogitsOptions& o) {
    auto model = model::Model::load(o.model);
    std::fprintf(stderr, "%s\n", model->summary().c_str());
    std::unique_ptr<tokenizer::Tokenizer> tok;
    try {
        tok = std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::from_gguf(model->file()));
    } catch (const std::exception&) {
        if (!o.prompt.empty()) throw;  // without -p the vocabulary only labels the top-5
    }
    std::vector<int32_t> ids;
    if (!o.prompt.empty()) {
        ids = tok->encode(o.prompt, !o.no_bos, o.parse_special);
    } else {
        ids = parse_token_list(o.tokens);
    }
    if (ids.empty()) throw std::invalid_argument("no tokens to evaluate");
    model::ContextOptions co;
    co.n_ctx = static_cast<int>(ids.size());
    co.n_batch = co.n_ctx;
    co.kv_type = parse_kv_type(o.kv_type);
    co.n_threads = o.threads;
    model::Context ctx(model, co);
    std::fprintf(stderr, "KV cache: %zu bytes/token, %zu bytes for %d positions\n", ctx.kv_bytes_per_token(),
                 ctx.kv_bytes(), ctx.n_ctx());

    const auto t0 = std::chrono::steady_clock::now();
    const float* logits = ctx.eval(ids, /*all_logits=*/true);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int n_vocab = ctx.n_vocab();
    const size_t total = ids.size() * static_cast<size_t>(n_vocab);

    if (!o.out.empty()) {
        std::ofstream f(o.out, std::ios::binary);
        if (!f) throw std::runtime_error(o.out + ": cannot open for writing");
        f.write(reinterpret_cast<const char*>(logits), static_cast<std::streamsize>(total * sizeof(float)));
        if (!f.flush()) throw std::runtime_error(o.out + ": write failed");
    }

    std::printf("tokens: %zu (", ids.size());
    for (size_t i = 0; i < ids.size() && i < 32; ++i) std::printf("%s%d", i ? "," : "", ids[i]);
    std::printf("%s)\n", ids.size() > 32 ? ",..." : "");
    const float* last = logits + (ids.size() - 1) * n_vocab;
    std::vector<int> order(static_cast<size_t>(n_vocab));
    std::iota(order.begin(), order.end(), 0);
    const int k = std::min(5, n_vocab);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int a, int b) { return last[a] > last[b] || (last[a] == last[b] && a < b); });
    std::printf("top-5 of the last position:\n");
    for (int i = 0; i < k; ++i) {
        std::string piece;
        if (tok) {
            piece = tok->token_to_piece(order[i]);
            for (char& c : piece) {
                if (static_cast<unsigned char>(c) < 0x20) c = ' ';
            }
        }
        std::printf("  %8d  %10.4f  '%s'\n", order[i], last[order[i]], piece.c_str());
    }
    std::printf("fingerprint: %s (all %zu x %d logits)\n", model::logits_fingerprint(logits, total).c_str(),
                ids.size(), n_vocab);
    std::printf("time: %.3f s, %.1f tokens/s\n", secs, ids.size() / secs);
    if (!o.out.empty()) std::printf("wrote %s: float32 [%zu][%d]\n", o.out.c_str(), ids.size(), n_vocab);
    return 0;
}

const bool kRegistered = register_command({"logits", "Evaluate tokens in one batch and write the logits of every position",
                                           [](CLI::App& app) -> Runner {
    auto o = std::make_shared<LogitsOptions>();
    app.add_option("-m,--model", o->model, "GGUF model")->required();
    auto* tokens = app.add_option("--tokens", o->tokens, "token ids, comma-separated (e.g. 1,2,3)");
    auto* prompt = app.add_option("-p,--prompt", o->prompt, "text, tokenized with the model's vocabulary");
    tokens->excludes(prompt);
    prompt->excludes(tokens);
    app.add_option("-o,--output", o->out, "write the logits here: raw little-endian float32 [n_tokens][n_vocab]");
    app.add_flag("--parse-special", o->parse_special, "-p: recognize control tokens written in the text");
    app.add_flag("--no-bos", o->no_bos, "-p: do not add BOS (added when the vocabulary asks for it)");
    app.add_option("-t,--threads", o->threads, "threads")->capture_default_str()->check(CLI::Range(1, 1024));
    app.add_option("--kv-type", o->kv_type, "KV cache type: f32 or f16")->capture_default_str();
    return [o, tokens, prompt] {
        if (tokens->count() == 0 && prompt->count() == 0) {
            throw std::invalid_argument("give the input as --tokens 1,2,3 or -p TEXT");
        }
        return run(*o);
    };
}});

}  // namespace
}  // namespace ead::cli
