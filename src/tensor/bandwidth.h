// Memory read bandwidth of this machine: the baseline every "% of bandwidth" figure is a fraction of.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ead::tensor {

// Reads `bytes` bytes from p (64-byte aligned, bytes a multiple of 256) with the widest vectors the CPU has and
// returns a checksum, so the compiler cannot drop the reads.
uint64_t read_stream(const void* p, size_t bytes);

// Seconds to read [p, p + bytes) once with n_threads threads, each reading a contiguous share (p 64-byte aligned,
// bytes a multiple of 256). Benchmarks time this over the very memory a kernel streams, right beside it.
double timed_read(const void* p, size_t bytes, int n_threads);

}  // namespace ead::tensor
