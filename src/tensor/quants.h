// Scalar reference implementations of every tensor type: dequantizers, quantizers and dot products.
// These define the formats; the Highway kernels (matmul_*_simd.cpp) must agree with them.
#pragma once

#include <cstdint>
#include <cstring>

#include "tensor/blocks.h"
#include "tensor/type_traits.h"

namespace ead::tensor {

// ---- float formats (quant_float.cpp) ----
void to_float_f32(const void* src, float* dst, int64_t n);
void to_float_f16(const void* src, float* dst, int64_t n);
void to_float_bf16(const void* src, float* dst, int64_t n);
void from_float_f32(const float* src, void* dst, int64_t n);
void from_float_f16(const float* src, void* dst, int64_t n);
void from_float_bf16(const float* src, void* dst, int64_t n);

// ---- legacy formats, 32 elements per block (quant_legacy.cpp) ----
void to_float_q4_0(const void* src, float* dst, int64_t n);
void to_float_q4_1(const void* src, float* dst, int64_t n);
void to_float_q5_0(const void* src, float* dst, int64_t n);
void to_float_q5_1(const void* src, float* dst, int64_t n);
void to_float_q8_0(const void* src, float* dst, int64_t n);
void from_float_q4_0(const float* src, void* dst, int64_t n);
void from_float_q4_1(const float* src, void* dst, int64_t n);
void from_float_q5_0(const float* src, void* dst, int64_t n);
void from_float_q5_1(const float* src, void* dst, int64_t n);
void from_float_q8_0(const float* src, void* dst, int64_t n);

// ---- K-quants, 256 elements per super-block (quant_k.cpp) ----
void to_float_q2_k(const void* src, float* dst, int64_t n);
void to_float_q3_k(const void* src, float* dst, int64_t n);
void to_float_q4_k(const void* src, float* dst, int64_t n);
void to_float_q5_k(const void* src, float* dst, int64_t n);
void to_float_q6_k(const void* src, float* dst, int64_t n);
void to_float_q8_k(const void* src, float* dst, int64_t n);
void from_float_q4_k(const float* src, void* dst, int64_t n);
void from_float_q5_k(const float* src, void* dst, int64_t n);
void from_float_q6_k(const float* src, void* dst, int64_t n);
void from_float_q8_k(const float* src, void* dst, int64_t n);

// Reference dot product of one weight row of n elements in `type` with one activation row already converted
// to type_traits(type).vec_dot_type (float rows for float types). Integer sums per block, float per-block scales.
float vec_dot_ref(TensorType type, int64_t n, const void* w, const void* x);

// Per-format reference dot products (called by vec_dot_ref).
float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q4_1_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q5_1_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q2_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q3_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q8_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_f32_f32(int64_t n, const void* w, const void* x);
float vec_dot_f16_f32(int64_t n, const void* w, const void* x);
float vec_dot_bf16_f32(int64_t n, const void* w, const void* x);

// Rounds to the nearest integer, ties to even (as cvtps2dq), for |x| <= 2^22: adding 1.5 * 2^23 leaves the
// rounded integer in the low mantissa bits. Branchless, so quantization loops vectorize.
inline int nearest_int(float x) {
    const float t = x + 12582912.0f;
    int32_t i;
    std::memcpy(&i, &t, 4);
    return (i & 0x007FFFFF) - 0x00400000;
}

}  // namespace ead::tensor
