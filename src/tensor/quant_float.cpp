// Float formats: F32, F16 (IEEE half) and BF16 (bfloat16), with round-to-nearest-even conversions.
#include <cmath>
#include <cstring>

#include "tensor/quants.h"

namespace ead::tensor {

namespace {

uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

float bits_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

}  // namespace

// =====================================================================================================================
// Scalar conversions
// =====================================================================================================================

float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1F;
    const uint32_t mant = h & 0x3FF;
    if (exp == 0) {
        // Zero or subnormal: mant * 2^-24, exact in float.
        const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
        return bits_float(float_bits(v) | sign);
    }
    if (exp == 31) return bits_float(sign | 0x7F800000u | (mant << 13));
    return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t fp32_to_fp16(float f) {
    const uint32_t x = float_bits(f);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
    const uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return sign | 0x7E00;   // NaN
    if (ax >= 0x47800000u) return sign | 0x7C00;  // >= 65536 (or inf): infinity
    if (ax >= 0x38800000u) {                      // normal half (exponent >= -14)
        const uint32_t mant = ax & 0x7FFFFF;
        const uint32_t e = (ax >> 23) - 127 + 15;
        uint32_t h = (e << 10) | (mant >> 13);
        const uint32_t rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // a carry may reach infinity, correctly
        return static_cast<uint16_t>(sign | h);
    }
    if (ax < 0x33000000u) return sign;  // below half of the smallest subnormal (2^-25 ties to 0)
    // Subnormal half: value / 2^-24 = m * 2^(E - 126), m the 24-bit significand, E the biased exponent.
    const uint32_t m = (ax & 0x7FFFFF) | 0x800000;
    const int shift = 126 - static_cast<int>(ax >> 23);  // 14..24
    uint32_t h = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
}

float bf16_to_fp32(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

uint16_t fp32_to_bf16(float f) {
    const uint32_t x = float_bits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet NaN
    return static_cast<uint16_t>((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
}

// =====================================================================================================================
// Rows
// =====================================================================================================================

void to_float_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }

void to_float_f16(const void* src, float* dst, int64_t n) {
    const auto* s = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(s[i]);
}

void to_float_bf16(const void* src, float* dst, int64_t n) {
    const auto* s = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(s[i]);
}

void from_float_f32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }

void from_float_f16(const float* src, void* dst, int64_t n) {
    auto* d = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_fp16(src[i]);
}

void from_float_bf16(const float* src, void* dst, int64_t n) {
    auto* d = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_bf16(src[i]);
}

float vec_dot_f32_f32(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const float*>(w);
    const auto* b = static_cast<const float*>(x);
    float sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

float vec_dot_f16_f32(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const uint16_t*>(w);
    const auto* b = static_cast<const float*>(x);
    float sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += fp16_to_fp32(a[i]) * b[i];
    return sum;
}

float vec_dot_bf16_f32(int64_t n, const void* w, const void* x) {
    const auto* a = static_cast<const uint16_t*>(w);
    const auto* b = static_cast<const float*>(x);
    float sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += bf16_to_fp32(a[i]) * b[i];
    return sum;
}

}  // namespace ead::tensor
