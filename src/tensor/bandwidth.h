// Memory read bandwidth of this machine: the baseline every "% of bandwidth" figure is a fraction of.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ead::tensor {

// Reads `bytes` bytes from p (64-byte aligned, bytes a multiple of 256) with the widest vectors the CPU has
// and returns a checksum (the wrapping sum of the 64-bit words), so the compiler cannot drop the reads. The
// bytes are read as kStreams runs of kRunBytes at a time, in step: the hardware prefetchers follow each run,
// and on the development machine (2 cores of a Zen 3 EPYC) this read reaches ~28 GB/s with 2 threads where
// one stream per thread reaches ~20 (a standalone test alternating them, 15 times; 6 or 8 runs were no faster
// than 4, runs of 64 KiB to 16 MiB alike). Kernels streaming weights read the same way (tensor/matmul.cpp).
constexpr size_t kStreams = 4;
constexpr size_t kRunBytes = size_t{1} << 20;
uint64_t read_stream(const void* p, size_t bytes);

// Seconds to read [p, p + bytes) once with n_threads threads, each reading a contiguous share (p 64-byte aligned,
// bytes a multiple of 256). Benchmarks time this over the very memory a kernel streams, right beside it.
double timed_read(const void* p, size_t bytes, int n_threads);

}  // namespace ead::tensor
