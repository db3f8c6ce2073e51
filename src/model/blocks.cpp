#include "model/blocks.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <utility>

#include "model/model.h"
#include "tensor/matmul.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"

namespace ead::model {

namespace {

// Attention scores held at once: lanes * chunk * group * n_ctx floats stay under this (attend).
constexpr int64_t kScoresBudget = 1 << 22;
// A decoded token's keys and values of one KV head are prefetched whole up to this size (attend_head).
constexpr int64_t kPrefetchBytes = 64 << 10;

size_t sz(int64_t n) { return static_cast<size_t>(n); }

}  // namespace

void ForwardBuffers::allocate(const HParams& hp, int n_batch) {
    x.assign(sz(int64_t{n_batch} * hp.n_embd), 0.0f);
    h.assign(x.size(), 0.0f);
    o.assign(x.size(), 0.0f);
    q.assign(sz(int64_t{n_batch} * hp.q_dim()), 0.0f);
    attn.assign(q.size(), 0.0f);
    k.assign(sz(int64_t{n_batch} * hp.kv_dim()), 0.0f);
    v.assign(k.size(), 0.0f);
    gate.assign(sz(int64_t{n_batch} * hp.n_ff), 0.0f);
    up.assign(gate.size(), 0.0f);
    lanes.clear();
    for (RopeTable& r : rope) r = RopeTable{};
}

namespace blocks {

namespace {

// fn(t) for each token of the pass: a batch split by token across the threads, one token on the calling
// thread.
template <class Fn>
void per_token(const ForwardPass& p, const Fn& fn) {
    tensor::parallel_for(p.n_tokens, p.n_threads, p.n_tokens > 1 && p.n_threads > 1,
                         [&](int64_t t) { fn(static_cast<int>(t)); });
}

}  // namespace

void norm(const ForwardPass& p, const float* x, const Weight& w, float* out) {
    const int64_t n = p.hp.n_embd;
    per_token(p, [&](int t) { tensor::rms_norm(x + t * n, w.f32, out + t * n, n, p.hp.rms_eps); });
}

void residual_add(const ForwardPass& p, const float* delta) {
    const int64_t n = p.hp.n_embd;
    float* x = p.buf.x.data();
    per_token(p, [&](int t) { tensor::add(x + t * n, delta + t * n, x + t * n, n); });
}

void linear(const ForwardPass& p, const Weight& w, const float* x, float* y) {
    tensor::matmul(w.type, w.layout, w.data, w.rows, w.cols, x, p.n_tokens, y, p.n_threads);
}

namespace {

// Several projections of the same input in one parallel region (tensor::matmul_many).
void linear_many(const ForwardPass& p, std::initializer_list<std::pair<const Weight*, float*>> outs, const float* x) {
    tensor::MatmulJob jobs[4];
    int n = 0;
    int64_t cols = 0;
    for (const auto& [w, y] : outs) {
        jobs[n++] = tensor::MatmulJob{w->type, w->layout, w->data, w->rows, y};
        cols = w->cols;
    }
    tensor::matmul_many(jobs, n, cols, x, p.n_tokens, p.n_threads);
}

}  // namespace

namespace {

void add_bias(const ForwardPass& p, const Weight& b, float* y) {
    if (!b.present()) return;
    per_token(p, [&](int t) { tensor::add(y + t * b.cols, b.f32, y + t * b.cols, b.cols); });
}

// RMSNorm of each head's head_dim values, in place: y is [n_tokens][n_heads][head_dim].
void head_norm(const ForwardPass& p, const Weight& w, float* y, int n_heads) {
    if (!w.present()) return;
    const int64_t hd = p.hp.head_dim;
    per_token(p, [&](int t) {
        for (int64_t r = int64_t{t} * n_heads; r < int64_t{t + 1} * n_heads; ++r)
            tensor::rms_norm(y + r * hd, w.f32, y + r * hd, hd, p.hp.rms_eps);
    });
}

// Stores KV head g's keys and values of the pass's tokens (p.buf.k, p.buf.v) in the cache of layer il, then
// the softmax attention of its query heads in p.buf.q → p.buf.attn, chunk query rows at a time in `lane`'s
// scratch, matrix products on `threads` threads. Heads are independent, so lanes may run several at once.
void attend_head(ForwardPass& p, int il, int g, int chunk, ForwardBuffers::AttentionLane& lane, int threads) {
    const HParams& hp = p.hp;
    ForwardBuffers& b = p.buf;
    const int group = hp.n_head / hp.n_head_kv;
    const int hd = hp.head_dim;
    const int window = hp.is_swa(il) ? hp.sliding_window : 0;
    if (p.n_tokens == 1) {
        // Decoding finds this head's cache cold (every weight streamed through since the last token): ask for
        // all the lines it will touch at once, the new position's included, so that the misses overlap
        // instead of coming one after the other (storing and attention took a fifth less time, Qwen2.5-0.5B
        // shape, 64 positions, when values were stored transposed; with values as rows, prefetching only the
        // new position measured the same: SmolLM2-135M 450-560 us of attention per token either way). Past
        // kPrefetchBytes only the new position's lines: long rows stream well without help.
        const int lo = window ? std::max(0, p.n_past - window + 1) : 0;
        const bool all = int64_t{p.n_past + 1 - lo} * hd * 2 * p.kv.element_bytes() <= kPrefetchBytes;
        p.kv.prefetch(il, g, all ? lo : p.n_past, p.n_past + 1);
    }
    p.kv.store_head(il, g, p.n_past, p.n_tokens, b.k.data(), b.v.data());
    for (int t0 = 0; t0 < p.n_tokens; t0 += chunk) {
        const int t1 = std::min(p.n_tokens, t0 + chunk);
        const int n_rows = (t1 - t0) * group;  // rows (t, head in group)
        const int j_lo = window ? std::max(0, p.n_past + t0 - window + 1) : 0;
        const int j_hi = p.n_past + t1;  // keys [j_lo, j_hi)
        const int nj = j_hi - j_lo;
        // qg[(t - t0) * group + hg][hd]: the group's heads are adjacent in each token's q row.
        for (int t = t0; t < t1; ++t) {
            std::memcpy(lane.qg.data() + sz(int64_t{t - t0} * group * hd),
                        b.q.data() + sz(int64_t{t} * hp.q_dim() + int64_t{g} * group * hd),
                        sz(int64_t{group} * hd) * sizeof(float));
        }
        // scores[row][nj] = q · k_j
        tensor::matmul(p.kv.type(), p.kv.keys(il, g, j_lo), nj, hd, lane.qg.data(), n_rows,
                       lane.scores.data(), threads);
        // Mask, scale and softmax each row (rows are independent: threads only pay off for long prefills).
        auto softmax_row = [&](int r) {
            const int pos = p.n_past + t0 + r / group;
            const int lo = (window ? std::max(0, pos - window + 1) : 0) - j_lo;  // valid columns [lo, hi)
            const int hi = pos + 1 - j_lo;
            float* s = lane.scores.data() + sz(int64_t{r} * nj);
            std::fill(s, s + lo, 0.0f);
            std::fill(s + hi, s + nj, 0.0f);
            tensor::scale(s + lo, hp.attn_scale, hi - lo);
            tensor::softmax(s + lo, hi - lo);
        };
        tensor::parallel_for(n_rows, threads, threads > 1 && int64_t{n_rows} * nj >= (1 << 16),
                             [&](int64_t r) { softmax_row(static_cast<int>(r)); });
        // og[row][hd] = sum_j p_j v_j
        tensor::weighted_row_sums(p.kv.type(), p.kv.values(il, g, j_lo), nj, hd,
                                  static_cast<size_t>(hd) * p.kv.element_bytes(), lane.scores.data(), n_rows,
                                  lane.og.data(), threads);
        for (int t = t0; t < t1; ++t) {
            std::memcpy(b.attn.data() + sz(int64_t{t} * hp.q_dim() + int64_t{g} * group * hd),
                        lane.og.data() + sz(int64_t{t - t0} * group * hd),
                        sz(int64_t{group} * hd) * sizeof(float));
        }
    }
}

// Attention of every KV head. KV heads run side by side, one per thread, when there are several and either
// one token (decoding: each head's products are too small to split) or as many per thread; otherwise one
// after the other, each head's products split among the threads.
void attend(ForwardPass& p, int il) {
    const HParams& hp = p.hp;
    ForwardBuffers& b = p.buf;
    const int group = hp.n_head / hp.n_head_kv;
    const int n_ctx = p.kv.n_ctx();
    const bool by_head =
        p.n_threads > 1 && hp.n_head_kv > 1 && (p.n_tokens == 1 || hp.n_head_kv % p.n_threads == 0);
    const int n_lanes = by_head ? std::min(p.n_threads, hp.n_head_kv) : 1;
    // Query rows per chunk: the lanes' scores together stay under kScoresBudget floats.
    const int chunk = static_cast<int>(
        std::clamp<int64_t>(kScoresBudget / (int64_t{n_lanes} * group * n_ctx), 1, p.n_tokens));
    if (b.lanes.size() < sz(n_lanes)) b.lanes.resize(sz(n_lanes));
    auto grow = [](std::vector<float>& v, int64_t n) {
        if (v.size() < sz(n)) v.resize(sz(n));
    };
    for (int l = 0; l < n_lanes; ++l) {
        auto& lane = b.lanes[sz(l)];
        grow(lane.qg, int64_t{chunk} * group * hp.head_dim);
        grow(lane.og, int64_t{chunk} * group * hp.head_dim);
        grow(lane.scores, int64_t{chunk} * group * n_ctx);
    }
    if (n_lanes == 1) {
        for (int g = 0; g < hp.n_head_kv; ++g) attend_head(p, il, g, chunk, b.lanes[0], p.n_threads);
        return;
    }
#pragma omp parallel for num_threads(n_lanes) schedule(static)
    for (int g = 0; g < hp.n_head_kv; ++g) attend_head(p, il, g, chunk, b.lanes[sz(omp_get_thread_num())], 1);
}

}  // namespace

void attention(ForwardPass& p, const LayerWeights& w, int il, const float* in, float* out) {
    const HParams& hp = p.hp;
    ForwardBuffers& b = p.buf;
    // q [n][q_dim], k and v [n][kv_dim]
    linear_many(p, {{&w.wq, b.q.data()}, {&w.wk, b.k.data()}, {&w.wv, b.v.data()}}, in);
    add_bias(p, w.bq, b.q.data());
    add_bias(p, w.bk, b.k.data());
    add_bias(p, w.bv, b.v.data());
    head_norm(p, w.q_norm, b.q.data(), hp.n_head);
    head_norm(p, w.k_norm, b.k.data(), hp.n_head_kv);

    const bool swa = hp.is_swa(il);
    const float base = swa ? hp.rope_base_swa : hp.rope_base;
    const float freq_scale = swa ? 1.0f : hp.rope_freq_scale;
    const float* factors = p.model.globals().rope_freqs.f32;
    ForwardBuffers::RopeTable& rt = b.rope[swa ? 1 : 0];
    if (rt.n_past != p.n_past || rt.n_tokens != p.n_tokens || rt.base != base ||
        rt.freq_scale != freq_scale || rt.factors != factors) {
        rt = {p.n_past, p.n_tokens, base, freq_scale, factors, std::move(rt.cs)};
        rt.cs.resize(sz(int64_t{p.n_tokens} * hp.n_rot));
        per_token(p, [&](int t) {
            tensor::rope_angles(hp.n_rot, p.n_past + t, base, freq_scale, factors,
                                rt.cs.data() + sz(int64_t{t} * hp.n_rot));
        });
    }
    per_token(p, [&](int t) {
        const float* cs = rt.cs.data() + sz(int64_t{t} * hp.n_rot);
        tensor::rope_rotate(b.q.data() + sz(int64_t{t} * hp.q_dim()), hp.n_head, hp.head_dim, hp.n_rot, cs,
                            hp.rope_style);
        tensor::rope_rotate(b.k.data() + sz(int64_t{t} * hp.kv_dim()), hp.n_head_kv, hp.head_dim, hp.n_rot,
                            cs, hp.rope_style);
    });
    attend(p, il);                        // stores each head's keys and values in the cache, then attends
    linear(p, w.wo, b.attn.data(), out);  // [n][n_embd]
}

void gated_ffn(ForwardPass& p, const LayerWeights& w, const float* in, float* out) {
    ForwardBuffers& b = p.buf;
    const int64_t n = p.hp.n_ff;
    linear_many(p, {{&w.ffn_gate, b.gate.data()}, {&w.ffn_up, b.up.data()}}, in);  // [n][n_ff] each
    const bool gelu = p.hp.activation == FfnActivation::kGeluTanh;
    per_token(p, [&](int t) {
        float* g = b.gate.data() + t * n;
        if (gelu) {
            tensor::gelu_tanh(g, g, n);
        } else {
            tensor::silu(g, g, n);
        }
        tensor::mul(g, b.up.data() + t * n, g, n);
    });
    linear(p, w.ffn_down, b.gate.data(), out);  // [n][n_embd]
}

void pre_norm_layer(ForwardPass& p, int il) {
    const LayerWeights& w = p.model.layer(il);
    ForwardBuffers& b = p.buf;
    norm(p, b.x.data(), w.attn_norm, b.h.data());
    attention(p, w, il, b.h.data(), b.o.data());
    residual_add(p, b.o.data());
    norm(p, b.x.data(), w.ffn_norm, b.h.data());
    gated_ffn(p, w, b.h.data(), b.o.data());
    residual_add(p, b.o.data());
}

}  // namespace blocks
}  // namespace ead::model
