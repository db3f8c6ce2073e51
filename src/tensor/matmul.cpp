// Matrix products: activations are quantized once per row of x to the weight type's vec_dot_type, then the
// Highway kernels (matmul_*_simd.cpp) compute row ranges, one range per thread.
#include "tensor/matmul.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/kernels.h"
#include "tensor/quants.h"

namespace ead::tensor {

namespace {

enum class Family { kFloat, kLegacy, kK };

Family family(TensorType t) {
    switch (t) {
        case TensorType::kF32:
        case TensorType::kF16:
        case TensorType::kBF16: return Family::kFloat;
        case TensorType::kQ4_0:
        case TensorType::kQ4_1:
        case TensorType::kQ5_0:
        case TensorType::kQ5_1:
        case TensorType::kQ8_0: return Family::kLegacy;
        default: return Family::kK;
    }
}

// Scratch for quantized activations; grows only, one per calling thread.
std::vector<uint8_t>& scratch(size_t bytes) {
    thread_local std::vector<uint8_t> buf;
    if (buf.size() < bytes) buf.resize(bytes);
    return buf;
}

size_t align_up(size_t v) { return (v + 63) & ~size_t{63}; }

// Quantizes one row of cols floats to Q8_0 in the split layout of ActLegacy (bit-identical to from_float_q8_0).
void quantize_legacy_row(const float* x, int64_t cols, int offset, int8_t* qs, float* d, int32_t* corr, float* s,
                         int32_t* qsum) {
    for (int64_t b = 0; b < cols / kQK; ++b) {
        const float* xb = x + b * kQK;
        float amax = 0;
        for (int e = 0; e < kQK; ++e) amax = std::max(amax, std::fabs(xb[e]));
        const float dd = amax / 127.0f;
        const float id = dd != 0 ? 1.0f / dd : 0.0f;
        int8_t* q = qs + b * kQK;
        for (int e = 0; e < kQK; ++e) q[e] = static_cast<int8_t>(nearest_int(xb[e] * id));
        d[b] = fp16_to_fp32(fp32_to_fp16(dd));
        int total = 0;
        for (int k = 0; k < 8; ++k) {
            const int lane = q[4 * k] + q[4 * k + 1] + q[4 * k + 2] + q[4 * k + 3];
            corr[b * 8 + k] = -offset * lane;
            total += lane;
        }
        s[b] = d[b] * static_cast<float>(total);
        qsum[b] = total;
    }
}

void run_rows(const GemmArgs& a, WeightLayout layout, int64_t r0, int64_t r1) {
    if (layout == WeightLayout::kInterleaved8) return gemm_interleaved(a, r0, r1);
    switch (family(a.type)) {
        case Family::kFloat: return gemm_float(a, r0, r1);
        case Family::kLegacy: return gemm_legacy(a, r0, r1);
        case Family::kK: return gemm_k(a, r0, r1);
    }
}

}  // namespace

void matmul(TensorType type, const void* w, int64_t rows, int64_t cols, const float* x, int64_t n, float* y,
            int n_threads) {
    matmul(type, WeightLayout::kRows, w, rows, cols, x, n, y, n_threads);
}

void matmul(TensorType type, WeightLayout layout, const void* w, int64_t rows, int64_t cols, const float* x,
            int64_t n, float* y, int n_threads) {
    const TypeTraits& tt = type_traits(type);
    if (rows <= 0 || n <= 0) return;
    if (layout == WeightLayout::kInterleaved8 && !can_interleave(type, rows, cols))
        throw std::invalid_argument("matmul: no interleaved kernel for " + std::string(tt.name) + " " +
                                    std::to_string(rows) + "x" + std::to_string(cols));
    GemmArgs a{};
    a.type = type;
    a.w = static_cast<const uint8_t*>(w);
    a.w_row = gguf::row_bytes(type, cols);
    a.rows = rows;
    a.cols = cols;
    a.n = n;
    a.y = y;
    a.x = x;
    const int nt_req = std::max(1, n_threads);

    // ---- activations, quantized once per row of x (rows of x in parallel: each is independent) ----
    const Family fam = family(type);
    if (fam == Family::kLegacy) {
        const int64_t nb = cols / kQK;
        const size_t n_qs = align_up(static_cast<size_t>(n * cols));
        const size_t n_d = align_up(static_cast<size_t>(n * nb) * 4);
        const size_t n_corr = align_up(static_cast<size_t>(n * nb) * 32);
        uint8_t* buf = scratch(n_qs + 3 * n_d + n_corr).data();
        auto* qs = reinterpret_cast<int8_t*>(buf);
        auto* d = reinterpret_cast<float*>(buf + n_qs);
        auto* s = reinterpret_cast<float*>(buf + n_qs + n_d);
        auto* corr = reinterpret_cast<int32_t*>(buf + n_qs + 2 * n_d);
        auto* qsum = reinterpret_cast<int32_t*>(buf + n_qs + 2 * n_d + n_corr);
        const int offset = type == TensorType::kQ4_0 ? 8 : type == TensorType::kQ5_0 ? 16 : 0;
#pragma omp parallel for num_threads(nt_req) schedule(static) if (n > 1 && nt_req > 1 && n * cols >= 65536)
        for (int64_t j = 0; j < n; ++j)
            quantize_legacy_row(x + j * cols, cols, offset, qs + j * cols, d + j * nb, corr + j * nb * 8, s + j * nb,
                                qsum + j * nb);
        a.legacy = ActLegacy{qs, d, corr, s, qsum};
    } else if (fam == Family::kK) {
        const TypeTraits& xt = type_traits(tt.vec_dot_type);
        const size_t x_row = gguf::row_bytes(tt.vec_dot_type, cols);
        uint8_t* buf = scratch(x_row * static_cast<size_t>(n)).data();
#pragma omp parallel for num_threads(nt_req) schedule(static) if (n > 1 && nt_req > 1 && n * cols >= 65536)
        for (int64_t j = 0; j < n; ++j) xt.from_float(x + j * cols, buf + j * x_row, cols);
        a.xk = buf;
    }

    // ---- output rows in ranges aligned to kRowAlign, one per thread ----
    // Small products run on one thread: waking a second one costs more than the work (and, on a loaded
    // machine, a parallel region waits for every thread to be scheduled).
    constexpr int64_t kMinWorkPerThread = 64 * 1024;  // weight bytes × activation rows
    const int64_t work = static_cast<int64_t>(a.w_row) * rows * n;
    const int64_t groups = (rows + kRowAlign - 1) / kRowAlign;
    const int nt = static_cast<int>(
        std::max<int64_t>(1, std::min<int64_t>({nt_req, groups, work / kMinWorkPerThread})));
    const int64_t chunk = (groups + nt - 1) / nt * kRowAlign;
    if (nt == 1) {
        run_rows(a, layout, 0, rows);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static, 1)
    for (int t = 0; t < nt; ++t) {
        const int64_t r0 = t * chunk;
        const int64_t r1 = std::min(rows, r0 + chunk);
        if (r0 < r1) run_rows(a, layout, r0, r1);
    }
}

void dequantize_row(TensorType type, const void* w, int64_t cols, int64_t r, float* dst) {
    const TypeTraits& tt = type_traits(type);
    tt.to_float(static_cast<const uint8_t*>(w) + r * gguf::row_bytes(type, cols), dst, cols);
}

}  // namespace ead::tensor
