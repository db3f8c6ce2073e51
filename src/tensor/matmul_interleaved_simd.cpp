// Weights interleaved eight rows at a time (WeightLayout::kInterleaved8), for Q4_0: the layout and the Highway
// kernels that use it. Compiled once per target (foreach_target.h) and dispatched once per row range.
//
// Layout. Rows 8g .. 8g+7 form group g, stored at g * 8 * row_bytes. Block b of the group (the 32 columns
// 32b .. 32b+31 of its eight rows) takes 144 bytes, the size of eight Q4_0 blocks:
//   bytes 0..15    the eight rows' fp16 scales d, row k at 2k
//   bytes 16..143  four 32-byte chunks; in chunk t, bytes 4k..4k+3 are bytes 4t..4t+3 of row k's qs
// so the low nibbles of chunk t hold columns 4t..4t+3 of every row (row k in 32-bit lane k) and the high
// nibbles columns 16+4t..16+4t+3.
//
// AVX2: one maddubs multiplies four columns of all eight rows by the same four activation bytes (broadcast),
// so a row's dot product accumulates in its own lane: no horizontal sums, one int16 -> int32 widening, one
// conversion and one FMA per block for eight rows (the row-major kernel needs them per row).
#include "tensor/simd_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/matmul_interleaved_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>

#include "tensor/kernels.h"
#include "tensor/quants.h"

#if HWY_ONCE
namespace ead::tensor {

namespace {
constexpr int64_t kGroupBlockBytes = 8 * sizeof(BlockQ4_0);  // 144
}  // namespace

bool can_interleave(TensorType type, int64_t rows, int64_t cols) {
    return type == TensorType::kQ4_0 && rows > 0 && rows % 8 == 0 && cols > 0 && cols % kQK == 0;
}

void interleave_rows(TensorType type, const void* src, int64_t rows, int64_t cols, void* dst) {
    if (!can_interleave(type, rows, cols)) return;
    const int64_t nb = cols / kQK;
    const size_t w_row = gguf::row_bytes(type, cols);
    const auto* s = static_cast<const uint8_t*>(src);
    auto* d = static_cast<uint8_t*>(dst);
#pragma omp parallel for schedule(static)
    for (int64_t g = 0; g < rows / 8; ++g) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* out = d + (g * nb + b) * kGroupBlockBytes;
            for (int k = 0; k < 8; ++k) {
                const auto* blk = reinterpret_cast<const BlockQ4_0*>(s + (g * 8 + k) * w_row) + b;
                std::memcpy(out + 2 * k, &blk->d, 2);
                for (int t = 0; t < 4; ++t) std::memcpy(out + 16 + 32 * t + 4 * k, blk->qs + 4 * t, 4);
            }
        }
    }
}

}  // namespace ead::tensor
#endif

HWY_BEFORE_NAMESPACE();
namespace ead::tensor {
namespace HWY_NAMESPACE {

constexpr int64_t kBlockBytes = 8 * sizeof(BlockQ4_0);

#if HWY_TARGET == HWY_AVX2

HWY_INLINE __m256i bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// Rows r .. r+7 (one group) against activation rows j .. j+NC-1.
template <int NC>
HWY_INLINE void q4_0x8_tile(const GemmArgs& a, int64_t r, int64_t j) {
    const int64_t nb = a.cols / kQK;
    const uint8_t* base = a.w + r * static_cast<int64_t>(a.w_row);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[NC];
    for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
    const int64_t pf = prefetch_distance(8 * static_cast<int64_t>(a.w_row));
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = base + b * kBlockBytes;
        if constexpr (NC == 1) {
            _mm_prefetch(reinterpret_cast<const char*>(blk) + pf, _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(blk) + pf + 64, _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(blk) + pf + kBlockBytes - 1, _MM_HINT_T0);
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
        __m256i lo[4], hi[4];
        for (int t = 0; t < 4; ++t) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * t));
            lo[t] = _mm256_and_si256(v, m4);
            hi[t] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
        for (int c = 0; c < NC; ++c) {
            const int64_t xb = (j + c) * nb + b;
            const int8_t* yq = a.legacy.qs + xb * kQK;
            // Eight products of at most 15 * 127 * 2 per int16 lane: 30480, no overflow.
            __m256i p = _mm256_maddubs_epi16(lo[0], bcast4(yq));
            p = _mm256_add_epi16(p, _mm256_maddubs_epi16(hi[0], bcast4(yq + 16)));
            for (int t = 1; t < 4; ++t) {
                p = _mm256_add_epi16(p, _mm256_maddubs_epi16(lo[t], bcast4(yq + 4 * t)));
                p = _mm256_add_epi16(p, _mm256_maddubs_epi16(hi[t], bcast4(yq + 16 + 4 * t)));
            }
            __m256i s = _mm256_madd_epi16(p, ones);
            s = _mm256_add_epi32(s, _mm256_set1_epi32(-8 * a.legacy.qsum[xb]));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_broadcast_ss(a.legacy.d + xb)),
                                     acc[c]);
        }
    }
    for (int c = 0; c < NC; ++c) _mm256_storeu_ps(a.y + (j + c) * a.rows + r, acc[c]);
}

void GemmInterleaved(const GemmArgs& a, int64_t r0, int64_t r1) {
    if (a.n == 1) {
        for (int64_t r = r0; r < r1; r += 8) q4_0x8_tile<1>(a, r, 0);
        return;
    }
    constexpr int64_t kPanel = 64;  // activation rows that stay in L2 while the row range streams through
    for (int64_t j0 = 0; j0 < a.n; j0 += kPanel) {
        const int64_t j1 = std::min(a.n, j0 + kPanel);
        for (int64_t r = r0; r < r1; r += 8) {
            int64_t j = j0;
            for (; j + 4 <= j1; j += 4) q4_0x8_tile<4>(a, r, j);
            for (; j < j1; ++j) q4_0x8_tile<1>(a, r, j);
        }
    }
}

#else  // portable fallback: the same sums, one row and activation row at a time

void GemmInterleaved(const GemmArgs& a, int64_t r0, int64_t r1) {
    const int64_t nb = a.cols / kQK;
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* base = a.w + (r / 8) * 8 * static_cast<int64_t>(a.w_row);
        const int k = static_cast<int>(r % 8);
        for (int64_t j = 0; j < a.n; ++j) {
            float sum = 0;
            for (int64_t b = 0; b < nb; ++b) {
                const uint8_t* blk = base + b * kBlockBytes;
                uint16_t dh;
                std::memcpy(&dh, blk + 2 * k, 2);
                const int64_t xb = j * nb + b;
                const int8_t* yq = a.legacy.qs + xb * kQK;
                int s = 0;
                for (int t = 0; t < 4; ++t)
                    for (int e = 0; e < 4; ++e) {
                        const uint8_t q = blk[16 + 32 * t + 4 * k + e];
                        s += (q & 0xF) * yq[4 * t + e] + (q >> 4) * yq[16 + 4 * t + e];
                    }
                s -= 8 * a.legacy.qsum[xb];
                sum += static_cast<float>(s) * (fp16_to_fp32(dh) * a.legacy.d[xb]);
            }
            a.y[j * a.rows + r] = sum;
        }
    }
}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace ead::tensor
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ead::tensor {
HWY_EXPORT(GemmInterleaved);
void gemm_interleaved(const GemmArgs& a, int64_t r0, int64_t r1) { HWY_DYNAMIC_DISPATCH(GemmInterleaved)(a, r0, r1); }
}  // namespace ead::tensor
#endif
