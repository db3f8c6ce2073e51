// Matrix products with weights in any tensor type and float activations.
// CONTRACT between the tensor stage and the model stage; implemented in src/tensor/.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/type_traits.h"

namespace ead::tensor {

// How a weight matrix's rows are laid out in memory.
//   kRows: as in GGUF, row after row (row r at r * gguf::row_bytes(type, cols)).
//   kInterleaved8: eight rows interleaved block by block so one SIMD instruction serves eight rows
//     (tensor/matmul_interleaved_simd.cpp describes it; interleaved_bytes() gives its size). Made by
//     interleave_rows() at load time; only matmul reads it (no dequantize_row).
enum class WeightLayout : uint8_t { kRows, kInterleaved8 };

// y[j][r] = sum_c W[r][c] * x[j][c]   for r < rows, j < n.
//   w: `rows` rows of `cols` elements in `type`, row r at (const uint8_t*)w + r * gguf::row_bytes(type, cols)
//   x: [n][cols] float, y: [n][rows] float (y must not alias x).
// Quantized types quantize each activation row once to the type's vec_dot_type and use integer dot products.
// n == 1 is matrix × vector. Output rows are split across `n_threads` threads; results do not depend on
// n_threads.
void matmul(TensorType type, const void* w, int64_t rows, int64_t cols, const float* x, int64_t n, float* y,
            int n_threads);
// Same, for weights in `layout`. Results equal kRows's within float rounding (the summation order differs);
// for a given layout they do not depend on n_threads or on n (a row of a batch equals the same row alone).
void matmul(TensorType type, WeightLayout layout, const void* w, int64_t rows, int64_t cols, const float* x,
            int64_t n, float* y, int n_threads);

// One product of matmul_many: y[j][r] = sum_c W[r][c] * x[j][c] for r < rows.
struct MatmulJob {
    TensorType type;
    WeightLayout layout;
    const void* w;
    int64_t rows;
    float* y;               // [n][rows]
    size_t row_stride = 0;  // kRows only: bytes from one row of w to the next (0: gguf::row_bytes(type, cols))
};
// Several products with the same input x ([n][cols]), e.g. the Q, K and V projections, in one parallel region:
// the activations are quantized once per format and the threads share out the rows of all products, so each
// call wakes the threads once. At most 8 jobs; results are bit-identical to separate matmul calls. Throws
// std::invalid_argument for a layout without a kernel for the shape, or a row_stride shorter than a row or given
// for kInterleaved8.
void matmul_many(const MatmulJob* jobs, int n_jobs, int64_t cols, const float* x, int64_t n, int n_threads);

// y[j][c] = sum_r x[j][r] * W[r][c]   for c < cols, j < n: each row of y is a weighted sum of W's rows (in
// attention, the values weighted by a query's probabilities).
//   w: `rows` rows of `cols` elements in F32, F16 or BF16, row r at (const uint8_t*)w + r * row_stride
//   x: [n][rows] float, y: [n][cols] float (y must not alias x).
// Float accumulation, in the same order whatever n_threads (the rows of x are split among the threads).
// Throws std::invalid_argument for another type or a row_stride shorter than a row.
void weighted_row_sums(TensorType type, const void* w, int64_t rows, int64_t cols, size_t row_stride,
                       const float* x, int64_t n, float* y, int n_threads);

// Whether matrices of this type and shape have a kInterleaved8 kernel (Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K; rows a
// multiple of 8, row length a multiple of the block).
bool can_interleave(TensorType type, int64_t rows, int64_t cols);
// Bytes of such a matrix in kInterleaved8 (as kRows for the 32-element types and Q6_K, 2.8% more for Q4_K and 2.3%
// for Q5_K); 0 if it has none.
size_t interleaved_bytes(TensorType type, int64_t rows, int64_t cols);
// Rewrites `rows` rows of `cols` elements from kRows (src) to kInterleaved8 (dst: interleaved_bytes(), not
// aliasing src). Does nothing unless can_interleave(type, rows, cols).
void interleave_rows(TensorType type, const void* src, int64_t rows, int64_t cols, void* dst);

// Dequantizes row `r` of a weight matrix (e.g. an embedding lookup) into dst[cols].
void dequantize_row(TensorType type, const void* w, int64_t cols, int64_t r, float* dst);

}  // namespace ead::tensor
