#include "gguf/value.h"

#include <limits>
#include <stdexcept>

namespace ead::gguf {

namespace {

// Reads scalar of type t stored in the low bytes of `p` as int64/uint64/double.
struct Scalar {
    bool is_signed = false;
    bool is_float = false;
    int64_t i = 0;
    uint64_t u = 0;
    double f = 0;
};

Scalar decode(ValueType t, const uint8_t* p) {
    Scalar s;
    auto load = [&](auto tag) {
        decltype(tag) v;
        std::memcpy(&v, p, sizeof(v));
        return v;
    };
    switch (t) {
        case ValueType::kUint8: s.u = load(uint8_t{}); break;
        case ValueType::kBool: s.u = load(uint8_t{}); break;
        case ValueType::kUint16: s.u = load(uint16_t{}); break;
        case ValueType::kUint32: s.u = load(uint32_t{}); break;
        case ValueType::kUint64: s.u = load(uint64_t{}); break;
        case ValueType::kInt8: s.is_signed = true; s.i = load(int8_t{}); break;
        case ValueType::kInt16: s.is_signed = true; s.i = load(int16_t{}); break;
        case ValueType::kInt32: s.is_signed = true; s.i = load(int32_t{}); break;
        case ValueType::kInt64: s.is_signed = true; s.i = load(int64_t{}); break;
        case ValueType::kFloat32: s.is_float = true; s.f = load(float{}); break;
        case ValueType::kFloat64: s.is_float = true; s.f = load(double{}); break;
        default: break;
    }
    return s;
}

[[noreturn]] void type_error(const std::string& expected, const std::string& actual) {
    throw std::invalid_argument("expected " + expected + ", got " + actual);
}

}  // namespace

Value Value::string(std::string v) {
    Value r;
    r.type_ = ValueType::kString;
    r.str_ = std::move(v);
    return r;
}

Value Value::strings(std::vector<std::string> v) {
    Value r;
    r.type_ = ValueType::kArray;
    r.array_type_ = ValueType::kString;
    r.array_strings_ = std::move(v);
    return r;
}

Value Value::array(ValueType elem, std::vector<uint8_t> raw) {
    if (value_type_size(elem) == 0) throw std::invalid_argument("array element type must be a fixed-size scalar");
    if (raw.size() % value_type_size(elem) != 0) throw std::invalid_argument("array bytes not a multiple of element size");
    Value r;
    r.type_ = ValueType::kArray;
    r.array_type_ = elem;
    r.array_bytes_ = std::move(raw);
    return r;
}

size_t Value::array_size() const {
    if (type_ != ValueType::kArray) return 0;
    if (array_type_ == ValueType::kString) return array_strings_.size();
    return array_bytes_.size() / value_type_size(array_type_);
}

std::string Value::type_string() const {
    if (type_ != ValueType::kArray) return std::string(value_type_name(type_));
    return "array[" + std::string(value_type_name(array_type_)) + "]";
}

void Value::expect(ValueType t) const {
    if (type_ != t) type_error(std::string(value_type_name(t)), type_string());
}

uint64_t Value::as_u64() const {
    if (!is_integer(type_)) type_error("an unsigned integer", type_string());
    Scalar s = decode(type_, reinterpret_cast<const uint8_t*>(&bits_));
    if (s.is_signed) {
        if (s.i < 0) throw std::invalid_argument("expected an unsigned integer, got negative " + std::to_string(s.i));
        return static_cast<uint64_t>(s.i);
    }
    return s.u;
}

int64_t Value::as_i64() const {
    if (!is_integer(type_)) type_error("an integer", type_string());
    Scalar s = decode(type_, reinterpret_cast<const uint8_t*>(&bits_));
    if (s.is_signed) return s.i;
    if (s.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw std::invalid_argument("integer " + std::to_string(s.u) + " does not fit int64");
    return static_cast<int64_t>(s.u);
}

double Value::as_f64() const {
    if (!is_integer(type_) && !is_float(type_)) type_error("a number", type_string());
    Scalar s = decode(type_, reinterpret_cast<const uint8_t*>(&bits_));
    if (s.is_float) return s.f;
    return s.is_signed ? static_cast<double>(s.i) : static_cast<double>(s.u);
}

bool Value::as_bool() const {
    expect(ValueType::kBool);
    return bits_ != 0;
}

const std::string& Value::as_string() const {
    expect(ValueType::kString);
    return str_;
}

const std::vector<std::string>& Value::as_strings() const {
    if (type_ != ValueType::kArray || array_type_ != ValueType::kString) type_error("array[string]", type_string());
    return array_strings_;
}

double Value::array_number(size_t i) const {
    size_t sz = value_type_size(array_type_);
    Scalar s = decode(array_type_, array_bytes_.data() + i * sz);
    if (s.is_float) return s.f;
    return s.is_signed ? static_cast<double>(s.i) : static_cast<double>(s.u);
}

std::vector<int64_t> Value::as_ints() const {
    if (type_ != ValueType::kArray || !(is_integer(array_type_) || array_type_ == ValueType::kBool))
        type_error("an integer array", type_string());
    size_t n = array_size(), sz = value_type_size(array_type_);
    std::vector<int64_t> out(n);
    for (size_t i = 0; i < n; ++i) {
        Scalar s = decode(array_type_, array_bytes_.data() + i * sz);
        out[i] = s.is_signed ? s.i : static_cast<int64_t>(s.u);
    }
    return out;
}

std::vector<float> Value::as_floats() const {
    if (type_ != ValueType::kArray || !(is_integer(array_type_) || is_float(array_type_)))
        type_error("a numeric array", type_string());
    size_t n = array_size();
    std::vector<float> out(n);
    if (array_type_ == ValueType::kFloat32) {
        if (n) std::memcpy(out.data(), array_bytes_.data(), n * 4);
        return out;
    }
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(array_number(i));
    return out;
}

}  // namespace ead::gguf
