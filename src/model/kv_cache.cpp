#include "model/kv_cache.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "tensor/matmul.h"

namespace ead::model {

using tensor::TensorType;

KvCache::KvCache(int n_layer, int n_head_kv, int head_dim, int n_ctx, TensorType kv_type)
    : n_layer_(n_layer), n_head_kv_(n_head_kv), head_dim_(head_dim), n_ctx_(n_ctx), type_(kv_type) {
    if (kv_type != TensorType::kF16 && kv_type != TensorType::kF32) {
        throw std::invalid_argument("KV cache type " + std::string(gguf::tensor_type_name(kv_type)) +
                                    " is not supported (F16 or F32)");
    }
    if (n_ctx <= 0) throw std::invalid_argument("context length " + std::to_string(n_ctx) + " must be positive");
    const size_t n = static_cast<size_t>(n_layer) * n_head_kv * n_ctx * head_dim * elt_size();
    k_.assign(n, 0);
    v_.assign(n, 0);
    v16_.assign(static_cast<size_t>(head_dim), 0);
}

size_t KvCache::k_offset(int il, int h, int pos) const {
    return ((static_cast<size_t>(il) * n_head_kv_ + h) * n_ctx_ + pos) * head_dim_ * elt_size();
}

size_t KvCache::v_offset(int il, int h, int d, int pos) const {
    return (((static_cast<size_t>(il) * n_head_kv_ + h) * head_dim_ + d) * n_ctx_ + pos) * elt_size();
}

void KvCache::store(int il, int pos0, int n, const float* k, const float* v) {
    const int kv_dim = n_head_kv_ * head_dim_;
    for (int t = 0; t < n; ++t) {
        const float* kt = k + static_cast<size_t>(t) * kv_dim;
        const float* vt = v + static_cast<size_t>(t) * kv_dim;
        for (int h = 0; h < n_head_kv_; ++h) {
            uint8_t* kd = k_.data() + k_offset(il, h, pos0 + t);
            const float* ks = kt + h * head_dim_;
            const float* vs = vt + h * head_dim_;
            if (type_ == TensorType::kF32) {
                std::memcpy(kd, ks, head_dim_ * sizeof(float));
                for (int d = 0; d < head_dim_; ++d) {
                    std::memcpy(v_.data() + v_offset(il, h, d, pos0 + t), vs + d, sizeof(float));
                }
            } else {
                tensor::fp32_to_fp16_row(ks, reinterpret_cast<uint16_t*>(kd), head_dim_);
                tensor::fp32_to_fp16_row(vs, v16_.data(), head_dim_);
                for (int d = 0; d < head_dim_; ++d)
                    std::memcpy(v_.data() + v_offset(il, h, d, pos0 + t), &v16_[static_cast<size_t>(d)], 2);
            }
        }
    }
}

const void* KvCache::keys(int il, int h, int pos) const { return k_.data() + k_offset(il, h, pos); }

const void* KvCache::values(int il, int h, int pos) const { return v_.data() + v_offset(il, h, 0, pos); }

}  // namespace ead::model
