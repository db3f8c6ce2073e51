// Matrix products: activations are quantized once per row of x to the weight type's vec_dot_type, then the
// Highway kernels (matmul_*_simd.cpp) compute ranges of output rows, split among the threads.
#include "tensor/matmul.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/dequant.h"
#include "tensor/kernels.h"
#include "tensor/parallel.h"
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

size_t align_up(size_t v) { return (v + 63) & ~size_t{63}; }

void run_rows(const GemmArgs& a, WeightLayout layout, int64_t r0, int64_t r1) {
    if (layout == WeightLayout::kInterleaved8) return gemm_interleaved(a, r0, r1);
    switch (family(a.type)) {
        case Family::kFloat: return gemm_float(a, r0, r1);
        case Family::kLegacy: return gemm_legacy(a, r0, r1);
        case Family::kK: return gemm_k(a, r0, r1);
    }
}

// Activations of one product in the format its weight type needs. Products of one matmul_many call that need
// the same format share it. Slots: 0..2 legacy with offset 0, 8, 16; 3: Q8_K (the vec_dot_type of every K-quant).
struct ActivationCache {
    static constexpr int kSlots = 4;
    bool ready[kSlots] = {};
    ActLegacy legacy[3];
    const void* xk = nullptr;
};

std::vector<uint8_t>& slot_scratch(int slot, size_t bytes) {
    thread_local std::vector<uint8_t> bufs[ActivationCache::kSlots];
    auto& buf = bufs[slot];
    if (buf.size() < bytes) buf.resize(bytes);
    return buf;
}

// fn(j) for each of n rows of cols activations, split among the threads when there is enough work.
template <class Fn>
void for_rows(int64_t n, int64_t cols, int n_threads, const Fn& fn) {
    parallel_for(n, n_threads, n > 1 && n_threads > 1 && n * cols >= 8192, fn);
}

// Fills a.legacy / a.xk for a's type, quantizing x (n rows of cols) unless the cache has it.
void prepare_activations(GemmArgs& a, ActivationCache& cache, int nt_req) {
    const int64_t n = a.n, cols = a.cols;
    const float* x = a.x;
    const Family fam = family(a.type);
    if (fam == Family::kLegacy) {
        const int offset = a.type == TensorType::kQ4_0 ? 8 : a.type == TensorType::kQ5_0 ? 16 : 0;
        const int slot = offset / 8;
        if (!cache.ready[slot]) {
            const int64_t nb = cols / kQK;
            const size_t n_qs = align_up(static_cast<size_t>(n * cols));
            const size_t n_d = align_up(static_cast<size_t>(n * nb) * 4);
            const size_t n_corr = align_up(static_cast<size_t>(n * nb) * 32);
            uint8_t* buf = slot_scratch(slot, n_qs + 3 * n_d + n_corr).data();
            auto* qs = reinterpret_cast<int8_t*>(buf);
            auto* d = reinterpret_cast<float*>(buf + n_qs);
            auto* s = reinterpret_cast<float*>(buf + n_qs + n_d);
            auto* corr = reinterpret_cast<int32_t*>(buf + n_qs + 2 * n_d);
            auto* osum = reinterpret_cast<int32_t*>(buf + n_qs + 2 * n_d + n_corr);
            for_rows(n, cols, nt_req, [&](int64_t j) {
                quantize_act_q8_0(x + j * cols, cols, offset, qs + j * cols, d + j * nb, corr + j * nb * 8,
                                  s + j * nb, osum + j * nb);
            });
            cache.legacy[slot] = ActLegacy{qs, d, corr, s, osum};
            cache.ready[slot] = true;
        }
        a.legacy = cache.legacy[slot];
    } else if (fam == Family::kK) {
        if (!cache.ready[3]) {
            const size_t x_row = gguf::row_bytes(TensorType::kQ8_K, cols);
            uint8_t* buf = slot_scratch(3, x_row * static_cast<size_t>(n)).data();
            for_rows(n, cols, nt_req,
                     [&](int64_t j) { quantize_act_q8_k(x + j * cols, buf + j * x_row, cols); });
            cache.xk = buf;
            cache.ready[3] = true;
        }
        a.xk = cache.xk;
    }
}

// Chunks 0 .. n-1 split into contiguous shares, one per thread: share i is [start[i], start[i + 1]). take(me)
// returns the front chunk of share me, or once that is empty the back chunk of another share, or -1 when
// every chunk is taken. Each share's front and back live in one atomic word, so an owner and a thief never
// take the same chunk.
class StealingShares {
  public:
    static constexpr int kMaxThreads = 64;
    StealingShares(const int64_t* start, int n_threads) : n_(std::clamp(n_threads, 1, kMaxThreads)) {
        for (int i = 0; i < n_; ++i) state_[i].value = pack(start[i], start[i + 1]);
    }
    int64_t take(int me) {
        if (me < n_)
            if (const int64_t c = take_from(me, true); c >= 0) return c;
        for (int k = 1; k <= n_; ++k) {  // a thread beyond kMaxThreads has no share of its own and only takes
            const int share = (me + k) % n_;
            if (share == me) continue;
            if (const int64_t c = take_from(share, false); c >= 0) return c;
        }
        return -1;
    }

  private:
    static uint64_t pack(int64_t front, int64_t back) {
        return static_cast<uint64_t>(front) << 32 | static_cast<uint64_t>(back);
    }
    int64_t take_from(int share, bool front) {
        std::atomic_ref<uint64_t> st(state_[share].value);
        uint64_t cur = st.load(std::memory_order_relaxed);
        for (;;) {
            const int64_t f = static_cast<int64_t>(cur >> 32), b = static_cast<int64_t>(cur & 0xFFFFFFFFu);
            if (f >= b) return -1;
            const uint64_t next = front ? pack(f + 1, b) : pack(f, b - 1);
            if (st.compare_exchange_weak(cur, next, std::memory_order_relaxed)) return front ? f : b - 1;
        }
    }
    // One cache line each, so owners do not contend. value = front << 32 | back: chunks [front, back) are
    // left. A plain word read through atomic_ref, so the unused shares are never zeroed.
    struct alignas(64) Share {
        uint64_t value;
    };
    int n_;
    Share state_[kMaxThreads];
};

// Cuts [0, len) into chunks for StealingShares: one contiguous share per thread, each cut from its front into
// chunks of a quarter of what is left of the share, between min_len and max_len. A share thus starts with
// long chunks, which cost the least per byte, and ends with short ones: the owner's last chunk and the chunks
// others steal from its back are short, so threads finish within a short chunk of each other (with chunks of
// one length, a thread left idle while the other finished its last chunk: on the Qwen2.5-0.5B shape at 2
// threads, 6-13 us per product, up to a third of the small ones). bounds gets the chunk edges (chunk c is
// [bounds[c], bounds[c + 1])), start the first chunk of each share and, last, the number of chunks.
void guided_chunks(int64_t len, int nt, int64_t min_len, int64_t max_len, std::vector<int64_t>& bounds,
                   std::vector<int64_t>& start) {
    constexpr int64_t kTail = 4;
    bounds.assign(1, 0);
    start.clear();
    for (int i = 0; i < nt; ++i) {
        start.push_back(static_cast<int64_t>(bounds.size()) - 1);
        const int64_t end = len * (i + 1) / nt;
        for (int64_t at = bounds.back(); at < end;) {
            at = std::min(end, at + std::clamp((end - at) / kTail, min_len, max_len));
            bounds.push_back(at);
        }
    }
    start.push_back(static_cast<int64_t>(bounds.size()) - 1);
}

// Row groups per stream for groups groups of about group_bytes each: a quarter of them, lengthened by up to
// an eighth until streams start a distance apart that is not a multiple of 1 KiB (so that no two are a
// multiple of 2 KiB apart). Four streams read in step from starts a large power of two apart read slower. One
// thread, one buffer, lengths alternated (ninth session): Gemma 3 270M's output matrix (262144 x 640 Q8_0,
// groups of 5440 bytes) streamed 4-8% faster with streams of 8193 groups than of 8192 (85 x 512 KiB apart) or
// 8448 (2805 x 16 KiB); the Qwen2.5-0.5B shape's (102400 x 896 Q8_0) 5-9% faster with 3201-3204 than with
// 3200 (2975 x 8 KiB). Q4_0, which computes more per byte, did not care. Why 8195 was no faster is not known.
int64_t stream_groups(int64_t groups, int64_t group_bytes) {
    const int64_t base = (groups + kMaxLanes - 1) / kMaxLanes;
    for (int64_t s = base; s <= base + base / 8; ++s)
        if (s * group_bytes % 1024 != 0) return s;
    return base;
}

// Matrix x vector, bound by memory. Row groups (kRowAlign rows, numbered across the jobs) are cut into
// kMaxLanes streams (stream_groups; the last one shorter), and the streams together into virtual chunks:
// virtual chunk [a, b) is groups [a, b) of every stream, counted from the stream's start. Each thread owns a
// contiguous share of the virtual chunks (guided_chunks) and computes each one's streams in step
// (gemv_interleaved_lanes), so it reads kMaxLanes far-apart streams at once, each moving forward as the
// thread does: one stream per thread read ~30% slower (tensor/bandwidth.h). A thread done with its share
// takes virtual chunks from the back of the others' (StealingShares), so equal threads finish together and
// one slowed by the rest of the machine does not leave the others waiting.
void gemv_streams(const MatmulJob* jobs, const GemmArgs* args, const int64_t* group_end, int n_jobs, int nt,
                  int64_t work) {
    // Weight bytes of each stream in a virtual chunk: at most kMaxChunkBytes, at least kMinChunkBytes.
    constexpr int64_t kMaxChunkBytes = 64 * 1024, kMinChunkBytes = 8 * 1024;
    const int64_t groups = group_end[n_jobs - 1];
    const int64_t group_bytes = std::max<int64_t>(1, work / groups);
    const int64_t stream = stream_groups(groups, group_bytes);  // groups per stream, the last one's fewer
    thread_local std::vector<int64_t> bounds_tl, start_tl;  // reused by the calling thread's next product
    // Threads beyond StealingShares::kMaxThreads get no share of their own and only take from the others'.
    // One thread has nobody to finish with: long chunks to the end.
    const int n_shares = std::min(nt, StealingShares::kMaxThreads);
    const int64_t max_len = std::max<int64_t>(1, kMaxChunkBytes / group_bytes);
    guided_chunks(stream, n_shares, nt == 1 ? max_len : std::max<int64_t>(1, kMinChunkBytes / group_bytes),
                  max_len, bounds_tl, start_tl);
    const int64_t* bounds = bounds_tl.data();  // the lambdas below run on other threads too
    auto job_of = [&](int64_t g) {
        int i = 0;
        while (group_end[i] <= g) ++i;
        return i;
    };
    auto run_virtual = [&](int64_t c) {
        int64_t pos[kMaxLanes], end[kMaxLanes];  // each stream's groups left: [pos, end)
        for (int l = 0; l < kMaxLanes; ++l) {
            pos[l] = std::min(groups, l * stream + bounds[c]);
            end[l] = std::min(groups, l * stream + bounds[c + 1]);
        }
        for (;;) {
            // The streams whose next groups are interleaved rows of the first such stream's type go together,
            // as far as the shortest of them stays inside its job; the rest wait for the next round.
            const GemmArgs* lane_args[kMaxLanes];
            int64_t lane_row[kMaxLanes];
            int lane_stream[kMaxLanes];
            int k = 0;
            int64_t run = 0;
            bool left = false;
            for (int l = 0; l < kMaxLanes; ++l) {
                if (pos[l] >= end[l]) continue;
                left = true;
                const int i = job_of(pos[l]);
                const int64_t first = i == 0 ? 0 : group_end[i - 1];
                const int64_t len = std::min(end[l], group_end[i]) - pos[l];
                if (jobs[i].layout != WeightLayout::kInterleaved8) {  // row layout: one stream at a time
                    run_rows(args[i], jobs[i].layout, (pos[l] - first) * kRowAlign,
                             std::min(args[i].rows, (pos[l] + len - first) * kRowAlign));
                    pos[l] += len;
                    continue;
                }
                if (k > 0 && args[i].type != lane_args[0]->type) continue;
                lane_args[k] = &args[i];
                lane_row[k] = (pos[l] - first) * kRowAlign;
                lane_stream[k] = l;
                run = k == 0 ? len : std::min(run, len);
                ++k;
            }
            if (!left) return;
            if (k == 0) continue;
            gemv_interleaved_lanes(lane_args, lane_row, k, run);
            for (int q = 0; q < k; ++q) pos[lane_stream[q]] += run;
        }
    };
    if (nt == 1) {
        for (int64_t c = 0; c < start_tl.back(); ++c) run_virtual(c);
        return;
    }
    StealingShares shares(start_tl.data(), n_shares);
#pragma omp parallel num_threads(nt)
    {
        const int me = omp_get_thread_num();
        for (int64_t c; (c = shares.take(me)) >= 0;) run_virtual(c);
    }
}

}  // namespace

void matmul(TensorType type, const void* w, int64_t rows, int64_t cols, const float* x, int64_t n, float* y,
            int n_threads) {
    matmul(type, WeightLayout::kRows, w, rows, cols, x, n, y, n_threads);
}

void matmul(TensorType type, WeightLayout layout, const void* w, int64_t rows, int64_t cols, const float* x,
            int64_t n, float* y, int n_threads) {
    const MatmulJob job{type, layout, w, rows, y};
    matmul_many(&job, 1, cols, x, n, n_threads);
}

void matmul_many(const MatmulJob* jobs, int n_jobs, int64_t cols, const float* x, int64_t n, int n_threads) {
    constexpr int kMaxJobs = 8;
    if (n_jobs < 1 || n <= 0) return;
    if (n_jobs > kMaxJobs) throw std::invalid_argument("matmul_many: at most 8 products per call");
    const int nt_req = std::max(1, n_threads);

    // ---- activations, quantized once per row of x and format (rows of x in parallel) ----
    GemmArgs args[kMaxJobs];
    int64_t group_end[kMaxJobs];  // cumulative row groups (kRowAlign rows) through job i
    ActivationCache cache;
    int64_t groups = 0, work = 0;
    for (int i = 0; i < n_jobs; ++i) {
        const MatmulJob& jb = jobs[i];
        if (jb.layout == WeightLayout::kInterleaved8 && !can_interleave(jb.type, jb.rows, cols))
            throw std::invalid_argument("matmul: no interleaved kernel for " +
                                        std::string(type_traits(jb.type).name) + " " + std::to_string(jb.rows) +
                                        "x" + std::to_string(cols));
        GemmArgs& a = args[i];
        a = GemmArgs{};
        a.type = jb.type;
        a.w = static_cast<const uint8_t*>(jb.w);
        a.w_row = gguf::row_bytes(jb.type, cols);
        if (jb.row_stride != 0) {
            if (jb.layout != WeightLayout::kRows || jb.row_stride < a.w_row)
                throw std::invalid_argument("matmul: row stride " + std::to_string(jb.row_stride) +
                                            " needs the row layout and at least the row's " +
                                            std::to_string(a.w_row) + " bytes");
            a.w_row = jb.row_stride;
        }
        a.rows = std::max<int64_t>(0, jb.rows);
        a.cols = cols;
        a.n = n;
        a.y = jb.y;
        a.x = x;
        if (a.rows > 0) prepare_activations(a, cache, nt_req);
        groups += (a.rows + kRowAlign - 1) / kRowAlign;
        group_end[i] = groups;
        work += static_cast<int64_t>(a.w_row) * a.rows * n;
    }
    if (groups == 0) return;

    // ---- output rows of all products in ranges of whole row groups ----
    // Small products run on one thread: waking a second one costs more than the work (and, on a loaded
    // machine, a parallel region waits for every thread to be scheduled).
    constexpr int64_t kMinWorkPerThread = 64 * 1024;  // weight bytes × activation rows
    const int nt = static_cast<int>(
        std::max<int64_t>(1, std::min<int64_t>({nt_req, groups, work / kMinWorkPerThread})));
    auto run_groups = [&](int64_t g0, int64_t g1) {
        int64_t start = 0;
        for (int i = 0; i < n_jobs; ++i) {
            const int64_t lo = std::max(g0, start), hi = std::min(g1, group_end[i]);
            if (lo < hi) {
                const int64_t r0 = (lo - start) * kRowAlign, r1 = std::min(args[i].rows, (hi - start) * kRowAlign);
                run_rows(args[i], jobs[i].layout, r0, r1);
            }
            start = group_end[i];
        }
    };
    if (n == 1) return gemv_streams(jobs, args, group_end, n_jobs, nt, work);
    if (nt == 1) {
        run_groups(0, groups);
        return;
    }
    // Matrix x matrix, bound by arithmetic: up to kChunksPerThread ranges per thread, handed out in turn (the
    // shares above were 3-5% slower here).
    constexpr int64_t kChunksPerThread = 8, kMinChunkWork = 256 * 1024;
    const int64_t n_chunks =
        std::min<int64_t>(groups, std::clamp<int64_t>(work / kMinChunkWork, nt, nt * kChunksPerThread));
    const int64_t chunk = (groups + n_chunks - 1) / n_chunks;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t c = 0; c < n_chunks; ++c) run_groups(c * chunk, std::min(groups, (c + 1) * chunk));
}

void weighted_row_sums(TensorType type, const void* w, int64_t rows, int64_t cols, size_t row_stride,
                       const float* x, int64_t n, float* y, int n_threads) {
    if (family(type) != Family::kFloat)
        throw std::invalid_argument("weighted_row_sums: " + std::string(type_traits(type).name) +
                                    " rows (F32, F16 or BF16 only)");
    if (n <= 0 || cols <= 0) return;
    if (row_stride < gguf::row_bytes(type, cols))
        throw std::invalid_argument("weighted_row_sums: row stride " + std::to_string(row_stride) +
                                    " shorter than a row of " + std::to_string(gguf::row_bytes(type, cols)) +
                                    " bytes");
    const WeightedArgs a{
        type, static_cast<const uint8_t*>(w), row_stride, std::max<int64_t>(0, rows), cols, x, y};
    // Four rows of x per kernel call (its tile), split among the threads when there is enough work.
    constexpr int64_t kRowsPerTask = 4;
    const int64_t tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
    const bool split = n_threads > 1 && tasks > 1 && n * a.rows * cols >= (1 << 18);
    parallel_for(tasks, n_threads, split,
                 [&](int64_t t) { weighted_rows(a, t * kRowsPerTask, std::min(n, (t + 1) * kRowsPerTask)); });
}

void dequantize_row(TensorType type, const void* w, int64_t cols, int64_t r, float* dst) {
    dequantize_row_fast(type, static_cast<const uint8_t*>(w) + r * gguf::row_bytes(type, cols), dst, cols);
}

}  // namespace ead::tensor
