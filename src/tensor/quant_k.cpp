// K-quants (256 elements per super-block): Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and the activation format Q8_K.
// Scalar reference code. Each format is first decoded to integer quants per element plus per-sub-block scales;
// dequantization and dot products are written on top of these decoders so the layouts live in one place.
//
// Element e of a super-block (0..255), for each format:
//   Q2_K: q = (qs[32*(e/128) + e%32] >> 2*((e%128)/32)) & 3,                  scale byte scales[e/16]
//   Q3_K: as Q2_K, minus 4 unless bit (4*(e/128) + (e%128)/32) of hmask[e%32] is set; 6-bit scale e/16
//   Q4_K: nibble (e%64)/32 of qs[32*(e/64) + e%32],                              6-bit scale and min e/32
//   Q5_K: as Q4_K plus 16 * bit (e/32) of qh[e%32]
//   Q6_K: nibble ((e%128)/64) of ql[64*(e/128) + e%64] | 2 bits 2*((e%128)/32) of qh[32*(e/128) + e%32] << 4,
//         minus 32; int8 scale e/16
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/quants.h"

namespace ead::tensor {

namespace {

// ---- decoders: integer quants per element ----

void decode_q2_k(const BlockQ2_K& b, int8_t* q) {
    for (int e = 0; e < kQK_K; ++e) q[e] = static_cast<int8_t>((b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3);
}

void decode_q3_k(const BlockQ3_K& b, int8_t* q, int* scales) {
    for (int e = 0; e < kQK_K; ++e) {
        const int lo = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
        const int hbit = (b.hmask[e % 32] >> (4 * (e / 128) + (e % 128) / 32)) & 1;
        q[e] = static_cast<int8_t>(lo - (hbit ? 0 : 4));
    }
    for (int s = 0; s < 16; ++s) {
        const int low4 = s < 8 ? (b.scales[s] & 0xF) : (b.scales[s - 8] >> 4);
        const int high2 = (b.scales[8 + s % 4] >> (2 * (s / 4))) & 3;
        scales[s] = (low4 | (high2 << 4)) - 32;
    }
}

void decode_q4_k(const BlockQ4_K& b, int8_t* q, int* sc, int* mn) {
    for (int e = 0; e < kQK_K; ++e) {
        const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
        q[e] = static_cast<int8_t>((e % 64) < 32 ? (byte & 0xF) : (byte >> 4));
    }
    for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        get_scale_min_k4(j, b.scales, &s, &m);
        sc[j] = s;
        mn[j] = m;
    }
}

void decode_q5_k(const BlockQ5_K& b, int8_t* q, int* sc, int* mn) {
    for (int e = 0; e < kQK_K; ++e) {
        const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
        const int lo = (e % 64) < 32 ? (byte & 0xF) : (byte >> 4);
        const int hi = (b.qh[e % 32] >> (e / 32)) & 1;
        q[e] = static_cast<int8_t>(lo | (hi << 4));
    }
    for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        get_scale_min_k4(j, b.scales, &s, &m);
        sc[j] = s;
        mn[j] = m;
    }
}

void decode_q6_k(const BlockQ6_K& b, int8_t* q) {
    for (int e = 0; e < kQK_K; ++e) {
        const int c = e / 128, k = (e % 128) / 32, l = e % 32;
        const uint8_t lbyte = b.ql[64 * c + 32 * (k & 1) + l];
        const int lo = k < 2 ? (lbyte & 0xF) : (lbyte >> 4);
        const int hi = (b.qh[32 * c + l] >> (2 * k)) & 3;
        q[e] = static_cast<int8_t>((lo | (hi << 4)) - 32);
    }
}

// ---- encoders ----

void pack_scales_k4(const int* sc, const int* mn, uint8_t* out) {
    for (int j = 0; j < 4; ++j) {
        out[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
        out[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
        out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
    }
}

// Quantizes 256 floats to asymmetric sub-blocks of 32 with 6-bit scales and mins: q in [0, nmax].
// Writes d, dmin (fp16), the packed scales and the quants per element.
void quantize_k_asym(const float* x, int nmax, uint16_t* d_out, uint16_t* dmin_out, uint8_t* scales_out,
                     uint8_t* q) {
    // Mins first (rounded up so x + min >= 0), then the scales that cover each sub-block's range (rounded up so
    // nothing clips): quantization error stays within one step.
    float minv[8], hi[8], max_min = 0;
    for (int j = 0; j < 8; ++j) {
        const float* xs = x + 32 * j;
        float lo = 0, top = xs[0];
        for (int l = 0; l < 32; ++l) {
            lo = std::min(lo, xs[l]);
            top = std::max(top, xs[l]);
        }
        minv[j] = -lo;
        hi[j] = top;
        max_min = std::max(max_min, minv[j]);
    }
    const uint16_t mh = fp32_to_fp16(max_min / 63.0f);
    const float dmin = fp16_to_fp32(mh);
    int sc[8], mn[8];
    float needed[8], max_scale = 0;
    for (int j = 0; j < 8; ++j) {
        mn[j] = dmin > 0 ? std::clamp(static_cast<int>(std::ceil(minv[j] / dmin)), 0, 63) : 0;
        needed[j] = std::max(0.0f, (hi[j] + dmin * static_cast<float>(mn[j])) / static_cast<float>(nmax));
        max_scale = std::max(max_scale, needed[j]);
    }
    const uint16_t dh = fp32_to_fp16(max_scale / 63.0f);
    const float d = fp16_to_fp32(dh);
    for (int j = 0; j < 8; ++j) sc[j] = d > 0 ? std::clamp(static_cast<int>(std::ceil(needed[j] / d)), 0, 63) : 0;
    for (int j = 0; j < 8; ++j) {
        const float ds = d * static_cast<float>(sc[j]);
        const float m = dmin * static_cast<float>(mn[j]);
        for (int l = 0; l < 32; ++l) {
            const int v = ds > 0 ? nearest_int((x[32 * j + l] + m) / ds) : 0;
            q[32 * j + l] = static_cast<uint8_t>(std::clamp(v, 0, nmax));
        }
    }
    *d_out = dh;
    *dmin_out = mh;
    pack_scales_k4(sc, mn, scales_out);
}

}  // namespace

// =====================================================================================================================
// Dequantization
// =====================================================================================================================

void to_float_q2_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ2_K*>(src);
    int8_t q[kQK_K];
    for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
        decode_q2_k(b[i], q);
        const float d = fp16_to_fp32(b[i].d), dmin = fp16_to_fp32(b[i].dmin);
        for (int s = 0; s < 16; ++s) {
            const float dl = d * static_cast<float>(b[i].scales[s] & 0xF);
            const float ml = dmin * static_cast<float>(b[i].scales[s] >> 4);
            for (int l = 0; l < 16; ++l) dst[16 * s + l] = dl * static_cast<float>(q[16 * s + l]) - ml;
        }
    }
}

void to_float_q3_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ3_K*>(src);
    int8_t q[kQK_K];
    int sc[16];
    for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
        decode_q3_k(b[i], q, sc);
        const float d = fp16_to_fp32(b[i].d);
        for (int s = 0; s < 16; ++s) {
            const float dl = d * static_cast<float>(sc[s]);
            for (int l = 0; l < 16; ++l) dst[16 * s + l] = dl * static_cast<float>(q[16 * s + l]);
        }
    }
}

void to_float_q4_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ4_K*>(src);
    int8_t q[kQK_K];
    int sc[8], mn[8];
    for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
        decode_q4_k(b[i], q, sc, mn);
        const float d = fp16_to_fp32(b[i].d), dmin = fp16_to_fp32(b[i].dmin);
        for (int j = 0; j < 8; ++j) {
            const float dl = d * static_cast<float>(sc[j]);
            const float ml = dmin * static_cast<float>(mn[j]);
            for (int l = 0; l < 32; ++l) dst[32 * j + l] = dl * static_cast<float>(q[32 * j + l]) - ml;
        }
    }
}

void to_float_q5_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ5_K*>(src);
    int8_t q[kQK_K];
    int sc[8], mn[8];
    for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
        decode_q5_k(b[i], q, sc, mn);
        const float d = fp16_to_fp32(b[i].d), dmin = fp16_to_fp32(b[i].dmin);
        for (int j = 0; j < 8; ++j) {
            const float dl = d * static_cast<float>(sc[j]);
            const float ml = dmin * static_cast<float>(mn[j]);
            for (int l = 0; l < 32; ++l) dst[32 * j + l] = dl * static_cast<float>(q[32 * j + l]) - ml;
        }
    }
}

void to_float_q6_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ6_K*>(src);
    int8_t q[kQK_K];
    for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
        decode_q6_k(b[i], q);
        const float d = fp16_to_fp32(b[i].d);
        for (int s = 0; s < 16; ++s) {
            const float dl = d * static_cast<float>(b[i].scales[s]);
            for (int l = 0; l < 16; ++l) dst[16 * s + l] = dl * static_cast<float>(q[16 * s + l]);
        }
    }
}

void to_float_q8_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ8_K*>(src);
    for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
        for (int e = 0; e < kQK_K; ++e) dst[e] = b[i].d * static_cast<float>(b[i].qs[e]);
    }
}

// =====================================================================================================================
// Quantization
// =====================================================================================================================

void from_float_q4_k(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ4_K*>(dst);
    uint8_t q[kQK_K];
    for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
        quantize_k_asym(src, 15, &b[i].d, &b[i].dmin, b[i].scales, q);
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l)
                b[i].qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
    }
}

void from_float_q5_k(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ5_K*>(dst);
    uint8_t q[kQK_K];
    for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
        quantize_k_asym(src, 31, &b[i].d, &b[i].dmin, b[i].scales, q);
        std::memset(b[i].qh, 0, sizeof(b[i].qh));
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                const int q0 = q[64 * c + l], q1 = q[64 * c + 32 + l];
                b[i].qs[32 * c + l] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
                b[i].qh[l] |= static_cast<uint8_t>(((q0 >> 4) << (2 * c)) | ((q1 >> 4) << (2 * c + 1)));
            }
        }
    }
}

void from_float_q6_k(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ6_K*>(dst);
    for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
        // Per sub-block of 16: a signed scale mapping the extreme element to -32.
        float scale[16], max_abs_scale = 0;
        for (int s = 0; s < 16; ++s) {
            float amax = 0, vmax = 0;
            for (int l = 0; l < 16; ++l) {
                const float v = src[16 * s + l];
                if (std::fabs(v) > amax) {
                    amax = std::fabs(v);
                    vmax = v;
                }
            }
            scale[s] = vmax / -32.0f;
            max_abs_scale = std::max(max_abs_scale, std::fabs(scale[s]));
        }
        const uint16_t dh = fp32_to_fp16(max_abs_scale / 127.0f);
        const float d = fp16_to_fp32(dh);
        b[i].d = dh;
        int q[kQK_K];
        for (int s = 0; s < 16; ++s) {
            const int sc = d > 0 ? std::clamp(nearest_int(scale[s] / d), -128, 127) : 0;
            b[i].scales[s] = static_cast<int8_t>(sc);
            const float ds = d * static_cast<float>(sc);
            for (int l = 0; l < 16; ++l) {
                const int v = ds != 0 ? nearest_int(src[16 * s + l] / ds) : 0;
                q[16 * s + l] = std::clamp(v, -32, 31) + 32;
            }
        }
        for (int c = 0; c < 2; ++c) {
            for (int l = 0; l < 32; ++l) {
                const int* qc = q + 128 * c;
                const int q1 = qc[l], q2 = qc[l + 32], q3 = qc[l + 64], q4 = qc[l + 96];
                b[i].ql[64 * c + l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
                b[i].ql[64 * c + 32 + l] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
                b[i].qh[32 * c + l] =
                    static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }
}

void from_float_q8_k(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ8_K*>(dst);
    for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
        float amax = 0;
        for (int e = 0; e < kQK_K; ++e) amax = std::max(amax, std::fabs(src[e]));
        if (amax == 0) {
            std::memset(&b[i], 0, sizeof(BlockQ8_K));
            continue;
        }
        const float iscale = 127.0f / amax;
        for (int e = 0; e < kQK_K; ++e)
            b[i].qs[e] = static_cast<int8_t>(std::clamp(nearest_int(src[e] * iscale), -127, 127));
        for (int s = 0; s < 16; ++s) {
            int sum = 0;
            for (int l = 0; l < 16; ++l) sum += b[i].qs[16 * s + l];
            b[i].bsums[s] = static_cast<int16_t>(sum);
        }
        b[i].d = 1.0f / iscale;
    }
}

// =====================================================================================================================
// Dot products with Q8_K activations
// =====================================================================================================================

namespace {

int dot16(const int8_t* a, const int8_t* b) {
    int s = 0;
    for (int l = 0; l < 16; ++l) s += a[l] * b[l];
    return s;
}

}  // namespace

float vec_dot_q2_k_q8_k(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ2_K*>(w);
    const auto* b = static_cast<const BlockQ8_K*>(x);
    int8_t q[kQK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        decode_q2_k(a[i], q);
        int isum = 0, msum = 0;
        for (int s = 0; s < 16; ++s) {
            isum += (a[i].scales[s] & 0xF) * dot16(q + 16 * s, b[i].qs + 16 * s);
            msum += (a[i].scales[s] >> 4) * b[i].bsums[s];
        }
        sum += b[i].d * fp16_to_fp32(a[i].d) * static_cast<float>(isum) -
               b[i].d * fp16_to_fp32(a[i].dmin) * static_cast<float>(msum);
    }
    return sum;
}

float vec_dot_q3_k_q8_k(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ3_K*>(w);
    const auto* b = static_cast<const BlockQ8_K*>(x);
    int8_t q[kQK_K];
    int sc[16];
    float sum = 0;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        decode_q3_k(a[i], q, sc);
        int isum = 0;
        for (int s = 0; s < 16; ++s) isum += sc[s] * dot16(q + 16 * s, b[i].qs + 16 * s);
        sum += b[i].d * fp16_to_fp32(a[i].d) * static_cast<float>(isum);
    }
    return sum;
}

float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ4_K*>(w);
    const auto* b = static_cast<const BlockQ8_K*>(x);
    int8_t q[kQK_K];
    int sc[8], mn[8];
    float sum = 0;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        decode_q4_k(a[i], q, sc, mn);
        int isum = 0, msum = 0;
        for (int j = 0; j < 8; ++j) {
            isum += sc[j] * (dot16(q + 32 * j, b[i].qs + 32 * j) + dot16(q + 32 * j + 16, b[i].qs + 32 * j + 16));
            msum += mn[j] * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        }
        sum += b[i].d * fp16_to_fp32(a[i].d) * static_cast<float>(isum) -
               b[i].d * fp16_to_fp32(a[i].dmin) * static_cast<float>(msum);
    }
    return sum;
}

float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ5_K*>(w);
    const auto* b = static_cast<const BlockQ8_K*>(x);
    int8_t q[kQK_K];
    int sc[8], mn[8];
    float sum = 0;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        decode_q5_k(a[i], q, sc, mn);
        int isum = 0, msum = 0;
        for (int j = 0; j < 8; ++j) {
            isum += sc[j] * (dot16(q + 32 * j, b[i].qs + 32 * j) + dot16(q + 32 * j + 16, b[i].qs + 32 * j + 16));
            msum += mn[j] * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        }
        sum += b[i].d * fp16_to_fp32(a[i].d) * static_cast<float>(isum) -
               b[i].d * fp16_to_fp32(a[i].dmin) * static_cast<float>(msum);
    }
    return sum;
}

float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ6_K*>(w);
    const auto* b = static_cast<const BlockQ8_K*>(x);
    int8_t q[kQK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        decode_q6_k(a[i], q);
        int isum = 0;
        for (int s = 0; s < 16; ++s) isum += a[i].scales[s] * dot16(q + 16 * s, b[i].qs + 16 * s);
        sum += b[i].d * fp16_to_fp32(a[i].d) * static_cast<float>(isum);
    }
    return sum;
}

float vec_dot_q8_k_q8_k(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ8_K*>(w);
    const auto* b = static_cast<const BlockQ8_K*>(x);
    float sum = 0;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        int isum = 0;
        for (int s = 0; s < 16; ++s) isum += dot16(a[i].qs + 16 * s, b[i].qs + 16 * s);
        sum += a[i].d * b[i].d * static_cast<float>(isum);
    }
    return sum;
}

}  // namespace ead::tensor
