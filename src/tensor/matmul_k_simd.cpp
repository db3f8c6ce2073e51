// Highway kernels for the K-quant weight formats against Q8_K activations.
// Compiled once per target (foreach_target.h) and dispatched once per row range (gemm_k).
//
// AVX2 (Q4_K, Q5_K, Q6_K): each super-block of a weight row is unpacked once into eight 32-byte chunks of
// unsigned quants in element order plus per-chunk 16-bit scale vectors, then multiplied against NC activation
// rows with maddubs/madd; integer sums cover a whole super-block before one conversion to float. Mins (Q4_K,
// Q5_K) and the -32 offset (Q6_K) use the activations' 16-element sums. Q2_K, Q3_K, Q8_K and other targets use
// the scalar reference dot product.
#include "tensor/simd_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/matmul_k_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>

#include "tensor/kernels.h"
#include "tensor/quants.h"

HWY_BEFORE_NAMESPACE();
namespace ead::tensor {
namespace HWY_NAMESPACE {

// Reference path: one scalar dot product per (row, activation row).
HWY_INLINE void k_rows_reference(const GemmArgs& a, int64_t r0, int64_t r1) {
    const auto* xk = static_cast<const BlockQ8_K*>(a.xk);
    const int64_t nbk = a.cols / kQK_K;
    for (int64_t r = r0; r < r1; ++r)
        for (int64_t j = 0; j < a.n; ++j)
            a.y[j * a.rows + r] = vec_dot_ref(a.type, a.cols, a.w + r * a.w_row, xk + j * nbk);
}

#if HWY_TARGET == HWY_AVX2

HWY_INLINE float hsum(__m256 v) {
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

HWY_INLINE __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// One weight super-block, unpacked.
struct UnpackedK {
    __m256i q[8];   // chunk k: elements 32k..32k+31, unsigned quants
    __m256i sc[8];  // chunk k: the 16-bit scale of each of its elements' sub-block, as madd operands
    __m128i mins;   // Q4_K / Q5_K: mins of the 8 sub-blocks (i16)
    __m256i sc16;   // Q6_K: the 16 scales (i16), for the offset correction
    float d, dmin;
};

// Scales and mins of Q4_K / Q5_K: i16 vectors sc0..7 and m0..7.
HWY_INLINE void unpack_scales_k4(const uint8_t* s, UnpackedK* u) {
    uint32_t v[3];
    std::memcpy(v, s, 12);
    const uint32_t sc_lo = v[0] & 0x3F3F3F3Fu, m_lo = v[1] & 0x3F3F3F3Fu;
    const uint32_t sc_hi = (v[2] & 0x0F0F0F0Fu) | ((v[0] >> 2) & 0x30303030u);
    const uint32_t m_hi = ((v[2] >> 4) & 0x0F0F0F0Fu) | ((v[1] >> 2) & 0x30303030u);
    const __m256i w = _mm256_cvtepu8_epi16(_mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi),
                                                          static_cast<int>(m_lo), static_cast<int>(m_hi)));
    u->mins = _mm256_extracti128_si256(w, 1);
    const __m256i scb = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(w));
    for (int k = 0; k < 8; ++k)
        u->sc[k] = _mm256_shuffle_epi8(scb, _mm256_set1_epi16(static_cast<short>(((2 * k + 1) << 8) | (2 * k))));
}

HWY_INLINE void unpack_q4_k(const BlockQ4_K& b, UnpackedK* u) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {
        const __m256i v = load256(b.qs + 32 * c);
        u->q[2 * c] = _mm256_and_si256(v, m4);
        u->q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    unpack_scales_k4(b.scales, u);
    u->d = fp16_to_fp32(b.d);
    u->dmin = fp16_to_fp32(b.dmin);
}

HWY_INLINE void unpack_q5_k(const BlockQ5_K& b, UnpackedK* u) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i h16 = _mm256_set1_epi8(0x10);
    const __m256i qh = load256(b.qh);
    for (int c = 0; c < 4; ++c) {
        const __m256i v = load256(b.qs + 32 * c);
        const __m256i bit0 = _mm256_set1_epi8(static_cast<char>(1 << (2 * c)));
        const __m256i bit1 = _mm256_set1_epi8(static_cast<char>(1 << (2 * c + 1)));
        const __m256i hi0 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit0), bit0), h16);
        const __m256i hi1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit1), bit1), h16);
        u->q[2 * c] = _mm256_or_si256(_mm256_and_si256(v, m4), hi0);
        u->q[2 * c + 1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), hi1);
    }
    unpack_scales_k4(b.scales, u);
    u->d = fp16_to_fp32(b.d);
    u->dmin = fp16_to_fp32(b.dmin);
}

HWY_INLINE void unpack_q6_k(const BlockQ6_K& b, UnpackedK* u) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m30 = _mm256_set1_epi8(0x30);
    for (int c = 0; c < 2; ++c) {
        const __m256i l0 = load256(b.ql + 64 * c);
        const __m256i l1 = load256(b.ql + 64 * c + 32);
        const __m256i h = load256(b.qh + 32 * c);
        u->q[4 * c + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
        u->q[4 * c + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
        u->q[4 * c + 2] =
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30));
        u->q[4 * c + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                          _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
    }
    u->sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    const __m256i lo = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(u->sc16));
    const __m256i hi = _mm256_broadcastsi128_si256(_mm256_extracti128_si256(u->sc16, 1));
    for (int k = 0; k < 8; ++k) {
        const int kk = k % 4;
        const __m256i ctrl =
            _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(((4 * kk + 3) << 8) | (4 * kk + 2))),
                             _mm_set1_epi16(static_cast<short>(((4 * kk + 1) << 8) | (4 * kk))));
        u->sc[k] = _mm256_shuffle_epi8(k < 4 ? lo : hi, ctrl);
    }
    u->d = fp16_to_fp32(b.d);
    u->dmin = 0;
}

template <TensorType T>
HWY_INLINE void unpack_k(const uint8_t* block, UnpackedK* u) {
    if constexpr (T == TensorType::kQ4_K) unpack_q4_k(*reinterpret_cast<const BlockQ4_K*>(block), u);
    if constexpr (T == TensorType::kQ5_K) unpack_q5_k(*reinterpret_cast<const BlockQ5_K*>(block), u);
    if constexpr (T == TensorType::kQ6_K) unpack_q6_k(*reinterpret_cast<const BlockQ6_K*>(block), u);
}

template <TensorType T>
constexpr size_t k_block_bytes() {
    if constexpr (T == TensorType::kQ4_K) return sizeof(BlockQ4_K);
    if constexpr (T == TensorType::kQ5_K) return sizeof(BlockQ5_K);
    return sizeof(BlockQ6_K);
}

// acc += this super-block's contribution (weights u, activations x).
template <TensorType T>
HWY_INLINE __m256 k_block_dot(const UnpackedK& u, const BlockQ8_K& x, __m256 acc) {
    __m256i isum = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k) {
        const __m256i p = _mm256_maddubs_epi16(u.q[k], load256(x.qs + 32 * k));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, u.sc[k]));
    }
    if constexpr (T == TensorType::kQ6_K) {
        const __m256i corr = _mm256_madd_epi16(u.sc16, load256(x.bsums));
        isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(corr, 5));
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(x.d * u.d), acc);
    } else {
        const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums)),
                                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums + 8)));
        const __m128i msum = _mm_madd_epi16(u.mins, bs);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(x.d * u.d), acc);
        const __m256 m = _mm256_cvtepi32_ps(_mm256_zextsi128_si256(msum));
        return _mm256_fnmadd_ps(m, _mm256_set1_ps(x.d * u.dmin), acc);
    }
}

template <TensorType T, int NR, int NC>
HWY_INLINE void k_tile(const GemmArgs& a, int64_t r, int64_t j) {
    const int64_t nbk = a.cols / kQK_K;
    const auto* xk = static_cast<const BlockQ8_K*>(a.xk);
    __m256 acc[NR][NC];
    for (int i = 0; i < NR; ++i)
        for (int c = 0; c < NC; ++c) acc[i][c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nbk; ++b) {
        UnpackedK u[NR];
        if constexpr (NC == 1) {
            for (int i = 0; i < NR; ++i) {
                const char* p = reinterpret_cast<const char*>(a.w + (r + i) * a.w_row + b * k_block_bytes<T>());
                for (size_t off = 0; off < k_block_bytes<T>(); off += 64) _mm_prefetch(p + kPrefetchAhead + off, _MM_HINT_T0);
            }
        }
        for (int i = 0; i < NR; ++i) unpack_k<T>(a.w + (r + i) * a.w_row + b * k_block_bytes<T>(), &u[i]);
        for (int c = 0; c < NC; ++c) {
            const BlockQ8_K& x = xk[(j + c) * nbk + b];
            for (int i = 0; i < NR; ++i) acc[i][c] = k_block_dot<T>(u[i], x, acc[i][c]);
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int i = 0; i < NR; ++i) a.y[(j + c) * a.rows + r + i] = hsum(acc[i][c]);
}

template <TensorType T>
void k_rows(const GemmArgs& a, int64_t r0, int64_t r1) {
    if (a.n == 1) {
        int64_t r = r0;
        for (; r + 2 <= r1; r += 2) k_tile<T, 2, 1>(a, r, 0);
        for (; r < r1; ++r) k_tile<T, 1, 1>(a, r, 0);
        return;
    }
    constexpr int64_t kPanel = 64;
    for (int64_t j0 = 0; j0 < a.n; j0 += kPanel) {
        const int64_t j1 = std::min(a.n, j0 + kPanel);
        for (int64_t r = r0; r < r1; ++r) {
            int64_t j = j0;
            for (; j + 4 <= j1; j += 4) k_tile<T, 1, 4>(a, r, j);
            for (; j < j1; ++j) k_tile<T, 1, 1>(a, r, j);
        }
    }
}

void GemmK(const GemmArgs& a, int64_t r0, int64_t r1) {
    switch (a.type) {
        case TensorType::kQ4_K: return k_rows<TensorType::kQ4_K>(a, r0, r1);
        case TensorType::kQ5_K: return k_rows<TensorType::kQ5_K>(a, r0, r1);
        case TensorType::kQ6_K: return k_rows<TensorType::kQ6_K>(a, r0, r1);
        default: return k_rows_reference(a, r0, r1);
    }
}

#else  // portable fallback

void GemmK(const GemmArgs& a, int64_t r0, int64_t r1) { k_rows_reference(a, r0, r1); }

#endif

}  // namespace HWY_NAMESPACE
}  // namespace ead::tensor
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ead::tensor {
HWY_EXPORT(GemmK);
void gemm_k(const GemmArgs& a, int64_t r0, int64_t r1) { HWY_DYNAMIC_DISPATCH(GemmK)(a, r0, r1); }
}  // namespace ead::tensor
#endif
