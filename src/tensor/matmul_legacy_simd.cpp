// Highway kernels for the legacy weight formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against Q8_0 activations.
// Compiled once per target (foreach_target.h) and dispatched once per row range (gemm_legacy).
//
// AVX2: each weight block is unpacked once into 32 bytes in element order (unsigned 0..15 / 0..31, or signed
// for Q8_0) and multiplied against NC activation rows with maddubs (u8 x i8 -> i16 pairs) and madd (-> i32);
// the format's offset (-8, -16) is added as a precomputed per-block integer correction, so each block costs one
// int->float conversion and one FMA per (row, activation row). Other targets run a portable scalar loop.
#include "tensor/simd_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/matmul_legacy_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>

#include "tensor/kernels.h"
#include "tensor/quants.h"

HWY_BEFORE_NAMESPACE();
namespace ead::tensor {
namespace HWY_NAMESPACE {

template <TensorType T>
struct LegacyFormat;
template <>
struct LegacyFormat<TensorType::kQ4_0> {
    using Block = BlockQ4_0;
    static constexpr bool kHasMin = false;
};
template <>
struct LegacyFormat<TensorType::kQ4_1> {
    using Block = BlockQ4_1;
    static constexpr bool kHasMin = true;
};
template <>
struct LegacyFormat<TensorType::kQ5_0> {
    using Block = BlockQ5_0;
    static constexpr bool kHasMin = false;
};
template <>
struct LegacyFormat<TensorType::kQ5_1> {
    using Block = BlockQ5_1;
    static constexpr bool kHasMin = true;
};
template <>
struct LegacyFormat<TensorType::kQ8_0> {
    using Block = BlockQ8_0;
    static constexpr bool kHasMin = false;
};

// Formats whose quants carry an offset corrected through ActLegacy::corr.
constexpr bool uses_corr(TensorType t) { return t == TensorType::kQ4_0 || t == TensorType::kQ5_0; }

#if HWY_TARGET == HWY_AVX2

// ---- AVX2 helpers ----

HWY_INLINE __m256i unpack_nibbles(const uint8_t* qs) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// Byte i = 0x10 where bit i of the 32-bit little-endian mask is set.
HWY_INLINE __m256i expand_high_bits(const uint8_t* qh) {
    uint32_t bits;
    std::memcpy(&bits, qh, 4);
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3,
                                          3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
    const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit), _mm256_set1_epi8(0x10));
}

HWY_INLINE __m256 bcast_fp16(uint16_t h) { return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(h))); }

// Sums of 4 products of unsigned u and signed s bytes per int32 lane.
HWY_INLINE __m256i dot_u8i8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

HWY_INLINE float hsum(__m256 v) {
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

template <TensorType T>
HWY_INLINE __m256i unpack_block(const typename LegacyFormat<T>::Block& b) {
    if constexpr (T == TensorType::kQ8_0) {
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
    } else if constexpr (T == TensorType::kQ5_0 || T == TensorType::kQ5_1) {
        return _mm256_or_si256(unpack_nibbles(b.qs), expand_high_bits(b.qh));
    } else {
        return unpack_nibbles(b.qs);
    }
}

// NR weight rows from r, NC activation rows from j: y[j + c][r + i] for i < NR, c < NC.
template <TensorType T, int NR, int NC>
HWY_INLINE void legacy_tile(const GemmArgs& a, int64_t r, int64_t j) {
    using Block = typename LegacyFormat<T>::Block;
    const int64_t nb = a.cols / kQK;
    const Block* w[NR];
    for (int i = 0; i < NR; ++i) w[i] = reinterpret_cast<const Block*>(a.w + (r + i) * a.w_row);
    __m256 acc[NR][NC];
    float accm[NR][NC];
    for (int i = 0; i < NR; ++i)
        for (int c = 0; c < NC; ++c) {
            acc[i][c] = _mm256_setzero_ps();
            accm[i][c] = 0;
        }
    const int64_t pf = prefetch_distance(NR * static_cast<int64_t>(a.w_row));
    for (int64_t b = 0; b < nb; ++b) {
        __m256i wq[NR];
        __m256 wd[NR];
        if constexpr (NC == 1) {
            for (int i = 0; i < NR; ++i)
                _mm_prefetch(reinterpret_cast<const char*>(w[i] + b) + pf, _MM_HINT_T0);
        }
        for (int i = 0; i < NR; ++i) {
            wq[i] = unpack_block<T>(w[i][b]);
            wd[i] = bcast_fp16(w[i][b].d);
        }
        for (int c = 0; c < NC; ++c) {
            const int64_t xb = (j + c) * nb + b;
            const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.legacy.qs + xb * kQK));
            const __m256 dx = _mm256_broadcast_ss(a.legacy.d + xb);
            for (int i = 0; i < NR; ++i) {
                __m256i s;
                if constexpr (T == TensorType::kQ8_0) {
                    s = dot_u8i8(_mm256_sign_epi8(wq[i], wq[i]), _mm256_sign_epi8(yq, wq[i]));
                } else {
                    s = dot_u8i8(wq[i], yq);
                }
                if constexpr (uses_corr(T))
                    s = _mm256_add_epi32(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.legacy.corr + xb * 8)));
                acc[i][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(wd[i], dx), acc[i][c]);
                if constexpr (LegacyFormat<T>::kHasMin) {  // one explicit FMA: the same rounding in every tile shape
                    accm[i][c] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(_cvtsh_ss(w[i][b].m)),
                                                            _mm_set_ss(a.legacy.s[xb]), _mm_set_ss(accm[i][c])));
                }
            }
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int i = 0; i < NR; ++i) a.y[(j + c) * a.rows + r + i] = hsum(acc[i][c]) + accm[i][c];
}

template <TensorType T>
void legacy_rows(const GemmArgs& a, int64_t r0, int64_t r1) {
    if (a.n == 1) {
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) legacy_tile<T, 4, 1>(a, r, 0);
        for (; r < r1; ++r) legacy_tile<T, 1, 1>(a, r, 0);
        return;
    }
    // Activation rows in panels that stay in L2 while the row range streams through them.
    constexpr int64_t kPanel = 64;
    for (int64_t j0 = 0; j0 < a.n; j0 += kPanel) {
        const int64_t j1 = std::min(a.n, j0 + kPanel);
        int64_t r = r0;
        for (; r + 2 <= r1; r += 2) {
            int64_t j = j0;
            for (; j + 4 <= j1; j += 4) legacy_tile<T, 2, 4>(a, r, j);
            for (; j < j1; ++j) legacy_tile<T, 2, 1>(a, r, j);
        }
        for (; r < r1; ++r) {
            int64_t j = j0;
            for (; j + 4 <= j1; j += 4) legacy_tile<T, 1, 4>(a, r, j);
            for (; j < j1; ++j) legacy_tile<T, 1, 1>(a, r, j);
        }
    }
}

#else  // portable fallback

template <TensorType T>
void legacy_rows(const GemmArgs& a, int64_t r0, int64_t r1) {
    using Block = typename LegacyFormat<T>::Block;
    const int64_t nb = a.cols / kQK;
    int8_t q[kQK];
    for (int64_t r = r0; r < r1; ++r) {
        const Block* w = reinterpret_cast<const Block*>(a.w + r * a.w_row);
        for (int64_t j = 0; j < a.n; ++j) {
            float sum = 0;
            for (int64_t b = 0; b < nb; ++b) {
                const Block& blk = w[b];
                if constexpr (T == TensorType::kQ8_0) {
                    std::memcpy(q, blk.qs, kQK);
                } else {
                    uint32_t qh = 0;
                    if constexpr (T == TensorType::kQ5_0 || T == TensorType::kQ5_1) std::memcpy(&qh, blk.qh, 4);
                    for (int e = 0; e < kQK / 2; ++e) {
                        q[e] = static_cast<int8_t>((blk.qs[e] & 0xF) | (((qh >> e) & 1) << 4));
                        q[e + 16] = static_cast<int8_t>((blk.qs[e] >> 4) | (((qh >> (e + 16)) & 1) << 4));
                    }
                }
                const int64_t xb = j * nb + b;
                const int8_t* yq = a.legacy.qs + xb * kQK;
                int s = 0;
                for (int e = 0; e < kQK; ++e) s += q[e] * yq[e];
                if constexpr (uses_corr(T))
                    for (int k = 0; k < 8; ++k) s += a.legacy.corr[xb * 8 + k];
                sum += static_cast<float>(s) * (fp16_to_fp32(blk.d) * a.legacy.d[xb]);
                if constexpr (LegacyFormat<T>::kHasMin) sum += fp16_to_fp32(blk.m) * a.legacy.s[xb];
            }
            a.y[j * a.rows + r] = sum;
        }
    }
}

#endif

void GemmLegacy(const GemmArgs& a, int64_t r0, int64_t r1) {
    switch (a.type) {
        case TensorType::kQ4_0: return legacy_rows<TensorType::kQ4_0>(a, r0, r1);
        case TensorType::kQ4_1: return legacy_rows<TensorType::kQ4_1>(a, r0, r1);
        case TensorType::kQ5_0: return legacy_rows<TensorType::kQ5_0>(a, r0, r1);
        case TensorType::kQ5_1: return legacy_rows<TensorType::kQ5_1>(a, r0, r1);
        case TensorType::kQ8_0: return legacy_rows<TensorType::kQ8_0>(a, r0, r1);
        default: return;
    }
}

}  // namespace HWY_NAMESPACE
}  // namespace ead::tensor
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ead::tensor {
HWY_EXPORT(GemmLegacy);
void gemm_legacy(const GemmArgs& a, int64_t r0, int64_t r1) { HWY_DYNAMIC_DISPATCH(GemmLegacy)(a, r0, r1); }
}  // namespace ead::tensor
#endif
