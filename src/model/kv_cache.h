// The key/value cache of one sequence: every layer's rotated keys and values for positions [0, n_ctx).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/type_traits.h"

namespace ead::model {

class KvCache {
public:
    // kv_type: F16 (default of ContextOptions) or F32; throws std::invalid_argument for other types.
    KvCache(int n_layer, int n_head_kv, int head_dim, int n_ctx, tensor::TensorType kv_type);

    tensor::TensorType type() const { return type_; }
    int n_ctx() const { return n_ctx_; }
    size_t bytes() const { return k_.size() + v_.size(); }
    size_t bytes_per_token() const { return bytes() / static_cast<size_t>(n_ctx_); }

    // Writes KV head h's keys and values of n positions starting at pos0 of layer il: k, v are
    // [n][n_head_kv * head_dim] floats (all heads; head h's are read). Threads may store different heads at
    // once.
    void store_head(int il, int h, int pos0, int n, const float* k, const float* v);

    // Keys and values of KV head h, positions [pos, ...): rows of head_dim elements in type(), one per
    // position, contiguous. Values lie as keys do, not transposed (tensor::weighted_row_sums multiplies
    // them): a head's values are then one stretch the hardware prefetchers stream, where the transposed
    // layout's head_dim rows of a few lines each were missed one after the other. Cold, 100 positions of 64
    // values took 10.3 us to multiply transposed and 5.1 us as rows; decoding SmolLM2-135M, attention took
    // 36% less time (11-14% of a token before, 7-9% after).
    const void* keys(int il, int h, int pos) const;
    const void* values(int il, int h, int pos) const;
    size_t element_bytes() const { return type_ == tensor::TensorType::kF16 ? 2 : 4; }
    // Asks the CPU to fetch head h's keys and values for positions [pos0, pos1) into the caches, all at once:
    // decoding finds them cold (the weights streamed through since the last token).
    void prefetch(int il, int h, int pos0, int pos1) const;

private:
    size_t row_offset(int il, int h, int pos) const;  // of position pos of head h in k_ or v_

    int n_layer_, n_head_kv_, head_dim_, n_ctx_;
    tensor::TensorType type_;
    std::vector<uint8_t> k_;  // [n_layer][n_head_kv][n_ctx][head_dim]
    std::vector<uint8_t> v_;  // [n_layer][n_head_kv][n_ctx][head_dim]
};

}  // namespace ead::model
