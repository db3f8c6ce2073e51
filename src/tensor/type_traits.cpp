// The traits table: one entry per tensor type with kernels.
#include "tensor/type_traits.h"

#include <array>
#include <stdexcept>
#include <string>

#include "tensor/quants.h"

namespace ead::tensor {

namespace {

using DotFn = float (*)(int64_t, const void*, const void*);

struct Entry {
    TypeTraits traits;
    DotFn vec_dot = nullptr;
};

constexpr size_t kTableSize = 31;

std::array<Entry, kTableSize> make_table() {
    std::array<Entry, kTableSize> t{};
    auto set = [&](TensorType type, auto to_float, auto from_float, TensorType vdt, DotFn dot) {
        const auto& l = gguf::layout(type);
        t[static_cast<size_t>(type)] = Entry{{type, l.name, l.block_size, l.type_size, to_float, from_float, vdt}, dot};
    };
    using T = TensorType;
    set(T::kF32, to_float_f32, from_float_f32, T::kF32, vec_dot_f32_f32);
    set(T::kF16, to_float_f16, from_float_f16, T::kF32, vec_dot_f16_f32);
    set(T::kBF16, to_float_bf16, from_float_bf16, T::kF32, vec_dot_bf16_f32);
    set(T::kQ4_0, to_float_q4_0, from_float_q4_0, T::kQ8_0, vec_dot_q4_0_q8_0);
    set(T::kQ4_1, to_float_q4_1, from_float_q4_1, T::kQ8_0, vec_dot_q4_1_q8_0);
    set(T::kQ5_0, to_float_q5_0, from_float_q5_0, T::kQ8_0, vec_dot_q5_0_q8_0);
    set(T::kQ5_1, to_float_q5_1, from_float_q5_1, T::kQ8_0, vec_dot_q5_1_q8_0);
    set(T::kQ8_0, to_float_q8_0, from_float_q8_0, T::kQ8_0, vec_dot_q8_0_q8_0);
    set(T::kQ2_K, to_float_q2_k, nullptr, T::kQ8_K, vec_dot_q2_k_q8_k);
    set(T::kQ3_K, to_float_q3_k, nullptr, T::kQ8_K, vec_dot_q3_k_q8_k);
    set(T::kQ4_K, to_float_q4_k, from_float_q4_k, T::kQ8_K, vec_dot_q4_k_q8_k);
    set(T::kQ5_K, to_float_q5_k, from_float_q5_k, T::kQ8_K, vec_dot_q5_k_q8_k);
    set(T::kQ6_K, to_float_q6_k, from_float_q6_k, T::kQ8_K, vec_dot_q6_k_q8_k);
    set(T::kQ8_K, to_float_q8_k, from_float_q8_k, T::kQ8_K, vec_dot_q8_k_q8_k);
    return t;
}

const std::array<Entry, kTableSize>& table() {
    static const std::array<Entry, kTableSize> t = make_table();
    return t;
}

const Entry* find(TensorType t) {
    const auto i = static_cast<size_t>(t);
    if (i >= kTableSize || table()[i].traits.to_float == nullptr) return nullptr;
    return &table()[i];
}

}  // namespace

bool has_kernels(TensorType t) { return find(t) != nullptr; }

const TypeTraits& type_traits(TensorType t) {
    const Entry* e = find(t);
    if (e == nullptr) {
        const auto layout = gguf::tensor_type_layout(static_cast<uint32_t>(t));
        throw std::invalid_argument("tensor type " +
                                    (layout ? std::string(layout->name) : "#" + std::to_string(static_cast<uint32_t>(t))) +
                                    " has no kernels");
    }
    return e->traits;
}

float vec_dot_ref(TensorType type, int64_t n, const void* w, const void* x) {
    const Entry* e = find(type);
    if (e == nullptr) type_traits(type);  // throws
    return e->vec_dot(n, w, x);
}

}  // namespace ead::tensor
