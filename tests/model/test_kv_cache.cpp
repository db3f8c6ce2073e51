// KvCache layout: what store_head writes is what keys() and values() read back, head by head, in both element
// types and several head sizes.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "model/kv_cache.h"
#include "tensor/type_traits.h"

namespace ead::model {
namespace {

using tensor::TensorType;

float element(const KvCache& kv, const void* row, int i) {
    if (kv.type() == TensorType::kF32) return static_cast<const float*>(row)[i];
    uint16_t h;
    std::memcpy(&h, static_cast<const uint8_t*>(row) + 2 * i, 2);
    return tensor::fp16_to_fp32(h);
}

TEST(KvCache, StoreHeadIsReadBackByKeysAndValues) {
    std::mt19937 rng(3);
    std::normal_distribution<float> dist(0.0f, 3.0f);
    for (TensorType type : {TensorType::kF32, TensorType::kF16}) {
        for (int head_dim : {16, 64, 100, 256}) {
            SCOPED_TRACE(std::string(gguf::tensor_type_name(type)) + " head_dim " + std::to_string(head_dim));
            const int n_layer = 2, n_head_kv = 3, n_ctx = 37, kv_dim = n_head_kv * head_dim;
            KvCache kv(n_layer, n_head_kv, head_dim, n_ctx, type);
            // want[il][pos][kv_dim]: what each position holds, written in passes of 1..5 positions, each head
            // stored separately and in a shuffled order.
            std::vector<float> want_k(static_cast<size_t>(n_layer) * n_ctx * kv_dim);
            std::vector<float> want_v(want_k.size());
            for (int il = 0; il < n_layer; ++il) {
                for (int pos = 0; pos < n_ctx;) {
                    const int n = std::min(n_ctx - pos, 1 + pos % 5);
                    std::vector<float> k(static_cast<size_t>(n) * kv_dim), v(k.size());
                    for (float& x : k) x = dist(rng);
                    for (float& x : v) x = dist(rng);
                    std::vector<int> heads{2, 0, 1};
                    std::shuffle(heads.begin(), heads.end(), rng);
                    for (int h : heads) kv.store_head(il, h, pos, n, k.data(), v.data());
                    auto rounded = [&](float x) {
                        return type == TensorType::kF32 ? x : tensor::fp16_to_fp32(tensor::fp32_to_fp16(x));
                    };
                    for (size_t i = 0; i < k.size(); ++i) {
                        const size_t at = (static_cast<size_t>(il) * n_ctx + pos) * kv_dim + i;
                        want_k[at] = rounded(k[i]);
                        want_v[at] = rounded(v[i]);
                    }
                    pos += n;
                }
            }
            for (int il = 0; il < n_layer; ++il) {
                for (int h = 0; h < n_head_kv; ++h) {
                    for (int pos = 0; pos < n_ctx; ++pos) {
                        const void* krow = kv.keys(il, h, pos);
                        const void* vrow = kv.values(il, h, pos);
                        for (int d = 0; d < head_dim; ++d) {
                            const size_t at = (static_cast<size_t>(il) * n_ctx + pos) * kv_dim +
                                              static_cast<size_t>(h) * head_dim + d;
                            ASSERT_EQ(want_k[at], element(kv, krow, d))
                                << "key il " << il << " h " << h << " pos " << pos << " d " << d;
                            ASSERT_EQ(want_v[at], element(kv, vrow, d))
                                << "value il " << il << " h " << h << " pos " << pos << " d " << d;
                        }
                    }
                }
            }
        }
    }
}

}  // namespace
}  // namespace ead::model
