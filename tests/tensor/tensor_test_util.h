// Helpers shared by the tensor tests: random weights in any type, float64 references.
#pragma once

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "gguf/types.h"
#include "tensor/blocks.h"
#include "tensor/simd_targets.h"
#include "tensor/type_traits.h"

namespace ead::tensor::testutil {

// Restores dispatch to the best target when a test leaves, whatever target it forced.
struct TargetGuard {
    ~TargetGuard() { force_simd_target(0); }
};

inline std::vector<float> gaussian(size_t n, std::mt19937& rng, float sigma = 1.0f) {
    std::normal_distribution<float> nd(0.0f, sigma);
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    return v;
}

// rows x cols weights in `type`: quantized Gaussian data where the type has a quantizer, otherwise random bytes
// with sane scale fields (Q2_K, Q3_K).
inline std::vector<uint8_t> random_weights(TensorType type, int64_t rows, int64_t cols, std::mt19937& rng) {
    const TypeTraits& tt = type_traits(type);
    const size_t row_bytes = gguf::row_bytes(type, cols);
    std::vector<uint8_t> w(row_bytes * static_cast<size_t>(rows));
    if (tt.from_float != nullptr) {
        // Row scales vary so that per-block scales differ.
        std::uniform_real_distribution<float> sd(0.2f, 2.0f);
        for (int64_t r = 0; r < rows; ++r) {
            const auto x = gaussian(static_cast<size_t>(cols), rng, sd(rng));
            tt.from_float(x.data(), w.data() + r * row_bytes, cols);
        }
        return w;
    }
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& b : w) b = static_cast<uint8_t>(byte(rng));
    std::uniform_real_distribution<float> dd(0.01f, 0.1f);
    const int64_t nblocks = static_cast<int64_t>(w.size() / tt.type_size);
    for (int64_t i = 0; i < nblocks; ++i) {
        uint8_t* blk = w.data() + i * tt.type_size;
        if (type == TensorType::kQ2_K) {
            auto* b = reinterpret_cast<BlockQ2_K*>(blk);
            b->d = fp32_to_fp16(dd(rng));
            b->dmin = fp32_to_fp16(dd(rng));
        } else if (type == TensorType::kQ3_K) {
            reinterpret_cast<BlockQ3_K*>(blk)->d = fp32_to_fp16(dd(rng));
        }
    }
    return w;
}

}  // namespace ead::tensor::testutil
