// Scalar conversions, the traits table, and quantize -> dequantize round trips per type.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/test_env.h"
#include "tensor/blocks.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/quants.h"
#include "tensor/simd_targets.h"
#include "tensor/type_traits.h"
#include "tensor_test_util.h"

namespace ead::tensor {
namespace {

float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Round-to-nearest-even check: no other representable value is closer, and ties pick the even code.
template <class ToF, class FromF>
void check_rne(float f, ToF to_f32, FromF from_f32, int mant_bits) {
    const uint16_t h = from_f32(f);
    const double v = to_f32(h);
    if (std::isinf(v)) return;  // overflow handled separately
    const double err = std::fabs(static_cast<double>(f) - v);
    for (int delta : {-1, 1}) {
        const uint16_t nb = static_cast<uint16_t>(h + delta);
        const double nv = to_f32(nb);
        if (std::isnan(nv) || std::isinf(nv) || ((nb ^ h) & 0x8000)) continue;
        const double nerr = std::fabs(static_cast<double>(f) - nv);
        ASSERT_LE(err, nerr) << "f=" << f << " h=" << h;
        if (err == nerr) {
            ASSERT_EQ(h & 1, 0) << "tie not to even, f=" << f;
        }
    }
    (void)mant_bits;
}

TEST(Conversions, Fp16RoundTripsEveryHalf) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const float f = fp16_to_fp32(static_cast<uint16_t>(h));
        if (std::isnan(f)) {
            EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
            continue;
        }
        ASSERT_EQ(fp32_to_fp16(f), h) << h;
    }
    EXPECT_EQ(fp16_to_fp32(0x3C00), 1.0f);
    EXPECT_EQ(fp16_to_fp32(0x0001), 5.9604644775390625e-8f);
    EXPECT_EQ(fp16_to_fp32(0x7BFF), 65504.0f);
    EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);  // rounds to infinity
    EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7BFF);
    EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
}

TEST(Conversions, Fp16AndBf16RoundToNearestEven) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<uint32_t> bits;
    const int n = test::quick() ? 20000 : 200000;
    for (int i = 0; i < n; ++i) {
        // Random floats around the half range, including subnormal halves.
        uint32_t u = bits(rng);
        const uint32_t exp = 100 + (u >> 24) % 45;  // 2^-27 .. 2^17
        u = (u & 0x807FFFFFu) | (exp << 23);
        const float f = from_bits(u);
        check_rne(f, fp16_to_fp32, fp32_to_fp16, 10);
        check_rne(from_bits(bits(rng) & 0xBFFFFFFFu), bf16_to_fp32, fp32_to_bf16, 7);
    }
    // Exact ties.
    EXPECT_EQ(fp32_to_fp16(1.0f + 1.0f / 2048), 0x3C00);                  // tie -> even (down)
    EXPECT_EQ(fp32_to_fp16(1.0f + 3.0f / 2048), 0x3C02);                  // tie -> even (up)
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808000u)), 0x3F80);              // tie -> even
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F818000u)), 0x3F82);
    EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

// The vector row conversion to F16 (used by the KV cache) against the scalar one, bit for bit, on every
// target: floats of every magnitude (half subnormals, overflow to infinity, ties), rows with tails shorter
// than a vector.
TEST(Conversions, Fp16RowMatchesScalarOnEveryTarget) {
    testutil::TargetGuard guard;
    std::mt19937 rng(8);
    std::vector<float> x;
    while (x.size() < 4096) {
        const float f = from_bits(static_cast<uint32_t>(rng()));
        if (!std::isnan(f)) x.push_back(f);
    }
    for (uint32_t h = 0; h < 0x7C00;
         h += 37) {  // exactly halfway between neighbouring halves, and the halves
        const float lo = fp16_to_fp32(static_cast<uint16_t>(h)),
                    hi = fp16_to_fp32(static_cast<uint16_t>(h + 1));
        x.push_back(lo);
        x.push_back(-0.5f * (lo + hi));
    }
    for (int64_t target : simd_targets()) {
        force_simd_target(target);
        SCOPED_TRACE(simd_target_name(target));
        for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{8}, int64_t{37}, static_cast<int64_t>(x.size())}) {
            std::vector<uint16_t> got(static_cast<size_t>(n));
            fp32_to_fp16_row(x.data(), got.data(), n);
            for (int64_t i = 0; i < n; ++i)
                ASSERT_EQ(fp32_to_fp16(x[static_cast<size_t>(i)]), got[static_cast<size_t>(i)])
                    << "x=" << x[static_cast<size_t>(i)] << " n=" << n;
        }
    }
}

// The activation quantizers the products use (kernels.h) against the scalar from_float_q8_0 /
// from_float_q8_k, bit for bit, on every compiled target: Gaussian rows of several scales, all-zero blocks,
// blocks with one large value and values exactly halfway between two quants (round half to even).
TEST(ActivationQuantizers, BitIdenticalToScalarOnEveryTarget) {
    testutil::TargetGuard guard;
    for (int64_t target : simd_targets()) {
        force_simd_target(target);
        SCOPED_TRACE(simd_target_name(target));
        std::mt19937 rng(31);
        for (int trial = 0; trial < 12; ++trial) {
            const int64_t cols = kQK_K * (1 + trial % 4);
            auto x = testutil::gaussian(static_cast<size_t>(cols), rng, trial % 3 == 0 ? 1e-3f : 10.0f);
            if (trial % 4 == 1) std::fill(x.begin(), x.begin() + kQK_K, 0.0f);  // a zero super-block
            if (trial % 4 == 2) x[5] = 1e4f;                                    // one outlier
            if (trial % 4 == 3) {  // block 0: max 127, so x * (1 / (127 / 127)) hits halves exactly
                for (int e = 0; e < kQK; ++e) x[static_cast<size_t>(e)] = 0.5f * static_cast<float>(e - 16);
                x[31] = 127.0f;
            }
            const int64_t nb = cols / kQK;
            // Q8_0 split layout against from_float_q8_0 (and the sums it implies).
            std::vector<BlockQ8_0> ref(static_cast<size_t>(nb));
            from_float_q8_0(x.data(), ref.data(), cols);
            for (int offset : {0, 8, 16}) {
                std::vector<int8_t> qs(static_cast<size_t>(cols));
                std::vector<float> d(static_cast<size_t>(nb)), s(d.size());
                std::vector<int32_t> corr(static_cast<size_t>(nb) * 8), osum(d.size());
                quantize_act_q8_0(x.data(), cols, offset, qs.data(), d.data(), corr.data(), s.data(),
                                  osum.data());
                for (int64_t b = 0; b < nb; ++b) {
                    const BlockQ8_0& r = ref[static_cast<size_t>(b)];
                    ASSERT_EQ(0, std::memcmp(r.qs, qs.data() + b * kQK, kQK))
                        << "trial " << trial << " block " << b;
                    ASSERT_EQ(fp16_to_fp32(r.d), d[static_cast<size_t>(b)]) << "block " << b;
                    int total = 0;
                    for (int k = 0; k < 8; ++k) {
                        int lane = 0;
                        for (int e = 0; e < 4; ++e) lane += r.qs[4 * k + e];
                        ASSERT_EQ(-offset * lane, corr[static_cast<size_t>(b * 8 + k)]);
                        total += lane;
                    }
                    ASSERT_EQ(-offset * total, osum[static_cast<size_t>(b)]);
                    ASSERT_EQ(fp16_to_fp32(r.d) * static_cast<float>(total), s[static_cast<size_t>(b)]);
                }
            }
            // Q8_K against from_float_q8_k, whole blocks (d, quants, 16-column sums).
            const size_t bytes = static_cast<size_t>(cols / kQK_K) * sizeof(BlockQ8_K);
            std::vector<uint8_t> want(bytes), got(bytes, 0xAB);
            type_traits(TensorType::kQ8_K).from_float(x.data(), want.data(), cols);
            quantize_act_q8_k(x.data(), got.data(), cols);
            ASSERT_EQ(0, std::memcmp(want.data(), got.data(), bytes)) << "trial " << trial;
        }
    }
}

TEST(TypeTraits, TableMatchesGgufLayouts) {
    const TensorType with[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16, TensorType::kQ4_0,
                               TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ8_0,
                               TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K, TensorType::kQ5_K,
                               TensorType::kQ6_K, TensorType::kQ8_K};
    for (TensorType t : with) {
        ASSERT_TRUE(has_kernels(t));
        const TypeTraits& tt = type_traits(t);
        EXPECT_EQ(tt.type, t);
        EXPECT_EQ(tt.block_size, gguf::layout(t).block_size);
        EXPECT_EQ(tt.type_size, gguf::layout(t).type_size);
        EXPECT_EQ(tt.name, gguf::layout(t).name);
        EXPECT_NE(tt.to_float, nullptr);
        const TensorType v = tt.vec_dot_type;
        EXPECT_TRUE(v == TensorType::kF32 || v == TensorType::kQ8_0 || v == TensorType::kQ8_K);
        EXPECT_NE(type_traits(v).from_float, nullptr);
    }
    for (TensorType t : {TensorType::kQ8_1, TensorType::kI8, TensorType::kI32, TensorType::kF64}) {
        EXPECT_FALSE(has_kernels(t));
        try {
            type_traits(t);
            ADD_FAILURE() << "no exception";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(gguf::tensor_type_name(t)), std::string::npos) << e.what();
        }
    }
}

struct RoundTrip {
    TensorType type;
    double max_rel_rms;  // ||dequant(quant(x)) - x|| / ||x|| for Gaussian x; measured values are ~3/4 of these
};

class RoundTripTest : public ::testing::TestWithParam<RoundTrip> {};

TEST_P(RoundTripTest, ErrorWithinBound) {
    const TypeTraits& tt = type_traits(GetParam().type);
    ASSERT_NE(tt.from_float, nullptr);
    std::mt19937 rng(42);
    for (int64_t blocks : {1, 3, 16}) {
        const int64_t n = tt.block_size == 1 ? 1001 : blocks * tt.block_size;
        for (float sigma : {1e-3f, 1.0f, 30.0f}) {
            const auto x = testutil::gaussian(static_cast<size_t>(n), rng, sigma);
            std::vector<uint8_t> q(gguf::row_bytes(tt.type, n));
            tt.from_float(x.data(), q.data(), n);
            std::vector<float> y(static_cast<size_t>(n));
            tt.to_float(q.data(), y.data(), n);
            double err = 0, norm = 0;
            for (int64_t i = 0; i < n; ++i) {
                err += (static_cast<double>(y[i]) - x[i]) * (y[i] - x[i]);
                norm += static_cast<double>(x[i]) * x[i];
            }
            EXPECT_LT(std::sqrt(err / norm), GetParam().max_rel_rms) << "n=" << n << " sigma=" << sigma;
        }
        // All zeros stay zeros (no NaN from a zero scale).
        const std::vector<float> z(static_cast<size_t>(n), 0.0f);
        std::vector<uint8_t> q(gguf::row_bytes(tt.type, n));
        tt.from_float(z.data(), q.data(), n);
        std::vector<float> y(static_cast<size_t>(n), 1.0f);
        tt.to_float(q.data(), y.data(), n);
        for (float v : y) ASSERT_EQ(v, 0.0f);
    }
}

INSTANTIATE_TEST_SUITE_P(
    AllQuantizers, RoundTripTest,
    ::testing::Values(RoundTrip{TensorType::kF16, 5e-4}, RoundTrip{TensorType::kBF16, 4e-3},
                      RoundTrip{TensorType::kF32, 1e-12}, RoundTrip{TensorType::kQ8_0, 0.01},
                      RoundTrip{TensorType::kQ5_0, 0.06}, RoundTrip{TensorType::kQ5_1, 0.05},
                      RoundTrip{TensorType::kQ4_0, 0.12}, RoundTrip{TensorType::kQ4_1, 0.1},
                      RoundTrip{TensorType::kQ4_K, 0.12}, RoundTrip{TensorType::kQ5_K, 0.06},
                      RoundTrip{TensorType::kQ6_K, 0.03}, RoundTrip{TensorType::kQ8_K, 0.01}),
    [](const auto& info) { return std::string(gguf::tensor_type_name(info.param.type)); });

}  // namespace
}  // namespace ead::tensor
