// A short hash of logits, printed by the CLI so that numeric changes are visible between runs and builds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ead::model {

// 32-bit FNV-1a over the bit patterns of n floats (little-endian bytes), as 8 lowercase hex digits.
// Bit-exact: any change in any logit changes the fingerprint (with probability 1 - 2^-32).
std::string logits_fingerprint(const float* logits, size_t n);

}  // namespace ead::model
