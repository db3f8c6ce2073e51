// `ead perplexity -m MODEL -f TEXT [--ctx 512] [--batch 128] [--all] [--chunks N]`: perplexity over a text file
// in non-overlapping windows of --ctx tokens. As llama.cpp: the text is tokenized once (with BOS when the
// vocabulary asks for it), the first token of each window is replaced by BOS, and only the second half of each
// window is scored unless --all (then every position after the first).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "cli/command.h"
#include "model/context.h"
#include "model/model.h"
#include "model/perplexity.h"
#include "tokenizer/tokenizer.h"

namespace ead::cli {
namespace {

struct PerplexityCliOptions {
    std::string model;
    std::string file;
    int ctx = 512;
    int batch = 128;
    bool all = false;
    int chunks = 0;
    int threads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int run(const PerplexityCliOptions& o) {
    auto model = model::Model::load(o.model);
    std::fprintf(stderr, "%s\n", model->summary().c_str());
    const auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    const std::string text = read_text(o.file);
    const std::vector<int32_t> ids = tok.encode(text, /*add_special=*/true, /*parse_special=*/false);
    model::ContextOptions co;
    co.n_ctx = o.ctx;
    co.n_batch = std::min(o.batch, o.ctx);
    co.n_threads = o.threads;
    model::Context ctx(model, co);
    std::fprintf(stderr, "KV cache: %zu bytes/token, %zu bytes for %d positions\n", ctx.kv_bytes_per_token(),
                 ctx.kv_bytes(), ctx.n_ctx());
    model::PerplexityOptions po;
    po.window = o.ctx;
    po.batch = co.n_batch;
    po.score_all = o.all;
    po.bos = tok.add_bos() ? tok.bos() : -1;
    po.max_windows = o.chunks;
    po.progress = [](int w, int n, double ppl) {
        std::fprintf(stderr, "[%d/%d] %.4f\n", w + 1, n, ppl);
    };
    std::printf("text: %s, %zu bytes, %zu tokens; windows of %d tokens, scoring %s\n", o.file.c_str(), text.size(),
                ids.size(), o.ctx, o.all ? "every position" : "the second half of each window");
    const model::PerplexityResult r = model::perplexity(ctx, ids, po);
    std::printf("perplexity: %.4f +/- %.4f (95%% CI [%.4f, %.4f]) over %lld tokens in %d windows\n", r.ppl,
                r.ppl * r.nll_stderr, r.ppl_lo, r.ppl_hi, static_cast<long long>(r.n_scored), r.n_windows);
    std::printf("speed: %.1f tokens/s (%lld tokens in %.2f s, %d threads)\n", r.n_evaluated / r.seconds,
                static_cast<long long>(r.n_evaluated), r.seconds, o.threads);
    std::printf("fingerprint: %s (logits of the last batch)\n", r.fingerprint.c_str());
    return 0;
}

const bool kRegistered = register_command({"perplexity", "Perplexity of a model over a text file",
                                           [](CLI::App& app) -> Runner {
    auto o = std::make_shared<PerplexityCliOptions>();
    app.add_option("-m,--model", o->model, "GGUF model")->required();
    app.add_option("-f,--file", o->file, "text file")->required();
    app.add_option("-c,--ctx", o->ctx, "window (and context) length in tokens")
        ->capture_default_str()
        ->check(CLI::Range(2, 1 << 20));
    app.add_option("-b,--batch", o->batch, "tokens per forward pass (logits memory: batch x n_vocab floats)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1 << 20));
    app.add_flag("--all", o->all, "score every position of each window, not only its second half");
    app.add_option("--chunks", o->chunks, "evaluate at most this many windows (0: all)")->capture_default_str();
    app.add_option("-t,--threads", o->threads, "threads")->capture_default_str()->check(CLI::Range(1, 1024));
    return [o] { return run(*o); };
}});

}  // namespace
}  // namespace ead::cli
