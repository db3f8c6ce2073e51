// Read-bandwidth baseline (tensor/bandwidth.h): a Highway loop over several streams at once, with eight
// independent accumulators, so on every target the loads, not the adds, set the speed.
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
    const size_t lanes = hn::Lanes(d);
    const size_t n = bytes / sizeof(uint64_t);
    const auto* u = static_cast<const uint64_t*>(p);
    // Stretches of kStreams runs of `run` words, the runs of a stretch read in step, two vectors of each at a
    // time (eight accumulators).
    const size_t run = std::min(kRunBytes / sizeof(uint64_t), n / kStreams) / (2 * lanes) * (2 * lanes);
    static_assert(kStreams == 4);
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    auto a4 = hn::Zero(d), a5 = hn::Zero(d), a6 = hn::Zero(d), a7 = hn::Zero(d);
    size_t done = 0;
    for (; run > 0 && done + kStreams * run <= n; done += kStreams * run) {
        const uint64_t* s0 = u + done;
        const uint64_t *s1 = s0 + run, *s2 = s1 + run, *s3 = s2 + run;
        for (size_t i = 0; i < run; i += 2 * lanes) {
            a0 = hn::Add(a0, hn::Load(d, s0 + i));
            a1 = hn::Add(a1, hn::Load(d, s0 + i + lanes));
            a2 = hn::Add(a2, hn::Load(d, s1 + i));
            a3 = hn::Add(a3, hn::Load(d, s1 + i + lanes));
            a4 = hn::Add(a4, hn::Load(d, s2 + i));
            a5 = hn::Add(a5, hn::Load(d, s2 + i + lanes));
            a6 = hn::Add(a6, hn::Load(d, s3 + i));
            a7 = hn::Add(a7, hn::Load(d, s3 + i + lanes));
        }
    }
    for (; done + lanes <= n; done += lanes) a0 = hn::Add(a0, hn::Load(d, u + done));  // the rest: one stream
    const auto sum =
        hn::Add(hn::Add(hn::Add(a0, a1), hn::Add(a2, a3)), hn::Add(hn::Add(a4, a5), hn::Add(a6, a7)));
    uint64_t s = hn::GetLane(hn::SumOfLanes(d, sum));
    for (; done < n; ++done) s += u[done];
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
