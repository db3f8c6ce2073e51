// A GGUF metadata value: a scalar, a string, or an array of scalars or strings.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gguf/types.h"

namespace ead::gguf {

class Value {
public:
    Value() = default;

    // ---- construction (used by the reader and the writer) ----
    static Value u8(uint8_t v) { return scalar(ValueType::kUint8, v); }
    static Value i8(int8_t v) { return scalar(ValueType::kInt8, v); }
    static Value u16(uint16_t v) { return scalar(ValueType::kUint16, v); }
    static Value i16(int16_t v) { return scalar(ValueType::kInt16, v); }
    static Value u32(uint32_t v) { return scalar(ValueType::kUint32, v); }
    static Value i32(int32_t v) { return scalar(ValueType::kInt32, v); }
    static Value u64(uint64_t v) { return scalar(ValueType::kUint64, v); }
    static Value i64(int64_t v) { return scalar(ValueType::kInt64, v); }
    static Value f32(float v) { return scalar(ValueType::kFloat32, v); }
    static Value f64(double v) { return scalar(ValueType::kFloat64, v); }
    static Value boolean(bool v) { return scalar(ValueType::kBool, static_cast<uint8_t>(v ? 1 : 0)); }
    static Value string(std::string v);
    static Value strings(std::vector<std::string> v);
    // An array of fixed-size scalars, given as their raw little-endian bytes.
    static Value array(ValueType elem, std::vector<uint8_t> raw);
    template <typename T>
    static Value array_of(ValueType elem, const std::vector<T>& v) {
        std::vector<uint8_t> raw(v.size() * sizeof(T));
        if (!v.empty()) std::memcpy(raw.data(), v.data(), raw.size());
        return array(elem, std::move(raw));
    }

    // ---- inspection ----
    ValueType type() const { return type_; }
    ValueType array_type() const { return array_type_; }  // meaningful when type() == kArray
    size_t array_size() const;
    std::string type_string() const;  // "uint32", "array[string]", ...

    // Conversions; each throws std::invalid_argument naming the expected and actual type.
    // Integers convert between widths only when the value fits.
    uint64_t as_u64() const;
    int64_t as_i64() const;
    double as_f64() const;  // any integer or float
    bool as_bool() const;
    const std::string& as_string() const;
    const std::vector<std::string>& as_strings() const;
    std::vector<int64_t> as_ints() const;    // integer arrays
    std::vector<float> as_floats() const;    // float or integer arrays
    // Element i of a numeric array, as double (for printing).
    double array_number(size_t i) const;
    // Raw scalar bits / array bytes (for the writer).
    uint64_t raw_bits() const { return bits_; }
    const std::vector<uint8_t>& raw_array() const { return array_bytes_; }

    bool operator==(const Value& o) const = default;

private:
    template <typename T>
    static Value scalar(ValueType t, T v) {
        Value r;
        r.type_ = t;
        std::memcpy(&r.bits_, &v, sizeof(T));
        return r;
    }
    void expect(ValueType t) const;

    ValueType type_ = ValueType::kUint8;
    ValueType array_type_ = ValueType::kUint8;
    uint64_t bits_ = 0;                       // scalar payload, little-endian in the low bytes
    std::string str_;                         // kString
    std::vector<std::string> array_strings_;  // kArray of kString
    std::vector<uint8_t> array_bytes_;        // kArray of fixed-size scalars
};

}  // namespace ead::gguf
