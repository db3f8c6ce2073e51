// Architecture `gemma3`: embeddings × sqrt(n_embd); norms before and after attention and FFN; per-head Q/K
// norms; GELU-tanh gated FFN; interleaved sliding-window and global layers with their own rope bases; optional
// final logit soft-capping; tied output matrix.
#include <cmath>

#include "model/arch.h"
#include "model/blocks.h"
#include "model/model.h"

namespace ead::model {

namespace {

const GlobalTensorSpec kGlobalTensors[] = {
    {&GlobalWeights::token_embd, "token_embd.weight", Dim::kEmbd, Dim::kVocab, kRequired},
    {&GlobalWeights::output_norm, "output_norm.weight", Dim::kEmbd, Dim::kNone, kRequired},
    {&GlobalWeights::output, "output.weight", Dim::kEmbd, Dim::kVocab, kTiedToEmbedding},
};

const LayerTensorSpec kLayerTensors[] = {
    {&LayerWeights::attn_norm, "blk.%d.attn_norm.weight", Dim::kEmbd, Dim::kNone, kRequired},
    {&LayerWeights::wq, "blk.%d.attn_q.weight", Dim::kEmbd, Dim::kQ, kRequired},
    {&LayerWeights::wk, "blk.%d.attn_k.weight", Dim::kEmbd, Dim::kKv, kRequired},
    {&LayerWeights::wv, "blk.%d.attn_v.weight", Dim::kEmbd, Dim::kKv, kRequired},
    {&LayerWeights::q_norm, "blk.%d.attn_q_norm.weight", Dim::kHeadDim, Dim::kNone, kRequired},
    {&LayerWeights::k_norm, "blk.%d.attn_k_norm.weight", Dim::kHeadDim, Dim::kNone, kRequired},
    {&LayerWeights::wo, "blk.%d.attn_output.weight", Dim::kQ, Dim::kEmbd, kRequired},
    {&LayerWeights::post_attn_norm, "blk.%d.post_attention_norm.weight", Dim::kEmbd, Dim::kNone, kRequired},
    {&LayerWeights::ffn_norm, "blk.%d.ffn_norm.weight", Dim::kEmbd, Dim::kNone, kRequired},
    {&LayerWeights::ffn_gate, "blk.%d.ffn_gate.weight", Dim::kEmbd, Dim::kFf, kRequired},
    {&LayerWeights::ffn_up, "blk.%d.ffn_up.weight", Dim::kEmbd, Dim::kFf, kRequired},
    {&LayerWeights::ffn_down, "blk.%d.ffn_down.weight", Dim::kFf, Dim::kEmbd, kRequired},
    {&LayerWeights::post_ffw_norm, "blk.%d.post_ffw_norm.weight", Dim::kEmbd, Dim::kNone, kRequired},
};

constexpr int kDefaultSwaPeriod = 6;  // every 6th layer is global

void read_hparams(const gguf::File& f, HParams& hp) {
    hp.rope_style = tensor::RopeStyle::kNeox;
    hp.activation = FfnActivation::kGeluTanh;
    hp.embd_scale = std::sqrt(static_cast<float>(hp.n_embd));
    hp.rope_base_swa = f.get_f32("gemma3.rope.freq_base_swa", 10000.0f);
    hp.final_logit_softcap = f.get_f32("gemma3.final_logit_softcapping", 0.0f);
    hp.sliding_window = static_cast<int>(f.get_u32("gemma3.attention.sliding_window", 0));
    const std::string pattern_key = "gemma3.attention.sliding_window_pattern";
    const gguf::Value* pattern = f.find(pattern_key);
    if (pattern && pattern->type() == gguf::ValueType::kArray) {
        // One flag per layer: true where the layer uses the sliding window.
        if (pattern->array_size() != static_cast<size_t>(hp.n_layer)) {
            throw gguf::Error(f.path() + ": key '" + pattern_key + "' has " +
                              std::to_string(pattern->array_size()) + " entries, expected block_count = " +
                              std::to_string(hp.n_layer));
        }
        for (int il = 0; il < hp.n_layer; ++il) hp.swa_layers[il] = pattern->array_number(il) != 0.0;
    } else {
        const uint32_t period = f.get_u32(pattern_key, kDefaultSwaPeriod);
        if (period == 0) throw gguf::Error(f.path() + ": key '" + pattern_key + "' must be positive");
        for (int il = 0; il < hp.n_layer; ++il) hp.swa_layers[il] = (il + 1) % period != 0;
    }
}

// x += post_attention_norm(attention(attn_norm(x)));  x += post_ffw_norm(ffn(ffn_norm(x)))
void layer(ForwardPass& p, int il) {
    const LayerWeights& w = p.model.layer(il);
    ForwardBuffers& b = p.buf;
    blocks::norm(p, b.x.data(), w.attn_norm, b.h.data());
    blocks::attention(p, w, il, b.h.data(), b.o.data());
    blocks::norm(p, b.o.data(), w.post_attn_norm, b.o.data());
    blocks::residual_add(p, b.o.data());
    blocks::norm(p, b.x.data(), w.ffn_norm, b.h.data());
    blocks::gated_ffn(p, w, b.h.data(), b.o.data());
    blocks::norm(p, b.o.data(), w.post_ffw_norm, b.o.data());
    blocks::residual_add(p, b.o.data());
}

}  // namespace

const Architecture& gemma3_architecture() {
    static const Architecture kArch{"gemma3", kGlobalTensors, kLayerTensors, read_hparams, layer};
    return kArch;
}

}  // namespace ead::model
