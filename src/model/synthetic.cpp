#include "model/synthetic.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "gguf/writer.h"
#include "tensor/type_traits.h"

namespace ead::model {

namespace {

using gguf::TensorType;
using gguf::Value;

// ---- deterministic normal random numbers, one stream per (tensor, row) ----

uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void fill_normal(uint64_t seed, float* out, int64_t n, float mean, float stddev) {
    uint64_t s = seed;
    for (int64_t i = 0; i < n; i += 2) {
        const double u1 = (static_cast<double>(splitmix64(s) >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
        const double u2 = static_cast<double>(splitmix64(s) >> 11) * 0x1.0p-53;
        const double r = std::sqrt(-2.0 * std::log(u1));
        out[i] = static_cast<float>(mean + stddev * r * std::cos(2.0 * M_PI * u2));
        if (i + 1 < n) out[i + 1] = static_cast<float>(mean + stddev * r * std::sin(2.0 * M_PI * u2));
    }
}

// The type a matrix with rows of `cols` elements is stored in (llama.cpp's fallbacks for K-quants).
TensorType fit_type(TensorType t, int64_t cols) {
    auto fits = [&](TensorType x) { return cols % gguf::layout(x).block_size == 0; };
    if (fits(t)) return t;
    switch (t) {
        case TensorType::kQ4_K: t = TensorType::kQ5_0; break;
        case TensorType::kQ5_K: t = TensorType::kQ5_1; break;
        case TensorType::kQ6_K: t = TensorType::kQ8_0; break;
        case TensorType::kQ2_K:
        case TensorType::kQ3_K: t = TensorType::kQ4_0; break;
        default: t = TensorType::kF32;
    }
    return fits(t) ? t : TensorType::kF32;
}

class Builder {
public:
    Builder(const SyntheticSpec& s) : spec_(s) {}

    // A matrix (cols, rows) with N(0, stddev) entries in `type`.
    void matrix(const std::string& name, int64_t cols, int64_t rows, float stddev, TensorType type) {
        type = fit_type(type, cols);
        const uint64_t tensor_seed = next_seed();
        const size_t row_bytes = gguf::row_bytes(type, cols);
        std::vector<uint8_t> data(row_bytes * static_cast<size_t>(rows));
        const auto& traits = tensor::type_traits(type);
        if (type != TensorType::kF32 && !traits.from_float) {
            throw std::invalid_argument("synthetic model: type " + std::string(traits.name) +
                                        " has no quantizer");
        }
#pragma omp parallel
        {
            std::vector<float> row(static_cast<size_t>(cols));
#pragma omp for schedule(static)
            for (int64_t r = 0; r < rows; ++r) {
                uint64_t rs = tensor_seed ^ (static_cast<uint64_t>(r) * 0xd1b54a32d192ed03ull);
                fill_normal(splitmix64(rs), row.data(), cols, 0.0f, stddev);
                uint8_t* dst = data.data() + row_bytes * static_cast<size_t>(r);
                if (type == TensorType::kF32) {
                    std::memcpy(dst, row.data(), row_bytes);
                } else {
                    traits.from_float(row.data(), dst, cols);
                }
            }
        }
        writer_.add_tensor(name, type, {cols, rows}, std::move(data));
    }

    // A vector with N(mean, stddev) entries, always F32.
    void vector(const std::string& name, int64_t n, float mean, float stddev) {
        std::vector<float> v(static_cast<size_t>(n));
        fill_normal(next_seed(), v.data(), n, mean, stddev);
        writer_.add_tensor_f32(name, {n}, v);
    }

    gguf::Writer& writer() { return writer_; }

private:
    uint64_t next_seed() {
        uint64_t s = spec_.seed * 0x9e3779b97f4a7c15ull + (++counter_);
        return splitmix64(s);
    }

    const SyntheticSpec& spec_;
    gguf::Writer writer_;
    uint64_t counter_ = 0;
};

// Pieces after the special and byte tokens: "▁", single characters, then "▁"+c and strings of growing length
// over a-z (each reachable by merging a shorter piece with one character).
std::vector<std::string> vocabulary(int n_vocab) {
    std::vector<std::string> toks = {"<unk>", "<s>", "</s>"};
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        toks.push_back(buf);
    }
    const std::string kSpace = "\xe2\x96\x81";  // U+2581
    std::vector<std::string> chars;
    for (char c = 'a'; c <= 'z'; ++c) chars.emplace_back(1, c);
    for (char c = 'A'; c <= 'Z'; ++c) chars.emplace_back(1, c);
    for (char c = '0'; c <= '9'; ++c) chars.emplace_back(1, c);
    for (const char* p : {".", ",", "!", "?", ":", ";", "'", "\"", "-", "(", ")"}) chars.emplace_back(p);
    std::vector<std::string> pieces = {kSpace};
    for (const auto& c : chars) pieces.push_back(c);
    for (const auto& c : chars) pieces.push_back(kSpace + c);
    std::vector<std::string> level;
    for (char c = 'a'; c <= 'z'; ++c) level.emplace_back(1, c);
    while (toks.size() + pieces.size() < static_cast<size_t>(n_vocab)) {
        std::vector<std::string> next;
        for (const auto& s : level) {
            for (char c = 'a'; c <= 'z'; ++c) {
                next.push_back(s + c);
                pieces.push_back(s + c);
                pieces.push_back(kSpace + s + c);
            }
            if (toks.size() + pieces.size() >= static_cast<size_t>(n_vocab)) break;
        }
        level = std::move(next);
    }
    for (const auto& p : pieces) {
        if (toks.size() == static_cast<size_t>(n_vocab)) break;
        toks.push_back(p);
    }
    return toks;
}

void check_spec(const SyntheticSpec& s) {
    auto bad = [](const std::string& field, const std::string& why) {
        throw std::invalid_argument("synthetic model: " + field + " " + why);
    };
    if (s.arch != "llama" && s.arch != "qwen2" && s.arch != "qwen3" && s.arch != "gemma3") {
        bad("arch '" + s.arch + "'", "is not one of llama, qwen2, qwen3, gemma3");
    }
    if (s.n_layer <= 0) bad("n_layer", "must be positive");
    if (s.n_embd <= 0) bad("n_embd", "must be positive");
    if (s.n_head <= 0) bad("n_head", "must be positive");
    if (s.n_head_kv <= 0 || s.n_head % s.n_head_kv != 0) bad("n_head_kv", "must divide n_head");
    if (s.head_dim == 0 && s.n_embd % s.n_head != 0) bad("n_embd", "must be a multiple of n_head");
    if (s.head_dim < 0 || (s.head_dim ? s.head_dim : s.n_embd / s.n_head) % 2 != 0) bad("head_dim", "must be even");
    if (s.n_ff <= 0) bad("n_ff", "must be positive");
    if (s.n_vocab < 259) bad("n_vocab", "must be at least 259 (3 special and 256 byte tokens)");
    if (s.n_ctx_train <= 0) bad("n_ctx_train", "must be positive");
    if (!tensor::has_kernels(s.weight_type)) {
        bad("weight type " + std::string(gguf::tensor_type_name(s.weight_type)), "has no kernels");
    }
}

// `general.file_type` (llama_ftype) of a file whose matrices are `t` (`mix`: the Q4_K_M mix).
uint32_t file_type(TensorType t, bool mix) {
    switch (t) {
        case TensorType::kF32: return 0;
        case TensorType::kF16: return 1;
        case TensorType::kQ4_0: return 2;
        case TensorType::kQ4_1: return 3;
        case TensorType::kQ8_0: return 7;
        case TensorType::kQ5_0: return 8;
        case TensorType::kQ5_1: return 9;
        case TensorType::kQ2_K: return 10;
        case TensorType::kQ3_K: return 12;
        case TensorType::kQ4_K: return mix ? 15 : 14;
        case TensorType::kQ5_K: return 17;
        case TensorType::kQ6_K: return 18;
        case TensorType::kBF16: return 32;
        default: return 0;
    }
}

// llama.cpp's use_more_bits: the layers that get more bits in the _M mixes.
bool more_bits(int il, int n) { return il < n / 8 || il >= 7 * n / 8 || (il - n / 8) % 3 == 2; }

}  // namespace

std::vector<std::string> synthetic_preset_names() { return {"qwen2.5-0.5b", "llama-3.2-1b"}; }

SyntheticSpec synthetic_preset(const std::string& name) {
    SyntheticSpec s;
    s.name = name;
    if (name == "qwen2.5-0.5b") {
        s.arch = "qwen2";
        s.n_layer = 24, s.n_embd = 896, s.n_head = 14, s.n_head_kv = 2, s.n_ff = 4864, s.n_vocab = 151936;
        s.tied = true, s.rope_base = 1000000.0f, s.n_ctx_train = 32768;
    } else if (name == "llama-3.2-1b") {
        s.arch = "llama";
        s.n_layer = 16, s.n_embd = 2048, s.n_head = 32, s.n_head_kv = 8, s.n_ff = 8192, s.n_vocab = 128256;
        s.tied = true, s.rope_base = 500000.0f, s.rms_eps = 1e-5f, s.n_ctx_train = 131072;
    } else {
        std::string known;
        for (const auto& n : synthetic_preset_names()) known += (known.empty() ? "" : ", ") + n;
        throw std::invalid_argument("unknown preset '" + name + "' (known: " + known + ")");
    }
    return s;
}

void write_synthetic_model(const SyntheticSpec& s, const std::string& path) {
    check_spec(s);
    const int64_t hd = s.head_dim ? s.head_dim : s.n_embd / s.n_head;
    const int64_t q_dim = s.n_head * hd, kv_dim = s.n_head_kv * hd;
    const bool gemma = s.arch == "gemma3";
    const TensorType wt = s.weight_type;
    const bool mix = s.k_mix && wt == TensorType::kQ4_K;
    // Standard deviations as in the conformance models (n_embd 256), scaled by 16 / sqrt(input width).
    auto sd = [](double at_256, int64_t cols) { return static_cast<float>(at_256 * 16.0 / std::sqrt(cols)); };

    Builder b(s);
    gguf::Writer& w = b.writer();
    const std::string& a = s.arch;
    w.set("general.architecture", Value::string(a));
    w.set("general.name", Value::string(s.name));
    w.set("general.file_type", Value::u32(file_type(wt, mix)));
    w.set(a + ".block_count", Value::u32(s.n_layer));
    w.set(a + ".context_length", Value::u32(s.n_ctx_train));
    w.set(a + ".embedding_length", Value::u32(s.n_embd));
    w.set(a + ".feed_forward_length", Value::u32(s.n_ff));
    w.set(a + ".attention.head_count", Value::u32(s.n_head));
    w.set(a + ".attention.head_count_kv", Value::u32(s.n_head_kv));
    w.set(a + ".attention.key_length", Value::u32(static_cast<uint32_t>(hd)));
    w.set(a + ".attention.value_length", Value::u32(static_cast<uint32_t>(hd)));
    w.set(a + ".attention.layer_norm_rms_epsilon", Value::f32(s.rms_eps));
    w.set(a + ".rope.freq_base", Value::f32(s.rope_base));
    if (gemma) w.set(a + ".attention.sliding_window", Value::u32(s.sliding_window));

    const std::vector<std::string> toks = vocabulary(s.n_vocab);
    std::vector<float> scores(toks.size(), 0.0f);
    std::vector<int32_t> types(toks.size(), 1);
    types[0] = 2;
    types[1] = types[2] = 3;
    for (int i = 3; i < 259; ++i) types[i] = 6;
    for (size_t i = 259; i < toks.size(); ++i) scores[i] = -static_cast<float>(i - 259);
    w.set("tokenizer.ggml.model", Value::string("llama"));
    w.set("tokenizer.ggml.tokens", Value::strings(toks));
    w.set("tokenizer.ggml.scores", Value::array_of(gguf::ValueType::kFloat32, scores));
    w.set("tokenizer.ggml.token_type", Value::array_of(gguf::ValueType::kInt32, types));
    w.set("tokenizer.ggml.bos_token_id", Value::u32(1));
    w.set("tokenizer.ggml.eos_token_id", Value::u32(2));
    w.set("tokenizer.ggml.unknown_token_id", Value::u32(0));
    w.set("tokenizer.ggml.add_bos_token", Value::boolean(true));

    const TensorType out_type = mix ? TensorType::kQ6_K : wt;
    b.matrix("token_embd.weight", s.n_embd, s.n_vocab, gemma ? 0.1f : 1.0f, s.tied ? out_type : wt);
    b.vector("output_norm.weight", s.n_embd, 1.0f, 0.1f);
    if (!s.tied) b.matrix("output.weight", s.n_embd, s.n_vocab, sd(0.06, s.n_embd), out_type);
    for (int il = 0; il < s.n_layer; ++il) {
        auto n = [&](const char* suffix) { return "blk." + std::to_string(il) + "." + suffix; };
        const TensorType wide = mix && more_bits(il, s.n_layer) ? TensorType::kQ6_K : wt;
        b.vector(n("attn_norm.weight"), s.n_embd, 1.0f, 0.1f);
        b.matrix(n("attn_q.weight"), s.n_embd, q_dim, sd(0.12, s.n_embd), wt);
        b.matrix(n("attn_k.weight"), s.n_embd, kv_dim, sd(0.12, s.n_embd), wt);
        b.matrix(n("attn_v.weight"), s.n_embd, kv_dim, sd(0.06, s.n_embd), wide);
        if (a == "qwen2") {
            b.vector(n("attn_q.bias"), q_dim, 0.0f, 0.1f);
            b.vector(n("attn_k.bias"), kv_dim, 0.0f, 0.1f);
            b.vector(n("attn_v.bias"), kv_dim, 0.0f, 0.1f);
        }
        if (a == "qwen3" || gemma) {
            b.vector(n("attn_q_norm.weight"), hd, 1.0f, 0.1f);
            b.vector(n("attn_k_norm.weight"), hd, 1.0f, 0.1f);
        }
        b.matrix(n("attn_output.weight"), q_dim, s.n_embd, sd(0.06, q_dim), wt);
        if (gemma) b.vector(n("post_attention_norm.weight"), s.n_embd, 1.0f, 0.1f);
        b.vector(n("ffn_norm.weight"), s.n_embd, 1.0f, 0.1f);
        b.matrix(n("ffn_gate.weight"), s.n_embd, s.n_ff, sd(0.06, s.n_embd), wt);
        b.matrix(n("ffn_up.weight"), s.n_embd, s.n_ff, sd(0.06, s.n_embd), wt);
        b.matrix(n("ffn_down.weight"), s.n_ff, s.n_embd, sd(0.06, s.n_ff), wide);
        if (gemma) b.vector(n("post_ffw_norm.weight"), s.n_embd, 1.0f, 0.1f);
    }
    w.write(path);
}

}  // namespace ead::model
