// Highway kernels for float weights (F32, F16, BF16) against float activations, portable across targets.
// NR weight rows are converted to f32 once per vector and multiplied against NC activation rows.
#include "tensor/simd_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/matmul_float_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <type_traits>

#include "tensor/kernels.h"
#include "tensor/quants.h"

HWY_BEFORE_NAMESPACE();
namespace ead::tensor {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

template <TensorType T>
HWY_INLINE VF load_weights(DF df, const uint8_t* row, int64_t k) {
    if constexpr (T == TensorType::kF32) {
        return hn::LoadU(df, reinterpret_cast<const float*>(row) + k);
    } else if constexpr (T == TensorType::kF16) {
        const hn::Rebind<hwy::float16_t, DF> dh;
        return hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(row) + k));
    } else {
        const hn::Rebind<hwy::bfloat16_t, DF> db;
        return hn::PromoteTo(df, hn::LoadU(db, reinterpret_cast<const hwy::bfloat16_t*>(row) + k));
    }
}

// Rows of any length (attention's rows hold n_past + 1 positions) end in a tail shorter than a vector, taken
// zero-padded. The tails are gathered once, the activations' per panel of rows and the weights' per group of
// NR rows, and not in every tile: a vector loaded right after the element-wise stores that built it waits for
// them (no store forwarding), and doing that in every tile made attention's value products 3x slower.
struct Tails {
    const float* x = nullptr;  // [activation row - panel start][lanes], or null: no tail
    const VF* w = nullptr;     // [NR]
};

template <TensorType T>
HWY_INLINE VF weight_tail(DF df, const uint8_t* row, int64_t k, int64_t rem) {
    using W = std::conditional_t<T == TensorType::kF32, float, uint16_t>;
    HWY_ALIGN W buf[hn::MaxLanes(DF())];
    const W* src = reinterpret_cast<const W*>(row) + k;
    for (size_t e = 0; e < hn::Lanes(df); ++e) buf[e] = static_cast<int64_t>(e) < rem ? src[e] : W{0};
    return load_weights<T>(df, reinterpret_cast<const uint8_t*>(buf), 0);
}

// Weights rows r .. r+NR-1 against activation rows j .. j+NC-1 (j - j0 into the panel's tails).
template <TensorType T, int NR, int NC>
HWY_INLINE void float_tile(const GemmArgs& a, int64_t r, int64_t j, int64_t j0, const Tails& tails) {
    const DF df;
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
    const uint8_t* w[NR];
    for (int i = 0; i < NR; ++i) w[i] = a.w + (r + i) * a.w_row;
    VF acc[NR][NC];
    for (int i = 0; i < NR; ++i)
        for (int c = 0; c < NC; ++c) acc[i][c] = hn::Zero(df);
    int64_t k = 0;
    for (; k + lanes <= a.cols; k += lanes) {
        VF wv[NR];
        for (int i = 0; i < NR; ++i) wv[i] = load_weights<T>(df, w[i], k);
        for (int c = 0; c < NC; ++c) {
            const VF xv = hn::LoadU(df, a.x + (j + c) * a.cols + k);
            for (int i = 0; i < NR; ++i) acc[i][c] = hn::MulAdd(wv[i], xv, acc[i][c]);
        }
    }
    if (tails.x != nullptr) {
        for (int c = 0; c < NC; ++c) {
            const VF xv = hn::Load(df, tails.x + (j + c - j0) * lanes);
            for (int i = 0; i < NR; ++i) acc[i][c] = hn::MulAdd(tails.w[i], xv, acc[i][c]);
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int i = 0; i < NR; ++i)
            a.y[(j + c) * a.rows + r + i] = hn::GetLane(hn::SumOfLanes(df, acc[i][c]));
}

// The last j1 - j (< 4) activation rows in one tile, so the weights are loaded once (attention's query groups
// are often 3, 5 or 7 rows).
template <TensorType T, int NR>
HWY_INLINE void columns_left(const GemmArgs& a, int64_t r, int64_t j, int64_t j1, int64_t j0,
                             const Tails& t) {
    switch (j1 - j) {
        case 3: return float_tile<T, NR, 3>(a, r, j, j0, t);
        case 2: return float_tile<T, NR, 2>(a, r, j, j0, t);
        case 1: return float_tile<T, NR, 1>(a, r, j, j0, t);
        default: return;
    }
}

// Rows r .. r+NR-1 against activation rows [j0, j1) of a panel whose tails are xt (null: no tail).
template <TensorType T, int NR>
HWY_INLINE void row_group(const GemmArgs& a, int64_t r, int64_t j0, int64_t j1, const float* xt) {
    const DF df;
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(df)), k = a.cols / lanes * lanes;
    VF wt[NR];
    Tails tails;
    if (xt != nullptr) {
        for (int i = 0; i < NR; ++i) wt[i] = weight_tail<T>(df, a.w + (r + i) * a.w_row, k, a.cols - k);
        tails = Tails{xt, wt};
    }
    int64_t j = j0;
    for (; j + 4 <= j1; j += 4) float_tile<T, NR, 4>(a, r, j, j0, tails);
    columns_left<T, NR>(a, r, j, j1, j0, tails);
}

template <TensorType T>
void float_rows(const GemmArgs& a, int64_t r0, int64_t r1) {
    const DF df;
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(df)), k = a.cols / lanes * lanes;
    constexpr int64_t kPanel = 32;
    HWY_ALIGN float xt[kPanel * hn::MaxLanes(DF())];
    for (int64_t j0 = 0; j0 < a.n; j0 += kPanel) {
        const int64_t j1 = std::min(a.n, j0 + kPanel);
        if (k < a.cols) {
            for (int64_t j = j0; j < j1; ++j)
                for (int64_t e = 0; e < lanes; ++e)
                    xt[(j - j0) * lanes + e] = k + e < a.cols ? a.x[j * a.cols + k + e] : 0.0f;
        }
        const float* tails = k < a.cols ? xt : nullptr;
        int64_t r = r0;
        if (a.n == 1) {  // matrix x vector: four rows at a time share the activation loads
            for (; r + 4 <= r1; r += 4) row_group<T, 4>(a, r, j0, j1, tails);
        } else {
            for (; r + 2 <= r1; r += 2) row_group<T, 2>(a, r, j0, j1, tails);
        }
        for (; r < r1; ++r) row_group<T, 1>(a, r, j0, j1, tails);
    }
}

// Weighted sums of weight rows: y[j][c] = sum_r x[j][r] * W[r][c] for activation rows j in [j0, j0 + NC) and
// columns [c0, c0 + NV * lanes): each weight row's vectors are loaded once per tile and multiplied by every
// activation row's broadcast weight. A tail tile (NV == 1, rem < lanes) takes the row's last rem columns
// zero-padded (weight_tail) and stores only those.
template <TensorType T, int NC, int NV>
HWY_INLINE void weighted_tile(const WeightedArgs& a, int64_t j0, int64_t c0, int64_t rem = 0) {
    const DF df;
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
    VF acc[NC][NV];
    for (int c = 0; c < NC; ++c)
        for (int v = 0; v < NV; ++v) acc[c][v] = hn::Zero(df);
    for (int64_t r = 0; r < a.rows; ++r) {
        const uint8_t* row = a.w + r * a.w_row;
        VF wv[NV];
        for (int v = 0; v < NV; ++v)
            wv[v] = rem > 0 ? weight_tail<T>(df, row, c0, rem) : load_weights<T>(df, row, c0 + v * lanes);
        for (int c = 0; c < NC; ++c) {
            const VF xv = hn::Set(df, a.x[(j0 + c) * a.rows + r]);
            for (int v = 0; v < NV; ++v) acc[c][v] = hn::MulAdd(wv[v], xv, acc[c][v]);
        }
    }
    for (int c = 0; c < NC; ++c) {
        float* y = a.y + (j0 + c) * a.cols + c0;
        if (rem > 0) {
            HWY_ALIGN float buf[hn::MaxLanes(DF())];
            hn::Store(acc[c][0], df, buf);
            std::copy(buf, buf + rem, y);
        } else {
            for (int v = 0; v < NV; ++v) hn::StoreU(acc[c][v], df, y + v * lanes);
        }
    }
}

template <TensorType T, int NC>
HWY_INLINE void weighted_rows_of(const WeightedArgs& a, int64_t j0) {
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(DF()));
    int64_t c0 = 0;
    for (; c0 + 2 * lanes <= a.cols; c0 += 2 * lanes) weighted_tile<T, NC, 2>(a, j0, c0);
    for (; c0 + lanes <= a.cols; c0 += lanes) weighted_tile<T, NC, 1>(a, j0, c0);
    if (c0 < a.cols) weighted_tile<T, NC, 1>(a, j0, c0, a.cols - c0);
}

template <TensorType T>
void weighted_rows(const WeightedArgs& a, int64_t j0, int64_t j1) {
    int64_t j = j0;
    for (; j + 4 <= j1; j += 4) weighted_rows_of<T, 4>(a, j);
    switch (j1 - j) {
        case 3: return weighted_rows_of<T, 3>(a, j);
        case 2: return weighted_rows_of<T, 2>(a, j);
        case 1: return weighted_rows_of<T, 1>(a, j);
        default: return;
    }
}

void WeightedRows(const WeightedArgs& a, int64_t j0, int64_t j1) {
    switch (a.type) {
        case TensorType::kF32: return weighted_rows<TensorType::kF32>(a, j0, j1);
        case TensorType::kF16: return weighted_rows<TensorType::kF16>(a, j0, j1);
        case TensorType::kBF16: return weighted_rows<TensorType::kBF16>(a, j0, j1);
        default: return;
    }
}

void GemmFloat(const GemmArgs& a, int64_t r0, int64_t r1) {
    switch (a.type) {
        case TensorType::kF32: return float_rows<TensorType::kF32>(a, r0, r1);
        case TensorType::kF16: return float_rows<TensorType::kF16>(a, r0, r1);
        case TensorType::kBF16: return float_rows<TensorType::kBF16>(a, r0, r1);
        default: return;
    }
}

}  // namespace HWY_NAMESPACE
}  // namespace ead::tensor
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ead::tensor {
HWY_EXPORT(GemmFloat);
void gemm_float(const GemmArgs& a, int64_t r0, int64_t r1) { HWY_DYNAMIC_DISPATCH(GemmFloat)(a, r0, r1); }
HWY_EXPORT(WeightedRows);
void weighted_rows(const WeightedArgs& a, int64_t j0, int64_t j1) {
    HWY_DYNAMIC_DISPATCH(WeightedRows)(a, j0, j1);
}
}  // namespace ead::tensor
#endif
