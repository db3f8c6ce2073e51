// Packed block layouts of the quantized tensor types, byte-for-byte as GGUF files (ggml) store them.
// Every quantized row is a sequence of these blocks; fp16 fields are IEEE half floats stored as uint16_t.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ead::tensor {

constexpr int kQK = 32;          // elements per block of the legacy formats (Q4_0 .. Q8_0)
constexpr int kQK_K = 256;       // elements per super-block of the K-quants
constexpr int kKScaleSize = 12;  // bytes of packed 6-bit scales and mins in Q4_K / Q5_K

// ---- legacy formats: 32 elements per block ----

// x[j] = (q - 8) * d;  qs[i] low nibble is element i, high nibble element i + 16.
struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// x[j] = q * d + m
struct BlockQ4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// x[j] = (q - 16) * d, q = nibble | (bit j of qh) << 4  (elements 16..31 use bits 16..31 of qh)
struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// x[j] = q * d + m
struct BlockQ5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// x[j] = q[j] * d
struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

// ---- K-quants: 256 elements per super-block ----

// 16 sub-blocks of 16: x = d * (scales[s] & 15) * q - dmin * (scales[s] >> 4), q 2-bit.
struct BlockQ2_K {
    uint8_t scales[kQK_K / 16];
    uint8_t qs[kQK_K / 4];
    uint16_t d;
    uint16_t dmin;
};
static_assert(sizeof(BlockQ2_K) == 84);

// 16 sub-blocks of 16: x = d * (scale6 - 32) * (q2 - (hmask bit ? 0 : 4)); scales are 6-bit packed in 12 bytes.
struct BlockQ3_K {
    uint8_t hmask[kQK_K / 8];
    uint8_t qs[kQK_K / 4];
    uint8_t scales[12];
    uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

// 8 sub-blocks of 32: x = d * sc * q - dmin * m, sc and m 6-bit packed in scales[12].
struct BlockQ4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[kKScaleSize];
    uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// As Q4_K with a fifth bit per element in qh.
struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[kKScaleSize];
    uint8_t qh[kQK_K / 8];
    uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// 16 sub-blocks of 16: x = d * scales[s] * (q - 32), q 6-bit = 4 low bits in ql, 2 high bits in qh.
struct BlockQ6_K {
    uint8_t ql[kQK_K / 2];
    uint8_t qh[kQK_K / 4];
    int8_t scales[kQK_K / 16];
    uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Activation format of the K-quant dot products: x = d * q, with sums of each 16 q's.
struct BlockQ8_K {
    float d;
    int8_t qs[kQK_K];
    int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

// Unpacks the 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block.
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

}  // namespace ead::tensor
