// One loop shape shared by the tensor and model stages: split among threads when the caller judges it worth
// it, otherwise in order on the calling thread.
#pragma once

#include <cstdint>

namespace ead::tensor {

// fn(i) for i in [0, n). With `split`, the iterations are divided statically among n_threads OpenMP threads;
// without it they run on the calling thread and no parallel region is entered at all: even a region disabled
// by an `if` clause costs about half a microsecond, and decoding would pay that some 20 times per layer.
template <class Fn>
void parallel_for(int64_t n, int n_threads, bool split, const Fn& fn) {
    if (split) {
#pragma omp parallel for num_threads(n_threads) schedule(static)
        for (int64_t i = 0; i < n; ++i) fn(i);
    } else {
        for (int64_t i = 0; i < n; ++i) fn(i);
    }
}

}  // namespace ead::tensor
