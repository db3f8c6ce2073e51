#include "model/weights.h"

#include <cstdio>
#include <cstring>

#include "tensor/matmul.h"

namespace ead::model {

namespace {

std::string shape_string(int64_t ne0, int64_t ne1) {
    if (ne1 == 0) return "[" + std::to_string(ne0) + "]";
    return "[" + std::to_string(ne0) + ", " + std::to_string(ne1) + "]";
}

}  // namespace

std::string layer_tensor_name(const char* tmpl, int il) {
    char buf[256];
    std::snprintf(buf, sizeof buf, tmpl, il);
    return buf;
}

int64_t TensorLoader::dim(Dim d) const {
    switch (d) {
        case Dim::kNone: return 0;
        case Dim::kEmbd: return hp_.n_embd;
        case Dim::kVocab: return hp_.n_vocab;
        case Dim::kQ: return hp_.q_dim();
        case Dim::kKv: return hp_.kv_dim();
        case Dim::kFf: return hp_.n_ff;
        case Dim::kHeadDim: return hp_.head_dim;
        case Dim::kRotHalf: return hp_.n_rot / 2;
    }
    return 0;
}

Weight TensorLoader::require_tensor(const std::string& name, Dim d0, Dim d1, unsigned flags) {
    Weight w;
    const gguf::TensorInfo* t = file_.find_tensor(name);
    const int64_t ne0 = dim(d0), ne1 = dim(d1);
    if (!t) {
        if (flags & (kOptional | kTiedToEmbedding)) return w;
        throw gguf::Error(file_.path() + ": tensor '" + name + "' is missing (expected shape " +
                          shape_string(ne0, ne1) + ")");
    }
    const bool is_vector = d1 == Dim::kNone;
    const bool shape_ok = is_vector ? (t->n_dims == 1 && t->ne[0] == ne0)
                                    : (t->n_dims == 2 && t->ne[0] == ne0 && t->ne[1] == ne1);
    if (!shape_ok) {
        throw gguf::Error(file_.path() + ": tensor '" + name + "' has shape " + t->shape_string() +
                          ", expected " + shape_string(ne0, ne1));
    }
    if (!tensor::has_kernels(t->type)) {
        throw gguf::Error(file_.path() + ": tensor '" + name + "' has type " +
                          std::string(gguf::tensor_type_name(t->type)) + ", which has no kernels");
    }
    w.info = t;
    w.type = t->type;
    w.data = t->data;
    w.cols = t->ne[0];
    w.rows = is_vector ? 1 : t->ne[1];
    if (is_vector) {
        if (t->type == tensor::TensorType::kF32 && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0) {
            w.f32 = reinterpret_cast<const float*>(t->data);
        } else {
            std::vector<float>& v = owned_.emplace_back(static_cast<size_t>(ne0));
            if (t->type == tensor::TensorType::kF32) {
                std::memcpy(v.data(), t->data, v.size() * sizeof(float));
            } else {
                tensor::dequantize_row(t->type, t->data, ne0, 0, v.data());
            }
            w.f32 = v.data();
        }
    }
    return w;
}

}  // namespace ead::model
