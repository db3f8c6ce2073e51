// The Highway ops of tensor/ops.h against their scalar references (tensor/ops_ref.h), and dequantize_row_fast
// (tensor/dequant.h) against the scalar to_float bit for bit, on every compiled SIMD target, on random data
// of many lengths (vector tails included) with edge values mixed in.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/blocks.h"
#include "tensor/dequant.h"
#include "tensor/ops.h"
#include "tensor/ops_ref.h"
#include "tensor/simd_targets.h"
#include "tensor_test_util.h"

namespace ead::tensor {
namespace {

using testutil::gaussian;
using testutil::TargetGuard;
using testutil::random_weights;

const int64_t kLengths[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100, 1000, 4099};

// Unit roundoff of float: a correctly rounded operation errs by at most kU relative, one ulp is at most 2 kU.
constexpr double kU = 0x1p-24;
// Results below FLT_MIN are subnormal, with only absolute precision 2^-149; exp of arguments below about
// -87.3 lands there (and the references overflow exp(|x|) to inf above 88.7, giving 0 where the fast ops give
// a tiny subnormal), so every approximate comparison also allows this absolute slack.
constexpr double kTiny = 1e-38;

// Runs body() once for each compiled target, with dispatch forced to it.
template <class F>
void on_every_target(const F& body) {
    TargetGuard guard;
    const auto targets = simd_targets();
    ASSERT_FALSE(targets.empty());
    for (int64_t target : targets) {
        force_simd_target(target);
        SCOPED_TRACE(simd_target_name(target));
        body();
    }
}

// Gaussian values with edge cases planted at spread-out positions: large magnitudes (exp overflow / underflow
// in naive formulas), exact zeros of both signs, a tiny value.
std::vector<float> inputs(int64_t n, std::mt19937& rng, float sigma) {
    auto x = gaussian(static_cast<size_t>(n), rng, sigma);
    const float edges[] = {80.0f,  -80.0f, 100.0f, -100.0f, 0.0f,   -0.0f,
                           1e-30f, -88.5f, 88.5f,  20.0f,   -20.0f, -5.0f};
    if (n >= 16) {
        for (size_t k = 0; k < std::size(edges); ++k) x[(k * 37 + 5) % static_cast<size_t>(n)] = edges[k];
    }
    return x;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// EXPECT |got[i] - want[i]| <= tol(i) for all i, reporting at most a few failures per call.
template <class Tol>
void expect_close(const std::vector<float>& got, const std::vector<float>& want, const Tol& tol,
                  const char* what) {
    ASSERT_EQ(got.size(), want.size());
    int failures = 0;
    for (size_t i = 0; i < got.size() && failures < 5; ++i) {
        const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
        if (!(err <= tol(i))) {
            ++failures;
            ADD_FAILURE() << what << " n=" << got.size() << " i=" << i << " got=" << got[i]
                          << " want=" << want[i] << " err=" << err << " tol=" << tol(i);
        }
    }
}

// ---- ops ----

TEST(SimdOps, RmsNormMatchesRef) {
    // Both round the same float operations (the scale, x * inv, * w) in the same order; only the order of the
    // double additions of the sum of squares differs, which can move the rounded scale by one ulp. Bound: 4
    // ulp (8 kU) relative.
    on_every_target([] {
        std::mt19937 rng(11);
        for (int64_t n : kLengths) {
            const auto x = gaussian(static_cast<size_t>(n), rng, 3.0f),
                       w = gaussian(static_cast<size_t>(n), rng);
            const size_t sn = static_cast<size_t>(n);
            for (const float* wp : {w.data(), static_cast<const float*>(nullptr)}) {
                std::vector<float> got(sn), want(sn);
                rms_norm(x.data(), wp, got.data(), n, 1e-6f);
                ref::rms_norm(x.data(), wp, want.data(), n, 1e-6f);
                expect_close(
                    got, want, [&](size_t i) { return 8 * kU * std::fabs(want[i]); }, "rms_norm");
                std::vector<float> in_place = x;
                rms_norm(in_place.data(), wp, in_place.data(), n, 1e-6f);
                EXPECT_TRUE(same_bits(in_place, got)) << "in place, n=" << n;
            }
            // All zeros: exactly zero out (the eps keeps the scale finite).
            const std::vector<float> zero(sn, 0.0f);
            std::vector<float> out(sn, NAN);
            rms_norm(zero.data(), w.data(), out.data(), n, 1e-6f);
            for (float v : out) EXPECT_EQ(v, 0.0f);
        }
    });
}

TEST(SimdOps, SoftmaxMatchesRef) {
    // Per element: exp (Highway: <= 1 ulp; glibc expf: < 1 ulp) of the same argument x - max, the double sum
    // (same terms to within those errors, so its reciprocal moves by at most their weighted mean), the
    // rounding of the reciprocal to float and the final product: about 6 ulp in the worst case. Bound: 1e-6
    // relative (8.4 ulp at the coarsest, 2^-23) plus kTiny for results that underflow to subnormals.
    on_every_target([] {
        std::mt19937 rng(12);
        for (int64_t n : kLengths) {
            const auto x = inputs(n, rng, 10.0f);
            std::vector<float> got = x, want = x;
            softmax(got.data(), n);
            ref::softmax(want.data(), n);
            expect_close(
                got, want, [&](size_t i) { return 1e-6 * std::fabs(want[i]) + kTiny; }, "softmax");
            double total = 0;
            for (float v : got) total += v;
            EXPECT_NEAR(total, 1.0, 1e-5) << "n=" << n;

            // Masked entries (-inf, as causal attention writes them) give exactly 0.
            std::vector<float> masked = gaussian(static_cast<size_t>(n), rng, 3.0f);
            for (int64_t i = 1; i < n; i += 3)
                masked[static_cast<size_t>(i)] = -std::numeric_limits<float>::infinity();
            std::vector<float> mgot = masked, mwant = masked;
            softmax(mgot.data(), n);
            ref::softmax(mwant.data(), n);
            expect_close(
                mgot, mwant, [&](size_t i) { return 1e-6 * std::fabs(mwant[i]) + kTiny; }, "masked softmax");
            for (int64_t i = 1; i < n; i += 3) EXPECT_EQ(mgot[static_cast<size_t>(i)], 0.0f);
        }
    });
}

TEST(SimdOps, SiluMatchesRef) {
    // ref: x / (1 + exp(-x)), with glibc expf (< 1 ulp) and two roundings: < 2 ulp. fast: exp(-|x|) (Highway,
    // <= 1 ulp), 1 + e, the division and the product: <= 2.5 ulp. Together < 4.5 ulp (about 5.4e-7 at the
    // coarsest). Bound: 1e-6 relative plus kTiny (x below -87.3: e subnormal, and ref gives -0 below -88.7).
    on_every_target([] {
        std::mt19937 rng(13);
        for (int64_t n : kLengths) {
            const auto x = inputs(n, rng, 6.0f);
            std::vector<float> got(x.size()), want(x.size());
            silu(x.data(), got.data(), n);
            ref::silu(x.data(), want.data(), n);
            expect_close(
                got, want, [&](size_t i) { return 1e-6 * std::fabs(want[i]) + kTiny; }, "silu");
            std::vector<float> in_place = x;
            silu(in_place.data(), in_place.data(), n);
            EXPECT_TRUE(same_bits(in_place, got)) << "in place, n=" << n;
        }
    });
}

TEST(SimdOps, GeluTanhMatchesRef) {
    // Both form u = k (x + c x^3) with the same float operations. ref: 0.5 x (1 + tanh(u)); fast: x
    // sigmoid(2u). Where tanh(u) is near -1, the reference's 1 + tanh(u) cancels: tanhf's error (a couple of
    // ulp of values near 1, i.e. ~2^-24 each) becomes absolute, so ref is off by up to about 0.5 |x| 4 kU = 2
    // kU |x| there (and is 0 where the true value is merely tiny). Elsewhere both are within a few ulp as for
    // silu. Bound: 1e-6 relative plus 2 kU |x| plus kTiny.
    on_every_target([] {
        std::mt19937 rng(14);
        for (int64_t n : kLengths) {
            const auto x = inputs(n, rng, 4.0f);
            std::vector<float> got(x.size()), want(x.size());
            gelu_tanh(x.data(), got.data(), n);
            ref::gelu_tanh(x.data(), want.data(), n);
            expect_close(
                got, want,
                [&](size_t i) { return 1e-6 * std::fabs(want[i]) + 2 * kU * std::fabs(x[i]) + kTiny; },
                "gelu_tanh");
            std::vector<float> in_place = x;
            gelu_tanh(in_place.data(), in_place.data(), n);
            EXPECT_TRUE(same_bits(in_place, got)) << "in place, n=" << n;
        }
    });
}

TEST(SimdOps, ElementwiseMatchRef) {
    // add, mul, scale: one correctly rounded operation per element in both, so bit-identical.
    // axpy: the fast version may fuse s * x + y (one rounding) where ref rounds the product first: they
    // differ by at most that product rounding plus one rounding of the result, kU (|s x| + |y_new|); bound
    // twice that.
    on_every_target([] {
        std::mt19937 rng(15);
        for (int64_t n : kLengths) {
            const size_t sn = static_cast<size_t>(n);
            const auto a = inputs(n, rng, 2.0f), b = gaussian(sn, rng);
            std::vector<float> got(sn), want(sn);
            add(a.data(), b.data(), got.data(), n);
            ref::add(a.data(), b.data(), want.data(), n);
            EXPECT_TRUE(same_bits(got, want)) << "add n=" << n;
            mul(a.data(), b.data(), got.data(), n);
            ref::mul(a.data(), b.data(), want.data(), n);
            EXPECT_TRUE(same_bits(got, want)) << "mul n=" << n;
            got = a;
            want = a;
            scale(got.data(), 0.37f, n);
            ref::scale(want.data(), 0.37f, n);
            EXPECT_TRUE(same_bits(got, want)) << "scale n=" << n;
            // In place (out aliasing an input).
            got = a;
            add(got.data(), b.data(), got.data(), n);
            ref::add(a.data(), b.data(), want.data(), n);
            EXPECT_TRUE(same_bits(got, want)) << "add in place n=" << n;

            const float s = -1.7f;
            got = b;
            want = b;
            axpy(s, a.data(), got.data(), n);
            ref::axpy(s, a.data(), want.data(), n);
            expect_close(
                got, want, [&](size_t i) { return 2 * kU * (std::fabs(s * a[i]) + std::fabs(want[i])); },
                "axpy");
        }
    });
}

TEST(SimdOps, DotMatchesRef) {
    // Both sum in float in a different order (ref: 8 accumulators, fast: 4 vectors of accumulators). Each
    // float sum of n products errs by a random walk of n roundings of partial sums bounded by sum |a b|:
    // about kU sqrt(n) sum|ab| typically (n kU sum|ab| worst case). Bound: 4 kU sqrt(n) sum |a_i b_i| for the
    // difference of the two.
    on_every_target([] {
        std::mt19937 rng(16);
        for (int64_t n : kLengths) {
            const auto a = gaussian(static_cast<size_t>(n), rng, 2.0f),
                       b = gaussian(static_cast<size_t>(n), rng);
            double abs_sum = 0;
            for (int64_t i = 0; i < n; ++i) abs_sum += std::fabs(static_cast<double>(a[i]) * b[i]);
            const double tol = 4 * kU * std::sqrt(static_cast<double>(n)) * abs_sum;
            EXPECT_NEAR(dot(a.data(), b.data(), n), ref::dot(a.data(), b.data(), n), tol) << "n=" << n;
        }
    });
}

TEST(SimdOps, RopeIsRef) {
    // rope stays scalar: the public function is ref::rope.
    std::mt19937 rng(17);
    for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
        const auto x = gaussian(4 * 64, rng);
        std::vector<float> got = x, want = x;
        rope(got.data(), 4, 64, 64, 123, 10000.0f, 1.0f, nullptr, style);
        ref::rope(want.data(), 4, 64, 64, 123, 10000.0f, 1.0f, nullptr, style);
        EXPECT_TRUE(same_bits(got, want));
    }
}

// ---- dequantization ----

const TensorType kDequantTypes[] = {
    TensorType::kF32,  TensorType::kF16,  TensorType::kBF16, TensorType::kQ4_0, TensorType::kQ4_1,
    TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ8_0, TensorType::kQ2_K, TensorType::kQ3_K,
    TensorType::kQ4_K, TensorType::kQ5_K, TensorType::kQ6_K, TensorType::kQ8_K};

// A random finite fp16 value: any sign, exponent (subnormals included) and mantissa, but not inf / NaN.
uint16_t random_finite_fp16(std::mt19937& rng) {
    uint16_t h = static_cast<uint16_t>(rng());
    if (((h >> 10) & 0x1F) == 0x1F) h &= static_cast<uint16_t>(~0x4000);
    return h;
}

void put_fp16(uint8_t* blk, size_t offset, std::mt19937& rng) {
    const uint16_t h = random_finite_fp16(rng);
    std::memcpy(blk + offset, &h, 2);
}

// A row of `cols` elements of fully random bytes: every quant and packed scale pattern occurs. The float
// scale fields are random finite values (so no NaN payloads meet in an operation); F16 and BF16 data stay raw
// random bits, NaNs and infinities included.
std::vector<uint8_t> random_row(TensorType type, int64_t cols, std::mt19937& rng) {
    const TypeTraits& tt = type_traits(type);
    std::vector<uint8_t> row(gguf::row_bytes(type, cols));
    for (auto& b : row) b = static_cast<uint8_t>(rng());
    if (type == TensorType::kF32) {
        auto g = gaussian(static_cast<size_t>(cols), rng);
        std::memcpy(row.data(), g.data(), row.size());
        return row;
    }
    std::normal_distribution<float> nd;
    for (size_t off = 0; off + tt.type_size <= row.size(); off += tt.type_size) {
        uint8_t* blk = row.data() + off;
        switch (type) {
            case TensorType::kQ4_0:
            case TensorType::kQ5_0:
            case TensorType::kQ8_0:
                put_fp16(blk, 0, rng);
                break;
            case TensorType::kQ4_1:
            case TensorType::kQ5_1:
            case TensorType::kQ4_K:
            case TensorType::kQ5_K:
                put_fp16(blk, 0, rng);
                put_fp16(blk, 2, rng);
                break;
            case TensorType::kQ2_K:
                put_fp16(blk, offsetof(BlockQ2_K, d), rng);
                put_fp16(blk, offsetof(BlockQ2_K, dmin), rng);
                break;
            case TensorType::kQ3_K:
                put_fp16(blk, offsetof(BlockQ3_K, d), rng);
                break;
            case TensorType::kQ6_K:
                put_fp16(blk, offsetof(BlockQ6_K, d), rng);
                break;
            case TensorType::kQ8_K: {
                const float d = nd(rng);
                std::memcpy(blk, &d, 4);
                break;
            }
            default:
                break;
        }
    }
    return row;
}

// dequantize_row_fast and the scalar to_float on `row`: the same bits, nothing written past cols.
void expect_dequant_exact(TensorType type, const std::vector<uint8_t>& row, int64_t cols, const char* what) {
    constexpr size_t kGuard = 17;
    const size_t n = static_cast<size_t>(cols);
    std::vector<float> want(n + kGuard, -12345.0f), got(n + kGuard, -12345.0f);
    type_traits(type).to_float(row.data(), want.data(), cols);
    dequantize_row_fast(type, row.data(), got.data(), cols);
    EXPECT_TRUE(same_bits(got, want)) << what << " " << type_traits(type).name << " cols=" << cols;
    if (!same_bits(got, want)) {
        for (size_t i = 0; i < n + kGuard; ++i) {
            if (std::memcmp(&got[i], &want[i], 4) != 0) {
                ADD_FAILURE() << "first difference at " << i << ": got " << got[i] << " want " << want[i];
                break;
            }
        }
    }
}

TEST(SimdDequant, BitExactOnEveryTarget) {
    on_every_target([] {
        for (TensorType type : kDequantTypes) {
            const TypeTraits& tt = type_traits(type);
            std::mt19937 rng(100 + static_cast<unsigned>(type));
            std::vector<int64_t> lengths;
            for (int64_t blocks = 1; blocks <= 9; ++blocks) lengths.push_back(blocks * tt.block_size);
            if (tt.block_size == 1) lengths.insert(lengths.end(), std::begin(kLengths), std::end(kLengths));
            for (int64_t cols : lengths) {
                expect_dequant_exact(type, random_row(type, cols, rng), cols, "random bytes");
                expect_dequant_exact(type, random_weights(type, 1, cols, rng), cols, "quantized gaussian");
            }
        }
    });
}

TEST(SimdDequant, F16AllPatterns) {
    // Every half-precision bit pattern (signed zeros, subnormals, infinities, signaling and quiet NaNs).
    std::vector<uint8_t> row(65536 * 2);
    for (uint32_t h = 0; h < 65536; ++h) {
        const uint16_t v = static_cast<uint16_t>(h);
        std::memcpy(row.data() + 2 * h, &v, 2);
    }
    on_every_target([&] {
        expect_dequant_exact(TensorType::kF16, row, 65536, "all patterns");
        expect_dequant_exact(TensorType::kBF16, row, 65536, "all patterns");
    });
}

TEST(SimdDequant, TypesWithoutKernelsThrow) {
    float dst[32];
    const uint8_t row[64] = {};
    EXPECT_THROW(dequantize_row_fast(TensorType::kQ8_1, row, dst, 32), std::invalid_argument);
}

}  // namespace
}  // namespace ead::tensor
