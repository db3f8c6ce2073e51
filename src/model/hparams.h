// Hyperparameters of a transformer, read from a GGUF file's metadata (`<arch>.*` keys).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "tensor/ops.h"

namespace ead::model {

enum class FfnActivation {
    kSilu,      // ffn_down(silu(ffn_gate x) * ffn_up x)       — llama, qwen2, qwen3
    kGeluTanh,  // ffn_down(gelu_tanh(ffn_gate x) * ffn_up x)  — gemma3
};

struct HParams {
    std::string arch;  // general.architecture
    int n_layer = 0;
    int n_embd = 0;      // width of the residual stream
    int n_head = 0;      // query heads
    int n_head_kv = 0;   // key/value heads (GQA: query head h uses KV head h / (n_head / n_head_kv))
    int head_dim = 0;    // `attention.key_length`, default n_embd / n_head
    int n_rot = 0;       // rotated dimensions per head, `rope.dimension_count`, default head_dim
    int n_ff = 0;        // feed-forward width
    int n_vocab = 0;     // rows of token_embd.weight
    int n_ctx_train = 0; // `context_length`
    float rms_eps = 1e-5f;

    tensor::RopeStyle rope_style = tensor::RopeStyle::kNormal;
    float rope_base = 10000.0f;      // `rope.freq_base` (global layers)
    float rope_freq_scale = 1.0f;    // 1 / `rope.scaling.factor` for linear scaling (global layers)
    float rope_base_swa = 10000.0f;  // sliding-window layers (gemma3: `rope.freq_base_swa`)
    std::string rope_scaling = "none";

    int sliding_window = 0;          // 0: no sliding-window layers; else query i attends to j in (i - W, i]
    std::vector<bool> swa_layers;    // [n_layer]: true where the layer uses the sliding window

    float attn_scale = 0.0f;         // multiplies q·k; 1/sqrt(head_dim)
    float embd_scale = 1.0f;         // multiplies the token embeddings (gemma3: sqrt(n_embd))
    float final_logit_softcap = 0.0f;  // 0: none; else logits = c * tanh(logits / c)
    FfnActivation activation = FfnActivation::kSilu;

    int q_dim() const { return n_head * head_dim; }
    int kv_dim() const { return n_head_kv * head_dim; }
    bool is_swa(int il) const { return sliding_window > 0 && swa_layers[static_cast<size_t>(il)]; }
};

// Reads the keys every architecture shares (`<arch>.block_count`, `.embedding_length`, `.attention.*`,
// `.rope.*`, ...). n_vocab is left 0 (the loader takes it from token_embd.weight). Throws gguf::Error naming
// the key when a required key is missing, has the wrong type, or holds an impossible value.
HParams read_common_hparams(const gguf::File& f, const std::string& arch);

}  // namespace ead::model
