// Highway row dequantization (tensor/dequant.h), bit-identical to the scalar to_float functions of
// quant_*.cpp: quants are widened to int32 lanes, converted to float (exact) and scaled with the same float
// operations as the scalar code. Sub-block scales are formed in scalar code exactly as there (d * sc, dmin *
// m).
//
// Where the format adds an offset (Q4_1, Q5_1: q * d + m; Q4_K, Q5_K: (d * sc) * q - dmin * m) the product is
// exact in float: an fp16 scale has at most 11 significant bits, a 6-bit sub-block scale adds 6 and a quant
// of at most 5 bits 5 more, 22 <= 24. So a fused multiply-add (MulAdd / MulSub here, and what GCC contracts
// the scalar code's multiply-then-add into wherever it may) rounds once, exactly as the scalar code's final
// add does: same bits.
//
// F16 is converted with integer bit manipulation rather than the hardware conversion (F16C), which quiets
// signaling NaNs where fp16_to_fp32 keeps their bits.
#include "tensor/simd_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/dequant_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cstring>

#include "tensor/blocks.h"
#include "tensor/dequant.h"
#include "tensor/type_traits.h"

HWY_BEFORE_NAMESPACE();
namespace ead::tensor {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// At most 16 lanes, a power of two: a vector never straddles a 16- or 32-element sub-block.
using DF = hn::CappedTag<float, 16>;
using VF = hn::Vec<DF>;
using DI = hn::RebindToSigned<DF>;
using VI = hn::Vec<DI>;
using DU = hn::RebindToUnsigned<DF>;
using VU = hn::Vec<DU>;

// Lanes(DF) bytes at p, widened to 32-bit lanes.
HWY_INLINE VU load_u8(const uint8_t* p) {
    return hn::PromoteTo(DU(), hn::LoadU(hn::Rebind<uint8_t, DF>(), p));
}
HWY_INLINE VI load_i8(const int8_t* p) {
    return hn::PromoteTo(DI(), hn::LoadU(hn::Rebind<int8_t, DF>(), p));
}
// Signed value of 32-bit lanes holding small non-negative integers, minus `offset`, as float (exact).
HWY_INLINE VF to_f32(VU q, int offset) {
    return hn::ConvertTo(DF(), hn::Sub(hn::BitCast(DI(), q), hn::Set(DI(), offset)));
}

int64_t lanes() {
    return static_cast<int64_t>(hn::Lanes(DF()));
}

void row_f16(const uint16_t* s, float* dst, int64_t n) {
    const DF df;
    const DU du;
    const DI di;
    const hn::Rebind<uint16_t, DF> d16;
    const VU sign_mask = hn::Set(du, 0x8000), abs_mask = hn::Set(du, 0x7FFF), exp_mask = hn::Set(du, 0x7C00);
    const VU mant_mask = hn::Set(du, 0x3FF);
    const VU bias = hn::Set(du, 112u << 23);      // half exponent e -> float exponent e + 112
    const VU bias_inf = hn::Set(du, 224u << 23);  // half exponent 31 -> 255 (inf / NaN, payload kept)
    const VF sub_scale = hn::Set(df, 5.9604644775390625e-8f);  // 2^-24: subnormal half = mantissa * 2^-24
    int64_t i = 0;
    for (; i + lanes() <= n; i += lanes()) {
        const VU h = hn::PromoteTo(du, hn::LoadU(d16, s + i));
        const VU e = hn::And(h, exp_mask);
        const VU mag = hn::ShiftLeft<13>(hn::And(h, abs_mask));
        const VU normal = hn::IfThenElse(hn::Eq(e, exp_mask), hn::Add(mag, bias_inf), hn::Add(mag, bias));
        const VU sub =
            hn::BitCast(du, hn::Mul(hn::ConvertTo(df, hn::BitCast(di, hn::And(h, mant_mask))), sub_scale));
        const VU bits = hn::Or(hn::IfThenElse(hn::Eq(e, hn::Zero(du)), sub, normal),
                               hn::ShiftLeft<16>(hn::And(h, sign_mask)));
        hn::StoreU(hn::BitCast(df, bits), df, dst + i);
    }
    for (; i < n; ++i) dst[i] = fp16_to_fp32(s[i]);
}

void row_bf16(const uint16_t* s, float* dst, int64_t n) {
    const DF df;
    const DU du;
    const hn::Rebind<uint16_t, DF> d16;
    int64_t i = 0;
    for (; i + lanes() <= n; i += lanes())
        hn::StoreU(hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(d16, s + i)))), df, dst + i);
    for (; i < n; ++i) dst[i] = bf16_to_fp32(s[i]);
}

// Q4_0 and Q4_1: element j is the low nibble of qs[j], element j + 16 the high nibble.
template <bool kOffset>
void row_q4(const void* row, float* dst, int64_t nb) {
    const DF df;
    const VU low = hn::Set(DU(), 0xF);
    for (int64_t i = 0; i < nb; ++i, dst += kQK) {
        const uint8_t* qs;
        VF d, m;
        if constexpr (kOffset) {
            const auto& b = static_cast<const BlockQ4_1*>(row)[i];
            qs = b.qs;
            d = hn::Set(df, fp16_to_fp32(b.d));
            m = hn::Set(df, fp16_to_fp32(b.m));
        } else {
            const auto& b = static_cast<const BlockQ4_0*>(row)[i];
            qs = b.qs;
            d = hn::Set(df, fp16_to_fp32(b.d));
        }
        for (int64_t j = 0; j < kQK / 2; j += lanes()) {
            const VU q = load_u8(qs + j);
            if constexpr (kOffset) {
                hn::StoreU(hn::MulAdd(to_f32(hn::And(q, low), 0), d, m), df, dst + j);
                hn::StoreU(hn::MulAdd(to_f32(hn::ShiftRight<4>(q), 0), d, m), df, dst + j + 16);
            } else {
                hn::StoreU(hn::Mul(to_f32(hn::And(q, low), 8), d), df, dst + j);
                hn::StoreU(hn::Mul(to_f32(hn::ShiftRight<4>(q), 8), d), df, dst + j + 16);
            }
        }
    }
}

// Q5_0 and Q5_1: as Q4 with bit j of qh as the fifth bit of element j.
template <bool kOffset>
void row_q5(const void* row, float* dst, int64_t nb) {
    const DF df;
    const DU du;
    const VU low = hn::Set(du, 0xF), one = hn::Set(du, 1), iota = hn::Iota(du, 0);
    for (int64_t i = 0; i < nb; ++i, dst += kQK) {
        const uint8_t* qs;
        uint32_t qh;
        VF d, m;
        if constexpr (kOffset) {
            const auto& b = static_cast<const BlockQ5_1*>(row)[i];
            qs = b.qs;
            std::memcpy(&qh, b.qh, 4);
            d = hn::Set(df, fp16_to_fp32(b.d));
            m = hn::Set(df, fp16_to_fp32(b.m));
        } else {
            const auto& b = static_cast<const BlockQ5_0*>(row)[i];
            qs = b.qs;
            std::memcpy(&qh, b.qh, 4);
            d = hn::Set(df, fp16_to_fp32(b.d));
        }
        const VU vqh = hn::Set(du, qh);
        for (int64_t j = 0; j < kQK / 2; j += lanes()) {
            const VU q = load_u8(qs + j);
            const VU shift = hn::Add(iota, hn::Set(du, static_cast<uint32_t>(j)));
            const VU h0 = hn::ShiftLeft<4>(hn::And(vqh >> shift, one));
            const VU h1 = hn::ShiftLeft<4>(hn::And(vqh >> hn::Add(shift, hn::Set(du, 16)), one));
            const VU q0 = hn::Or(hn::And(q, low), h0), q1 = hn::Or(hn::ShiftRight<4>(q), h1);
            if constexpr (kOffset) {
                hn::StoreU(hn::MulAdd(to_f32(q0, 0), d, m), df, dst + j);
                hn::StoreU(hn::MulAdd(to_f32(q1, 0), d, m), df, dst + j + 16);
            } else {
                hn::StoreU(hn::Mul(to_f32(q0, 16), d), df, dst + j);
                hn::StoreU(hn::Mul(to_f32(q1, 16), d), df, dst + j + 16);
            }
        }
    }
}

void row_q8_0(const BlockQ8_0* b, float* dst, int64_t nb) {
    const DF df;
    for (int64_t i = 0; i < nb; ++i, dst += kQK) {
        const VF d = hn::Set(df, fp16_to_fp32(b[i].d));
        for (int64_t j = 0; j < kQK; j += lanes())
            hn::StoreU(hn::Mul(hn::ConvertTo(df, load_i8(b[i].qs + j)), d), df, dst + j);
    }
}

// Q4_K and Q5_K: sub-block j (32 elements) is nibble j % 2 of qs[32 * (j / 2) + l], plus for Q5_K bit j of
// qh[l] as the fifth bit; x = (d * sc) * q - dmin * m.
template <bool kQ5>
void row_q45_k(const void* row, float* dst, int64_t nb) {
    const DF df;
    const DU du;
    const VU low = hn::Set(du, 0xF), one = hn::Set(du, 1);
    for (int64_t i = 0; i < nb; ++i, dst += kQK_K) {
        const uint8_t *scales, *qs, *qh = nullptr;
        uint16_t dh, dminh;
        if constexpr (kQ5) {
            const auto& b = static_cast<const BlockQ5_K*>(row)[i];
            scales = b.scales;
            qs = b.qs;
            qh = b.qh;
            dh = b.d;
            dminh = b.dmin;
        } else {
            const auto& b = static_cast<const BlockQ4_K*>(row)[i];
            scales = b.scales;
            qs = b.qs;
            dh = b.d;
            dminh = b.dmin;
        }
        const float d = fp16_to_fp32(dh), dmin = fp16_to_fp32(dminh);
        for (int j = 0; j < 8; ++j) {
            uint8_t sc, mn;
            get_scale_min_k4(j, scales, &sc, &mn);
            const VF dl = hn::Set(df, d * static_cast<float>(sc));
            const VF ml = hn::Set(df, dmin * static_cast<float>(mn));
            for (int64_t l = 0; l < 32; l += lanes()) {
                const VU byte = load_u8(qs + 32 * (j / 2) + l);
                VU q = (j % 2) == 0 ? hn::And(byte, low) : hn::ShiftRight<4>(byte);
                if constexpr (kQ5)
                    q = hn::Or(q, hn::ShiftLeft<4>(hn::And(hn::ShiftRightSame(load_u8(qh + l), j), one)));
                hn::StoreU(hn::MulSub(dl, to_f32(q, 0), ml), df, dst + 32 * j + l);
            }
        }
    }
}

// Q6_K: element e = 128c + 32k + l is nibble k / 2 of ql[64c + 32(k % 2) + l] with bits 2k, 2k+1 of qh[32c +
// l] on top, minus 32; x = (d * scales[e / 16]) * q.
void row_q6_k(const BlockQ6_K* b, float* dst, int64_t nb) {
    const DF df;
    const DU du;
    const VU low = hn::Set(du, 0xF), three = hn::Set(du, 3);
    for (int64_t i = 0; i < nb; ++i, dst += kQK_K) {
        const float d = fp16_to_fp32(b[i].d);
        for (int c = 0; c < 2; ++c) {
            for (int k = 0; k < 4; ++k) {
                for (int64_t l = 0; l < 32; l += lanes()) {
                    const int64_t e = 128 * c + 32 * k + l;
                    const VU lb = load_u8(b[i].ql + 64 * c + 32 * (k % 2) + l);
                    const VU lo = k < 2 ? hn::And(lb, low) : hn::ShiftRight<4>(lb);
                    const VU hi = hn::And(hn::ShiftRightSame(load_u8(b[i].qh + 32 * c + l), 2 * k), three);
                    const VF dl = hn::Set(df, d * static_cast<float>(b[i].scales[e / 16]));
                    hn::StoreU(hn::Mul(dl, to_f32(hn::Or(lo, hn::ShiftLeft<4>(hi)), 32)), df, dst + e);
                }
            }
        }
    }
}

void row_q8_k(const BlockQ8_K* b, float* dst, int64_t nb) {
    const DF df;
    for (int64_t i = 0; i < nb; ++i, dst += kQK_K) {
        const VF d = hn::Set(df, b[i].d);
        for (int64_t e = 0; e < kQK_K; e += lanes())
            hn::StoreU(hn::Mul(d, hn::ConvertTo(df, load_i8(b[i].qs + e))), df, dst + e);
    }
}

// False for the types left to the scalar to_float.
bool DequantizeRow(TensorType type, const void* row, float* dst, int64_t cols) {
    switch (type) {
        case TensorType::kF16:
            row_f16(static_cast<const uint16_t*>(row), dst, cols);
            return true;
        case TensorType::kBF16:
            row_bf16(static_cast<const uint16_t*>(row), dst, cols);
            return true;
        case TensorType::kQ4_0:
            row_q4<false>(row, dst, cols / kQK);
            return true;
        case TensorType::kQ4_1:
            row_q4<true>(row, dst, cols / kQK);
            return true;
        case TensorType::kQ5_0:
            row_q5<false>(row, dst, cols / kQK);
            return true;
        case TensorType::kQ5_1:
            row_q5<true>(row, dst, cols / kQK);
            return true;
        case TensorType::kQ8_0:
            row_q8_0(static_cast<const BlockQ8_0*>(row), dst, cols / kQK);
            return true;
        case TensorType::kQ4_K:
            row_q45_k<false>(row, dst, cols / kQK_K);
            return true;
        case TensorType::kQ5_K:
            row_q45_k<true>(row, dst, cols / kQK_K);
            return true;
        case TensorType::kQ6_K:
            row_q6_k(static_cast<const BlockQ6_K*>(row), dst, cols / kQK_K);
            return true;
        case TensorType::kQ8_K:
            row_q8_k(static_cast<const BlockQ8_K*>(row), dst, cols / kQK_K);
            return true;
        default:
            return false;
    }
}

}  // namespace HWY_NAMESPACE
}  // namespace ead::tensor
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ead::tensor {

HWY_EXPORT(DequantizeRow);

void dequantize_row_fast(TensorType type, const void* row, float* dst, int64_t cols) {
    if (!HWY_DYNAMIC_DISPATCH(DequantizeRow)(type, row, dst, cols))
        type_traits(type).to_float(row, dst, cols);
}

}  // namespace ead::tensor
#endif
