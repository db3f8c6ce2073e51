// Kernel benchmarks: matrix x vector per weight type (GB/s of weights streamed, and % of the read bandwidth
// measured in the same run), matrix x matrix (GFLOP/s), and the memory read-bandwidth baseline.
//
//   build-kernels/bench_kernels --benchmark_filter='ReadBandwidth|Matvec/Q4_0' --benchmark_min_time=0.3
//   build-kernels/bench_kernels --benchmark_filter='ReadRuns' --benchmark_repetitions=5
//
// Matvec's pct_bw: the product's GB/s over the GB/s of a plain read of the same bytes, timed right after it.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tensor/bandwidth.h"
#include "tensor/blocks.h"
#include "tensor/matmul.h"
#include "tensor/memory.h"
#include "tensor/type_traits.h"

namespace {

using ead::tensor::TensorType;
namespace et = ead::tensor;

// ---- the machine's read bandwidth: a 1 GiB buffer allocated like weights (tensor/memory.h), read with the
// widest vectors, four runs at a time (tensor::timed_read), each thread its share. For reference; Matvec rows
// pair each product with a read of its own bytes. ----
void BM_ReadBandwidth(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(0));
    const size_t bytes = size_t{1} << 30;
    static et::WeightBuffer data;
    if (!data) {
        data = et::alloc_weight_buffer(bytes);
        std::memset(data.get(), 1, bytes);
    }
    for (auto _ : state) state.SetIterationTime(et::timed_read(data.get(), bytes, threads));
    state.counters["GB/s"] =
        benchmark::Counter(static_cast<double>(bytes) * static_cast<double>(state.iterations()) / 1e9,
                           benchmark::Counter::kIsRate);
    state.counters["threads"] = threads;
}

// ---- why the read baseline reads four runs at a time: 512 MiB in huge pages, each thread its share, read as
// stretches of S runs of L KiB, 64 bytes of each run in turn (S = 1: one stream). args: threads, S, L. ----
void BM_ReadRuns(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(0));
    const size_t runs = static_cast<size_t>(state.range(1)), run = static_cast<size_t>(state.range(2)) << 10;
    const size_t bytes = size_t{512} << 20, share = bytes / static_cast<size_t>(threads);
    static et::WeightBuffer data;
    if (!data) {
        data = et::alloc_weight_buffer(bytes);
        std::memset(data.get(), 1, bytes);
    }
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        uint64_t total = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static, 1)
        for (int t = 0; t < threads; ++t) {
            const uint8_t* p = data.get() + share * static_cast<size_t>(t);
            uint64_t acc[8] = {};
            for (size_t stretch = 0; stretch + runs * run <= share; stretch += runs * run)
                for (size_t i = 0; i < run; i += 64)
                    for (size_t r = 0; r < runs; ++r) {
                        uint64_t line[8];
                        std::memcpy(line, p + stretch + r * run + i, 64);
                        for (int k = 0; k < 8; ++k) acc[k] += line[k];
                    }
            for (uint64_t a : acc) total += a;
        }
        benchmark::DoNotOptimize(total);
        state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    state.counters["GB/s"] =
        benchmark::Counter(static_cast<double>(bytes) * static_cast<double>(state.iterations()) / 1e9,
                           benchmark::Counter::kIsRate);
}

// Random weights with sane scale fields (random bytes for the quants), in `layout`.
std::vector<uint8_t> make_weights(TensorType type, int64_t rows, int64_t cols,
                                  et::WeightLayout layout = et::WeightLayout::kRows) {
    if (layout == et::WeightLayout::kInterleaved8) {
        const auto w = make_weights(type, rows, cols);
        std::vector<uint8_t> wi(et::interleaved_bytes(type, rows, cols));
        et::interleave_rows(type, w.data(), rows, cols, wi.data());
        return wi;
    }
    const auto& tt = et::type_traits(type);
    const size_t bytes = ead::gguf::row_bytes(type, cols) * static_cast<size_t>(rows);
    std::vector<uint8_t> w(bytes);
    std::mt19937_64 rng(1);
    // A random 1 MiB pattern tiled over the matrix (fast to build for 500 MB matrices).
    std::vector<uint8_t> pattern(1 << 20);
    for (size_t i = 0; i < pattern.size(); i += 8) {
        const uint64_t v = rng();
        std::memcpy(pattern.data() + i, &v, 8);
    }
    if (type == TensorType::kF32 || type == TensorType::kF16 || type == TensorType::kBF16) {
        std::normal_distribution<float> nd;
        std::vector<float> f(pattern.size() / tt.type_size);
        for (auto& x : f) x = nd(rng);
        tt.from_float(f.data(), pattern.data(), static_cast<int64_t>(f.size()));
    }
    for (size_t off = 0; off < bytes; off += pattern.size())
        std::memcpy(w.data() + off, pattern.data(), std::min(pattern.size(), bytes - off));
    if (tt.block_size == 1) return w;
    const uint16_t h = et::fp32_to_fp16(0.01f);
    for (size_t b = 0; b < bytes; b += tt.type_size) {
        uint8_t* blk = w.data() + b;
        switch (type) {
            case TensorType::kQ4_1:
            case TensorType::kQ5_1:
            case TensorType::kQ4_K:
            case TensorType::kQ5_K: std::memcpy(blk + 2, &h, 2); [[fallthrough]];
            case TensorType::kQ4_0:
            case TensorType::kQ5_0:
            case TensorType::kQ8_0: std::memcpy(blk, &h, 2); break;
            case TensorType::kQ2_K: std::memcpy(blk + 80, &h, 2); std::memcpy(blk + 82, &h, 2); break;
            case TensorType::kQ3_K: std::memcpy(blk + 108, &h, 2); break;
            case TensorType::kQ6_K: std::memcpy(blk + 208, &h, 2); break;
            case TensorType::kQ8_K: {
                const float d = 0.01f;
                std::memcpy(blk, &d, 4);
                break;
            }
            default: break;
        }
    }
    return w;
}

std::vector<float> make_x(int64_t n) {
    std::mt19937 rng(2);
    std::normal_distribution<float> nd;
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = nd(rng);
    return x;
}

// range: type id, rows, cols, threads, layout (0 rows, 1 interleaved by 8)
//
// Copies of the matrix, together 4x the L3 cache, are cycled through so each product streams from memory as in
// decoding (where the whole model passes through the caches once per token). Every product is followed by a
// plain read (tensor::timed_read) of the same copy with the same threads: pct_bw is the kernel's speed over the
// read speed of the same bytes measured alongside it, so load from other tenants of the machine shifts both.
void BM_Matvec(benchmark::State& state) {
    const auto type = static_cast<TensorType>(state.range(0));
    const int64_t rows = state.range(1), cols = state.range(2);
    const int threads = static_cast<int>(state.range(3));
    const auto layout = static_cast<et::WeightLayout>(state.range(4));
    const auto w = make_weights(type, rows, cols, layout);
    const size_t stride = (w.size() + 4095) / 4096 * 4096;
    const size_t copies = std::max<size_t>(1, (size_t{128} << 20) / stride + 1);
    et::WeightBuffer ws = et::alloc_weight_buffer(copies * stride);
    for (size_t c = 0; c < copies; ++c) std::memcpy(ws.get() + c * stride, w.data(), w.size());
    const size_t read_bytes = w.size() / 256 * 256;
    const auto x = make_x(cols);
    std::vector<float> y(static_cast<size_t>(rows));
    double kernel_s = 0, read_s = 0;
    size_t next = 0;
    for (auto _ : state) {
        const uint8_t* wc = ws.get() + next * stride;
        const auto t0 = std::chrono::steady_clock::now();
        et::matmul(type, layout, wc, rows, cols, x.data(), 1, y.data(), threads);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        benchmark::DoNotOptimize(y.data());
        state.SetIterationTime(s);
        kernel_s += s;
        read_s += et::timed_read(ws.get() + (next + copies / 2) % copies * stride, read_bytes, threads);
        next = (next + 1) % copies;
    }
    const double n = static_cast<double>(state.iterations());
    state.counters["GB/s"] = benchmark::Counter(n * static_cast<double>(w.size()) / kernel_s / 1e9);
    state.counters["read_GB/s"] = benchmark::Counter(n * static_cast<double>(read_bytes) / read_s / 1e9);
    state.counters["pct_bw"] = benchmark::Counter(100.0 * (static_cast<double>(w.size()) / kernel_s) /
                                                  (static_cast<double>(read_bytes) / read_s));
}

// range: type id, rows, cols, n (batch), threads, layout
void BM_Matmul(benchmark::State& state) {
    const auto type = static_cast<TensorType>(state.range(0));
    const int64_t rows = state.range(1), cols = state.range(2), n = state.range(3);
    const int threads = static_cast<int>(state.range(4));
    const auto layout = static_cast<et::WeightLayout>(state.range(5));
    const auto w = make_weights(type, rows, cols, layout);
    const auto x = make_x(n * cols);
    std::vector<float> y(static_cast<size_t>(rows * n));
    double flops = 0;
    for (auto _ : state) {
        et::matmul(type, layout, w.data(), rows, cols, x.data(), n, y.data(), threads);
        benchmark::DoNotOptimize(y.data());
        flops += 2.0 * static_cast<double>(rows * cols * n);
    }
    state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
}

const TensorType kTypes[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16, TensorType::kQ4_0,
                             TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ8_0,
                             TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K, TensorType::kQ5_K,
                             TensorType::kQ6_K, TensorType::kQ8_K};

void register_all() {
    for (int t : {1, 2})
        benchmark::RegisterBenchmark("BM_ReadBandwidth", BM_ReadBandwidth)
            ->Arg(t)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
    for (int t : {1, 2})
        for (const auto& [runs, kib] : {std::pair{1, 1024}, {2, 1024}, {4, 4}, {4, 64}, {4, 1024}, {8, 1024}})
            benchmark::RegisterBenchmark("ReadRuns", BM_ReadRuns)
                ->Args({t, runs, kib})
                ->ArgNames({"threads", "runs", "KiB"})
                ->UseManualTime()
                ->Unit(benchmark::kMillisecond);
    const int64_t shapes[][2] = {{896, 4864}, {4864, 896}, {2048, 8192}, {8192, 2048}, {151936, 896}};
    for (TensorType type : kTypes) {
        for (int layout : {0, 1}) {
            if (layout == 1 && !et::can_interleave(type, 4864, 4864)) continue;
            const std::string name = std::string(et::type_traits(type).name) + (layout ? "x8" : "");
            for (const auto& s : shapes)
                for (int t : {1, 2}) {
                    if (layout == 1 && !et::can_interleave(type, s[0], s[1])) continue;
                    benchmark::RegisterBenchmark(("Matvec/" + name).c_str(), BM_Matvec)
                        ->Args({static_cast<int64_t>(type), s[0], s[1], t, layout})
                        ->ArgNames({"type", "rows", "cols", "threads", "layout"})
                        ->UseManualTime()
                        ->Unit(benchmark::kMicrosecond);
                }
        }
    }
    for (TensorType type : kTypes) {
        for (int layout : {0, 1}) {
            if (layout == 1 && !et::can_interleave(type, 4864, 4864)) continue;
            const std::string name = std::string(et::type_traits(type).name) + (layout ? "x8" : "");
            for (int64_t n : {64, 512})
                for (int t : {1, 2})
                    benchmark::RegisterBenchmark(("Matmul/" + name).c_str(), BM_Matmul)
                        ->Args({static_cast<int64_t>(type), 896, 4864, n, t, layout})
                        ->ArgNames({"type", "rows", "cols", "n", "threads", "layout"})
                        ->UseRealTime()
                        ->Unit(benchmark::kMillisecond);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
