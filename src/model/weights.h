// Views of a model's weights inside the memory-mapped GGUF file, and the one loader every tensor goes through.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "model/hparams.h"
#include "tensor/matmul.h"
#include "tensor/type_traits.h"

namespace ead::model {

// One tensor. Matrices stay in their file type inside the mapping (`data`, `rows` rows of `cols` elements,
// ggml order: ne[0] = cols is the input dimension); vectors (norm weights, biases, rope factors) are also
// available as float (`f32`, converted at load when the file stores them in another type).
struct Weight {
    const gguf::TensorInfo* info = nullptr;  // null: an optional tensor that is absent
    tensor::TensorType type = tensor::TensorType::kF32;
    const void* data = nullptr;
    tensor::WeightLayout layout = tensor::WeightLayout::kRows;  // kInterleaved8: data is a copy made at load
    int64_t cols = 0;  // ne[0]
    int64_t rows = 1;  // ne[1]
    const float* f32 = nullptr;  // vectors only

    bool present() const { return info != nullptr; }
    int64_t n_elements() const { return cols * rows; }
};

// One transformer block. Shapes are written (ne[0], ne[1]) = (input, output) as ggml stores them.
struct LayerWeights {
    Weight attn_norm;       // (n_embd)
    Weight wq;              // (n_embd, n_head * head_dim)
    Weight wk;              // (n_embd, n_head_kv * head_dim)
    Weight wv;              // (n_embd, n_head_kv * head_dim)
    Weight wo;              // (n_head * head_dim, n_embd)
    Weight bq;              // (n_head * head_dim)           optional: qwen2
    Weight bk;              // (n_head_kv * head_dim)        optional: qwen2
    Weight bv;              // (n_head_kv * head_dim)        optional: qwen2
    Weight q_norm;          // (head_dim)                    qwen3, gemma3: RMSNorm per query head before rope
    Weight k_norm;          // (head_dim)                    qwen3, gemma3: RMSNorm per key head before rope
    Weight post_attn_norm;  // (n_embd)                      gemma3: norm of the attention output
    Weight ffn_norm;        // (n_embd)
    Weight ffn_gate;        // (n_embd, n_ff)
    Weight ffn_up;          // (n_embd, n_ff)
    Weight ffn_down;        // (n_ff, n_embd)
    Weight post_ffw_norm;   // (n_embd)                      gemma3: norm of the feed-forward output
};

struct GlobalWeights {
    Weight token_embd;   // (n_embd, n_vocab)
    Weight output_norm;  // (n_embd)
    Weight output;       // (n_embd, n_vocab); token_embd when the file has no output.weight (tied)
    Weight rope_freqs;   // (n_rot / 2)  optional: llama-3 frequency factors, divide each pair's frequency
};

// Symbolic dimensions of the tensor tables, resolved against HParams.
enum class Dim { kNone, kEmbd, kVocab, kQ, kKv, kFf, kHeadDim, kRotHalf };

enum TensorFlags : unsigned {
    kRequired = 0,
    kOptional = 1u << 0,  // may be absent: the Weight stays empty
    kTiedToEmbedding = 1u << 1,  // absent: use token_embd.weight (the output matrix of tied models)
};

// One row of an architecture's tensor table.
template <typename Owner>
struct TensorSpec {
    Weight Owner::*slot;
    const char* name;  // "output.weight", or a template "blk.%d.attn_q.weight" for layer tensors
    Dim ne0;
    Dim ne1;           // kNone for vectors
    unsigned flags;
};
using GlobalTensorSpec = TensorSpec<GlobalWeights>;
using LayerTensorSpec = TensorSpec<LayerWeights>;

// Resolves tensor names and shapes against a file; owns the float copies of non-F32 vectors.
class TensorLoader {
public:
    TensorLoader(const gguf::File& file, const HParams& hp) : file_(file), hp_(hp) {}

    int64_t dim(Dim d) const;
    // Finds `name`, checks its shape (ne0, ne1) and type; throws gguf::Error naming the tensor with the expected
    // and actual shape. Returns an empty Weight when the tensor is absent and `flags` has kOptional or
    // kTiedToEmbedding (the caller resolves the tie).
    Weight require_tensor(const std::string& name, Dim ne0, Dim ne1, unsigned flags);

    std::deque<std::vector<float>> take_owned() { return std::move(owned_); }

private:
    const gguf::File& file_;
    const HParams& hp_;
    std::deque<std::vector<float>> owned_;
};

// "blk.%d.attn_q.weight" with il → "blk.3.attn_q.weight".
std::string layer_tensor_name(const char* tmpl, int il);

}  // namespace ead::model
