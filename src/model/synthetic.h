// Random-weight GGUF models of any supported architecture and shape, for tests, benchmarks and `ead make-model`.
// The file loads through Model::load and its vocabulary through the tokenizer (a SentencePiece-style "llama"
// vocabulary: <unk>, <s>, </s>, the 256 byte tokens <0xNN>, then pieces).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/types.h"

namespace ead::model {

struct SyntheticSpec {
    std::string arch = "llama";  // llama, qwen2, qwen3, gemma3
    std::string name = "synthetic";
    int n_layer = 2;
    int n_embd = 64;
    int n_head = 4;
    int n_head_kv = 2;
    int head_dim = 0;  // 0: n_embd / n_head
    int n_ff = 128;
    int n_vocab = 512;  // at least 259 (special and byte tokens)
    int n_ctx_train = 4096;
    // Type of every matrix. When a matrix's row length is not a multiple of the type's block size, the
    // matrix falls back as llama.cpp's quantizer does (Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, Q2_K/Q3_K → Q4_0,
    // and F32 when even that does not fit).
    gguf::TensorType weight_type = gguf::TensorType::kF32;
    // Q4_K_M-style mix when weight_type is Q4_K: Q6_K for the output matrix and for attn_v / ffn_down of the
    // first and last eighth of the layers and every third layer between (llama.cpp's rule).
    bool k_mix = false;
    bool tied = false;  // no output.weight: token_embd.weight is the output matrix
    float rope_base = 10000.0f;
    float rms_eps = 1e-6f;
    int sliding_window = 512;  // gemma3 only
    uint64_t seed = 1;
};

// Named shapes: "qwen2.5-0.5b" (qwen2: 24 layers, 896 wide, 14 heads, 2 KV heads, FFN 4864, vocab 151936, tied)
// and "llama-3.2-1b" (llama: 16, 2048, 32, 8, 8192, 128256, tied). Throws std::invalid_argument naming the
// preset (and the known ones) when unknown.
SyntheticSpec synthetic_preset(const std::string& name);
std::vector<std::string> synthetic_preset_names();

// Writes the model to `path` (through gguf::Writer). Deterministic in the spec (seed included), independent of
// the thread count. Throws std::invalid_argument naming the field for an impossible spec, std::runtime_error on
// I/O failure.
void write_synthetic_model(const SyntheticSpec& spec, const std::string& path);

}  // namespace ead::model
