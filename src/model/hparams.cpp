#include "model/hparams.h"

#include <cmath>

namespace ead::model {

namespace {

constexpr uint32_t kMaxLayers = 4096;
constexpr int64_t kMaxWidth = 1 << 24;  // bound on any product of dimensions (q_dim, kv_dim)

int positive(const gguf::File& f, const std::string& key, uint32_t v, uint32_t max = 1u << 24) {
    if (v == 0 || v > max) {
        throw gguf::Error(f.path() + ": key '" + key + "' = " + std::to_string(v) + " is out of range [1, " +
                          std::to_string(max) + "]");
    }
    return static_cast<int>(v);
}

}  // namespace

HParams read_common_hparams(const gguf::File& f, const std::string& arch) {
    HParams hp;
    hp.arch = arch;
    auto key = [&](const char* k) { return arch + "." + k; };
    auto req = [&](const char* k) { return positive(f, key(k), f.get_u32(key(k))); };
    auto opt = [&](const char* k, uint32_t def) { return positive(f, key(k), f.get_u32(key(k), def)); };

    hp.n_layer = positive(f, key("block_count"), f.get_u32(key("block_count")), kMaxLayers);
    hp.n_embd = req("embedding_length");
    hp.n_ff = req("feed_forward_length");
    hp.n_head = req("attention.head_count");
    hp.n_head_kv = opt("attention.head_count_kv", static_cast<uint32_t>(hp.n_head));
    hp.n_ctx_train = opt("context_length", 2048);
    if (hp.n_head % hp.n_head_kv != 0) {
        throw gguf::Error(f.path() + ": " + key("attention.head_count") + " = " + std::to_string(hp.n_head) +
                          " is not a multiple of " + key("attention.head_count_kv") + " = " +
                          std::to_string(hp.n_head_kv));
    }
    if (!f.has(key("attention.key_length")) && hp.n_embd % hp.n_head != 0) {
        throw gguf::Error(f.path() + ": " + key("embedding_length") + " is not a multiple of " +
                          key("attention.head_count") + " and " + key("attention.key_length") + " is absent");
    }
    hp.head_dim = opt("attention.key_length", static_cast<uint32_t>(hp.n_embd / hp.n_head));
    const int v_len = opt("attention.value_length", static_cast<uint32_t>(hp.head_dim));
    if (v_len != hp.head_dim) {
        throw gguf::Error(f.path() + ": " + key("attention.value_length") + " = " + std::to_string(v_len) +
                          " differs from " + key("attention.key_length") + " = " + std::to_string(hp.head_dim) +
                          " (unsupported)");
    }
    if (int64_t{hp.n_head} * hp.head_dim > kMaxWidth) {
        throw gguf::Error(f.path() + ": " + key("attention.head_count") + " x " + key("attention.key_length") +
                          " = " + std::to_string(int64_t{hp.n_head} * hp.head_dim) + " is too large");
    }
    hp.n_rot = opt("rope.dimension_count", static_cast<uint32_t>(hp.head_dim));
    if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
        throw gguf::Error(f.path() + ": " + key("rope.dimension_count") + " = " + std::to_string(hp.n_rot) +
                          " must be even and at most the head dimension " + std::to_string(hp.head_dim));
    }
    hp.rms_eps = f.get_f32(key("attention.layer_norm_rms_epsilon"), 1e-5f);
    if (!(hp.rms_eps > 0.0f && hp.rms_eps < 1.0f)) {
        throw gguf::Error(f.path() + ": " + key("attention.layer_norm_rms_epsilon") + " is out of range (0, 1)");
    }
    hp.rope_base = f.get_f32(key("rope.freq_base"), 10000.0f);
    if (!(hp.rope_base > 1.0f) || !std::isfinite(hp.rope_base)) {
        throw gguf::Error(f.path() + ": " + key("rope.freq_base") + " must be a finite number > 1");
    }
    hp.rope_base_swa = hp.rope_base;
    hp.rope_scaling = f.get_string(key("rope.scaling.type"), "none");
    if (hp.rope_scaling == "linear") {
        const float factor = f.get_f32(key("rope.scaling.factor"), 1.0f);
        if (!(factor >= 1.0f) || !std::isfinite(factor)) {
            throw gguf::Error(f.path() + ": " + key("rope.scaling.factor") + " must be a finite number >= 1");
        }
        hp.rope_freq_scale = 1.0f / factor;
    }
    // Other scaling types (yarn, longrope) only matter beyond the training context; they are recorded in
    // rope_scaling and otherwise ignored.
    hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
    hp.swa_layers.assign(static_cast<size_t>(hp.n_layer), false);
    return hp;
}

}  // namespace ead::model
