// Highway kernels for the K-quant weight formats against Q8_K activations.
// Compiled once per target (foreach_target.h) and dispatched once per row range (gemm_k).
//
// AVX2 (Q2_K .. Q6_K): each super-block of a weight row is unpacked once into eight 32-byte chunks of unsigned
// quants in element order plus per-chunk 16-bit scale vectors, then multiplied against NC activation rows with
// maddubs/madd; integer sums cover a whole super-block before one conversion to float. Mins (Q2_K, Q4_K, Q5_K)
// and the offsets of the signed formats (-4 for Q3_K, -32 for Q6_K) use the activations' 16-element sums. Q8_K
// weights and other targets use the scalar reference dot product.
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

HWY_INLINE __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// One weight super-block, unpacked.
struct UnpackedK {
    __m256i q[8];   // chunk k: elements 32k..32k+31, unsigned quants
    __m256i sc[8];  // chunk k: the 16-bit scale of each of its elements' sub-block, as madd operands
    __m128i mins;   // Q4_K / Q5_K: mins of the 8 sub-blocks (i16)
    __m256i sc16;   // Q3_K / Q6_K: the 16 scales (i16), for the offset correction
    __m256i min16;  // Q2_K: the 16 mins (i16)
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
    u->d = _cvtsh_ss(b.d);
    u->dmin = _cvtsh_ss(b.dmin);
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
    u->d = _cvtsh_ss(b.d);
    u->dmin = _cvtsh_ss(b.dmin);
}

// sc[k] for formats with 16 sub-blocks of 16 (scales: 16 x i16): chunk k covers sub-blocks 2k (lanes 0..7) and
// 2k+1 (lanes 8..15).
HWY_INLINE void expand_scales16(__m256i scales, UnpackedK* u) {
    const __m256i lo = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(scales));
    const __m256i hi = _mm256_broadcastsi128_si256(_mm256_extracti128_si256(scales, 1));
    for (int k = 0; k < 8; ++k) {
        const int kk = k % 4;
        const __m256i ctrl =
            _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(((4 * kk + 3) << 8) | (4 * kk + 2))),
                             _mm_set1_epi16(static_cast<short>(((4 * kk + 1) << 8) | (4 * kk))));
        u->sc[k] = _mm256_shuffle_epi8(k < 4 ? lo : hi, ctrl);
    }
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
    expand_scales16(u->sc16, u);
    u->d = _cvtsh_ss(b.d);
    u->dmin = 0;
}

// Chunk k of a 2-bit plane: elements 32k .. 32k+31 are bits 2(k % 4) .. 2(k % 4)+1 of qs[32(k / 4) + 0..31].
HWY_INLINE __m256i two_bits(const uint8_t* qs, int k) {
    return _mm256_and_si256(_mm256_srli_epi16(load256(qs + 32 * (k / 4)), 2 * (k % 4)), _mm256_set1_epi8(3));
}

HWY_INLINE void unpack_q2_k(const BlockQ2_K& b, UnpackedK* u) {
    for (int k = 0; k < 8; ++k) u->q[k] = two_bits(b.qs, k);
    const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    expand_scales16(_mm256_cvtepu8_epi16(_mm_and_si128(s, _mm_set1_epi8(0x0F))), u);
    u->min16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), _mm_set1_epi8(0x0F)));
    u->d = _cvtsh_ss(b.d);
    u->dmin = _cvtsh_ss(b.dmin);
}

// Q3_K as unsigned quants q + 4 = low two bits | high bit << 2 (0..7); the 4 comes back through the bsums.
HWY_INLINE void unpack_q3_k(const BlockQ3_K& b, UnpackedK* u) {
    const __m256i hm = load256(b.hmask);
    const __m256i four = _mm256_set1_epi8(4);
    for (int k = 0; k < 8; ++k) {
        const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << (4 * (k / 4) + k % 4)));
        const __m256i high = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit), four);
        u->q[k] = _mm256_or_si256(two_bits(b.qs, k), high);
    }
    // Scale s (6 bits, minus 32): low nibble of scales[s] (s < 8) or high nibble of scales[s - 8], and bits
    // 2(s / 4) .. 2(s / 4)+1 of scales[8 + s % 4] above them.
    const __m128i m4 = _mm_set1_epi8(0x0F), m3 = _mm_set1_epi8(3);
    const __m128i l = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.scales));
    const __m128i low4 = _mm_unpacklo_epi64(_mm_and_si128(l, m4), _mm_and_si128(_mm_srli_epi16(l, 4), m4));
    int32_t aux;
    std::memcpy(&aux, b.scales + 8, 4);
    const __m128i high2 = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(aux), _mm_setr_epi32(0, 2, 4, 6)), m3);
    const __m128i sc8 = _mm_sub_epi8(_mm_or_si128(low4, _mm_slli_epi16(high2, 4)), _mm_set1_epi8(32));
    u->sc16 = _mm256_cvtepi8_epi16(sc8);
    expand_scales16(u->sc16, u);
    u->d = _cvtsh_ss(b.d);
    u->dmin = 0;
}

template <TensorType T>
HWY_INLINE void unpack_k(const uint8_t* block, UnpackedK* u) {
    if constexpr (T == TensorType::kQ2_K) unpack_q2_k(*reinterpret_cast<const BlockQ2_K*>(block), u);
    if constexpr (T == TensorType::kQ3_K) unpack_q3_k(*reinterpret_cast<const BlockQ3_K*>(block), u);
    if constexpr (T == TensorType::kQ4_K) unpack_q4_k(*reinterpret_cast<const BlockQ4_K*>(block), u);
    if constexpr (T == TensorType::kQ5_K) unpack_q5_k(*reinterpret_cast<const BlockQ5_K*>(block), u);
    if constexpr (T == TensorType::kQ6_K) unpack_q6_k(*reinterpret_cast<const BlockQ6_K*>(block), u);
}

template <TensorType T>
constexpr size_t k_block_bytes() {
    if constexpr (T == TensorType::kQ2_K) return sizeof(BlockQ2_K);
    if constexpr (T == TensorType::kQ3_K) return sizeof(BlockQ3_K);
    if constexpr (T == TensorType::kQ4_K) return sizeof(BlockQ4_K);
    if constexpr (T == TensorType::kQ5_K) return sizeof(BlockQ5_K);
    return sizeof(BlockQ6_K);
}

// acc (and accm, the mins of Q4_K / Q5_K) += this super-block's contribution (weights u, activations x).
// Same operations, in the same order, as q4k_matvec_tile: batching never changes a result bit.
template <TensorType T>
HWY_INLINE void k_block_dot(const UnpackedK& u, const BlockQ8_K& x, __m256& acc, __m128& accm) {
    __m256i isum = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k) {
        const __m256i p = _mm256_maddubs_epi16(u.q[k], load256(x.qs + 32 * k));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, u.sc[k]));
    }
    if constexpr (T == TensorType::kQ6_K || T == TensorType::kQ3_K) {
        const __m256i corr = _mm256_madd_epi16(u.sc16, load256(x.bsums));
        isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(corr, T == TensorType::kQ6_K ? 5 : 2));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(u.d * x.d), acc);
    } else if constexpr (T == TensorType::kQ2_K) {
        const __m256i m = _mm256_madd_epi16(u.min16, load256(x.bsums));
        const __m128i msum = _mm_add_epi32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(u.d * x.d), acc);
        accm = _mm_fnmadd_ps(_mm_cvtepi32_ps(msum), _mm_set1_ps(u.dmin * x.d), accm);
    } else {
        const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums)),
                                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums + 8)));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(u.d * x.d), acc);
        accm = _mm_fnmadd_ps(_mm_cvtepi32_ps(_mm_madd_epi16(u.mins, bs)), _mm_set1_ps(u.dmin * x.d), accm);
    }
}

HWY_INLINE float hsum(__m256 acc, __m128 accm) {
    const __m128 s4 = _mm_add_ps(_mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1)), accm);
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

template <TensorType T, int NR, int NC>
HWY_INLINE void k_tile(const GemmArgs& a, int64_t r, int64_t j) {
    const int64_t nbk = a.cols / kQK_K;
    const auto* xk = static_cast<const BlockQ8_K*>(a.xk);
    __m256 acc[NR][NC];
    __m128 accm[NR][NC];
    for (int i = 0; i < NR; ++i)
        for (int c = 0; c < NC; ++c) {
            acc[i][c] = _mm256_setzero_ps();
            accm[i][c] = _mm_setzero_ps();
        }
    const int64_t pf = prefetch_distance(NR * static_cast<int64_t>(a.w_row));
    for (int64_t b = 0; b < nbk; ++b) {
        UnpackedK u[NR];
        if constexpr (NC == 1) {
            for (int i = 0; i < NR; ++i) {
                const char* p = reinterpret_cast<const char*>(a.w + (r + i) * a.w_row + b * k_block_bytes<T>());
                for (size_t off = 0; off < k_block_bytes<T>(); off += 64) _mm_prefetch(p + pf + off, _MM_HINT_T0);
            }
        }
        for (int i = 0; i < NR; ++i) unpack_k<T>(a.w + (r + i) * a.w_row + b * k_block_bytes<T>(), &u[i]);
        for (int c = 0; c < NC; ++c) {
            const BlockQ8_K& x = xk[(j + c) * nbk + b];
            for (int i = 0; i < NR; ++i) k_block_dot<T>(u[i], x, acc[i][c], accm[i][c]);
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int i = 0; i < NR; ++i) a.y[(j + c) * a.rows + r + i] = hsum(acc[i][c], accm[i][c]);
}

// Q4_K matrix x vector, NR rows per pass: each 32-byte load of quants is unpacked, multiplied and scaled in
// registers (nothing of the super-block is materialized); the activation's sub-block sums for the mins are
// formed once per super-block for all NR rows.
template <int NR>
HWY_INLINE void q4k_matvec_tile(const GemmArgs& a, int64_t r) {
    const int64_t nbk = a.cols / kQK_K;
    const auto* xk = static_cast<const BlockQ8_K*>(a.xk);
    const BlockQ4_K* w[NR];
    for (int i = 0; i < NR; ++i) w[i] = reinterpret_cast<const BlockQ4_K*>(a.w + (r + i) * a.w_row);
    __m256 acc[NR];
    __m128 accm[NR];
    for (int i = 0; i < NR; ++i) {
        acc[i] = _mm256_setzero_ps();
        accm[i] = _mm_setzero_ps();
    }
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const int64_t pf = prefetch_distance(NR * static_cast<int64_t>(a.w_row));
    for (int64_t b = 0; b < nbk; ++b) {
        const BlockQ8_K& x = xk[b];
        const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums)),
                                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums + 8)));
        for (int i = 0; i < NR; ++i) {
            const BlockQ4_K& blk = w[i][b];
            const char* p = reinterpret_cast<const char*>(&blk) + pf;
            _mm_prefetch(p, _MM_HINT_T0);
            _mm_prefetch(p + 64, _MM_HINT_T0);
            _mm_prefetch(p + sizeof(BlockQ4_K) - 1, _MM_HINT_T0);
            uint32_t v[3];
            std::memcpy(v, blk.scales, 12);
            const uint32_t sc_lo = v[0] & 0x3F3F3F3Fu, m_lo = v[1] & 0x3F3F3F3Fu;
            const uint32_t sc_hi = (v[2] & 0x0F0F0F0Fu) | ((v[0] >> 2) & 0x30303030u);
            const uint32_t m_hi = ((v[2] >> 4) & 0x0F0F0F0Fu) | ((v[1] >> 2) & 0x30303030u);
            const __m256i sm = _mm256_cvtepu8_epi16(_mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi),
                                                                   static_cast<int>(m_lo), static_cast<int>(m_hi)));
            const __m256i scb = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm));
            __m256i isum = _mm256_setzero_si256();
            for (int c = 0; c < 4; ++c) {
                const __m256i q = load256(blk.qs + 32 * c);
                const __m256i p0 = _mm256_maddubs_epi16(_mm256_and_si256(q, m4), load256(x.qs + 64 * c));
                const __m256i p1 =
                    _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), load256(x.qs + 64 * c + 32));
                const __m256i s0 =
                    _mm256_shuffle_epi8(scb, _mm256_set1_epi16(static_cast<short>(((4 * c + 1) << 8) | (4 * c))));
                const __m256i s1 =
                    _mm256_shuffle_epi8(scb, _mm256_set1_epi16(static_cast<short>(((4 * c + 3) << 8) | (4 * c + 2))));
                isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_madd_epi16(p0, s0), _mm256_madd_epi16(p1, s1)));
            }
            const float d = _cvtsh_ss(blk.d) * x.d;
            const float dmin = _cvtsh_ss(blk.dmin) * x.d;  // as k_block_dot: u.d * x.d, u.dmin * x.d
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d), acc[i]);
            const __m128i msum = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), bs);
            accm[i] = _mm_fnmadd_ps(_mm_cvtepi32_ps(msum), _mm_set1_ps(dmin), accm[i]);
        }
    }
    for (int i = 0; i < NR; ++i) a.y[r + i] = hsum(acc[i], accm[i]);
}

template <TensorType T>
void k_rows(const GemmArgs& a, int64_t r0, int64_t r1) {
    if (T == TensorType::kQ4_K && a.n == 1) {
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) q4k_matvec_tile<4>(a, r);
        for (; r < r1; ++r) q4k_matvec_tile<1>(a, r);
        return;
    }
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
        case TensorType::kQ2_K: return k_rows<TensorType::kQ2_K>(a, r0, r1);
        case TensorType::kQ3_K: return k_rows<TensorType::kQ3_K>(a, r0, r1);
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
