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
    const size_t n = static_cast<size_t>(n_layer) * n_head_kv * n_ctx * head_dim * element_bytes();
    k_.assign(n, 0);
    v_.assign(n, 0);
}

size_t KvCache::row_offset(int il, int h, int pos) const {
    return ((static_cast<size_t>(il) * n_head_kv_ + h) * n_ctx_ + pos) * head_dim_ * element_bytes();
}

void KvCache::store_head(int il, int h, int pos0, int n, const float* k, const float* v) {
    const size_t kv_dim = static_cast<size_t>(n_head_kv_) * head_dim_;
    for (int t = 0; t < n; ++t) {
        const int pos = pos0 + t;
        const float* ks = k + static_cast<size_t>(t) * kv_dim + static_cast<size_t>(h) * head_dim_;
        const float* vs = v + static_cast<size_t>(t) * kv_dim + static_cast<size_t>(h) * head_dim_;
        uint8_t* kd = k_.data() + row_offset(il, h, pos);
        uint8_t* vd = v_.data() + row_offset(il, h, pos);
        if (type_ == TensorType::kF32) {
            std::memcpy(kd, ks, head_dim_ * sizeof(float));
            std::memcpy(vd, vs, head_dim_ * sizeof(float));
        } else {
            tensor::fp32_to_fp16_row(ks, reinterpret_cast<uint16_t*>(kd), head_dim_);
            tensor::fp32_to_fp16_row(vs, reinterpret_cast<uint16_t*>(vd), head_dim_);
        }
    }
}

const void* KvCache::keys(int il, int h, int pos) const {
    return k_.data() + row_offset(il, h, pos);
}

const void* KvCache::values(int il, int h, int pos) const {
    return v_.data() + row_offset(il, h, pos);
}

void KvCache::prefetch(int il, int h, int pos0, int pos1) const {
    if (pos1 <= pos0) return;
    constexpr uintptr_t kLine = 64;
    auto lines = [](const uint8_t* p, size_t n) {
        for (uintptr_t a = reinterpret_cast<uintptr_t>(p) & ~(kLine - 1);
             a < reinterpret_cast<uintptr_t>(p + n); a += kLine)
            __builtin_prefetch(reinterpret_cast<const void*>(a), 0, 3);
    };
    const size_t n = static_cast<size_t>(pos1 - pos0) * head_dim_ * element_bytes();
    lines(k_.data() + row_offset(il, h, pos0), n);
    lines(v_.data() + row_offset(il, h, pos0), n);
}

}  // namespace ead::model
