// One traits table per tensor type, consulted by everything that touches weight data.
// CONTRACT between the tensor stage and its users (model stage, tools, tests); implemented in src/tensor/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gguf/types.h"

namespace ead::tensor {

using gguf::TensorType;

struct TypeTraits {
    TensorType type;
    std::string_view name;
    int64_t block_size;  // elements per block
    size_t type_size;    // bytes per block
    // Dequantizes n elements (n % block_size == 0) from packed blocks at src to floats at dst.
    void (*to_float)(const void* src, float* dst, int64_t n);
    // Quantizes n floats into packed blocks; nullptr when this type has no quantizer.
    void (*from_float)(const float* src, void* dst, int64_t n);
    // The format activations are quantized to for this type's dot products (Q8_0, Q8_K, or F32 for float types).
    TensorType vec_dot_type;
};

// True for every type that has kernels (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, Q8_K).
bool has_kernels(TensorType t);
// Throws std::invalid_argument naming the type when it has no kernels.
const TypeTraits& type_traits(TensorType t);

// Scalar conversions used throughout (round-to-nearest-even, as ggml does).
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
float bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);
// fp32_to_fp16 of n floats (the same bits, NaN payloads aside), with vectors where the target converts in
// hardware (quant_act_simd.cpp).
void fp32_to_fp16_row(const float* x, uint16_t* dst, int64_t n);

}  // namespace ead::tensor
