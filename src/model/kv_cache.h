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

    // Keys of KV head h, positions [pos, ...): rows of head_dim elements in type(), one per position.
    const void* keys(int il, int h, int pos) const;
    // Values of KV head h, transposed: head_dim rows in type(), row d holding dimension d for positions
    // [pos, ...), values_row_stride() bytes apart (a matrix for tensor::MatmulJob::row_stride).
    const void* values(int il, int h, int pos) const;
    size_t values_row_stride() const { return static_cast<size_t>(n_ctx_) * element_bytes(); }
    size_t element_bytes() const { return type_ == tensor::TensorType::kF16 ? 2 : 4; }
    // Asks the CPU to fetch head h's keys and values for positions [pos0, pos1) into the caches, all at once:
    // decoding finds them cold (the weights streamed through since the last token), and the transposed values
    // are head_dim separate rows, each a handful of lines that would otherwise be missed one after the other.
    void prefetch(int il, int h, int pos0, int pos1) const;

private:
    size_t k_offset(int il, int h, int pos) const;
    size_t v_offset(int il, int h, int d, int pos) const;

    int n_layer_, n_head_kv_, head_dim_, n_ctx_;
    tensor::TensorType type_;
    std::vector<uint8_t> k_;  // [n_layer][n_head_kv][n_ctx][head_dim]
    std::vector<uint8_t> v_;  // [n_layer][n_head_kv][head_dim][n_ctx]  (transposed: a head's values over positions are contiguous)
};

}  // namespace ead::model
