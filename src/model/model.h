// A loaded model: the memory-mapped GGUF file, its hyperparameters and views of its weights.
// A Model is immutable after load and may be shared between threads and Contexts (std::shared_ptr<const Model>).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "model/arch.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "tensor/memory.h"

namespace ead::model {

struct ModelOptions {
    bool verbose = false;  // print summary() to stderr after loading
    // Copy the matrices that have an interleaved kernel (tensor::can_interleave: Q4_0, Q4_1, Q5_0, Q8_0, Q4_K,
    // Q5_K, Q6_K) into that layout at load: faster products, at the cost of load time.
    bool interleave = true;
    // Copy the other matrices a forward pass multiplies by (those left in GGUF's row layout) into memory of the
    // model's own as well. Like the interleaved copies it is backed by 2 MiB huge pages (tensor/memory.h), which
    // stream about 1.5x faster than the file's 4 KiB pages; the file's pages are released after copying.
    bool copy_weights = true;
};

class Model {
public:
    // Maps and validates `path`. Throws gguf::Error naming the file and the key or tensor on any problem
    // (unsupported architecture, missing key or tensor, wrong shape, type without kernels).
    static std::shared_ptr<const Model> load(const std::string& path, const ModelOptions& opts = {});
    // Same, taking ownership of an already opened file.
    static std::shared_ptr<const Model> from_file(gguf::File file, const ModelOptions& opts = {});

    const gguf::File& file() const { return *file_; }
    const HParams& hparams() const { return hp_; }
    const Architecture& architecture() const { return *arch_; }
    const GlobalWeights& globals() const { return globals_; }
    const LayerWeights& layer(int il) const { return layers_[static_cast<size_t>(il)]; }

    int n_vocab() const { return hp_.n_vocab; }
    int n_ctx_train() const { return hp_.n_ctx_train; }
    bool tied_embeddings() const { return tied_; }
    // Sum of the elements of every tensor in the file.
    int64_t n_params() const { return n_params_; }
    // Elements of the matrices a forward pass multiplies by per token (projections, FFN, output matrix).
    int64_t n_params_matmul() const { return n_params_matmul_; }
    // Bytes of tensor data in the file, and of the weights one decode step reads (matmul weights + the
    // embedding row, which is negligible and not counted).
    size_t weight_bytes() const { return weight_bytes_; }
    size_t decode_weight_bytes() const { return decode_weight_bytes_; }
    // Bytes of the copies made at load (ModelOptions::interleave and copy_weights), held besides the file's
    // mapping, and the part of them in the interleaved layout.
    size_t copied_bytes() const { return copied_bytes_; }
    size_t interleaved_bytes() const { return interleaved_bytes_; }
    // Bytes of K and V cache per token of context for the given cache type (F16 or F32).
    size_t kv_bytes_per_token(tensor::TensorType kv_type) const;
    // Floating-point operations of a forward pass over n_tokens tokens starting at position n_past, counting
    // 2 per multiply-add: 2 * n_params_matmul * n_tokens (logits at every position) plus the attention terms
    // (q·k and p·v: 4 * head_dim * n_head per attended position per layer, sliding windows respected).
    double flops(int n_tokens, int n_past) const;

    // One line: architecture, layers, width, heads, vocabulary, parameters, weight bytes, KV bytes per token.
    std::string summary() const;

private:
    Model() = default;

    std::unique_ptr<gguf::File> file_;
    HParams hp_;
    const Architecture* arch_ = nullptr;
    GlobalWeights globals_;
    std::vector<LayerWeights> layers_;
    std::deque<std::vector<float>> owned_;  // float copies of non-F32 vectors
    tensor::WeightBuffer copies_;  // the matrices copied at load (interleaved or in rows)
    size_t copied_bytes_ = 0;
    size_t interleaved_bytes_ = 0;
    bool tied_ = false;
    int64_t n_params_ = 0;
    int64_t n_params_matmul_ = 0;
    size_t weight_bytes_ = 0;
    size_t decode_weight_bytes_ = 0;
};

}  // namespace ead::model
