// Tokenizer throughput: encode (and decode) of a few MB of English text (the licence texts of
// /usr/share/common-licenses, concatenated and repeated) for each tokenizer type, in MB/s of input text.
//
//   build/bench_tokenizer [--benchmark_filter=encode]
//
// Vocabularies: models/SmolLM2-135M-Instruct.Q4_1.gguf (byte-level BPE), models/gemma-3-270m-q4_k_m.gguf
// (SentencePiece, 262k), and the fixtures shared/tokenizer/ggml-vocab-{gpt-2,llama-spm}.gguf; missing ones
// are skipped. EAD_MODELS_DIR / EAD_SHARED_DIR override the folders.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using ead::tokenizer::Tokenizer;

constexpr size_t kTargetBytes = 4 << 20;  // 4 MiB of text

const fs::path kSourceDir = fs::path(__FILE__).parent_path().parent_path();

std::string env_or(const char* name, const fs::path& def) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : def.string();
}

const std::string& english_text() {
    static const std::string text = [] {
        std::string all;
        for (const char* name : {"GPL-3", "Apache-2.0", "LGPL-3", "MPL-2.0", "Artistic", "GFDL-1.3", "BSD"}) {
            std::ifstream in(std::string("/usr/share/common-licenses/") + name, std::ios::binary);
            std::ostringstream ss;
            ss << in.rdbuf();
            all += ss.str();
        }
        if (all.empty()) all = "The quick brown fox jumps over the lazy dog. It's 42 degrees, isn't it?\n";
        std::string out;
        while (out.size() < kTargetBytes) out += all;
        return out;
    }();
    return text;
}

struct Entry {
    std::string label;
    std::string path;
};

std::vector<Entry> vocab_files() {
    const fs::path models = env_or("EAD_MODELS_DIR", kSourceDir / "models");
    const fs::path shared = env_or("EAD_SHARED_DIR", kSourceDir.parent_path() / "shared");
    return {
        {"bpe_smollm2", (models / "SmolLM2-135M-Instruct.Q4_1.gguf").string()},
        {"bpe_gpt2_fixture", (shared / "tokenizer" / "ggml-vocab-gpt-2.gguf").string()},
        {"spm_gemma3", (models / "gemma-3-270m-q4_k_m.gguf").string()},
        {"spm_llama_fixture", (shared / "tokenizer" / "ggml-vocab-llama-spm.gguf").string()},
    };
}

void bench_encode(benchmark::State& state, std::shared_ptr<Tokenizer> tok) {
    const std::string& text = english_text();
    size_t n_tokens = 0;
    for (auto _ : state) {
        auto ids = tok->encode(text, false, false);
        n_tokens = ids.size();
        benchmark::DoNotOptimize(ids.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
    state.counters["tokens"] = static_cast<double>(n_tokens);
    state.counters["MB/s"] = benchmark::Counter(static_cast<double>(text.size()) / 1e6,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void bench_decode(benchmark::State& state, std::shared_ptr<Tokenizer> tok) {
    const std::string& text = english_text();
    const auto ids = tok->encode(text, false, false);
    for (auto _ : state) {
        std::string s = tok->decode(ids);
        benchmark::DoNotOptimize(s.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
    state.counters["MB/s"] = benchmark::Counter(static_cast<double>(text.size()) / 1e6,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    for (const Entry& e : vocab_files()) {
        if (!fs::exists(e.path)) {
            std::fprintf(stderr, "skipping %s: %s not found\n", e.label.c_str(), e.path.c_str());
            continue;
        }
        ead::gguf::File f = ead::gguf::File::open(e.path);
        auto tok = std::make_shared<Tokenizer>(Tokenizer::from_gguf(f));
        benchmark::RegisterBenchmark(("encode/" + e.label).c_str(), bench_encode, tok)
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("decode/" + e.label).c_str(), bench_decode, tok)
            ->Unit(benchmark::kMillisecond);
    }
    std::fprintf(stderr, "text: %zu bytes of licence texts\n", english_text().size());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
