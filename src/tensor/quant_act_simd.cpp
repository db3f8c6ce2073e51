// Conversions of activations, Highway-dispatched: a row of floats to Q8_0 in ActLegacy's split layout and to
// Q8_K for the matrix products (tensor/kernels.h), and to F16 for the KV cache (tensor/type_traits.h).
// Bit-identical to the scalar from_float_q8_0 / from_float_q8_k / fp32_to_fp16 (F16: NaN payloads aside): the
// block maximum is exact in any order, the scale is computed by the same scalar expression, and NearestInt and
// F16C round half to even like the scalar code. They run on the calling thread before every product, while the
// other threads wait, so they are worth the vectors.
#include "tensor/simd_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/quant_act_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cstring>

#include "tensor/blocks.h"
#include "tensor/kernels.h"
#include "tensor/quants.h"

HWY_BEFORE_NAMESPACE();
namespace ead::tensor {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Largest |x[e]| over e < n (n a multiple of the vector length); 0 for an all-zero block.
template <class D>
HWY_INLINE float block_amax(D df, const float* x, int n) {
    auto m = hn::Zero(df);
    for (int e = 0; e < n; e += static_cast<int>(hn::Lanes(df)))
        m = hn::Max(m, hn::Abs(hn::LoadU(df, x + e)));
    return hn::GetLane(hn::MaxOfLanes(df, m));
}

// q[e] = round-half-even(x[e] * scale) for e < n, as int8 (|x[e] * scale| <= 127 by construction of scale),
// and as int32 in qi (for the sums: reading back the int8 stores byte by byte stalls on store forwarding).
template <class D>
HWY_INLINE void round_block(D df, const float* x, float scale, int n, int8_t* q, int32_t* qi) {
    const hn::Rebind<int32_t, D> di;
    const hn::Rebind<int8_t, D> d8;
    const auto s = hn::Set(df, scale);
    for (int e = 0; e < n; e += static_cast<int>(hn::Lanes(df))) {
        const auto v = hn::NearestInt(hn::Mul(hn::LoadU(df, x + e), s));
        hn::StoreU(v, di, qi + e);
        hn::StoreU(hn::DemoteTo(d8, v), d8, q + e);
    }
}

// d rounded to fp16 and back, inline where the target has F16C (the library call costs a vzeroupper per
// block).
HWY_INLINE float round_to_fp16(float d) {
#if HWY_TARGET == HWY_AVX2
    return _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
#else
    return fp16_to_fp32(fp32_to_fp16(d));
#endif
}

void QuantizeActQ8_0(const float* x, int64_t cols, int offset, int8_t* qs, float* d, int32_t* corr, float* s,
                     int32_t* osum) {
    // At most 32 floats per vector, so that a block is whole vectors.
    const hn::CappedTag<float, kQK> df;
    for (int64_t b = 0; b < cols / kQK; ++b) {
        const float* xb = x + b * kQK;
        const float dd = block_amax(df, xb, kQK) / 127.0f;
        const float id = dd != 0 ? 1.0f / dd : 0.0f;
        d[b] = round_to_fp16(dd);
        int total = 0;
#if HWY_TARGET == HWY_AVX2
        // Eight lanes: the block is four vectors, and two rounds of pairwise adds give the sums of its eight
        // groups of four (group k is half k % 2 of vector k / 2) in the order 0 2 4 6 1 3 5 7, which the
        // permutation puts back in order. No int32 copy of the quants is stored and read back lane by lane.
        const auto s_id = hn::Set(df, id);
        __m256i v[4];
        for (int k = 0; k < 4; ++k) {
            const auto q = hn::NearestInt(hn::Mul(hn::LoadU(df, xb + 8 * k), s_id));
            hn::StoreU(hn::DemoteTo(hn::Rebind<int8_t, decltype(df)>(), q),
                       hn::Rebind<int8_t, decltype(df)>(), qs + b * kQK + 8 * k);
            v[k] = q.raw;
        }
        const __m256i sums = _mm256_permutevar8x32_epi32(
            _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3])),
            _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(corr + b * 8),
                            _mm256_mullo_epi32(sums, _mm256_set1_epi32(-offset)));
        const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
        const __m128i h2 = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
        total = _mm_cvtsi128_si32(_mm_add_epi32(h2, _mm_shuffle_epi32(h2, _MM_SHUFFLE(2, 3, 0, 1))));
#else
        int32_t q[kQK];
        round_block(df, xb, id, kQK, qs + b * kQK, q);
        for (int k = 0; k < 8; ++k) {
            const int lane = q[4 * k] + q[4 * k + 1] + q[4 * k + 2] + q[4 * k + 3];
            corr[b * 8 + k] = -offset * lane;
            total += lane;
        }
#endif
        s[b] = d[b] * static_cast<float>(total);
        osum[b] = -offset * total;
    }
}

void QuantizeActQ8_K(const float* x, void* dst, int64_t cols) {
    const hn::CappedTag<float, kQK_K> df;
    auto* blocks = static_cast<BlockQ8_K*>(dst);
    for (int64_t i = 0; i < cols / kQK_K; ++i, x += kQK_K) {
        BlockQ8_K& b = blocks[i];
        const float amax = block_amax(df, x, kQK_K);
        if (amax == 0) {
            std::memset(&b, 0, sizeof(BlockQ8_K));
            continue;
        }
        const float iscale = 127.0f / amax;
        int32_t q[kQK_K];
        round_block(df, x, iscale, kQK_K, b.qs, q);
        for (int g = 0; g < kQK_K / 16; ++g) {
            int sum = 0;
            for (int l = 0; l < 16; ++l) sum += q[16 * g + l];
            b.bsums[g] = static_cast<int16_t>(sum);
        }
        b.d = 1.0f / iscale;
    }
}

void Fp32ToFp16Row(const float* x, uint16_t* dst, int64_t n) {
    int64_t i = 0;
#if HWY_TARGET == HWY_AVX2
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
#endif
    for (; i < n; ++i) dst[i] = fp32_to_fp16(x[i]);
}

}  // namespace HWY_NAMESPACE
}  // namespace ead::tensor
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ead::tensor {
HWY_EXPORT(QuantizeActQ8_0);
HWY_EXPORT(QuantizeActQ8_K);
HWY_EXPORT(Fp32ToFp16Row);

void quantize_act_q8_0(const float* x, int64_t cols, int offset, int8_t* qs, float* d, int32_t* corr,
                       float* s, int32_t* osum) {
    HWY_DYNAMIC_DISPATCH(QuantizeActQ8_0)(x, cols, offset, qs, d, corr, s, osum);
}

void fp32_to_fp16_row(const float* x, uint16_t* dst, int64_t n) {
    HWY_DYNAMIC_DISPATCH(Fp32ToFp16Row)(x, dst, n);
}

void quantize_act_q8_k(const float* x, void* dst, int64_t cols) {
    HWY_DYNAMIC_DISPATCH(QuantizeActQ8_K)(x, dst, cols);
}
}  // namespace ead::tensor
#endif
