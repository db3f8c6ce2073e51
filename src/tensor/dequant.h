// Row dequantization with Highway SIMD (dequant_simd.cpp), dispatched at runtime to the best compiled target.
// Results are bit-identical to the scalar type_traits(type).to_float of every type: each element gets the
// same float operations, in the same order, as in quant_float.cpp / quant_legacy.cpp / quant_k.cpp.
#pragma once

#include <cstdint>

#include "tensor/type_traits.h"

namespace ead::tensor {

// Dequantizes one row of `cols` elements (cols % block_size == 0) in `type` at `row` into dst.
// SIMD for F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, Q8_K; every other type (F32, Q2_K,
// Q3_K) goes to type_traits(type).to_float. Throws std::invalid_argument, as type_traits does, for types
// without kernels.
void dequantize_row_fast(TensorType type, const void* row, float* dst, int64_t cols);

}  // namespace ead::tensor
