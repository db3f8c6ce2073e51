// Highway kernels for float weights (F32, F16, BF16) against float activations, portable across targets.
// NR weight rows are converted to f32 once per vector and multiplied against NC activation rows.
#include "tensor/simd_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/matmul_float_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>

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

template <TensorType T, int NR, int NC>
HWY_INLINE void float_tile(const GemmArgs& a, int64_t r, int64_t j) {
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
    if (k < a.cols) {  // the tail, zero-padded to a whole vector (rows of attention have any length)
        const size_t rem = static_cast<size_t>(a.cols - k), elt = T == TensorType::kF32 ? 4 : 2;
        HWY_ALIGN uint8_t wt[NR][HWY_MAX_BYTES] = {};
        HWY_ALIGN float xt[HWY_MAX_BYTES / sizeof(float)] = {};
        VF wv[NR];
        for (int i = 0; i < NR; ++i) {
            std::memcpy(wt[i], w[i] + static_cast<size_t>(k) * elt, rem * elt);
            wv[i] = load_weights<T>(df, wt[i], 0);
        }
        for (int c = 0; c < NC; ++c) {
            std::memcpy(xt, a.x + (j + c) * a.cols + k, rem * sizeof(float));
            const VF xv = hn::LoadU(df, xt);
            for (int i = 0; i < NR; ++i) acc[i][c] = hn::MulAdd(wv[i], xv, acc[i][c]);
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int i = 0; i < NR; ++i)
            a.y[(j + c) * a.rows + r + i] = hn::GetLane(hn::SumOfLanes(df, acc[i][c]));
}

// The last j1 - j (< 4) activation rows in one tile, so the weights are loaded once (attention's query groups
// are often 3, 5 or 7 rows).
template <TensorType T, int NR>
HWY_INLINE void columns_left(const GemmArgs& a, int64_t r, int64_t j, int64_t j1) {
    switch (j1 - j) {
        case 3: return float_tile<T, NR, 3>(a, r, j);
        case 2: return float_tile<T, NR, 2>(a, r, j);
        case 1: return float_tile<T, NR, 1>(a, r, j);
        default: return;
    }
}

template <TensorType T>
void float_rows(const GemmArgs& a, int64_t r0, int64_t r1) {
    if (a.n == 1) {
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) float_tile<T, 4, 1>(a, r, 0);
        for (; r < r1; ++r) float_tile<T, 1, 1>(a, r, 0);
        return;
    }
    constexpr int64_t kPanel = 32;
    for (int64_t j0 = 0; j0 < a.n; j0 += kPanel) {
        const int64_t j1 = std::min(a.n, j0 + kPanel);
        int64_t r = r0;
        for (; r + 2 <= r1; r += 2) {
            int64_t j = j0;
            for (; j + 4 <= j1; j += 4) float_tile<T, 2, 4>(a, r, j);
            columns_left<T, 2>(a, r, j, j1);
        }
        for (; r < r1; ++r) {
            int64_t j = j0;
            for (; j + 4 <= j1; j += 4) float_tile<T, 1, 4>(a, r, j);
            columns_left<T, 1>(a, r, j, j1);
        }
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
}  // namespace ead::tensor
#endif
