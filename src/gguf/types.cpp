#include "gguf/types.h"

#include <array>
#include <cctype>

namespace ead::gguf {

std::string_view value_type_name(ValueType t) {
    static constexpr std::array<std::string_view, kValueTypeCount> kNames = {
        "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
        "bool",  "string", "array", "uint64", "int64", "float64"};
    auto i = static_cast<uint32_t>(t);
    return i < kValueTypeCount ? kNames[i] : std::string_view("unknown");
}

size_t value_type_size(ValueType t) {
    switch (t) {
        case ValueType::kUint8:
        case ValueType::kInt8:
        case ValueType::kBool: return 1;
        case ValueType::kUint16:
        case ValueType::kInt16: return 2;
        case ValueType::kUint32:
        case ValueType::kInt32:
        case ValueType::kFloat32: return 4;
        case ValueType::kUint64:
        case ValueType::kInt64:
        case ValueType::kFloat64: return 8;
        case ValueType::kString:
        case ValueType::kArray: return 0;
    }
    return 0;
}

bool is_integer(ValueType t) {
    switch (t) {
        case ValueType::kUint8:
        case ValueType::kInt8:
        case ValueType::kUint16:
        case ValueType::kInt16:
        case ValueType::kUint32:
        case ValueType::kInt32:
        case ValueType::kUint64:
        case ValueType::kInt64: return true;
        default: return false;
    }
}

bool is_float(ValueType t) { return t == ValueType::kFloat32 || t == ValueType::kFloat64; }

namespace {

struct TypeEntry {
    TensorType type;
    TensorTypeLayout layout;
};

// Block layouts, bytes per block: see src/tensor/ for the field-by-field structs (static_assert'ed against these).
constexpr TypeEntry kTypes[] = {
    {TensorType::kF32, {"F32", 1, 4}},        {TensorType::kF16, {"F16", 1, 2}},
    {TensorType::kQ4_0, {"Q4_0", 32, 18}},    {TensorType::kQ4_1, {"Q4_1", 32, 20}},
    {TensorType::kQ5_0, {"Q5_0", 32, 22}},    {TensorType::kQ5_1, {"Q5_1", 32, 24}},
    {TensorType::kQ8_0, {"Q8_0", 32, 34}},    {TensorType::kQ8_1, {"Q8_1", 32, 36}},
    {TensorType::kQ2_K, {"Q2_K", 256, 84}},   {TensorType::kQ3_K, {"Q3_K", 256, 110}},
    {TensorType::kQ4_K, {"Q4_K", 256, 144}},  {TensorType::kQ5_K, {"Q5_K", 256, 176}},
    {TensorType::kQ6_K, {"Q6_K", 256, 210}},  {TensorType::kQ8_K, {"Q8_K", 256, 292}},
    {TensorType::kI8, {"I8", 1, 1}},          {TensorType::kI16, {"I16", 1, 2}},
    {TensorType::kI32, {"I32", 1, 4}},        {TensorType::kI64, {"I64", 1, 8}},
    {TensorType::kF64, {"F64", 1, 8}},        {TensorType::kBF16, {"BF16", 1, 2}},
};

}  // namespace

std::optional<TensorTypeLayout> tensor_type_layout(uint32_t type_id) {
    for (const auto& e : kTypes) {
        if (static_cast<uint32_t>(e.type) == type_id) return e.layout;
    }
    return std::nullopt;
}

const TensorTypeLayout& layout(TensorType t) {
    for (const auto& e : kTypes) {
        if (e.type == t) return e.layout;
    }
    return kTypes[0].layout;  // unreachable for valid enumerators
}

std::string_view tensor_type_name(TensorType t) { return layout(t).name; }

std::optional<TensorType> tensor_type_from_name(std::string_view name) {
    for (const auto& e : kTypes) {
        if (e.layout.name.size() != name.size()) continue;
        bool same = true;
        for (size_t i = 0; i < name.size(); ++i) {
            if (std::toupper(static_cast<unsigned char>(name[i])) != e.layout.name[i]) same = false;
        }
        if (same) return e.type;
    }
    return std::nullopt;
}

size_t row_bytes(TensorType t, int64_t n) {
    const auto& l = layout(t);
    return static_cast<size_t>(n / l.block_size) * l.type_size;
}

}  // namespace ead::gguf
