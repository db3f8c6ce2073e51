#include "tensor/memory.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ead::tensor {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}

void AlignedFree::operator()(void* p) const noexcept { std::free(p); }

WeightBuffer alloc_weight_buffer(size_t bytes) {
    bytes = std::max<size_t>(bytes, 1);
    const bool huge = bytes >= kHugePage / 2;
    const size_t align = huge ? kHugePage : 64;
    const size_t size = (bytes + align - 1) / align * align;  // aligned_alloc wants a multiple of the alignment
    void* p = std::aligned_alloc(align, size);
    if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (huge) madvise(p, size, MADV_HUGEPAGE);  // advice only: failure leaves 4 KiB pages
#endif
    return WeightBuffer(static_cast<uint8_t*>(p));
}

}  // namespace ead::tensor
