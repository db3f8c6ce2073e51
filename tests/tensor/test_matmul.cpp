// matmul on every type, shape and compiled SIMD target: against a float64 reference with unquantized activations
// (tolerance from the activation quantization error model), against the scalar reference dot products on the same
// quantized activations (tight), and independence of thread count and batch size (bit-exact).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/test_env.h"
#include "tensor/blocks.h"
#include "tensor/matmul.h"
#include "tensor/quants.h"
#include "tensor/simd_targets.h"
#include "tensor_test_util.h"

namespace ead::tensor {
namespace {

using testutil::gaussian;
using testutil::TargetGuard;
using testutil::random_weights;

const TensorType kAllTypes[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16, TensorType::kQ4_0,
                                TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ8_0,
                                TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K, TensorType::kQ5_K,
                                TensorType::kQ6_K, TensorType::kQ8_K};

struct Shape {
    int64_t rows, blocks, n;
};

std::vector<Shape> shapes() {
    if (test::quick()) return {{1, 1, 1}, {17, 3, 1}, {9, 2, 5}};
    std::vector<Shape> s;
    for (int64_t rows : {1, 3, 17, 64})
        for (int64_t blocks : {1, 3, 8})
            for (int64_t n : {1, 2, 5, 7}) s.push_back({rows, blocks, n});  // 7: tiles of 4 and 3
    s.push_back({17, 3, 39});  // more activation rows than a float kernel's panel of 32 (tails per panel)
    return s;
}

int64_t cols_for(TensorType t, int64_t blocks) {
    const int64_t bs = type_traits(t).block_size;
    // Float types: odd lengths too (tails shorter than a vector).
    return bs == 1 ? blocks * 37 : blocks * bs;
}

class MatmulTest : public ::testing::TestWithParam<TensorType> {};

TEST_P(MatmulTest, MatchesReferencesOnEveryTarget) {
    const TensorType type = GetParam();
    const TypeTraits& tt = type_traits(type);
    const TypeTraits& xt = type_traits(tt.vec_dot_type);
    const bool quantized_x = tt.vec_dot_type != TensorType::kF32;
    TargetGuard guard;
    const auto targets = simd_targets();
    ASSERT_FALSE(targets.empty());
    for (int64_t target : targets) {
        force_simd_target(target);
        SCOPED_TRACE(simd_target_name(target));
        std::mt19937 rng(1234);
        for (const Shape& sh : shapes()) {
            const int64_t cols = cols_for(type, sh.blocks), rows = sh.rows, n = sh.n;
            SCOPED_TRACE("rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) + " n=" + std::to_string(n));
            const auto w = random_weights(type, rows, cols, rng);
            const auto x = gaussian(static_cast<size_t>(n * cols), rng);
            std::vector<float> y(static_cast<size_t>(n * rows), NAN);
            matmul(type, w.data(), rows, cols, x.data(), n, y.data(), 1);

            // Dequantized weights, quantized activations as the reference sees them.
            std::vector<float> wd(static_cast<size_t>(rows * cols));
            for (int64_t r = 0; r < rows; ++r) dequantize_row(type, w.data(), cols, r, wd.data() + r * cols);
            const size_t xq_row = gguf::row_bytes(tt.vec_dot_type, cols);
            std::vector<uint8_t> xq(xq_row * static_cast<size_t>(n));
            for (int64_t j = 0; j < n; ++j) xt.from_float(x.data() + j * cols, xq.data() + j * xq_row, cols);
            const int64_t xbs = xt.block_size;

            for (int64_t j = 0; j < n; ++j) {
                const float* xj = x.data() + j * cols;
                for (int64_t r = 0; r < rows; ++r) {
                    const float* wr = wd.data() + r * cols;
                    double exact = 0, absdot = 0, var = 0;
                    for (int64_t c = 0; c < cols; ++c) {
                        exact += static_cast<double>(wr[c]) * xj[c];
                        absdot += std::fabs(static_cast<double>(wr[c]) * xj[c]);
                    }
                    if (quantized_x) {
                        // Rounding x to 8 bits: error uniform in +-step/2 with step = max|x| of the block / 127.
                        for (int64_t b0 = 0; b0 < cols; b0 += xbs) {
                            double amax = 0;
                            for (int64_t c = b0; c < b0 + xbs; ++c) amax = std::max(amax, std::fabs(double(xj[c])));
                            const double step = amax / 127.0;
                            for (int64_t c = b0; c < b0 + xbs; ++c) var += double(wr[c]) * wr[c] * step * step / 12.0;
                        }
                    }
                    const double got = y[j * rows + r];
                    // 6 sigma of the rounding noise, fp16 rounding of block scales (2^-11), float accumulation.
                    const double tol_model = 6 * std::sqrt(var) + (quantized_x ? 5e-4 : 0) * absdot + 2e-5 * absdot + 1e-6;
                    ASSERT_NEAR(got, exact, tol_model) << "row " << r << " act " << j;
                    // Same quantized activations: only float rounding differs.
                    const double same = vec_dot_ref(type, cols, w.data() + r * gguf::row_bytes(type, cols),
                                                     xq.data() + j * xq_row);
                    ASSERT_NEAR(got, same, 2e-5 * absdot + 1e-6) << "row " << r << " act " << j;
                }
            }

            // Thread count never changes a bit; neither does batching rows of x together.
            for (int threads : {2, 3}) {
                std::vector<float> yt(y.size(), NAN);
                matmul(type, w.data(), rows, cols, x.data(), n, yt.data(), threads);
                ASSERT_EQ(0, std::memcmp(y.data(), yt.data(), y.size() * 4)) << threads << " threads";
            }
            if (n > 1) {
                std::vector<float> y1(static_cast<size_t>(rows));
                for (int64_t j = 0; j < n; ++j) {
                    matmul(type, w.data(), rows, cols, x.data() + j * cols, 1, y1.data(), 1);
                    ASSERT_EQ(0, std::memcmp(y1.data(), y.data() + j * rows, y1.size() * 4)) << "act " << j;
                }
            }
        }
    }
}

// Larger shapes that cross thread-chunk boundaries at unaligned row counts.
TEST_P(MatmulTest, ThreadsBitExactOnLargerShapes) {
    const TensorType type = GetParam();
    std::mt19937 rng(99);
    const int64_t rows = test::quick() ? 37 : 203, cols = cols_for(type, 4), n = 3;
    const auto w = random_weights(type, rows, cols, rng);
    const auto x = gaussian(static_cast<size_t>(n * cols), rng);
    for (int64_t nn : {int64_t{1}, n}) {
        std::vector<float> y1(static_cast<size_t>(nn * rows)), y2(y1.size()), y3(y1.size());
        matmul(type, w.data(), rows, cols, x.data(), nn, y1.data(), 1);
        matmul(type, w.data(), rows, cols, x.data(), nn, y2.data(), 2);
        matmul(type, w.data(), rows, cols, x.data(), nn, y3.data(), 3);
        EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * 4));
        EXPECT_EQ(0, std::memcmp(y1.data(), y3.data(), y1.size() * 4));
    }
}

// One matmul_many call over products of several types and layouts, n = 1, megabytes of weights: the threads
// split it into many chunks (and take from each other's shares). Every output row must be written once, with
// the single-threaded bits, which equal separate products.
TEST(MatmulMany, ThreadsWriteEveryRowAsOneThreadDoes) {
    std::mt19937 rng(7);
    const int64_t cols = 1024;
    struct Product {
        TensorType type;
        WeightLayout layout;
        int64_t rows;
    };
    const Product products[] = {{TensorType::kQ4_0, WeightLayout::kInterleaved8, 1200},
                                {TensorType::kQ6_K, WeightLayout::kRows, 301},
                                {TensorType::kQ8_0, WeightLayout::kInterleaved8, 640},
                                {TensorType::kQ4_K, WeightLayout::kRows, test::quick() ? 33 : 1003}};
    std::vector<std::vector<uint8_t>> weights;
    std::vector<MatmulJob> jobs;
    std::vector<std::vector<float>> single;
    const auto x = gaussian(static_cast<size_t>(cols), rng);
    for (const Product& p : products) {
        auto w = random_weights(p.type, p.rows, cols, rng);
        if (p.layout == WeightLayout::kInterleaved8) {
            std::vector<uint8_t> wi(interleaved_bytes(p.type, p.rows, cols));
            interleave_rows(p.type, w.data(), p.rows, cols, wi.data());
            w = std::move(wi);
        }
        single.emplace_back(static_cast<size_t>(p.rows));
        matmul(p.type, p.layout, w.data(), p.rows, cols, x.data(), 1, single.back().data(), 1);
        weights.push_back(std::move(w));
    }
    for (int threads : {1, 2, 3, 5}) {
        std::vector<std::vector<float>> y;
        jobs.clear();
        for (size_t i = 0; i < std::size(products); ++i) {
            y.emplace_back(static_cast<size_t>(products[i].rows), std::nanf(""));
            jobs.push_back(
                {products[i].type, products[i].layout, weights[i].data(), products[i].rows, nullptr});
        }
        for (size_t i = 0; i < jobs.size(); ++i) jobs[i].y = y[i].data();
        matmul_many(jobs.data(), static_cast<int>(jobs.size()), cols, x.data(), 1, threads);
        for (size_t i = 0; i < jobs.size(); ++i)
            ASSERT_EQ(0, std::memcmp(y[i].data(), single[i].data(), y[i].size() * 4))
                << "product " << i << ", " << threads << " threads";
    }
}

// More threads than StealingShares has shares (64): the threads beyond own no chunks and only take from the
// others', and every row is still written once, with the single-threaded bits. 4.7 MB of weights, so that
// matrix x vector starts all 70 threads.
TEST(MatmulMany, ThreadsBeyondTheSharesOnlyTake) {
    std::mt19937 rng(9);
    const int64_t rows = 8192, cols = 1024;
    const auto w = random_weights(TensorType::kQ4_0, rows, cols, rng);
    std::vector<uint8_t> wi(interleaved_bytes(TensorType::kQ4_0, rows, cols));
    interleave_rows(TensorType::kQ4_0, w.data(), rows, cols, wi.data());
    const auto x = gaussian(static_cast<size_t>(cols), rng);
    std::vector<float> want(static_cast<size_t>(rows)), got(want.size(), std::nanf(""));
    matmul(TensorType::kQ4_0, WeightLayout::kInterleaved8, wi.data(), rows, cols, x.data(), 1, want.data(),
           1);
    matmul(TensorType::kQ4_0, WeightLayout::kInterleaved8, wi.data(), rows, cols, x.data(), 1, got.data(),
           70);
    ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * 4));
}

// Rows row_stride bytes apart (a sub-matrix, e.g. the first columns of a wider matrix) give
// what the same rows packed densely give, for float and quantized types, with 1 and 2 threads; a stride
// shorter than a row, or with the interleaved layout, is refused.
TEST(MatmulMany, RowStrideReadsRowsInPlace) {
    std::mt19937 rng(11);
    for (TensorType type : {TensorType::kF16, TensorType::kF32, TensorType::kQ8_0, TensorType::kQ4_K}) {
        SCOPED_TRACE(type_traits(type).name);
        const int64_t bs = type_traits(type).block_size, rows = 67, cols = bs == 1 ? 45 : 2 * bs, n = 3;
        const int64_t wide = bs == 1 ? 100 : 5 * bs;  // the rows of a wider matrix, of which we use cols
        const auto big = random_weights(type, rows, wide, rng);
        const size_t stride = gguf::row_bytes(type, wide), row = gguf::row_bytes(type, cols);
        std::vector<uint8_t> dense(row * static_cast<size_t>(rows));
        for (int64_t r = 0; r < rows; ++r)
            std::memcpy(dense.data() + r * row, big.data() + r * stride + stride / 2 / row * row, row);
        const auto x = gaussian(static_cast<size_t>(n * cols), rng);
        std::vector<float> want(static_cast<size_t>(n * rows));
        matmul(type, dense.data(), rows, cols, x.data(), n, want.data(), 1);
        for (int threads : {1, 2}) {
            std::vector<float> got(want.size(), std::nanf(""));
            const MatmulJob job{type, WeightLayout::kRows, big.data() + stride / 2 / row * row,
                                rows, got.data(),          stride};
            matmul_many(&job, 1, cols, x.data(), n, threads);
            ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * 4)) << threads << " threads";
        }
        std::vector<float> y(want.size());
        const MatmulJob short_stride{type, WeightLayout::kRows, big.data(), rows, y.data(), row - 1};
        EXPECT_THROW(matmul_many(&short_stride, 1, cols, x.data(), n, 1), std::invalid_argument);
    }
    std::vector<float> y(8);
    const auto w = random_weights(TensorType::kQ8_0, 8, 64, rng);
    const auto x = gaussian(64, rng);
    const MatmulJob interleaved{TensorType::kQ8_0, WeightLayout::kInterleaved8, w.data(), 8, y.data(), 1000};
    EXPECT_THROW(matmul_many(&interleaved, 1, 64, x.data(), 1, 1), std::invalid_argument);
}

// weighted_row_sums (attention's probabilities times values) on every target, against a float64 reference on
// the dequantized rows: F32, F16 and BF16 rows, row strides past the row, lengths with and without vector
// tails, 1 to 13 rows of x (tiles of four and the rest); the same bits with 1, 2 and 3 threads (the largest
// shape is split among them); other types and short strides refused.
TEST(WeightedRowSums, MatchesFloat64ReferenceOnEveryTarget) {
    struct Case {
        int64_t rows, cols, n;
    };
    std::vector<Case> cases;
    for (int64_t rows : {0, 1, 7, 64, 129})
        for (int64_t cols : {1, 5, 8, 16, 24, 64, 100})
            for (int64_t n : {1, 3, 4, 7, 9}) cases.push_back({rows, cols, n});
    cases.push_back({300, 100, 13});  // enough work to split among threads
    TargetGuard guard;
    std::mt19937 rng(21);
    for (int64_t target : simd_targets()) {
        force_simd_target(target);
        SCOPED_TRACE(simd_target_name(target));
        for (TensorType type : {TensorType::kF32, TensorType::kF16, TensorType::kBF16}) {
            SCOPED_TRACE(type_traits(type).name);
            for (const Case& cs : cases) {
                const int64_t rows = cs.rows, cols = cs.cols, n = cs.n;
                SCOPED_TRACE("rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
                             " n=" + std::to_string(n));
                const int64_t wide = cols + 3;  // rows lie wide elements apart
                const auto w = random_weights(type, std::max<int64_t>(rows, 1), wide, rng);
                const size_t stride = gguf::row_bytes(type, wide);
                std::vector<float> wf(static_cast<size_t>(std::max<int64_t>(rows, 1) * wide));
                for (int64_t r = 0; r < rows; ++r)
                    dequantize_row(type, w.data(), wide, r, wf.data() + r * wide);
                const auto x = gaussian(static_cast<size_t>(n * rows), rng);
                std::vector<float> y(static_cast<size_t>(n * cols), std::nanf(""));
                weighted_row_sums(type, w.data(), rows, cols, stride, x.data(), n, y.data(), 1);
                for (int64_t j = 0; j < n; ++j)
                    for (int64_t c = 0; c < cols; ++c) {
                        double want = 0, mag = 0;
                        for (int64_t r = 0; r < rows; ++r) {
                            want += double(x[j * rows + r]) * wf[r * wide + c];
                            mag += std::fabs(double(x[j * rows + r]) * wf[r * wide + c]);
                        }
                        ASSERT_NEAR(y[j * cols + c], want, 2e-5 * mag) << "j " << j << " c " << c;
                    }
                for (int threads : {2, 3}) {
                    std::vector<float> yt(y.size(), std::nanf(""));
                    weighted_row_sums(type, w.data(), rows, cols, stride, x.data(), n, yt.data(), threads);
                    ASSERT_EQ(0, std::memcmp(y.data(), yt.data(), y.size() * 4)) << threads << " threads";
                }
            }
        }
    }
    std::vector<float> y(8), x(8);
    const auto q = random_weights(TensorType::kQ8_0, 1, 32, rng);
    EXPECT_THROW(weighted_row_sums(TensorType::kQ8_0, q.data(), 1, 32, 34, x.data(), 1, y.data(), 1),
                 std::invalid_argument);
    EXPECT_THROW(weighted_row_sums(TensorType::kF32, x.data(), 1, 8, 16, x.data(), 1, y.data(), 1),
                 std::invalid_argument);  // a stride of 16 bytes is shorter than a row of 8 floats
}

TEST(Matmul, DequantizeRowMatchesToFloat) {
    std::mt19937 rng(5);
    for (TensorType type : kAllTypes) {
        const TypeTraits& tt = type_traits(type);
        const int64_t cols = tt.block_size == 1 ? 50 : 2 * tt.block_size, rows = 3;
        const auto w = random_weights(type, rows, cols, rng);
        std::vector<float> a(static_cast<size_t>(cols)), b(a.size());
        for (int64_t r = 0; r < rows; ++r) {
            dequantize_row(type, w.data(), cols, r, a.data());
            tt.to_float(w.data() + r * gguf::row_bytes(type, cols), b.data(), cols);
            EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4)) << tt.name;
        }
    }
}

// The interleaved layout (WeightLayout::kInterleaved8) on every target: each row against the scalar reference
// dot product on the same quantized activations; bit-exact across thread counts and batch sizes; and a
// layout the kernel does not know is refused.
class MatmulInterleaved : public ::testing::TestWithParam<TensorType> {};

TEST_P(MatmulInterleaved, MatchesReferenceOnEveryTarget) {
    const TensorType type = GetParam();
    const TypeTraits& tt = type_traits(type);
    const TypeTraits& xt = type_traits(tt.vec_dot_type);
    TargetGuard guard;
    for (int64_t target : simd_targets()) {
        force_simd_target(target);
        SCOPED_TRACE(simd_target_name(target));
        std::mt19937 rng(77);
        // 19 and 37 blocks: rows longer than the 16 blocks a batch tile sums before scaling them, and not a
        // multiple of 16. 320 x 37 blocks, one activation row: over 100 KiB of weights, so matrix x vector
        // splits the groups into several streams of unequal length, computed in step.
        const std::vector<Shape> sh =
            test::quick() ? std::vector<Shape>{{8, 1, 1}, {24, 3, 5}, {16, 19, 5}, {320, 37, 1}}
                          : std::vector<Shape>{{8, 1, 1},    {8, 5, 2},   {24, 3, 5}, {64, 8, 9},
                                               {136, 7, 67}, {16, 19, 5}, {8, 37, 6}, {320, 37, 1}};
        for (const Shape& s : sh) {
            const int64_t rows = s.rows, cols = s.blocks * tt.block_size, n = s.n;
            SCOPED_TRACE("rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) + " n=" + std::to_string(n));
            ASSERT_TRUE(can_interleave(type, rows, cols));
            const auto w = random_weights(type, rows, cols, rng);
            std::vector<uint8_t> wi(interleaved_bytes(type, rows, cols), 0xCD);
            ASSERT_GE(wi.size(), w.size());
            interleave_rows(type, w.data(), rows, cols, wi.data());
            const auto x = gaussian(static_cast<size_t>(n * cols), rng);
            std::vector<float> y(static_cast<size_t>(n * rows), NAN);
            matmul(type, WeightLayout::kInterleaved8, wi.data(), rows, cols, x.data(), n, y.data(), 1);

            const size_t xq_row = gguf::row_bytes(tt.vec_dot_type, cols);
            std::vector<uint8_t> xq(xq_row);
            std::vector<float> wd(static_cast<size_t>(cols));
            for (int64_t j = 0; j < n; ++j) {
                xt.from_float(x.data() + j * cols, xq.data(), cols);
                for (int64_t r = 0; r < rows; ++r) {
                    dequantize_row(type, w.data(), cols, r, wd.data());
                    double absdot = 0;
                    for (int64_t c = 0; c < cols; ++c) absdot += std::fabs(double(wd[c]) * x[j * cols + c]);
                    const double same = vec_dot_ref(type, cols, w.data() + r * gguf::row_bytes(type, cols), xq.data());
                    ASSERT_NEAR(y[j * rows + r], same, 2e-5 * absdot + 1e-6) << "row " << r << " act " << j;
                }
            }
            for (int threads : {2, 3}) {
                std::vector<float> yt(y.size(), NAN);
                matmul(type, WeightLayout::kInterleaved8, wi.data(), rows, cols, x.data(), n, yt.data(), threads);
                ASSERT_EQ(0, std::memcmp(y.data(), yt.data(), y.size() * 4)) << threads << " threads";
            }
            std::vector<float> y1(static_cast<size_t>(rows));
            for (int64_t j = 0; j < n; ++j) {
                matmul(type, WeightLayout::kInterleaved8, wi.data(), rows, cols, x.data() + j * cols, 1, y1.data(), 1);
                ASSERT_EQ(0, std::memcmp(y1.data(), y.data() + j * rows, y1.size() * 4)) << "act " << j;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Types, MatmulInterleaved,
                         ::testing::Values(TensorType::kQ4_0, TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ8_0,
                                           TensorType::kQ4_K, TensorType::kQ5_K, TensorType::kQ6_K),
                         [](const auto& info) { return std::string(gguf::tensor_type_name(info.param)); });

TEST(MatmulInterleavedLayout, RefusesShapesWithoutKernel) {
    EXPECT_FALSE(can_interleave(TensorType::kQ4_0, 12, 64));  // rows not a multiple of 8
    EXPECT_FALSE(can_interleave(TensorType::kQ2_K, 8, 256));  // no interleaved kernel for the type
    EXPECT_EQ(0u, interleaved_bytes(TensorType::kQ2_K, 8, 256));
    EXPECT_FALSE(can_interleave(TensorType::kQ6_K, 8, 96));  // row length not a multiple of the block
    EXPECT_EQ(8 * sizeof(BlockQ6_K) * 2, interleaved_bytes(TensorType::kQ6_K, 16, 256));
    EXPECT_EQ(8 * sizeof(BlockQ4_0) * 2, interleaved_bytes(TensorType::kQ4_0, 8, 64));
    std::vector<uint8_t> w(12 * 2 * sizeof(BlockQ4_0));
    std::vector<float> x(64), y(12);
    EXPECT_THROW(matmul(TensorType::kQ4_0, WeightLayout::kInterleaved8, w.data(), 12, 64, x.data(), 1, y.data(), 1),
                 std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulTest, ::testing::ValuesIn(kAllTypes),
                         [](const auto& info) { return std::string(gguf::tensor_type_name(info.param)); });

}  // namespace
}  // namespace ead::tensor
