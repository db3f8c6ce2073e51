// Legacy block formats (32 elements per block): Q4_0, Q4_1, Q5_0, Q5_1, Q8_0. Scalar reference code.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/quants.h"

namespace ead::tensor {

namespace {

uint32_t load_qh(const uint8_t* qh) {
    uint32_t v;
    std::memcpy(&v, qh, 4);
    return v;
}

void store_qh(uint8_t* qh, uint32_t v) { std::memcpy(qh, &v, 4); }

// Minimum and maximum of 32 floats.
void min_max(const float* x, float* mn, float* mx) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < kQK; ++j) {
        lo = std::min(lo, x[j]);
        hi = std::max(hi, x[j]);
    }
    *mn = lo;
    *mx = hi;
}

// The element of largest magnitude, with its sign.
float signed_abs_max(const float* x) {
    float amax = 0, vmax = 0;
    for (int j = 0; j < kQK; ++j) {
        if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            vmax = x[j];
        }
    }
    return vmax;
}

int block_sum(const BlockQ8_0& b) {
    int s = 0;
    for (int j = 0; j < kQK; ++j) s += b.qs[j];
    return s;
}

}  // namespace

// =====================================================================================================================
// Dequantization
// =====================================================================================================================

void to_float_q4_0(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ4_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16_to_fp32(b[i].d);
        for (int j = 0; j < kQK / 2; ++j) {
            dst[j] = static_cast<float>((b[i].qs[j] & 0xF) - 8) * d;
            dst[j + 16] = static_cast<float>((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void to_float_q4_1(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ4_1*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16_to_fp32(b[i].d);
        const float m = fp16_to_fp32(b[i].m);
        for (int j = 0; j < kQK / 2; ++j) {
            dst[j] = static_cast<float>(b[i].qs[j] & 0xF) * d + m;
            dst[j + 16] = static_cast<float>(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void to_float_q5_0(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ5_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16_to_fp32(b[i].d);
        const uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < kQK / 2; ++j) {
            const int h0 = ((qh >> j) & 1) << 4;
            const int h1 = ((qh >> (j + 16)) & 1) << 4;
            dst[j] = static_cast<float>(((b[i].qs[j] & 0xF) | h0) - 16) * d;
            dst[j + 16] = static_cast<float>(((b[i].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

void to_float_q5_1(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ5_1*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16_to_fp32(b[i].d);
        const float m = fp16_to_fp32(b[i].m);
        const uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < kQK / 2; ++j) {
            const int h0 = ((qh >> j) & 1) << 4;
            const int h1 = ((qh >> (j + 16)) & 1) << 4;
            dst[j] = static_cast<float>((b[i].qs[j] & 0xF) | h0) * d + m;
            dst[j + 16] = static_cast<float>((b[i].qs[j] >> 4) | h1) * d + m;
        }
    }
}

void to_float_q8_0(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ8_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = fp16_to_fp32(b[i].d);
        for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(b[i].qs[j]) * d;
    }
}

// =====================================================================================================================
// Quantization
// =====================================================================================================================

void from_float_q4_0(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ4_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        // The extreme value maps to -8 exactly, so the full range [-8, 7] is used.
        const float d = signed_abs_max(src) / -8.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = fp32_to_fp16(d);
        for (int j = 0; j < kQK / 2; ++j) {
            const int q0 = std::clamp(nearest_int(src[j] * id) + 8, 0, 15);
            const int q1 = std::clamp(nearest_int(src[j + 16] * id) + 8, 0, 15);
            b[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
    }
}

void from_float_q4_1(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ4_1*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        float mn, mx;
        min_max(src, &mn, &mx);
        const float d = (mx - mn) / 15.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = fp32_to_fp16(d);
        b[i].m = fp32_to_fp16(mn);
        for (int j = 0; j < kQK / 2; ++j) {
            const int q0 = std::clamp(nearest_int((src[j] - mn) * id), 0, 15);
            const int q1 = std::clamp(nearest_int((src[j + 16] - mn) * id), 0, 15);
            b[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
    }
}

void from_float_q5_0(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ5_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        const float d = signed_abs_max(src) / -16.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = fp32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            const int q0 = std::clamp(nearest_int(src[j] * id) + 16, 0, 31);
            const int q1 = std::clamp(nearest_int(src[j + 16] * id) + 16, 0, 31);
            b[i].qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= static_cast<uint32_t>(q0 >> 4) << j;
            qh |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
        }
        store_qh(b[i].qh, qh);
    }
}

void from_float_q5_1(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ5_1*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        float mn, mx;
        min_max(src, &mn, &mx);
        const float d = (mx - mn) / 31.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = fp32_to_fp16(d);
        b[i].m = fp32_to_fp16(mn);
        uint32_t qh = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            const int q0 = std::clamp(nearest_int((src[j] - mn) * id), 0, 31);
            const int q1 = std::clamp(nearest_int((src[j + 16] - mn) * id), 0, 31);
            b[i].qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= static_cast<uint32_t>(q0 >> 4) << j;
            qh |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
        }
        store_qh(b[i].qh, qh);
    }
}

void from_float_q8_0(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        float amax = 0;
        for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(src[j]));
        const float d = amax / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = fp32_to_fp16(d);
        for (int j = 0; j < kQK; ++j) b[i].qs[j] = static_cast<int8_t>(nearest_int(src[j] * id));
    }
}

// =====================================================================================================================
// Dot products with Q8_0 activations
// =====================================================================================================================

float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ4_0*>(w);
    const auto* b = static_cast<const BlockQ8_0*>(x);
    float sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        int s = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            s += ((a[i].qs[j] & 0xF) - 8) * b[i].qs[j];
            s += ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + 16];
        }
        sum += static_cast<float>(s) * (fp16_to_fp32(a[i].d) * fp16_to_fp32(b[i].d));
    }
    return sum;
}

float vec_dot_q4_1_q8_0(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ4_1*>(w);
    const auto* b = static_cast<const BlockQ8_0*>(x);
    float sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        int s = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            s += (a[i].qs[j] & 0xF) * b[i].qs[j];
            s += (a[i].qs[j] >> 4) * b[i].qs[j + 16];
        }
        const float dx = fp16_to_fp32(b[i].d);
        sum += static_cast<float>(s) * (fp16_to_fp32(a[i].d) * dx) +
               static_cast<float>(block_sum(b[i])) * (fp16_to_fp32(a[i].m) * dx);
    }
    return sum;
}

float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ5_0*>(w);
    const auto* b = static_cast<const BlockQ8_0*>(x);
    float sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const uint32_t qh = load_qh(a[i].qh);
        int s = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            const int q0 = ((a[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16;
            const int q1 = ((a[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
            s += q0 * b[i].qs[j] + q1 * b[i].qs[j + 16];
        }
        sum += static_cast<float>(s) * (fp16_to_fp32(a[i].d) * fp16_to_fp32(b[i].d));
    }
    return sum;
}

float vec_dot_q5_1_q8_0(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ5_1*>(w);
    const auto* b = static_cast<const BlockQ8_0*>(x);
    float sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const uint32_t qh = load_qh(a[i].qh);
        int s = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            const int q0 = (a[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
            const int q1 = (a[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
            s += q0 * b[i].qs[j] + q1 * b[i].qs[j + 16];
        }
        const float dx = fp16_to_fp32(b[i].d);
        sum += static_cast<float>(s) * (fp16_to_fp32(a[i].d) * dx) +
               static_cast<float>(block_sum(b[i])) * (fp16_to_fp32(a[i].m) * dx);
    }
    return sum;
}

float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const BlockQ8_0*>(w);
    const auto* b = static_cast<const BlockQ8_0*>(x);
    float sum = 0;
    for (int64_t i = 0; i < n / kQK; ++i) {
        int s = 0;
        for (int j = 0; j < kQK; ++j) s += a[i].qs[j] * b[i].qs[j];
        sum += static_cast<float>(s) * (fp16_to_fp32(a[i].d) * fp16_to_fp32(b[i].d));
    }
    return sum;
}

}  // namespace ead::tensor
