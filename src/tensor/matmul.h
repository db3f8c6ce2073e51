// Matrix products with weights in any tensor type and float activations.
// CONTRACT between the tensor stage and the model stage; implemented in src/tensor/.
#pragma once

#include <cstdint>

#include "tensor/type_traits.h"

namespace ead::tensor {

// y[j][r] = sum_c W[r][c] * x[j][c]   for r < rows, j < n.
//   w: `rows` rows of `cols` elements in `type`, row r at (const uint8_t*)w + r * gguf::row_bytes(type, cols)
//   x: [n][cols] float, y: [n][rows] float (y must not alias x).
// Quantized types quantize each activation row once to the type's vec_dot_type and use integer dot products.
// n == 1 is matrix × vector. Output rows are split across `n_threads` threads; results do not depend on
// n_threads.
void matmul(TensorType type, const void* w, int64_t rows, int64_t cols, const float* x, int64_t n, float* y,
            int n_threads);

// Dequantizes row `r` of a weight matrix (e.g. an embedding lookup) into dst[cols].
void dequantize_row(TensorType type, const void* w, int64_t cols, int64_t r, float* dst);

}  // namespace ead::tensor
