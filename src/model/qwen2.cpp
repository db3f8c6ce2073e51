// Architecture `qwen2` (Qwen2, Qwen2.5): the llama block with biases on the q, k and v projections and NeoX rope.
#include "model/arch.h"
#include "model/blocks.h"

namespace ead::model {

namespace {

const LayerTensorSpec kLayerTensors[] = {
    {&LayerWeights::attn_norm, "blk.%d.attn_norm.weight", Dim::kEmbd, Dim::kNone, kRequired},
    {&LayerWeights::wq, "blk.%d.attn_q.weight", Dim::kEmbd, Dim::kQ, kRequired},
    {&LayerWeights::wk, "blk.%d.attn_k.weight", Dim::kEmbd, Dim::kKv, kRequired},
    {&LayerWeights::wv, "blk.%d.attn_v.weight", Dim::kEmbd, Dim::kKv, kRequired},
    {&LayerWeights::bq, "blk.%d.attn_q.bias", Dim::kQ, Dim::kNone, kRequired},
    {&LayerWeights::bk, "blk.%d.attn_k.bias", Dim::kKv, Dim::kNone, kRequired},
    {&LayerWeights::bv, "blk.%d.attn_v.bias", Dim::kKv, Dim::kNone, kRequired},
    {&LayerWeights::wo, "blk.%d.attn_output.weight", Dim::kQ, Dim::kEmbd, kRequired},
    {&LayerWeights::ffn_norm, "blk.%d.ffn_norm.weight", Dim::kEmbd, Dim::kNone, kRequired},
    {&LayerWeights::ffn_gate, "blk.%d.ffn_gate.weight", Dim::kEmbd, Dim::kFf, kRequired},
    {&LayerWeights::ffn_up, "blk.%d.ffn_up.weight", Dim::kEmbd, Dim::kFf, kRequired},
    {&LayerWeights::ffn_down, "blk.%d.ffn_down.weight", Dim::kFf, Dim::kEmbd, kRequired},
};

void read_hparams(const gguf::File&, HParams& hp) {
    hp.rope_style = tensor::RopeStyle::kNeox;
    hp.activation = FfnActivation::kSilu;
}

}  // namespace

const Architecture& qwen2_architecture() {
    static const Architecture kArch{"qwen2", kLlamaGlobalTensors, kLayerTensors, read_hparams,
                                    blocks::pre_norm_layer};
    return kArch;
}

}  // namespace ead::model
