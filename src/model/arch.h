// Architectures as tables: for each `general.architecture`, its tensor-name templates with symbolic shapes,
// the extra GGUF keys it reads, and the transformer block it runs (composed from the shared blocks in blocks.h).
// One file per architecture: llama.cpp, qwen2.cpp, qwen3.cpp, gemma3.cpp.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "gguf/reader.h"
#include "model/hparams.h"
#include "model/weights.h"

namespace ead::model {

struct ForwardPass;  // blocks.h

struct Architecture {
    std::string_view name;  // general.architecture
    std::span<const GlobalTensorSpec> global_tensors;
    std::span<const LayerTensorSpec> layer_tensors;
    // Reads the architecture's own keys after read_common_hparams (rope style, sliding window, scales, ...).
    void (*read_hparams)(const gguf::File& f, HParams& hp);
    // Runs transformer block `il` on the pass's residual stream.
    void (*layer)(ForwardPass& pass, int il);
};

const Architecture& llama_architecture();
const Architecture& qwen2_architecture();
const Architecture& qwen3_architecture();
const Architecture& gemma3_architecture();

// The architecture named `name`; throws gguf::Error naming it (and the supported ones) when unsupported.
const Architecture& find_architecture(const std::string& name, const std::string& path);

// The table shared by llama-like models (llama, qwen2, qwen3 differ by optional tensors).
extern const GlobalTensorSpec kLlamaGlobalTensors[4];

}  // namespace ead::model
