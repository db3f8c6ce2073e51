// Weights interleaved eight rows at a time (WeightLayout::kInterleaved8) for Q4_0, Q4_1, Q5_0, Q8_0, Q4_K,
// Q5_K and Q6_K: the layouts and the Highway kernels that use them. Compiled once per target
// (foreach_target.h), dispatched per row range.
//
// Rows 8g .. 8g+7 form group g, stored at g * interleaved_bytes(type, 8, cols). A group block covers the same
// columns of the group's eight rows ("row k" below is row 8g+k):
//   Q4_0, 144 bytes per 32 columns (the size of 8 blocks):
//     0..15     the rows' fp16 scales d, row k at 2k
//     16..143   chunk t = 0..3 (32 bytes): bytes 4k..4k+3 are qs[4t..4t+3] of row k, so the low nibbles
//               hold columns 4t..4t+3 of every row (row k in 32-bit lane k), the high ones 16+4t..16+4t+3
//   Q4_1, 160 bytes per 32 columns (the size of 8 blocks):
//     0..15     fp16 d of each row;  16..31  fp16 m of each row;  32..159  chunk t = 0..3 as in Q4_0
//   Q5_0, 176 bytes per 32 columns (the size of 8 blocks):
//     0..15     fp16 d of each row
//     16..175   five vectors V0..V4 of 32 bytes packing eight 5-bit quants q_0..q_7 per byte position
//               p = 4k+e, where q_i is row k's quant of column 4i+e (i < 4) or 16+4(i-4)+e (i >= 4).
//               Bits 0..4 of Vi hold q_i (i < 5). Bits 5..7 of V0, V1, V2 hold bits 0..2 of q_5, q_6,
//               q_7; bits 5..6 of V3 and V4 hold bits 3..4 of q_5 and q_6; bit 7 of V3 and of V4 hold
//               bits 3 and 4 of q_7. Unpacking all eight takes 23 vector operations (35 for nibbles
//               plus a plane of fifth bits, the layout before)
//   Q8_0, 272 bytes per 32 columns (the size of 8 blocks):
//     0..15     fp16 d of each row;  16..271  chunk t = 0..7: bytes 4k..4k+3 are qs[4t..4t+3] of row k
//   Q4_K, 1184 bytes per 256 columns (8 blocks take 1152: scales and mins are stored as whole bytes):
//     0..15     fp16 d of each row;  16..31  fp16 dmin of each row
//     32..95    scale of sub-block j of row k at 32 + 8j + k
//     96..159   min of sub-block 2p+e of row k at 96 + 16p + 2k + e   (pairs, as madd operands)
//     160..1183 chunk (c, t), c = 0..3, t = 0..7, at 160 + 32 * (8c + t): bytes 4k..4k+3 are
//               qs[32c + 4t .. 32c + 4t + 3] of row k (low nibbles: sub-block 2c, high: sub-block 2c+1)
//   Q5_K, 1440 bytes per 256 columns (8 blocks take 1408):
//     0..159    as Q4_K (d, dmin, scales, mins)
//     160..1439 unit (c, u), c = 0..3, u = 0..1, at 160 + 320c + 160u: five vectors packing eight 5-bit
//               quant vectors q_0..q_7 as Q5_0's do, where q_i (i < 4) holds the columns 64c + 4(4u + i) + e
//               of sub-block 2c and q_i (i >= 4) the columns 64c + 32 + 4(4u + i - 4) + e of sub-block 2c+1,
//               row k at byte 4k+e. Unpacking takes 23 vector operations per eight quant vectors, against 36
//               for Q4_K's nibbles plus a plane of fifth bits (the layout before)
//   Q6_K, 1680 bytes per 256 columns (the size of 8 blocks):
//     0..15     fp16 d of each row
//     16..143   scale of sub-block 2p+e (16 columns each) of row k at 16 + 16p + 2k + e
//               (pairs, as madd operands)
//     144..1679 sub-block s = 0..15 at 144 + 96s: two nibble chunks and one chunk of high bits. Byte 4k+e
//               of nibble chunk h holds row k's columns 16s + 4h + e (low nibble) and 16s + 8 + 4h + e
//               (high nibble); byte 4k+e of the high-bit chunk holds bits 4..5 of columns 16s + 4j + e at
//               bits 2j..2j+1
//
// AVX2: one maddubs multiplies four columns of all eight rows by the same four activation bytes (broadcast),
// so each row's dot product accumulates in its own 32-bit lane: no horizontal sums, and one int->float
// conversion and FMA per block serve eight rows.
#include "tensor/simd_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/matmul_interleaved_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "tensor/kernels.h"
#include "tensor/quants.h"

#ifndef EAD_TENSOR_INTERLEAVED_LAYOUT_
#define EAD_TENSOR_INTERLEAVED_LAYOUT_  // this file is included once per target: define the layout once
namespace ead::tensor::interleaved {
// Bytes of one group block (eight rows) and columns it covers.
constexpr int64_t kQ4_0Bytes = 144, kQ4_1Bytes = 160, kQ5_0Bytes = 176, kQ8_0Bytes = 272, kQ4_KBytes = 1184,
                  kQ5_KBytes = 1440, kQ6_KBytes = 1680;
constexpr int64_t kQ5_0Qs = 16;  // V0 of Q5_0's packed quants
// Column of packed quant q_i (i < 8) at byte position 4k+e of a Q5_0 group block (the layout above).
constexpr int q5_0_column(int i, int e) {
    return i < 4 ? 4 * i + e : 16 + 4 * (i - 4) + e;
}
// Packs the eight 5-bit quants q[0..7] of one byte position into v[0], v[32], ..., v[128] (Q5_0 and Q5_K).
inline void pack5(const int q[8], uint8_t* v) {
    v[0] = static_cast<uint8_t>(q[0] | (q[5] & 7) << 5);
    v[32] = static_cast<uint8_t>(q[1] | (q[6] & 7) << 5);
    v[64] = static_cast<uint8_t>(q[2] | (q[7] & 7) << 5);
    v[96] = static_cast<uint8_t>(q[3] | (q[5] >> 3) << 5 | (q[7] >> 3 & 1) << 7);
    v[128] = static_cast<uint8_t>(q[4] | (q[6] >> 3) << 5 | (q[7] >> 4) << 7);
}
// The inverse: the eight quants packed at v[0], v[32], ..., v[128].
inline void unpack5(const uint8_t* v, int q[8]) {
    for (int i = 0; i < 5; ++i) q[i] = v[32 * i] & 31;
    q[5] = v[0] >> 5 | (v[96] >> 5 & 3) << 3;
    q[6] = v[32] >> 5 | (v[128] >> 5 & 3) << 3;
    q[7] = v[64] >> 5 | (v[96] >> 7) << 3 | (v[128] >> 7) << 4;
}
constexpr int64_t kQ4_KScales = 32, kQ4_KMins = 96, kQ4_KQs = 160;
constexpr int64_t kQ5_KUnit = 160;  // bytes of one Q5_K unit (five packed vectors)
constexpr int64_t kQ6_KScales = 16, kQ6_KQs = 144, kQ6_KSub = 96;  // kQ6_KSub: bytes of one sub-block's quants

constexpr int64_t group_block_bytes(TensorType t) {
    switch (t) {
        case TensorType::kQ4_0: return kQ4_0Bytes;
        case TensorType::kQ4_1: return kQ4_1Bytes;
        case TensorType::kQ5_0: return kQ5_0Bytes;
        case TensorType::kQ8_0: return kQ8_0Bytes;
        case TensorType::kQ5_K: return kQ5_KBytes;
        case TensorType::kQ6_K: return kQ6_KBytes;
        default: return kQ4_KBytes;
    }
}

constexpr bool is_k_quant(TensorType t) {
    return t == TensorType::kQ4_K || t == TensorType::kQ5_K || t == TensorType::kQ6_K;
}
}  // namespace ead::tensor::interleaved
#endif

#if HWY_ONCE
namespace ead::tensor {

bool can_interleave(TensorType type, int64_t rows, int64_t cols) {
    if (rows <= 0 || rows % 8 != 0 || cols <= 0) return false;
    switch (type) {
        case TensorType::kQ4_0:
        case TensorType::kQ4_1:
        case TensorType::kQ5_0:
        case TensorType::kQ8_0: return cols % kQK == 0;
        case TensorType::kQ4_K:
        case TensorType::kQ5_K:
        case TensorType::kQ6_K: return cols % kQK_K == 0;
        default: return false;
    }
}

size_t interleaved_bytes(TensorType type, int64_t rows, int64_t cols) {
    if (!can_interleave(type, rows, cols)) return 0;
    const int64_t bs = interleaved::is_k_quant(type) ? kQK_K : kQK;
    return static_cast<size_t>(rows / 8 * (cols / bs) * interleaved::group_block_bytes(type));
}

void interleave_rows(TensorType type, const void* src, int64_t rows, int64_t cols, void* dst) {
    if (!can_interleave(type, rows, cols)) return;
    const int64_t bs = interleaved::is_k_quant(type) ? kQK_K : kQK;
    const int64_t nb = cols / bs;
    const int64_t gbytes = interleaved::group_block_bytes(type);
    const size_t w_row = gguf::row_bytes(type, cols);
    const auto* s = static_cast<const uint8_t*>(src);
    auto* d = static_cast<uint8_t*>(dst);
#pragma omp parallel for schedule(static)
    for (int64_t g = 0; g < rows / 8; ++g) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* out = d + (g * nb + b) * gbytes;
            std::memset(out, 0, static_cast<size_t>(gbytes));  // Q6_K's quants are or-ed in bit fields
            for (int k = 0; k < 8; ++k) {
                const uint8_t* row = s + (g * 8 + k) * w_row;
                if (type == TensorType::kQ4_0) {
                    const auto* blk = reinterpret_cast<const BlockQ4_0*>(row) + b;
                    std::memcpy(out + 2 * k, &blk->d, 2);
                    for (int t = 0; t < 4; ++t) std::memcpy(out + 16 + 32 * t + 4 * k, blk->qs + 4 * t, 4);
                } else if (type == TensorType::kQ4_1) {
                    const auto* blk = reinterpret_cast<const BlockQ4_1*>(row) + b;
                    std::memcpy(out + 2 * k, &blk->d, 2);
                    std::memcpy(out + 16 + 2 * k, &blk->m, 2);
                    for (int t = 0; t < 4; ++t) std::memcpy(out + 32 + 32 * t + 4 * k, blk->qs + 4 * t, 4);
                } else if (type == TensorType::kQ5_0) {
                    const auto* blk = reinterpret_cast<const BlockQ5_0*>(row) + b;
                    std::memcpy(out + 2 * k, &blk->d, 2);
                    uint32_t qh;
                    std::memcpy(&qh, blk->qh, 4);
                    for (int e = 0; e < 4; ++e) {
                        int q[8];
                        for (int i = 0; i < 8; ++i) {
                            const int col = interleaved::q5_0_column(i, e);
                            const int nib = col < 16 ? blk->qs[col] & 0xF : blk->qs[col - 16] >> 4;
                            q[i] = nib | static_cast<int>(qh >> col & 1) << 4;
                        }
                        interleaved::pack5(q, out + interleaved::kQ5_0Qs + 4 * k + e);
                    }
                } else if (type == TensorType::kQ8_0) {
                    const auto* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
                    std::memcpy(out + 2 * k, &blk->d, 2);
                    for (int t = 0; t < 8; ++t) std::memcpy(out + 16 + 32 * t + 4 * k, blk->qs + 4 * t, 4);
                } else if (type == TensorType::kQ6_K) {
                    const auto* blk = reinterpret_cast<const BlockQ6_K*>(row) + b;
                    std::memcpy(out + 2 * k, &blk->d, 2);
                    for (int sb = 0; sb < 16; ++sb)
                        out[interleaved::kQ6_KScales + 16 * (sb / 2) + 2 * k + sb % 2] =
                            static_cast<uint8_t>(blk->scales[sb]);
                    for (int col = 0; col < kQK_K; ++col) {
                        // GGUF's Q6_K: column col of half h = col / 128 is nibble (g >= 2) of ql[64h + 32(g &
                        // 1) + l] and bits 2g..2g+1 of qh[32h + l], where g = (col % 128) / 32 and l = col
                        // % 32.
                        const int h = col / 128, g = col % 128 / 32, l = col % 32;
                        const int lo = (blk->ql[64 * h + 32 * (g & 1) + l] >> (g >= 2 ? 4 : 0)) & 0xF;
                        const int hi = (blk->qh[32 * h + l] >> (2 * g)) & 3;
                        const int sb = col / 16, j = col % 16 / 4, e = col % 4;
                        uint8_t* sub = out + interleaved::kQ6_KQs + interleaved::kQ6_KSub * sb;
                        sub[32 * (j % 2) + 4 * k + e] |= static_cast<uint8_t>(lo << (j >= 2 ? 4 : 0));
                        sub[64 + 4 * k + e] |= static_cast<uint8_t>(hi << (2 * j));
                    }
                } else {  // Q4_K and Q5_K
                    const bool five = type == TensorType::kQ5_K;
                    const auto* b4 = reinterpret_cast<const BlockQ4_K*>(row) + b;
                    const auto* b5 = reinterpret_cast<const BlockQ5_K*>(row) + b;
                    const uint8_t* scales = five ? b5->scales : b4->scales;
                    const uint8_t* qs = five ? b5->qs : b4->qs;
                    std::memcpy(out + 2 * k, five ? &b5->d : &b4->d, 2);
                    std::memcpy(out + 16 + 2 * k, five ? &b5->dmin : &b4->dmin, 2);
                    for (int j = 0; j < 8; ++j) {
                        uint8_t sc, m;
                        get_scale_min_k4(j, scales, &sc, &m);
                        out[interleaved::kQ4_KScales + 8 * j + k] = sc;
                        out[interleaved::kQ4_KMins + 16 * (j / 2) + 2 * k + j % 2] = m;
                    }
                    if (five) {
                        // GGUF's Q5_K: column 64c + 32h + l is nibble h of qs[32c + l], with bit 2c + h of
                        // qh[l] as its fifth bit.
                        for (int c = 0; c < 4; ++c)
                            for (int u = 0; u < 2; ++u)
                                for (int e = 0; e < 4; ++e) {
                                    int q[8];
                                    for (int i = 0; i < 8; ++i) {
                                        const int h = i / 4, l = 4 * (4 * u + i % 4) + e;
                                        q[i] = (qs[32 * c + l] >> (4 * h) & 0xF) |
                                               (b5->qh[l] >> (2 * c + h) & 1) << 4;
                                    }
                                    interleaved::pack5(q, out + interleaved::kQ4_KQs +
                                                              2 * interleaved::kQ5_KUnit * c +
                                                              interleaved::kQ5_KUnit * u + 4 * k + e);
                                }
                    } else {
                        for (int c = 0; c < 4; ++c)
                            for (int t = 0; t < 8; ++t)
                                std::memcpy(out + interleaved::kQ4_KQs + 32 * (8 * c + t) + 4 * k,
                                            qs + 32 * c + 4 * t, 4);
                    }
                }
            }
        }
    }
}

}  // namespace ead::tensor
#endif

HWY_BEFORE_NAMESPACE();
namespace ead::tensor {
namespace HWY_NAMESPACE {

using namespace interleaved;  // NOLINT: layout constants

#if HWY_TARGET == HWY_AVX2

HWY_INLINE __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

HWY_INLINE __m256i bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// Prefetches each 64-byte line once, as the stream `distance` bytes ahead of the blocks being read reaches it
// (kDistance, or half of it for the legacy types' streams: stream_distance). Groups are contiguous, so a
// tile's prefetches run on into the next group's first lines.
// - Prefetching every line a block touches, duplicates included, streamed 5-15% slower from memory.
// - Far prefetches hurt. The earlier distance of one whole group ahead (7.6-41 KiB for Q8_0) decoded the
//   Qwen2.5-0.5B shape at 2 threads 3-9% slower than 1536 bytes (24 lines) does, and 2048-8192 bytes, or
//   prefetching into L2 only (T1), lost most of that again (in-process A/B; 1 thread: unchanged).
// - Measured again in the tenth session with one build switching kernels on the same weights (the two-build
//   A/B behind the figures above and below also differed by 4-10% between identical kernels), tg32 at 2
//   threads, Q4_0 / Q8_0 against these distances: none at all 0.77 / 0.91; twice the distance 0.92 / 0.95,
//   four times 0.74 / 0.92; three quarters or half of it 0.97-1.02; the T1 or T2 hint 0.96, NTA 0.92-0.96;
//   an extra T1 prefetch 4 or 8 KiB ahead 0.83-0.91. So near prefetches are needed (an earlier "within 2%
//   without any" came from the two-build A/B), and every line: in a standalone harness, prefetching only
//   every second or fourth line streamed 0.65-0.92x as fast. In a slower phase of the machine, the eleventh
//   session measured half the distance faster for Q4_0 and Q4_1 (stream_distance).
class Prefetcher {
public:
    static constexpr int64_t kDistance = 1536;
    Prefetcher() = default;
    explicit Prefetcher(const uint8_t* start, int64_t distance = kDistance)
        : next_(reinterpret_cast<uintptr_t>(start + distance) & ~uintptr_t{63}), distance_(distance) {}
    // Call before reading [p, p + bytes).
    HWY_INLINE void ahead_of(const uint8_t* p, int64_t bytes) {
        const uintptr_t end = reinterpret_cast<uintptr_t>(p + distance_ + bytes);
        for (; next_ < end; next_ += kStep) _mm_prefetch(reinterpret_cast<const char*>(next_), _MM_HINT_T0);
    }
    // The same for a stream of kBytes blocks, called once per block: block k's share of lines is
    // floor((k + 1) * kBytes / 64) - floor(k * kBytes / 64), all but one of them issued without a test.
    template <int64_t kBytes>
    HWY_INLINE void next_block() {
        constexpr int64_t kLines = kBytes / 64;
        const int64_t lines = ((k_ + 1) * kBytes >> 6) - (k_ * kBytes >> 6);
        for (int64_t i = 0; i < kLines; ++i)
            _mm_prefetch(reinterpret_cast<const char*>(next_ + kStep * static_cast<uintptr_t>(i)),
                         _MM_HINT_T0);
        if (lines > kLines)
            _mm_prefetch(reinterpret_cast<const char*>(next_ + kStep * static_cast<uintptr_t>(kLines)),
                         _MM_HINT_T0);
        next_ += kStep * static_cast<uintptr_t>(lines);
        ++k_;
    }

private:
    static constexpr uintptr_t kStep = 64;
    uintptr_t next_ = 0;
    int64_t distance_ = kDistance;
    int64_t k_ = 0;  // blocks passed (next_block)
};

// Half h of eight 5-bit quant vectors packed in five at v0 (Q5_0, Q5_K: layout above): q_0, q_4, q_1,
// q_5 for h = 0, q_2, q_6, q_3, q_7 for h = 1. 16-bit shifts pull bits in from the neighbouring byte; each
// mask keeps the byte's own bits.
HWY_INLINE void unpack5_half(const uint8_t* v0, int h, __m256i q[4]) {
    const __m256i m5 = _mm256_set1_epi8(0x1F), m3 = _mm256_set1_epi8(0x07), m18 = _mm256_set1_epi8(0x18);
    const auto v = [v0](int i) { return load256(v0 + 32 * i); };
    if (h == 0) {  // q_0, q_4, q_1, q_5
        q[0] = _mm256_and_si256(v(0), m5);
        q[1] = _mm256_and_si256(v(4), m5);
        q[2] = _mm256_and_si256(v(1), m5);
        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v(0), 5), m3),
                               _mm256_and_si256(_mm256_srli_epi16(v(3), 2), m18));
    } else {  // q_2, q_6, q_3, q_7
        q[0] = _mm256_and_si256(v(2), m5);
        q[1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v(1), 5), m3),
                               _mm256_and_si256(_mm256_srli_epi16(v(4), 2), m18));
        q[2] = _mm256_and_si256(v(3), m5);
        q[3] = _mm256_or_si256(
            _mm256_and_si256(_mm256_srli_epi16(v(2), 5), m3),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v(3), 4), _mm256_set1_epi8(0x08)),
                            _mm256_and_si256(_mm256_srli_epi16(v(4), 3), _mm256_set1_epi8(0x10))));
    }
}

// Half h (0 or 1) of a Q4_0, Q4_1 or Q5_0 group block as unsigned quants, row k in 32-bit lane k: q[2u] holds
// columns 8h + 4u + e and q[2u + 1] columns 16 + 8h + 4u + e (u < 2, e < 4) of every row.
template <TensorType T>
HWY_INLINE void unpack_half(const uint8_t* blk, int h, __m256i q[4]) {
    if constexpr (T == TensorType::kQ5_0) {
        unpack5_half(blk + kQ5_0Qs, h, q);
    } else {
        constexpr int64_t kQs = T == TensorType::kQ4_1 ? 32 : 16;  // offset of the nibble chunks
        const __m256i m4 = _mm256_set1_epi8(0x0F);
        for (int u = 0; u < 2; ++u) {
            const __m256i v = load256(blk + kQs + 32 * (2 * h + u));
            q[2 * u] = _mm256_and_si256(v, m4);
            q[2 * u + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
    }
}

// Integer dot products of one group block with activation rows j .. j+NC-1 (block b of nb): s[c] holds row
// k's in lane k, the quants' offset (8 for Q4_0, 16 for Q5_0) already corrected; Q4_1's min is added later.
template <int NC, TensorType T>
HWY_INLINE void block_sums(const GemmArgs& a, const uint8_t* blk, int64_t b, int64_t nb, int64_t j,
                           __m256i s[NC]) {
    const __m256i ones = _mm256_set1_epi16(1);
    if constexpr (T == TensorType::kQ8_0) {
        // Signed by signed: maddubs takes |w| and the activations with w's signs. Unrolling all eight chunks
        // left GCC too few registers for four activation rows (its spills cost ~25% of a hot tile); four at a
        // time ran pp64 1.09-1.11x faster than one at a time (Qwen2.5-0.5B shape, 2 threads, in one process).
        for (int c = 0; c < NC; ++c) s[c] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int t = 0; t < 8; ++t) {
            const __m256i w = load256(blk + 16 + 32 * t);
            const __m256i aw = _mm256_sign_epi8(w, w);
            for (int c = 0; c < NC; ++c) {
                const int8_t* yq = a.legacy.qs + ((j + c) * nb + b) * kQK;
                const __m256i p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(bcast4(yq + 4 * t), w));
                s[c] = _mm256_add_epi32(s[c], _mm256_madd_epi16(p, ones));
            }
        }
    } else if constexpr (T == TensorType::kQ5_0) {
        // Unsigned quants by signed activations, half a block at a time. Products per int16 lane of at most
        // 2 * 127 * 31: the four of a half fit (31496).
        for (int h = 0; h < 2; ++h) {
            __m256i q[4];
            unpack_half<T>(blk, h, q);
            for (int c = 0; c < NC; ++c) {
                const int8_t* yq = a.legacy.qs + ((j + c) * nb + b) * kQK + 8 * h;
                __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(q[0], bcast4(yq)),
                                             _mm256_maddubs_epi16(q[1], bcast4(yq + 16)));
                p = _mm256_add_epi16(p, _mm256_maddubs_epi16(q[2], bcast4(yq + 4)));
                p = _mm256_add_epi16(p, _mm256_maddubs_epi16(q[3], bcast4(yq + 20)));
                const __m256i w = _mm256_madd_epi16(p, ones);
                s[c] = h == 0 ? w : _mm256_add_epi32(s[c], w);
            }
        }
        for (int c = 0; c < NC; ++c)
            s[c] = _mm256_add_epi32(s[c], _mm256_set1_epi32(a.legacy.osum[(j + c) * nb + b]));
    } else {
        // Q4_0, Q4_1: unsigned nibbles by signed activations, the whole block at once (half at a time, as
        // Q5_0 does, measured slower). Products per int16 lane of at most 2 * 127 * 15: all eight fit
        // (30480).
        __m256i q[8];
        for (int h = 0; h < 2; ++h) unpack_half<T>(blk, h, q + 4 * h);
        for (int c = 0; c < NC; ++c) {
            const int8_t* yq = a.legacy.qs + ((j + c) * nb + b) * kQK;
            __m256i p0 = _mm256_add_epi16(_mm256_maddubs_epi16(q[0], bcast4(yq)),
                                          _mm256_maddubs_epi16(q[1], bcast4(yq + 16)));
            p0 = _mm256_add_epi16(p0, _mm256_maddubs_epi16(q[2], bcast4(yq + 4)));
            p0 = _mm256_add_epi16(p0, _mm256_maddubs_epi16(q[3], bcast4(yq + 20)));
            __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(q[4], bcast4(yq + 8)),
                                          _mm256_maddubs_epi16(q[5], bcast4(yq + 24)));
            p1 = _mm256_add_epi16(p1, _mm256_maddubs_epi16(q[6], bcast4(yq + 12)));
            p1 = _mm256_add_epi16(p1, _mm256_maddubs_epi16(q[7], bcast4(yq + 28)));
            s[c] = _mm256_madd_epi16(_mm256_add_epi16(p0, p1), ones);
            if constexpr (T == TensorType::kQ4_0)
                s[c] = _mm256_add_epi32(s[c], _mm256_set1_epi32(a.legacy.osum[(j + c) * nb + b]));
        }
    }
}

// Group of rows r .. r+7 against activation rows j .. j+NC-1 (y[j + c][r + k], k < 8, NC > 1: a single
// activation row goes to gemv_block below), for Q4_0, Q4_1 (a min m per row and block), Q5_0 and Q8_0. The
// integer sums of kChunk blocks are computed first, then scaled and accumulated. Against the tile before,
// which did both block by block, prompts ran faster (pp64 at 2 threads, two builds alternated in one
// process): Qwen2.5-0.5B shape Q4_0 1.10x, Q4_K_M 1.12x (its 896-column matrices are Q5_0), Q8_0 1.02x;
// Gemma 3 270M 1.08x.
template <int NC, TensorType T>
HWY_INLINE void legacy_tile(const GemmArgs& a, int64_t r, int64_t j) {
    static_assert(NC > 1);
    constexpr int64_t kBytes = group_block_bytes(T);
    constexpr int64_t kChunk = 16;
    const int64_t nb = a.cols / kQK;
    const uint8_t* base = a.w + r / 8 * nb * kBytes;
    __m256 acc[NC];
    for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
    for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
        const int64_t n = std::min(kChunk, nb - b0);
        __m256i sums[kChunk][NC];
        for (int64_t i = 0; i < n; ++i) {
            block_sums<NC, T>(a, base + (b0 + i) * kBytes, b0 + i, nb, j, sums[i]);
        }
        for (int64_t i = 0; i < n; ++i) {
            const int64_t b = b0 + i;
            const uint8_t* blk = base + b * kBytes;
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
            for (int c = 0; c < NC; ++c) {
                const int64_t xb = (j + c) * nb + b;
                acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[i][c]),
                                         _mm256_mul_ps(dw, _mm256_broadcast_ss(a.legacy.d + xb)), acc[c]);
                if constexpr (T == TensorType::kQ4_1) {  // + m * (d_x * sum(q_x)) per row
                    const __m256 mw =
                        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
                    acc[c] = _mm256_fmadd_ps(mw, _mm256_broadcast_ss(a.legacy.s + xb), acc[c]);
                }
            }
        }
    }
    for (int c = 0; c < NC; ++c) _mm256_storeu_ps(a.y + (j + c) * a.rows + r, acc[c]);
}

// The 8 scales of sub-block j as madd operands: lane k = (sc_k, sc_k) in int16.
HWY_INLINE __m256i q4_k_scales(const uint8_t* blk, int j) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + kQ4_KScales + 8 * j)));
    return _mm256_or_si256(v, _mm256_slli_epi32(v, 16));
}

// The quants of chunks t and t+1 (t even) of sub-block pair cp in a Q4_K (Q5_K: kFive) group block: lo[m]
// holds columns 64cp + 4(t + m) + e of sub-block 2cp, hi[m] columns 64cp + 32 + 4(t + m) + e of sub-block
// 2cp+1, row k in 32-bit lane k.
template <bool kFive>
HWY_INLINE void k_quant_pair(const uint8_t* blk, int cp, int t, __m256i lo[2], __m256i hi[2]) {
    if constexpr (kFive) {
        __m256i q[4];  // unit (cp, t / 4), half (t / 2) % 2: q_i, q_i+4, q_i+1, q_i+5 with i = t % 4
        unpack5_half(blk + kQ4_KQs + 2 * kQ5_KUnit * cp + kQ5_KUnit * (t / 4), t / 2 % 2, q);
        lo[0] = q[0], hi[0] = q[1], lo[1] = q[2], hi[1] = q[3];
    } else {
        const __m256i m4 = _mm256_set1_epi8(0x0F);
        for (int m = 0; m < 2; ++m) {
            const __m256i v = load256(blk + kQ4_KQs + 32 * (8 * cp + t + m));
            lo[m] = _mm256_and_si256(v, m4);
            hi[m] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
    }
}

// Q4_K, and Q5_K (kFive: a fifth bit per quant).
template <int NC, bool kFive>
HWY_INLINE void q4_k_tile(const GemmArgs& a, int64_t r, int64_t j) {
    constexpr int64_t kBytes = kFive ? kQ5_KBytes : kQ4_KBytes;
    // Products of at most 2 * 127 * 15 (4 bits) or 2 * 127 * 31 (5 bits) per int16 lane: eight of them fit for
    // 4 bits, four for 5 bits, so 5 bits widen after every four chunks.
    constexpr int kWiden = kFive ? 4 : 8;
    const int64_t nb = a.cols / kQK_K;
    const uint8_t* base = a.w + r / 8 * nb * kBytes;
    const auto* xk = static_cast<const BlockQ8_K*>(a.xk);
    __m256 acc[NC];
    for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = base + b * kBytes;
        __m256i isum[NC];
        for (int c = 0; c < NC; ++c) isum[c] = _mm256_setzero_si256();
        for (int cp = 0; cp < 4; ++cp) {  // sub-blocks 2cp (low nibbles) and 2cp+1 (high nibbles)
            const __m256i slo = q4_k_scales(blk, 2 * cp), shi = q4_k_scales(blk, 2 * cp + 1);
            for (int t0 = 0; t0 < 8; t0 += kWiden) {
                __m256i plo[NC], phi[NC];
                for (int c = 0; c < NC; ++c) plo[c] = phi[c] = _mm256_setzero_si256();
                for (int t = t0; t < t0 + kWiden; t += 2) {
                    __m256i lo[2], hi[2];
                    k_quant_pair<kFive>(blk, cp, t, lo, hi);
                    for (int m = 0; m < 2; ++m)
                        for (int c = 0; c < NC; ++c) {
                            const int8_t* yq = xk[(j + c) * nb + b].qs + 64 * cp + 4 * (t + m);
                            plo[c] = _mm256_add_epi16(plo[c], _mm256_maddubs_epi16(lo[m], bcast4(yq)));
                            phi[c] = _mm256_add_epi16(phi[c], _mm256_maddubs_epi16(hi[m], bcast4(yq + 32)));
                        }
                }
                for (int c = 0; c < NC; ++c)
                    isum[c] = _mm256_add_epi32(
                        isum[c], _mm256_add_epi32(_mm256_madd_epi16(plo[c], slo), _mm256_madd_epi16(phi[c], shi)));
            }
        }
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
        const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
        __m256i mins[4];
        for (int p = 0; p < 4; ++p)
            mins[p] = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ4_KMins + 16 * p)));
        for (int c = 0; c < NC; ++c) {
            const BlockQ8_K& x = xk[(j + c) * nb + b];
            // Sub-block sums of the activations, as int16 pairs (2p, 2p+1) broadcast to every lane.
            const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums)),
                                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums + 8)));
            const __m256i bsv = _mm256_broadcastsi128_si256(bs);
            __m256i msum = _mm256_madd_epi16(mins[0], _mm256_shuffle_epi32(bsv, 0x00));
            msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[1], _mm256_shuffle_epi32(bsv, 0x55)));
            msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[2], _mm256_shuffle_epi32(bsv, 0xAA)));
            msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[3], _mm256_shuffle_epi32(bsv, 0xFF)));
            const __m256 dx = _mm256_set1_ps(x.d);
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(d, dx), acc[c]);
            acc[c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, dx), acc[c]);
        }
    }
    for (int c = 0; c < NC; ++c) _mm256_storeu_ps(a.y + (j + c) * a.rows + r, acc[c]);
}

// The four quant vectors (0..63) of Q6_K sub-block `sub` (layout above): q_i holds columns 4i + e of every
// row.
HWY_INLINE void q6_k_quants(const uint8_t* sub, __m256i& q0, __m256i& q1, __m256i& q2, __m256i& q3) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    const __m256i l0 = load256(sub), l1 = load256(sub + 32), h = load256(sub + 64);
    q0 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
    q1 = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
    q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30));
    q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                         _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
}

// Byte shuffle turning lane k = (sc_2p, sc_2p+1) (int16) into (sc_2p+e, sc_2p+e), e = 0 or 1.
HWY_INLINE __m256i q6_k_scale_shuffle(int e) {
    const __m256i even = _mm256_add_epi32(
        _mm256_set1_epi32(0x01000100),
        _mm256_setr_epi32(0, 0x04040404, 0x08080808, 0x0C0C0C0C, 0, 0x04040404, 0x08080808, 0x0C0C0C0C));
    return _mm256_add_epi32(even, _mm256_set1_epi32(e ? 0x02020202 : 0));
}

// Q6_K: quants q in 0..63 with a signed 8-bit scale per 16 columns; the -32 offset is applied once per
// super-block through the activations' 16-column sums (bsums).
template <int NC>
HWY_INLINE void q6_k_tile(const GemmArgs& a, int64_t r, int64_t j) {
    const int64_t nb = a.cols / kQK_K;
    const uint8_t* base = a.w + r / 8 * nb * kQ6_KBytes;
    const auto* xk = static_cast<const BlockQ8_K*>(a.xk);
    const __m256i even = q6_k_scale_shuffle(0), odd = q6_k_scale_shuffle(1);
    __m256 acc[NC];
    for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = base + b * kQ6_KBytes;
        __m256i isum[NC], corr[NC];
        for (int c = 0; c < NC; ++c) isum[c] = corr[c] = _mm256_setzero_si256();
        for (int p = 0; p < 8; ++p) {  // sub-blocks 2p and 2p+1
            const __m256i sc = _mm256_cvtepi8_epi16(
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ6_KScales + 16 * p)));
            for (int c = 0; c < NC; ++c) {
                int32_t bs;
                std::memcpy(&bs, xk[(j + c) * nb + b].bsums + 2 * p, 4);
                corr[c] = _mm256_add_epi32(corr[c], _mm256_madd_epi16(sc, _mm256_set1_epi32(bs)));
            }
            for (int e = 0; e < 2; ++e) {
                const int sb = 2 * p + e;
                const uint8_t* sub = blk + kQ6_KQs + kQ6_KSub * sb;
                __m256i q0, q1, q2, q3;
                q6_k_quants(sub, q0, q1, q2, q3);
                const __m256i scs = _mm256_shuffle_epi8(sc, e ? odd : even);
                for (int c = 0; c < NC; ++c) {
                    const int8_t* yq = xk[(j + c) * nb + b].qs + 16 * sb;
                    // Two products of at most 63 * 128 per maddubs lane, two maddubs per sum: at most 32256.
                    const __m256i p01 = _mm256_add_epi16(_mm256_maddubs_epi16(q0, bcast4(yq)),
                                                         _mm256_maddubs_epi16(q1, bcast4(yq + 4)));
                    const __m256i p23 = _mm256_add_epi16(_mm256_maddubs_epi16(q2, bcast4(yq + 8)),
                                                         _mm256_maddubs_epi16(q3, bcast4(yq + 12)));
                    isum[c] = _mm256_add_epi32(
                        isum[c], _mm256_add_epi32(_mm256_madd_epi16(p01, scs), _mm256_madd_epi16(p23, scs)));
                }
            }
        }
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
        for (int c = 0; c < NC; ++c) {
            const __m256i s = _mm256_sub_epi32(isum[c], _mm256_slli_epi32(corr[c], 5));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s),
                                     _mm256_mul_ps(d, _mm256_set1_ps(xk[(j + c) * nb + b].d)), acc[c]);
        }
    }
    for (int c = 0; c < NC; ++c) _mm256_storeu_ps(a.y + (j + c) * a.rows + r, acc[c]);
}

// ---- Matrix x vector ----
// The tiles above serve batches. A single activation row is bound by memory instead: one stream of weights
// per thread left the read well under what the machine delivers, since reading several far-apart streams at
// once is ~40% faster on this machine kind (tensor/bandwidth.h). So gemv_lanes computes up to kMaxLanes
// row ranges in step, block by block, each range a stream of its own.

// The types whose matrix x vector lanes are unrolled and prefetch counted lines per block
// (gemv_lanes, Prefetcher::next_block); the others loop over the lanes and prefetch up to the
// distance (Prefetcher::ahead_of).
template <TensorType T>
constexpr bool kUnrolledLanes = T == TensorType::kQ4_0;

// acc += the eight dot products of group block b (of nb) with activation row j, for any interleaved type,
// prefetching pf's stream: a super-block a quarter (Q4_K, Q5_K) or an eighth (Q6_K) at a time, since
// prefetching a whole one (18-27 lines) at once streamed 2-16% slower (alternating runs, 2 threads).
template <TensorType T>
HWY_INLINE void gemv_block(const GemmArgs& x, const uint8_t* blk, int64_t b, int64_t nb, int64_t j,
                           Prefetcher& pf, __m256& acc) {
    if constexpr (T == TensorType::kQ4_K || T == TensorType::kQ5_K) {
        constexpr bool kFive = T == TensorType::kQ5_K;
        constexpr int64_t kBytes = kFive ? kQ5_KBytes : kQ4_KBytes;
        constexpr int kWiden = kFive ? 4 : 8;  // as in q4_k_tile
        const auto& xb = static_cast<const BlockQ8_K*>(x.xk)[j * nb + b];
        __m256i isum = _mm256_setzero_si256();
        for (int cp = 0; cp < 4; ++cp) {
            pf.ahead_of(blk, kBytes * (cp + 1) / 4);
            const __m256i slo = q4_k_scales(blk, 2 * cp), shi = q4_k_scales(blk, 2 * cp + 1);
            for (int t0 = 0; t0 < 8; t0 += kWiden) {
                __m256i plo = _mm256_setzero_si256(), phi = _mm256_setzero_si256();
                for (int t = t0; t < t0 + kWiden; t += 2) {
                    __m256i lo[2], hi[2];
                    k_quant_pair<kFive>(blk, cp, t, lo, hi);
                    for (int m = 0; m < 2; ++m) {
                        const int8_t* yq = xb.qs + 64 * cp + 4 * (t + m);
                        plo = _mm256_add_epi16(plo, _mm256_maddubs_epi16(lo[m], bcast4(yq)));
                        phi = _mm256_add_epi16(phi, _mm256_maddubs_epi16(hi[m], bcast4(yq + 32)));
                    }
                }
                isum = _mm256_add_epi32(
                    isum, _mm256_add_epi32(_mm256_madd_epi16(plo, slo), _mm256_madd_epi16(phi, shi)));
            }
        }
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
        const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
        const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xb.bsums)),
                                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(xb.bsums + 8)));
        const __m256i bsv = _mm256_broadcastsi128_si256(bs);
        __m256i msum = _mm256_setzero_si256();
        for (int p = 0; p < 4; ++p) {
            const __m256i mins = _mm256_cvtepu8_epi16(
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ4_KMins + 16 * p)));
            const __m256i pair = p == 0   ? _mm256_shuffle_epi32(bsv, 0x00)
                                 : p == 1 ? _mm256_shuffle_epi32(bsv, 0x55)
                                 : p == 2 ? _mm256_shuffle_epi32(bsv, 0xAA)
                                          : _mm256_shuffle_epi32(bsv, 0xFF);
            msum = p == 0 ? _mm256_madd_epi16(mins, pair)
                          : _mm256_add_epi32(msum, _mm256_madd_epi16(mins, pair));
        }
        const __m256 dx = _mm256_set1_ps(xb.d);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, dx), acc);
        acc = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, dx), acc);
    } else if constexpr (T == TensorType::kQ6_K) {
        const auto& xb = static_cast<const BlockQ8_K*>(x.xk)[j * nb + b];
        const __m256i even = q6_k_scale_shuffle(0), odd = q6_k_scale_shuffle(1);
        __m256i isum = _mm256_setzero_si256(), corr = _mm256_setzero_si256();
        for (int p = 0; p < 8; ++p) {
            pf.ahead_of(blk, kQ6_KBytes * (p + 1) / 8);
            const __m256i sc = _mm256_cvtepi8_epi16(
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ6_KScales + 16 * p)));
            int32_t bs;
            std::memcpy(&bs, xb.bsums + 2 * p, 4);
            corr = _mm256_add_epi32(corr, _mm256_madd_epi16(sc, _mm256_set1_epi32(bs)));
            for (int e = 0; e < 2; ++e) {
                const int sb = 2 * p + e;
                const uint8_t* sub = blk + kQ6_KQs + kQ6_KSub * sb;
                __m256i q0, q1, q2, q3;
                q6_k_quants(sub, q0, q1, q2, q3);
                const __m256i scs = _mm256_shuffle_epi8(sc, e ? odd : even);
                const int8_t* yq = xb.qs + 16 * sb;
                const __m256i p01 = _mm256_add_epi16(_mm256_maddubs_epi16(q0, bcast4(yq)),
                                                     _mm256_maddubs_epi16(q1, bcast4(yq + 4)));
                const __m256i p23 = _mm256_add_epi16(_mm256_maddubs_epi16(q2, bcast4(yq + 8)),
                                                     _mm256_maddubs_epi16(q3, bcast4(yq + 12)));
                isum = _mm256_add_epi32(
                    isum, _mm256_add_epi32(_mm256_madd_epi16(p01, scs), _mm256_madd_epi16(p23, scs)));
            }
        }
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
        const __m256i sum = _mm256_sub_epi32(isum, _mm256_slli_epi32(corr, 5));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(d, _mm256_set1_ps(xb.d)), acc);
    } else {
        if constexpr (kUnrolledLanes<T>) {
            pf.next_block<group_block_bytes(T)>();
        } else {
            pf.ahead_of(blk, group_block_bytes(T));
        }
        __m256i sum[1];
        block_sums<1, T>(x, blk, b, nb, j, sum);
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[0]),
                              _mm256_mul_ps(dw, _mm256_broadcast_ss(x.legacy.d + j * nb + b)), acc);
        if constexpr (T == TensorType::kQ4_1) {  // + m * (d_x * sum(q_x)) per row
            const __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
            acc = _mm256_fmadd_ps(mw, _mm256_broadcast_ss(x.legacy.s + j * nb + b), acc);
        }
    }
}

// The prefetch distance of a type's streams: kDistance for the K-quants, half of it for the legacy types
// (Q4_0, Q4_1, Q5_0, Q8_0).
// - Q5_0 and Q8_0 took half in the eighth session (two-build A/B, biased by a few percent: Qwen2.5-0.5B
//   shape Q4_K_M, mostly Q5_0, 1.00-1.12; Q8_0 1.04-1.09; Gemma 3 270M 1.01-1.04).
// - Q4_0 and Q4_1 in the eleventh. One build switching the distance on the same weights (tg32, 12-20
//   alternations), half against the full distance: Qwen2.5-0.5B shape Q4_0 1.03-1.09 at 2 threads in nine
//   runs (the full distance against itself: 0.97-1.02) and 1.14-1.16 at 1 thread; SmolLM2-135M (Q4_1)
//   1.05-1.08 at 2 threads, 1.04-1.05 at 1. The tenth session had measured Q4_0 at 0.99-1.00 with half, in
//   a quieter phase.
// - A standalone stream of Q4_0 blocks (2 threads, four lanes each) agrees: with the arithmetic replaced by
//   an XOR of each block, prefetching 1536 bytes ahead ran at 11-23 points of the read less than 256 bytes
//   ahead, and the kernel itself ran 1-8 points faster 768 bytes ahead than 1536 (medians by phase).
// - The K-quants measured mixed with half: Gemma 3 270M (Q4_K and Q6_K besides Q5_0 and Q8_0) 0.96, 1.02
//   and 0.98 (A/A 1.04, 1.01, 1.00), the Qwen2.5-0.5B shape Q4_K_M 1.03 (A/A 0.99), a Llama-shaped model
//   1024 wide all in Q4_K 1.05 and all in Q5_K 1.04-1.06 (A/A 0.99-1.02). Q5_K took twice kDistance while
//   it read a plane of fifth bits at its block's end from the first quarter on; its packed units (eleventh
//   session) read in order, and twice kDistance measured 0.98 (A/A 1.02).
template <TensorType T>
constexpr int64_t stream_distance() {
    return is_k_quant(T) ? Prefetcher::kDistance : Prefetcher::kDistance / 2;
}

template <TensorType T>
constexpr int64_t block_cols() {
    return T == TensorType::kQ4_K || T == TensorType::kQ5_K || T == TensorType::kQ6_K ? kQK_K : kQK;
}

// f(S) for each S: lanes unrolled by a fold (each_lane).
template <class F, int... S>
HWY_INLINE void fold_lanes(const F& f, std::integer_sequence<int, S...>) {
    (f(S), ...);
}

// f(s) for each lane s = 0 .. NL-1 of gemv_lanes: unrolled when kUnroll, so that every lane's pointer,
// prefetcher and accumulator stay in registers; a loop otherwise. f is inlined either way (always_inline
// lambdas). The activations' broadcasts are still loaded again for each lane: GCC has too few registers to
// keep a block's eight, and loading them once before the lanes measured no faster (docs/performance.md,
// twelfth session).
template <int NL, bool kUnroll, class F>
HWY_INLINE void each_lane(const F& f) {
    if constexpr (kUnroll) {
        fold_lanes(f, std::make_integer_sequence<int, NL>{});
    } else {
        for (int s = 0; s < NL; ++s) f(s);
    }
}

// Lane s computes n_groups consecutive groups of *a[s] from row r[s] with activation row j (y[j][...]); every
// lane reads a[0]'s activations. The lanes are unrolled for Q4_0 (kUnrolledLanes), whose blocks also prefetch
// a counted number of lines (Prefetcher::next_block) instead of looping to the distance. Decoding the
// Qwen2.5-0.5B shape in Q4_0 (tg32, one build switching kernels on the same weights, 16 alternations): 1.04
// at 1 thread and 1.02-1.07 at 2 threads, where the same switch between two identical kernels measured
// 0.99-1.05. Hot in L2 it computes 1.2x as fast.
// - Tried on the same weights and dropped: Q4_1 and Q5_0 unrolled (0.98-1.01, and 0.97-1.04 with the looping
//   prefetcher: neither faster nor slower, so they keep the loop); the loop with counted prefetches for Q4_0,
//   Q4_1, Q5_0 and Q8_0 (0.92-0.99; Q8_0 alone 0.94); Q4_0 unrolled with the looping prefetcher
//   (0.95-1.05). Q8_0 unrolled computed at 0.76x hot (too few registers for four lanes of its activation
//   chunks), the K-quants at 0.93-0.97x.
template <int NL, TensorType T>
HWY_INLINE void gemv_lanes(const GemmArgs* const* a, const int64_t* r, int64_t n_groups, int64_t j) {
    constexpr int64_t kBytes = group_block_bytes(T);
    const GemmArgs& x = *a[0];
    const int64_t nb = x.cols / block_cols<T>();
    const uint8_t* blk[NL];
    Prefetcher pf[NL];
    __m256 acc[NL];
    constexpr bool kUnroll = kUnrolledLanes<T>;
    each_lane<NL, kUnroll>([&](int s) __attribute__((always_inline)) {
        blk[s] = a[s]->w + r[s] / 8 * nb * kBytes;
        pf[s] = Prefetcher(blk[s], stream_distance<T>());
    });
    for (int64_t g = 0; g < n_groups; ++g) {
        each_lane<NL, kUnroll>([&](int s) __attribute__((always_inline)) { acc[s] = _mm256_setzero_ps(); });
        for (int64_t b = 0; b < nb; ++b) {
            each_lane<NL, kUnroll>([&](int s) __attribute__((always_inline)) {
                gemv_block<T>(x, blk[s], b, nb, j, pf[s], acc[s]);
                blk[s] += kBytes;
            });
        }
        each_lane<NL, kUnroll>([&](int s) __attribute__((always_inline)) {
            _mm256_storeu_ps(a[s]->y + j * a[s]->rows + r[s] + 8 * g, acc[s]);
        });
    }
}

template <int NL>
HWY_INLINE void gemv_lanes_of(const GemmArgs* const* a, const int64_t* r, int64_t n_groups, int64_t j) {
    switch (a[0]->type) {
        case TensorType::kQ4_0: return gemv_lanes<NL, TensorType::kQ4_0>(a, r, n_groups, j);
        case TensorType::kQ4_1: return gemv_lanes<NL, TensorType::kQ4_1>(a, r, n_groups, j);
        case TensorType::kQ5_0: return gemv_lanes<NL, TensorType::kQ5_0>(a, r, n_groups, j);
        case TensorType::kQ8_0: return gemv_lanes<NL, TensorType::kQ8_0>(a, r, n_groups, j);
        case TensorType::kQ6_K: return gemv_lanes<NL, TensorType::kQ6_K>(a, r, n_groups, j);
        case TensorType::kQ5_K: return gemv_lanes<NL, TensorType::kQ5_K>(a, r, n_groups, j);
        default: return gemv_lanes<NL, TensorType::kQ4_K>(a, r, n_groups, j);
    }
}

void GemvInterleavedLanes(const GemmArgs* const* a, const int64_t* r, int n_lanes, int64_t n_groups) {
    static_assert(kMaxLanes == 4);
    switch (n_lanes) {
        case 1: return gemv_lanes_of<1>(a, r, n_groups, 0);
        case 2: return gemv_lanes_of<2>(a, r, n_groups, 0);
        case 3: return gemv_lanes_of<3>(a, r, n_groups, 0);
        default: return gemv_lanes_of<4>(a, r, n_groups, 0);
    }
}

template <int NC>
HWY_INLINE void tile(const GemmArgs& a, int64_t r, int64_t j) {
    switch (a.type) {
        case TensorType::kQ4_0: return legacy_tile<NC, TensorType::kQ4_0>(a, r, j);
        case TensorType::kQ4_1: return legacy_tile<NC, TensorType::kQ4_1>(a, r, j);
        case TensorType::kQ5_0: return legacy_tile<NC, TensorType::kQ5_0>(a, r, j);
        case TensorType::kQ8_0: return legacy_tile<NC, TensorType::kQ8_0>(a, r, j);
        case TensorType::kQ6_K: return q6_k_tile<NC>(a, r, j);
        case TensorType::kQ5_K: return q4_k_tile<NC, true>(a, r, j);
        default: return q4_k_tile<NC, false>(a, r, j);
    }
}

void GemmInterleaved(const GemmArgs& a, int64_t r0, int64_t r1) {
    if (a.n == 1) {
        const GemmArgs* lane = &a;
        return GemvInterleavedLanes(&lane, &r0, 1, (r1 - r0) / 8);
    }
    constexpr int64_t kPanel = 64;  // activation rows that stay in L2 while the row range streams through
    const int nc = is_k_quant(a.type) ? 2 : 4;  // activation rows per tile
    const int64_t group_bytes = a.cols / (is_k_quant(a.type) ? kQK_K : kQK) * group_block_bytes(a.type);
    for (int64_t j0 = 0; j0 < a.n; j0 += kPanel) {
        const int64_t j1 = std::min(a.n, j0 + kPanel);
        // A group's weights come from memory in its first tile, where nothing announced them: each tile of a
        // group first prefetches its share of the next group's lines. pp64 at 2 threads against no prefetch,
        // in one process: Qwen2.5-0.5B shape Q4_0 1.06, Q4_K_M 1.08, Q8_0 1.02 (its tiles spend longer on
        // arithmetic); Gemma 3 270M 1.04, SmolLM2-135M 1.03.
        const int64_t tiles = (j1 - j0 + nc - 1) / nc;
        const int64_t lines_per_tile = (group_bytes / 64 + tiles - 1) / tiles;
        for (int64_t r = r0; r < r1; r += 8) {
            const char* next = reinterpret_cast<const char*>(a.w + (r / 8 + 1) * group_bytes);
            const int64_t n_lines = group_bytes / 64;
            int64_t line = r + 8 < r1 ? 0 : n_lines;  // the range's last group has no next
            auto prefetch_share = [&] {
                for (const int64_t end = std::min(n_lines, line + lines_per_tile); line < end; ++line)
                    _mm_prefetch(next + 64 * line, _MM_HINT_T0);
            };
            int64_t j = j0;
            for (; j + nc <= j1; j += nc) {
                prefetch_share();
                if (nc == 2) {
                    tile<2>(a, r, j);
                } else {
                    tile<4>(a, r, j);
                }
            }
            for (const GemmArgs* lane = &a; j < j1; ++j) {  // the panel's last rows one at a time
                prefetch_share();
                gemv_lanes_of<1>(&lane, &r, 1, j);
            }
        }
    }
}

#else  // portable fallback: the same integer sums, one row and activation row at a time

float row_dot(const GemmArgs& a, const uint8_t* base, int k, int64_t j) {
    float sum = 0;
    if (a.type == TensorType::kQ4_K || a.type == TensorType::kQ5_K) {
        const bool five = a.type == TensorType::kQ5_K;
        const int64_t nb = a.cols / kQK_K;
        const auto* xk = static_cast<const BlockQ8_K*>(a.xk) + j * nb;
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = base + b * (five ? kQ5_KBytes : kQ4_KBytes);
            uint16_t dh, mh;
            std::memcpy(&dh, blk + 2 * k, 2);
            std::memcpy(&mh, blk + 16 + 2 * k, 2);
            int isum = 0, msum = 0;
            for (int sb = 0; sb < 8; ++sb) {
                const int cp = sb / 2, shift = 4 * (sb % 2);
                int s = 0, ysum = 0;
                for (int t = 0; t < 8; ++t)
                    for (int e = 0; e < 4; ++e) {
                        int q;
                        if (five) {
                            int q8[8];  // unit (cp, t / 4); this quant is q_(t % 4) (low) or q_(t % 4 + 4)
                            unpack5(blk + kQ4_KQs + 2 * kQ5_KUnit * cp + kQ5_KUnit * (t / 4) + 4 * k + e, q8);
                            q = q8[t % 4 + 4 * (sb % 2)];
                        } else {
                            q = (blk[kQ4_KQs + 32 * (8 * cp + t) + 4 * k + e] >> shift) & 0xF;
                        }
                        const int y = xk[b].qs[32 * sb + 4 * t + e];
                        s += q * y;
                        ysum += y;
                    }
                isum += blk[kQ4_KScales + 8 * sb + k] * s;
                msum += blk[kQ4_KMins + 16 * cp + 2 * k + sb % 2] * ysum;
            }
            sum += static_cast<float>(isum) * (fp16_to_fp32(dh) * xk[b].d) -
                   static_cast<float>(msum) * (fp16_to_fp32(mh) * xk[b].d);
        }
        return sum;
    }
    if (a.type == TensorType::kQ6_K) {
        const int64_t nb = a.cols / kQK_K;
        const auto* xk = static_cast<const BlockQ8_K*>(a.xk) + j * nb;
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = base + b * kQ6_KBytes;
            uint16_t dh;
            std::memcpy(&dh, blk + 2 * k, 2);
            int isum = 0;
            for (int sb = 0; sb < 16; ++sb) {
                const uint8_t* sub = blk + kQ6_KQs + kQ6_KSub * sb;
                int s = 0;
                for (int jq = 0; jq < 4; ++jq)
                    for (int e = 0; e < 4; ++e) {
                        const int lo = (sub[32 * (jq % 2) + 4 * k + e] >> (jq >= 2 ? 4 : 0)) & 0xF;
                        const int hi = (sub[64 + 4 * k + e] >> (2 * jq)) & 3;
                        s += ((lo | hi << 4) - 32) * xk[b].qs[16 * sb + 4 * jq + e];
                    }
                isum += static_cast<int8_t>(blk[kQ6_KScales + 16 * (sb / 2) + 2 * k + sb % 2]) * s;
            }
            sum += static_cast<float>(isum) * (fp16_to_fp32(dh) * xk[b].d);
        }
        return sum;
    }
    const bool q4 = a.type == TensorType::kQ4_0, q41 = a.type == TensorType::kQ4_1, q5 = a.type == TensorType::kQ5_0;
    const int64_t gbytes = group_block_bytes(a.type);
    const int64_t nb = a.cols / kQK;
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = base + b * gbytes;
        uint16_t dh;
        std::memcpy(&dh, blk + 2 * k, 2);
        const int64_t xb = j * nb + b;
        const int8_t* yq = a.legacy.qs + xb * kQK;
        int s = 0;
        if (q41) {
            uint16_t mh;
            std::memcpy(&mh, blk + 16 + 2 * k, 2);
            for (int t = 0; t < 4; ++t)
                for (int e = 0; e < 4; ++e) {
                    const uint8_t q = blk[32 + 32 * t + 4 * k + e];
                    s += (q & 0xF) * yq[4 * t + e] + (q >> 4) * yq[16 + 4 * t + e];
                }
            sum += static_cast<float>(s) * (fp16_to_fp32(dh) * a.legacy.d[xb]) + fp16_to_fp32(mh) * a.legacy.s[xb];
            continue;
        }
        if (q4) {
            for (int t = 0; t < 4; ++t)
                for (int e = 0; e < 4; ++e) {
                    const uint8_t q = blk[16 + 32 * t + 4 * k + e];
                    s += (q & 0xF) * yq[4 * t + e] + (q >> 4) * yq[16 + 4 * t + e];
                }
            s += a.legacy.osum[xb];
        } else if (q5) {
            for (int e = 0; e < 4; ++e) {
                int q[8];
                unpack5(blk + kQ5_0Qs + 4 * k + e, q);
                for (int i = 0; i < 8; ++i) s += q[i] * yq[q5_0_column(i, e)];
            }
            s += a.legacy.osum[xb];
        } else {
            for (int t = 0; t < 8; ++t)
                for (int e = 0; e < 4; ++e) s += static_cast<int8_t>(blk[16 + 32 * t + 4 * k + e]) * yq[4 * t + e];
        }
        sum += static_cast<float>(s) * (fp16_to_fp32(dh) * a.legacy.d[xb]);
    }
    return sum;
}

void GemmInterleaved(const GemmArgs& a, int64_t r0, int64_t r1) {
    const int64_t bs = is_k_quant(a.type) ? kQK_K : kQK;
    const int64_t group_bytes = a.cols / bs * group_block_bytes(a.type);
    for (int64_t r = r0; r < r1; ++r)
        for (int64_t j = 0; j < a.n; ++j) a.y[j * a.rows + r] = row_dot(a, a.w + r / 8 * group_bytes, static_cast<int>(r % 8), j);
}

void GemvInterleavedLanes(const GemmArgs* const* a, const int64_t* r, int n_lanes, int64_t n_groups) {
    for (int s = 0; s < n_lanes; ++s) GemmInterleaved(*a[s], r[s], r[s] + 8 * n_groups);
}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace ead::tensor
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ead::tensor {
HWY_EXPORT(GemmInterleaved);
void gemm_interleaved(const GemmArgs& a, int64_t r0, int64_t r1) { HWY_DYNAMIC_DISPATCH(GemmInterleaved)(a, r0, r1); }
HWY_EXPORT(GemvInterleavedLanes);
void gemv_interleaved_lanes(const GemmArgs* const* a, const int64_t* r, int n_lanes, int64_t n_groups) {
    HWY_DYNAMIC_DISPATCH(GemvInterleavedLanes)(a, r, n_lanes, n_groups);
}
}  // namespace ead::tensor
#endif
