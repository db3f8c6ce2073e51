// Read-bandwidth baseline (tensor/bandwidth.h): a Highway loop with four independent accumulators, so on every
// target the loads, not the adds, set the speed.
#include "tensor/simd_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/bandwidth.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "tensor/bandwidth.h"

HWY_BEFORE_NAMESPACE();
namespace ead::tensor {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

uint64_t ReadStream(const void* p, size_t bytes) {
    const hn::ScalableTag<uint64_t> d;
    const size_t n = bytes / sizeof(uint64_t);
    const size_t step = 4 * hn::Lanes(d);
    const auto* u = static_cast<const uint64_t*>(p);
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    size_t i = 0;
    for (; i + step <= n; i += step) {
        a0 = hn::Add(a0, hn::Load(d, u + i));
        a1 = hn::Add(a1, hn::Load(d, u + i + hn::Lanes(d)));
        a2 = hn::Add(a2, hn::Load(d, u + i + 2 * hn::Lanes(d)));
        a3 = hn::Add(a3, hn::Load(d, u + i + 3 * hn::Lanes(d)));
    }
    uint64_t s = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(a0, a1), hn::Add(a2, a3))));
    for (; i < n; ++i) s += u[i];
    return s;
}

}  // namespace HWY_NAMESPACE
}  // namespace ead::tensor
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ead::tensor {
HWY_EXPORT(ReadStream);

uint64_t read_stream(const void* p, size_t bytes) { return HWY_DYNAMIC_DISPATCH(ReadStream)(p, bytes); }

double timed_read(const void* p, size_t bytes, int n_threads) {
    n_threads = std::max(1, n_threads);
    const size_t share = bytes / static_cast<size_t>(n_threads) / 256 * 256;
    uint64_t total = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for num_threads(n_threads) reduction(+ : total) schedule(static, 1)
    for (int t = 0; t < n_threads; ++t) {
        const size_t off = static_cast<size_t>(t) * share;
        total += read_stream(static_cast<const char*>(p) + off, t + 1 == n_threads ? bytes - off : share);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    volatile uint64_t sink = total;  // keeps the reads
    (void)sink;
    return s;
}

}  // namespace ead::tensor
#endif
