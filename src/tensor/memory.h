// Memory for the data kernels stream end to end (weight matrices, the bandwidth baseline's buffer).
//
// Aligned to 2 MiB and marked for transparent huge pages (MADV_HUGEPAGE) where the buffer spans at least one
// huge page: a matrix read from end to end then costs one TLB entry per 2 MiB instead of one per 4 KiB. Under a
// hypervisor every TLB miss walks two page tables, and on the machines this project measures on, streaming reads
// run about 1.5x faster from huge pages. Where the kernel refuses (THP disabled, no free huge pages) the buffer
// silently falls back to 4 KiB pages: same contents, same results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace ead::tensor {

struct AlignedFree {
    void operator()(void* p) const noexcept;
};
using WeightBuffer = std::unique_ptr<uint8_t[], AlignedFree>;

// An uninitialized buffer of at least `bytes` bytes (64-byte aligned; 2 MiB-aligned and huge-page advised from
// 1 MiB up). Throws std::bad_alloc when memory is exhausted.
WeightBuffer alloc_weight_buffer(size_t bytes);

}  // namespace ead::tensor
