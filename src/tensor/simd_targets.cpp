// Target enumeration and forcing for tests and benchmarks (same target set as the kernels).
#include "tensor/simd_targets.h"

#include <hwy/targets.h>

namespace ead::tensor {

std::vector<int64_t> simd_targets() { return hwy::SupportedAndGeneratedTargets(); }

void force_simd_target(int64_t target) { hwy::SetSupportedTargetsForTest(target); }

std::string simd_target_name(int64_t target) { return hwy::TargetName(target); }

}  // namespace ead::tensor
