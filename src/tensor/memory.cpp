#include "tensor/memory.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

bool backed_by_huge_pages(const void* p, size_t bytes) {
#if defined(__linux__)
    std::FILE* f = std::fopen("/proc/self/smaps", "r");
    if (!f) return false;
    const auto lo = reinterpret_cast<uintptr_t>(p), hi = lo + bytes;
    char line[512];
    bool inside = false, found = false, ok = true;
    long rss = -1;
    while (std::fgets(line, sizeof line, f)) {
        unsigned long a = 0, b = 0;
        if (std::sscanf(line, "%lx-%lx ", &a, &b) == 2) {  // a mapping's header line
            inside = a < hi && b > lo;
            continue;
        }
        if (!inside) continue;
        long kb = 0;
        if (std::sscanf(line, "Rss: %ld kB", &kb) == 1) {
            rss = kb;
        } else if (std::sscanf(line, "AnonHugePages: %ld kB", &kb) == 1) {
            found = true;
            if (kb < rss - 2048) ok = false;  // the mapping's ends may share 4 KiB pages with other allocations
        }
    }
    std::fclose(f);
    return found && ok;
#else
    (void)p;
    (void)bytes;
    return false;
#endif
}

}  // namespace ead::tensor
