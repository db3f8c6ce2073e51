// Internal interface between matmul.cpp (activation quantization, threading) and the Highway kernels
// (matmul_legacy_simd.cpp, matmul_k_simd.cpp, matmul_float_simd.cpp, matmul_interleaved_simd.cpp) and activation
// quantizers (quant_act_simd.cpp). Not part of the public contract.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/type_traits.h"

namespace ead::tensor {

// Activations quantized for the legacy formats (Q4_0 .. Q8_0): Q8_0 values, split into arrays.
// Row j of x: qs + j * cols (int8, 32 per block), d + j * nb (block scale, the fp16-rounded d as float),
// corr + (j * nb + b) * 8 (8 int32 summing to -offset * sum(qs of block b); offset 8 for Q4_0, 16 for Q5_0),
// s + j * nb (d * sum(qs) per block, for Q4_1 / Q5_1), osum + j * nb (-offset * sum(qs) per block, for the
// interleaved kernels).
struct ActLegacy {
    const int8_t* qs = nullptr;
    const float* d = nullptr;
    const int32_t* corr = nullptr;
    const float* s = nullptr;
    const int32_t* osum = nullptr;
};

// Row x (cols floats, a multiple of 32) to Q8_0 in the split layout above: qs, d, corr, s and osum of that
// row. Bit-identical to from_float_q8_0 (quant_act_simd.cpp).
void quantize_act_q8_0(const float* x, int64_t cols, int offset, int8_t* qs, float* d, int32_t* corr,
                       float* s, int32_t* osum);
// Row x (cols a multiple of 256) to BlockQ8_K; bit-identical to from_float_q8_k.
void quantize_act_q8_k(const float* x, void* dst, int64_t cols);

// One matrix product, row range [r0, r1) computed by a kernel call.
struct GemmArgs {
    TensorType type;
    const uint8_t* w;  // kInterleaved8: group g (rows 8g..8g+7) at w + g * interleaved_bytes(type, 8, cols)  // [rows] rows of w_row bytes
    size_t w_row;
    int64_t rows;
    int64_t cols;
    int64_t n;     // activation rows
    float* y;      // [n][rows]
    const float* x;        // float activations [n][cols] (float weight types)
    ActLegacy legacy;      // legacy weight types
    const void* xk;        // [n][cols / 256] BlockQ8_K (K-quant weight types)
};

// Rows are handed to kernels in multiples of this (except the last range), so that row grouping, and thus
// every result bit, is independent of the thread count.
constexpr int64_t kRowAlign = 8;

// Matrix x vector kernels stream every weight byte once from memory. In the row layout, a pass over NR rows (a
// group of NR * w_row contiguous bytes) prefetches, block by block, the same blocks of the group that follows
// it at least kPrefetchAhead bytes later, so each line arrives about one group's compute time before use
// whatever the row length. (The interleaved layout's kernels, which models use, prefetch only a short way
// ahead of their single stream: far prefetches made them slower. See Prefetcher in
// matmul_interleaved_simd.cpp.)
constexpr int64_t kPrefetchAhead = 4096;

inline int64_t prefetch_distance(int64_t group_bytes) {
    return (kPrefetchAhead + group_bytes - 1) / group_bytes * group_bytes;
}

void gemm_legacy(const GemmArgs& a, int64_t r0, int64_t r1);  // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
void gemm_k(const GemmArgs& a, int64_t r0, int64_t r1);       // Q2_K .. Q6_K, Q8_K
void gemm_interleaved(const GemmArgs& a, int64_t r0, int64_t r1);  // kInterleaved8; r0, r1 multiples of 8
void gemm_float(const GemmArgs& a, int64_t r0, int64_t r1);   // F32, F16, BF16
// Weighted sums of float-type rows (weighted_row_sums in matmul.h): activation rows [j0, j1) of
// y[j][c] = sum_r x[j][r] * W[r][c].
struct WeightedArgs {
    TensorType type;   // F32, F16 or BF16
    const uint8_t* w;  // `rows` rows of `cols` elements, w_row bytes apart
    size_t w_row;
    int64_t rows;
    int64_t cols;
    const float* x;  // [n][rows]
    float* y;        // [n][cols]
};
void weighted_rows(const WeightedArgs& a, int64_t j0, int64_t j1);
// Matrix x vector (n == 1) over n_lanes <= kMaxLanes streams at once, all kInterleaved8 of one weight type
// and sharing activations: lane s computes the n_groups row groups of *a[s] from row r[s] (a multiple of 8).
constexpr int kMaxLanes = 4;
void gemv_interleaved_lanes(const GemmArgs* const* a, const int64_t* r, int n_lanes, int64_t n_groups);

}  // namespace ead::tensor
