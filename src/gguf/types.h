// The GGUF file format's enumerations: metadata value types and tensor (ggml) types with their block layouts.
// Only sizes live here; how each tensor type is decoded and multiplied lives in src/tensor/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ead::gguf {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr uint32_t kDefaultAlignment = 32;
constexpr int kMaxDims = 4;

// Metadata value types, numbered as in the GGUF specification.
enum class ValueType : uint32_t {
    kUint8 = 0,
    kInt8 = 1,
    kUint16 = 2,
    kInt16 = 3,
    kUint32 = 4,
    kInt32 = 5,
    kFloat32 = 6,
    kBool = 7,
    kString = 8,
    kArray = 9,
    kUint64 = 10,
    kInt64 = 11,
    kFloat64 = 12,
};
constexpr uint32_t kValueTypeCount = 13;

std::string_view value_type_name(ValueType t);
// Size in bytes of a fixed-size scalar type; 0 for string and array.
size_t value_type_size(ValueType t);
bool is_integer(ValueType t);
bool is_float(ValueType t);

// Tensor element types, numbered as ggml numbers them (the ids stored in GGUF tensor infos).
enum class TensorType : uint32_t {
    kF32 = 0,
    kF16 = 1,
    kQ4_0 = 2,
    kQ4_1 = 3,
    kQ5_0 = 6,
    kQ5_1 = 7,
    kQ8_0 = 8,
    kQ8_1 = 9,
    kQ2_K = 10,
    kQ3_K = 11,
    kQ4_K = 12,
    kQ5_K = 13,
    kQ6_K = 14,
    kQ8_K = 15,
    kI8 = 24,
    kI16 = 25,
    kI32 = 26,
    kI64 = 27,
    kF64 = 28,
    kBF16 = 30,
};

// Block layout of a tensor type: `block_size` elements are stored in `type_size` bytes.
struct TensorTypeLayout {
    std::string_view name;
    int64_t block_size;
    size_t type_size;
};

// Layout of a known tensor type id, or nullopt for an id this format reader does not know.
std::optional<TensorTypeLayout> tensor_type_layout(uint32_t type_id);
// Layout of a known type (never fails for enumerators above).
const TensorTypeLayout& layout(TensorType t);
std::string_view tensor_type_name(TensorType t);
// Parses a type name ("Q4_K", "f16", ...); nullopt when unknown.
std::optional<TensorType> tensor_type_from_name(std::string_view name);
// Bytes of a row of `n` elements (n must be a multiple of the block size).
size_t row_bytes(TensorType t, int64_t n);

}  // namespace ead::gguf
