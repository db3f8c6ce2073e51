// Which Highway targets the tensor kernels are compiled for. Include before any Highway header in every
// translation unit that uses foreach_target.h (and in tests that enumerate targets), so all agree.
//
// Built: AVX2 (the machines this runs on: AVX2 + FMA + F16C) and the portable SCALAR fallback (what Highway 1.0.3
// generates as the baseline here). SSSE3/SSE4 and
// the AVX-512 targets are left out to keep compile time down; on AVX-512 machines AVX2 is chosen.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3 | HWY_AVX3_DL)
#endif

namespace ead::tensor {

// The compiled targets this CPU supports, best first (Highway target bits).
std::vector<int64_t> simd_targets();
// Restricts dynamic dispatch to `target` (0: back to all supported targets). For tests and benchmarks.
void force_simd_target(int64_t target);
// Name of the target dispatch currently chooses ("AVX2", "EMU128", ...).
std::string simd_target_name(int64_t target);

}  // namespace ead::tensor
