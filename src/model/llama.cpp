// Architecture `llama`: Llama 2/3.x (with `rope_freqs.weight` frequency factors), Mistral, SmolLM/SmolLM2.
// Pre-norm blocks, GQA, rope on adjacent pairs, SiLU-gated FFN, separate or tied output matrix.
#include "model/arch.h"
#include "model/blocks.h"

namespace ead::model {

namespace {

const LayerTensorSpec kLayerTensors[] = {
    {&LayerWeights::attn_norm, "blk.%d.attn_norm.weight", Dim::kEmbd, Dim::kNone, kRequired},
    {&LayerWeights::wq, "blk.%d.attn_q.weight", Dim::kEmbd, Dim::kQ, kRequired},
    {&LayerWeights::wk, "blk.%d.attn_k.weight", Dim::kEmbd, Dim::kKv, kRequired},
    {&LayerWeights::wv, "blk.%d.attn_v.weight", Dim::kEmbd, Dim::kKv, kRequired},
    {&LayerWeights::wo, "blk.%d.attn_output.weight", Dim::kQ, Dim::kEmbd, kRequired},
    {&LayerWeights::ffn_norm, "blk.%d.ffn_norm.weight", Dim::kEmbd, Dim::kNone, kRequired},
    {&LayerWeights::ffn_gate, "blk.%d.ffn_gate.weight", Dim::kEmbd, Dim::kFf, kRequired},
    {&LayerWeights::ffn_up, "blk.%d.ffn_up.weight", Dim::kEmbd, Dim::kFf, kRequired},
    {&LayerWeights::ffn_down, "blk.%d.ffn_down.weight", Dim::kFf, Dim::kEmbd, kRequired},
};

void read_hparams(const gguf::File&, HParams& hp) {
    hp.rope_style = tensor::RopeStyle::kNormal;
    hp.activation = FfnActivation::kSilu;
}

}  // namespace

const Architecture& llama_architecture() {
    static const Architecture kArch{"llama", kLlamaGlobalTensors, kLayerTensors, read_hparams,
                                    blocks::pre_norm_layer};
    return kArch;
}

}  // namespace ead::model
