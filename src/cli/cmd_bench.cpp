// `ead bench -m MODEL [-t 1,2] [-p 64,512] [-n 32,128] [-r 5] [--json]`: prompt processing (pp: one batch of
// p tokens) and text generation (tg: n single-token steps) speed, like llama-bench. Each test runs once to warm
// up, then -r times; the median and spread of tokens/s are reported. For tg, the GB/s of weights streamed
// (decode_weight_bytes × tokens/s) is printed next to this machine's read bandwidth, measured with the same
// thread count after every repetition (summing a 1 GiB buffer in huge pages, like the weights: tensor/memory.h,
// four runs of it at a time per thread: tensor/bandwidth.h), and their ratio.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "model/context.h"
#include "model/model.h"
#include "tensor/bandwidth.h"
#include "tensor/memory.h"

namespace ead::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
    std::string model;
    std::string threads;
    std::string prompt = "64,512";
    std::string gen = "32,128";
    int reps = 5;
    bool json = false;
    std::string kv_type = "f16";
    int bw_mib = 1024;
    bool no_interleave = false;
};

std::vector<int> parse_int_list(const std::string& flag, const std::string& s, int min_value) {
    std::vector<int> v;
    if (s.empty()) return v;
    size_t i = 0;
    while (i <= s.size()) {
        const size_t j = std::min(s.find(',', i), s.size());
        const std::string item = s.substr(i, j - i);
        size_t used = 0;
        int x = 0;
        try {
            x = std::stoi(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (item.empty() || used != item.size() || x < min_value) {
            throw std::invalid_argument(flag + ": '" + item + "' is not an integer >= " + std::to_string(min_value));
        }
        v.push_back(x);
        i = j + 1;
    }
    return v;
}

struct Stats {
    std::vector<double> samples;
    double mean = 0, stddev = 0, median = 0;
};

Stats stats(std::vector<double> v) {
    Stats s;
    s.samples = v;
    const double n = static_cast<double>(v.size());
    s.mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.stddev = v.size() > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
    std::sort(v.begin(), v.end());
    s.median = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
    return s;
}


// llama.cpp's names of `general.file_type` values (the mixes say more than the dominant tensor type).
const char* file_type_name(uint32_t ft) {
    switch (ft) {
        case 0: return "F32";
        case 1: return "F16";
        case 2: return "Q4_0";
        case 3: return "Q4_1";
        case 7: return "Q8_0";
        case 8: return "Q5_0";
        case 9: return "Q5_1";
        case 10: return "Q2_K";
        case 11: return "Q3_K_S";
        case 12: return "Q3_K_M";
        case 13: return "Q3_K_L";
        case 14: return "Q4_K_S";
        case 15: return "Q4_K_M";
        case 16: return "Q5_K_S";
        case 17: return "Q5_K_M";
        case 18: return "Q6_K";
        case 32: return "BF16";
        default: return nullptr;
    }
}

std::string model_type(const model::Model& m) {
    std::map<std::string, size_t> bytes;
    for (const auto& t : m.file().tensors()) {
        if (t.n_dims >= 2) bytes[std::string(gguf::tensor_type_name(t.type))] += t.n_bytes;
    }
    std::string dominant = "?";
    size_t most = 0;
    for (const auto& [k, v] : bytes) {
        if (v > most) most = v, dominant = k;
    }
    const gguf::Value* ft = m.file().find("general.file_type");
    if (ft && gguf::is_integer(ft->type()) && ft->as_u64() < 64 && file_type_name(static_cast<uint32_t>(ft->as_u64()))) {
        dominant = file_type_name(static_cast<uint32_t>(ft->as_u64()));
    }
    const double p = static_cast<double>(m.n_params());
    char size[32];
    if (p >= 1e9) std::snprintf(size, sizeof size, "%.1fB", p / 1e9);
    else std::snprintf(size, sizeof size, "%.0fM", p / 1e6);
    return m.hparams().arch + " " + size + " " + dominant;
}

struct Row {
    int threads;
    int n_prompt, n_gen;
    Stats ts;
    double weights_gbs;  // tg: decode_weight_bytes * tokens/s
    double bw_gbs;       // measured read bandwidth at these threads
};

int run(const BenchOptions& o) {
    model::ModelOptions mo;
    mo.interleave = !o.no_interleave;
    auto model = model::Model::load(o.model, mo);
    std::fprintf(stderr, "%s\n", model->summary().c_str());
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const std::vector<int> threads =
        o.threads.empty() ? std::vector<int>{std::min(hw, 4)} : parse_int_list("-t", o.threads, 1);
    const std::vector<int> pp = parse_int_list("-p", o.prompt, 1);
    const std::vector<int> tg = parse_int_list("-n", o.gen, 1);
    if (o.reps < 1) throw std::invalid_argument("-r: repetitions must be >= 1");
    int n_ctx = 1;
    for (int p : pp) n_ctx = std::max(n_ctx, p);
    for (int n : tg) n_ctx = std::max(n_ctx, n + 1);

    model::ContextOptions co;
    co.n_ctx = n_ctx;
    co.n_batch = n_ctx;
    co.kv_type = o.kv_type == "f32" ? tensor::TensorType::kF32 : tensor::TensorType::kF16;
    model::Context ctx(model, co);
    std::fprintf(stderr, "KV cache: %zu bytes/token, %zu bytes for %d positions; decode reads %.1f MiB of weights\n",
                 ctx.kv_bytes_per_token(), ctx.kv_bytes(), n_ctx, model->decode_weight_bytes() / 1048576.0);

    std::mt19937 rng(1234);
    std::vector<int32_t> tokens(static_cast<size_t>(n_ctx));
    for (auto& t : tokens) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(model->n_vocab()));

    // The read-bandwidth baseline is re-measured after every repetition (one pass over a buffer allocated like
    // the weights), so that load from other tenants of the machine weighs on both sides of the ratio.
    const size_t bw_bytes = std::max<size_t>(size_t{64} << 20, static_cast<size_t>(o.bw_mib) << 20) / 256 * 256;
    tensor::WeightBuffer bw_buf = tensor::alloc_weight_buffer(bw_bytes);
    std::memset(bw_buf.get(), 1, bw_bytes);
    auto read_gbs = [&](int nt) {
        return static_cast<double>(bw_bytes) / tensor::timed_read(bw_buf.get(), bw_bytes, nt) / 1e9;
    };

    std::vector<Row> rows;
    for (int nt : threads) {
        ctx.set_n_threads(nt);
        read_gbs(nt);  // warm-up: threads started, pages resident
        auto run_test = [&](int p, int n) {
            std::vector<double> ts, bw;
            for (int rep = -1; rep < o.reps; ++rep) {  // rep -1: warm-up
                ctx.reset();
                const auto t0 = Clock::now();
                if (p > 0) ctx.eval(tokens.data(), p, false);
                for (int i = 0; i < n; ++i) ctx.eval(tokens.data() + i, 1, false);
                const double s = std::chrono::duration<double>(Clock::now() - t0).count();
                if (rep < 0) continue;
                ts.push_back((p + n) / s);
                bw.push_back(read_gbs(nt));
            }
            Stats st = stats(ts);
            const double weights = n > 0 ? static_cast<double>(model->decode_weight_bytes()) * st.median / 1e9 : 0.0;
            rows.push_back({nt, p, n, st, weights, stats(bw).median});
            std::fprintf(stderr, "threads %d, %s%d: %.2f t/s, read bandwidth %.2f GB/s\n", nt, p ? "pp" : "tg",
                         p ? p : n, st.median, rows.back().bw_gbs);
        };
        for (int p : pp) run_test(p, 0);
        for (int n : tg) run_test(0, n);
    }

    const std::string type = model_type(*model);
    if (o.json) {
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        for (const Row& r : rows) {
            nlohmann::ordered_json j;
            j["model_filename"] = o.model;
            j["model_type"] = type;
            j["model_size"] = model->weight_bytes();
            j["model_n_params"] = model->n_params();
            j["n_threads"] = r.threads;
            j["n_prompt"] = r.n_prompt;
            j["n_gen"] = r.n_gen;
            j["test"] = r.n_prompt ? "pp" + std::to_string(r.n_prompt) : "tg" + std::to_string(r.n_gen);
            j["avg_ts"] = r.ts.mean;
            j["stddev_ts"] = r.ts.stddev;
            j["samples_ts"] = r.ts.samples;
            j["median_ts"] = r.ts.median;
            j["weights_gbs"] = r.n_gen ? nlohmann::ordered_json(r.weights_gbs) : nlohmann::ordered_json(nullptr);
            j["bandwidth_gbs"] = r.bw_gbs;
            j["bandwidth_fraction"] =
                r.n_gen ? nlohmann::ordered_json(r.weights_gbs / r.bw_gbs) : nlohmann::ordered_json(nullptr);
            all.push_back(j);
        }
        std::printf("%s\n", all.dump(2).c_str());
        return 0;
    }
    std::printf("| model | size | params | threads | test | t/s (median) | t/s (mean ± sd) | weights GB/s | read GB/s | fraction |\n");
    std::printf("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|\n");
    for (const Row& r : rows) {
        const std::string test = r.n_prompt ? "pp" + std::to_string(r.n_prompt) : "tg" + std::to_string(r.n_gen);
        char gbs[32] = "-", frac[32] = "-";
        if (r.n_gen) {
            std::snprintf(gbs, sizeof gbs, "%.2f", r.weights_gbs);
            std::snprintf(frac, sizeof frac, "%.0f%%", 100.0 * r.weights_gbs / r.bw_gbs);
        }
        std::printf("| %s | %.1f MiB | %.1f M | %d | %s | %.2f | %.2f ± %.2f | %s | %.2f | %s |\n", type.c_str(),
                    model->weight_bytes() / 1048576.0, model->n_params() / 1e6, r.threads, test.c_str(),
                    r.ts.median, r.ts.mean, r.ts.stddev, gbs, r.bw_gbs, frac);
    }
    return 0;
}

const bool kRegistered = register_command({"bench", "Prompt-processing and generation speed (like llama-bench)",
                                           [](CLI::App& app) -> Runner {
    auto o = std::make_shared<BenchOptions>();
    app.add_option("-m,--model", o->model, "GGUF model")->required();
    app.add_option("-t,--threads", o->threads, "thread counts, comma-separated (default: min(cores, 4))");
    app.add_option("-p,--n-prompt", o->prompt, "prompt lengths to test, comma-separated (\"\" for none)")
        ->capture_default_str();
    app.add_option("-n,--n-gen", o->gen, "generation lengths to test, comma-separated (\"\" for none)")
        ->capture_default_str();
    app.add_option("-r,--repetitions", o->reps, "repetitions of each test (after one warm-up)")->capture_default_str();
    app.add_flag("--json", o->json, "print a JSON array with llama-bench's field names");
    app.add_flag("--no-interleave", o->no_interleave,
                 "keep every matrix in GGUF's row layout (no interleaved copies): the baseline of the kernels");
    app.add_option("--kv-type", o->kv_type, "KV cache type: f16 or f32")
        ->check(CLI::IsMember({"f16", "f32"}))
        ->capture_default_str();
    app.add_option("--bw-mib", o->bw_mib, "size of the buffer the read bandwidth is measured on (MiB)")
        ->capture_default_str()
        ->check(CLI::Range(16, 1 << 16));
    return [o] { return run(*o); };
}});

}  // namespace
}  // namespace ead::cli
