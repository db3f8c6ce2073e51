// The shared blocks architectures are built from: RMSNorm, attention (projections, optional biases and per-head
// Q/K norms, rope, KV cache, causal / sliding-window softmax attention), gated feed-forward, residual add.
// Every block works on a batch of n_tokens rows at once (prefill is matrix × matrix; decode is n_tokens == 1).
#pragma once

#include <cstdint>
#include <vector>

#include "model/hparams.h"
#include "model/kv_cache.h"
#include "model/weights.h"

namespace ead::model {

class Model;

// Scratch memory of a Context, sized once for n_batch rows and n_ctx positions (no allocation per token).
struct ForwardBuffers {
    std::vector<float> x;     // [n_batch][n_embd]  residual stream
    std::vector<float> h;     // [n_batch][n_embd]  normed block input
    std::vector<float> o;     // [n_batch][n_embd]  block output
    std::vector<float> q;     // [n_batch][n_head * head_dim]
    std::vector<float> k;     // [n_batch][n_head_kv * head_dim]
    std::vector<float> v;     // [n_batch][n_head_kv * head_dim]
    std::vector<float> attn;  // [n_batch][n_head * head_dim]  attention output before wo
    std::vector<float> gate;  // [n_batch][n_ff]
    std::vector<float> up;    // [n_batch][n_ff]
    // Attention scratch, one lane per KV head computed at once (blocks.cpp: attend). Sized on first use for
    // the chunk of query rows that pass needs, then reused.
    struct AttentionLane {
        std::vector<float> qg;      // [chunk * group][head_dim]  queries of one KV head's group
        std::vector<float> scores;  // [chunk * group][n_ctx]     scores, then probabilities
        std::vector<float> og;      // [chunk * group][head_dim]  attention output of the group
    };
    std::vector<AttentionLane> lanes;
    // Rope angles (tensor::rope_angles) of a pass's positions, computed by its first layer and reused by the
    // others; one table per rope base (gemma3's sliding-window layers have their own).
    struct RopeTable {
        int n_past = -1, n_tokens = 0;
        float base = 0, freq_scale = 0;
        const float* factors = nullptr;
        std::vector<float> cs;  // [n_tokens][n_rot]: cos, sin of each pair
    };
    RopeTable rope[2];

    void allocate(const HParams& hp, int n_batch);
};

// The state of one forward pass over n_tokens tokens at positions [n_past, n_past + n_tokens).
struct ForwardPass {
    const Model& model;
    const HParams& hp;
    KvCache& kv;
    ForwardBuffers& buf;
    int n_tokens;
    int n_past;
    int n_threads;
};

namespace blocks {

// out[t] = rms_norm(x[t]) * w for each of the pass's n_tokens rows of n_embd.
void norm(const ForwardPass& p, const float* x, const Weight& w, float* out);
// p.buf.x += delta   ([n_tokens][n_embd])
void residual_add(const ForwardPass& p, const float* delta);
// y[n_tokens][w.rows] = x[n_tokens][w.cols] · W^T
void linear(const ForwardPass& p, const Weight& w, const float* x, float* y);

// Self-attention of layer il on in[n_tokens][n_embd] → out[n_tokens][n_embd]: q, k, v projections (+ biases
// when present), per-head RMSNorm of q and k (when q_norm/k_norm present), rope at each row's position, keys and
// values appended to the KV cache, causal attention (within the sliding window on SWA layers), wo projection.
void attention(ForwardPass& p, const LayerWeights& w, int il, const float* in, float* out);

// ffn_down(act(ffn_gate · in) * (ffn_up · in)) for in[n_tokens][n_embd] → out[n_tokens][n_embd].
void gated_ffn(ForwardPass& p, const LayerWeights& w, const float* in, float* out);

// The pre-norm block of llama, qwen2 and qwen3:
//   x += attention(attn_norm(x));  x += ffn(ffn_norm(x))
void pre_norm_layer(ForwardPass& p, int il);

}  // namespace blocks
}  // namespace ead::model
