// `ead make-model -o FILE [--preset NAME] [--arch llama] [--layers N] ... [--type Q4_0]`: writes a random-weight
// GGUF model (model/synthetic.h). Options given explicitly override the preset's.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "gguf/types.h"
#include "model/synthetic.h"

namespace ead::cli {
namespace {

struct MakeModelOptions {
    std::string out;
    std::string preset;
    model::SyntheticSpec spec;
    std::string type = "F32";
};

const bool kRegistered = register_command({"make-model", "Write a random-weight GGUF model of a given architecture and shape",
                                           [](CLI::App& app) -> Runner {
    auto o = std::make_shared<MakeModelOptions>();
    model::SyntheticSpec& s = o->spec;
    app.add_option("-o,--output", o->out, "GGUF file to write")->required();
    app.add_option("--preset", o->preset, "qwen2.5-0.5b or llama-3.2-1b (other options override its fields)");
    auto* arch = app.add_option("--arch", s.arch, "llama, qwen2, qwen3 or gemma3")->capture_default_str();
    auto* layers = app.add_option("--layers", s.n_layer, "layers")->capture_default_str();
    auto* embd = app.add_option("--embd", s.n_embd, "embedding width")->capture_default_str();
    auto* heads = app.add_option("--heads", s.n_head, "query heads")->capture_default_str();
    auto* kv_heads = app.add_option("--kv-heads", s.n_head_kv, "key/value heads")->capture_default_str();
    auto* head_dim = app.add_option("--head-dim", s.head_dim, "head dimension (0: embd / heads)")->capture_default_str();
    auto* ff = app.add_option("--ff", s.n_ff, "feed-forward width")->capture_default_str();
    auto* vocab = app.add_option("--vocab", s.n_vocab, "vocabulary size (>= 259)")->capture_default_str();
    auto* ctx = app.add_option("--ctx", s.n_ctx_train, "context_length key")->capture_default_str();
    auto* type = app.add_option("--type", o->type,
                                "matrix type: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K, or Q4_K_M "
                                "(Q4_K with llama.cpp's Q6_K mix)")
                     ->capture_default_str();
    auto* tied = app.add_flag("--tied,!--untied", s.tied, "no output.weight: token_embd is the output matrix");
    auto* window = app.add_option("--sliding-window", s.sliding_window, "gemma3 sliding window")->capture_default_str();
    app.add_option("--seed", s.seed, "random seed")->capture_default_str();
    return [o, arch, layers, embd, heads, kv_heads, head_dim, ff, vocab, ctx, type, tied, window] {
        model::SyntheticSpec spec = o->spec;
        if (!o->preset.empty()) {
            // Start from the preset and apply only the options given on the command line.
            const model::SyntheticSpec given = o->spec;
            spec = model::synthetic_preset(o->preset);
            spec.seed = given.seed;
            if (arch->count()) spec.arch = given.arch;
            if (layers->count()) spec.n_layer = given.n_layer;
            if (embd->count()) spec.n_embd = given.n_embd;
            if (heads->count()) spec.n_head = given.n_head;
            if (kv_heads->count()) spec.n_head_kv = given.n_head_kv;
            if (head_dim->count()) spec.head_dim = given.head_dim;
            if (ff->count()) spec.n_ff = given.n_ff;
            if (vocab->count()) spec.n_vocab = given.n_vocab;
            if (ctx->count()) spec.n_ctx_train = given.n_ctx_train;
            if (tied->count()) spec.tied = given.tied;
            if (window->count()) spec.sliding_window = given.sliding_window;
        }
        std::string t = o->type;
        if (t == "Q4_K_M" || t == "q4_k_m") {
            spec.k_mix = true;
            t = "Q4_K";
        }
        const auto parsed = gguf::tensor_type_from_name(t);
        if (!parsed) throw std::invalid_argument("--type: unknown tensor type '" + o->type + "'");
        spec.weight_type = *parsed;
        if (type->count() == 0 && !o->preset.empty()) spec.weight_type = gguf::TensorType::kF32;
        spec.name = o->preset.empty() ? "synthetic " + spec.arch : o->preset + " (random weights)";
        model::write_synthetic_model(spec, o->out);
        std::printf("wrote %s: %s, %d layers, n_embd %d, %d heads (%d KV), n_ff %d, vocab %d, %s%s%s\n",
                    o->out.c_str(), spec.arch.c_str(), spec.n_layer, spec.n_embd, spec.n_head, spec.n_head_kv,
                    spec.n_ff, spec.n_vocab, o->type.c_str(), spec.tied ? ", tied" : "",
                    spec.weight_type == gguf::TensorType::kF32 ? "" : " (rows that do not fit fall back)");
        return 0;
    };
}});

}  // namespace
}  // namespace ead::cli
