#include "model/arch.h"

namespace ead::model {

const GlobalTensorSpec kLlamaGlobalTensors[4] = {
    {&GlobalWeights::token_embd, "token_embd.weight", Dim::kEmbd, Dim::kVocab, kRequired},
    {&GlobalWeights::output_norm, "output_norm.weight", Dim::kEmbd, Dim::kNone, kRequired},
    {&GlobalWeights::output, "output.weight", Dim::kEmbd, Dim::kVocab, kTiedToEmbedding},
    {&GlobalWeights::rope_freqs, "rope_freqs.weight", Dim::kRotHalf, Dim::kNone, kOptional},
};

const Architecture& find_architecture(const std::string& name, const std::string& path) {
    const Architecture* all[] = {&llama_architecture(), &qwen2_architecture(), &qwen3_architecture(),
                                 &gemma3_architecture()};
    std::string supported;
    for (const Architecture* a : all) {
        if (a->name == name) return *a;
        supported += (supported.empty() ? "" : ", ") + std::string(a->name);
    }
    throw gguf::Error(path + ": unsupported architecture '" + name + "' (general.architecture; supported: " +
                      supported + ")");
}

}  // namespace ead::model
