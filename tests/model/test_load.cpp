// Loading: hyperparameters and tied/optional tensors resolved from the tables, and errors that name the
// architecture, key or tensor with the expected and actual shape.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "model/model.h"
#include "model/synthetic.h"

namespace ead::model {
namespace {

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("ead_test_load_" + std::to_string(::getpid()) + "_" + name))
        .string();
}

SyntheticSpec small(const std::string& arch) {
    SyntheticSpec s;
    s.arch = arch;
    s.n_layer = 2;
    s.n_embd = 64;
    s.n_head = 4;
    s.n_head_kv = 2;
    s.n_ff = 96;
    s.n_vocab = 300;
    return s;
}

// Copies `src` into a writer, letting `edit_kv` replace metadata and `keep_tensor` drop or reshape tensors.
gguf::File rewrite(const gguf::File& src, const std::function<void(gguf::Writer&)>& edit,
                   const std::function<bool(const gguf::TensorInfo&)>& keep = nullptr) {
    gguf::Writer w;
    for (const auto& [k, v] : src.metadata()) w.set(k, v);
    edit(w);
    for (const auto& t : src.tensors()) {
        if (keep && !keep(t)) continue;
        std::vector<int64_t> shape(t.ne.begin(), t.ne.begin() + t.n_dims);
        w.add_tensor(t.name, t.type, shape, std::vector<uint8_t>(t.data, t.data + t.n_bytes));
    }
    return gguf::File::from_bytes(w.to_bytes(), "edited.gguf");
}

gguf::File load_file(const SyntheticSpec& s) {
    const std::string path = temp_path(s.arch + ".gguf");
    write_synthetic_model(s, path);
    gguf::File f = gguf::File::open(path);
    std::filesystem::remove(path);
    return f;
}

std::string load_error(gguf::File f) {
    try {
        Model::from_file(std::move(f));
    } catch (const gguf::Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Load, HyperparametersPerArchitecture) {
    for (const char* arch : {"llama", "qwen2", "qwen3", "gemma3"}) {
        SCOPED_TRACE(arch);
        auto s = small(arch);
        s.tied = std::string(arch) != "llama";
        auto m = Model::from_file(load_file(s));
        const HParams& hp = m->hparams();
        EXPECT_EQ(hp.arch, arch);
        EXPECT_EQ(hp.n_vocab, 300);
        EXPECT_EQ(hp.head_dim, 16);
        EXPECT_EQ(m->tied_embeddings(), s.tied);
        EXPECT_EQ(m->globals().output.info == m->globals().token_embd.info, s.tied);  // the same tensor (copied apart)
        EXPECT_EQ(hp.rope_style, std::string(arch) == "llama" ? tensor::RopeStyle::kNormal : tensor::RopeStyle::kNeox);
        EXPECT_EQ(m->layer(1).bq.present(), std::string(arch) == "qwen2");
        EXPECT_EQ(m->layer(1).q_norm.present(), std::string(arch) == "qwen3" || std::string(arch) == "gemma3");
        EXPECT_FALSE(m->globals().rope_freqs.present());
    }
}

TEST(Load, Gemma3SlidingWindowPattern) {
    auto s = small("gemma3");
    s.n_layer = 12;
    auto m = Model::from_file(load_file(s));
    const HParams& hp = m->hparams();
    EXPECT_EQ(hp.sliding_window, 512);
    EXPECT_FLOAT_EQ(hp.embd_scale, 8.0f);
    EXPECT_FLOAT_EQ(hp.rope_base_swa, 10000.0f);
    for (int il = 0; il < 12; ++il) EXPECT_EQ(hp.is_swa(il), il != 5 && il != 11) << il;
    // An explicit period.
    auto m3 = Model::from_file(rewrite(m->file(), [](gguf::Writer& w) {
        w.set("gemma3.attention.sliding_window_pattern", gguf::Value::u32(3));
        w.set("gemma3.final_logit_softcapping", gguf::Value::f32(30.0f));
    }));
    for (int il = 0; il < 12; ++il) EXPECT_EQ(m3->hparams().is_swa(il), (il + 1) % 3 != 0) << il;
    EXPECT_FLOAT_EQ(m3->hparams().final_logit_softcap, 30.0f);
}

TEST(Load, UnsupportedArchitectureIsNamed) {
    const gguf::File f = load_file(small("llama"));
    const std::string msg = load_error(
        rewrite(f, [](gguf::Writer& w) { w.set("general.architecture", gguf::Value::string("mamba")); }));
    EXPECT_NE(msg.find("unsupported architecture 'mamba'"), std::string::npos) << msg;
}

TEST(Load, MissingKeyIsNamed) {
    const gguf::File f = load_file(small("qwen2"));
    gguf::Writer w;
    for (const auto& [k, v] : f.metadata()) {
        if (k != "qwen2.block_count") w.set(k, v);
    }
    const std::string msg = load_error(gguf::File::from_bytes(w.to_bytes(), "nokey.gguf"));
    EXPECT_NE(msg.find("qwen2.block_count"), std::string::npos) << msg;
}

TEST(Load, MissingTensorIsNamed) {
    const gguf::File f = load_file(small("qwen3"));
    const std::string msg = load_error(rewrite(
        f, [](gguf::Writer&) {}, [](const gguf::TensorInfo& t) { return t.name != "blk.1.attn_k_norm.weight"; }));
    EXPECT_NE(msg.find("'blk.1.attn_k_norm.weight' is missing"), std::string::npos) << msg;
}

TEST(Load, WrongShapeNamesTensorExpectedAndActual) {
    const gguf::File f = load_file(small("llama"));
    // Declare 4 KV heads: attn_k should then be [64, 64] but is [64, 32].
    const std::string msg = load_error(rewrite(f, [](gguf::Writer& w) {
        w.set("llama.attention.head_count_kv", gguf::Value::u32(4));
        w.set("llama.attention.key_length", gguf::Value::u32(16));
    }));
    EXPECT_NE(msg.find("'blk.0.attn_k.weight' has shape [64, 32], expected [64, 64]"), std::string::npos) << msg;
}

TEST(Load, ImpossibleHeadCountsAreErrors) {
    const gguf::File f = load_file(small("llama"));
    const std::string msg =
        load_error(rewrite(f, [](gguf::Writer& w) { w.set("llama.attention.head_count_kv", gguf::Value::u32(3)); }));
    EXPECT_NE(msg.find("llama.attention.head_count_kv"), std::string::npos) << msg;
}

TEST(Synthetic, PresetsAndBadSpecs) {
    const SyntheticSpec q = synthetic_preset("qwen2.5-0.5b");
    EXPECT_EQ(q.arch, "qwen2");
    EXPECT_EQ(q.n_layer, 24);
    EXPECT_EQ(q.n_embd, 896);
    EXPECT_EQ(q.n_vocab, 151936);
    EXPECT_TRUE(q.tied);
    const SyntheticSpec l = synthetic_preset("llama-3.2-1b");
    EXPECT_EQ(l.n_ff, 8192);
    EXPECT_EQ(l.n_vocab, 128256);
    EXPECT_THROW(synthetic_preset("gpt-5"), std::invalid_argument);
    auto s = small("llama");
    s.n_head_kv = 3;
    EXPECT_THROW(write_synthetic_model(s, temp_path("bad.gguf")), std::invalid_argument);
    s = small("phi3");
    EXPECT_THROW(write_synthetic_model(s, temp_path("bad.gguf")), std::invalid_argument);
}

TEST(Synthetic, QuantizedTypesFallBackWhereRowsDoNotFit) {
    auto s = small("qwen2");
    s.n_embd = 96;  // not a multiple of 256: Q4_K matrices with 96-wide rows fall back to Q5_0
    s.n_ff = 256;
    s.head_dim = 32;
    s.weight_type = gguf::TensorType::kQ4_K;
    s.k_mix = true;
    auto m = Model::from_file(load_file(s));
    EXPECT_EQ(m->layer(0).wq.type, gguf::TensorType::kQ5_0);
    EXPECT_EQ(m->layer(0).ffn_down.type, gguf::TensorType::kQ4_K);
    EXPECT_EQ(m->layer(1).ffn_down.type, gguf::TensorType::kQ6_K);  // last eighth of the layers: more bits
    EXPECT_EQ(m->globals().output.type, gguf::TensorType::kQ8_0);   // Q6_K does not fit 96 either
}

}  // namespace
}  // namespace ead::model
