// `ead info FILE.gguf [--json]`: what a GGUF file holds (architecture, sizes, hyperparameters, tokenizer).
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.h"
#include "gguf/reader.h"

namespace ead::cli {
namespace {

using nlohmann::ordered_json;

ordered_json value_json(const gguf::Value& v, size_t max_array = 8) {
    using gguf::ValueType;
    switch (v.type()) {
        case ValueType::kString: return v.as_string();
        case ValueType::kBool: return v.as_bool();
        case ValueType::kFloat32:
        case ValueType::kFloat64: return v.as_f64();
        case ValueType::kArray: {
            ordered_json a = ordered_json::array();
            size_t n = std::min(v.array_size(), max_array);
            for (size_t i = 0; i < n; ++i) {
                if (v.array_type() == ValueType::kString) a.push_back(v.as_strings()[i]);
                else a.push_back(v.array_number(i));
            }
            return a;
        }
        default: return v.as_i64();
    }
}

ordered_json describe(const gguf::File& f) {
    ordered_json j;
    const std::string arch = f.get_string("general.architecture", "");
    auto key = [&](const std::string& k) { return arch + "." + k; };
    auto opt = [&](const std::string& k) -> ordered_json {
        const gguf::Value* v = f.find(k);
        return v ? value_json(*v) : ordered_json(nullptr);
    };
    j["file"] = f.path();
    j["gguf_version"] = f.version();
    j["architecture"] = arch.empty() ? ordered_json(nullptr) : ordered_json(arch);
    j["name"] = opt("general.name");
    int64_t params = 0;
    size_t tensor_bytes = 0;
    std::map<std::string, int> hist;
    for (const auto& t : f.tensors()) {
        params += t.n_elements();
        tensor_bytes += t.n_bytes;
        hist[std::string(gguf::tensor_type_name(t.type))]++;
    }
    j["parameters"] = params;
    j["file_bytes"] = f.file_size();
    j["tensor_bytes"] = tensor_bytes;
    j["tensor_count"] = f.tensors().size();
    j["tensor_types"] = hist;
    j["block_count"] = opt(key("block_count"));
    j["embedding_length"] = opt(key("embedding_length"));
    j["feed_forward_length"] = opt(key("feed_forward_length"));
    j["head_count"] = opt(key("attention.head_count"));
    j["head_count_kv"] = opt(key("attention.head_count_kv"));
    j["context_length"] = opt(key("context_length"));
    j["rope_freq_base"] = opt(key("rope.freq_base"));
    j["rope_dimension_count"] = opt(key("rope.dimension_count"));
    j["rope_scaling_type"] = opt(key("rope.scaling.type"));
    j["tokenizer_model"] = opt("tokenizer.ggml.model");
    j["tokenizer_pre"] = opt("tokenizer.ggml.pre");
    const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
    j["vocab_size"] = tokens ? ordered_json(tokens->array_size()) : ordered_json(nullptr);
    j["bos_token_id"] = opt("tokenizer.ggml.bos_token_id");
    j["eos_token_id"] = opt("tokenizer.ggml.eos_token_id");
    j["chat_template"] = f.has("tokenizer.chat_template");
    return j;
}

std::string human_bytes(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB"};
    int u = 0;
    while (b >= 1024 && u < 3) b /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", b, units[u]);
    return buf;
}

void print_text(const ordered_json& j) {
    auto s = [](const ordered_json& v) { return v.is_null() ? std::string("-") : v.is_string() ? v.get<std::string>() : v.dump(); };
    std::printf("file:               %s (GGUF v%s)\n", s(j["file"]).c_str(), s(j["gguf_version"]).c_str());
    std::printf("architecture:       %s\n", s(j["architecture"]).c_str());
    std::printf("name:               %s\n", s(j["name"]).c_str());
    double params = j["parameters"].get<double>();
    std::printf("parameters:         %.0f (%.1f M)\n", params, params / 1e6);
    std::printf("size:               %s file, %s tensor data\n", human_bytes(j["file_bytes"].get<double>()).c_str(),
                human_bytes(j["tensor_bytes"].get<double>()).c_str());
    std::string hist;
    for (auto& [k, v] : j["tensor_types"].items()) hist += (hist.empty() ? "" : ", ") + k + " x" + v.dump();
    std::printf("tensor types:       %s (%s tensors)\n", hist.empty() ? "-" : hist.c_str(),
                j["tensor_count"].dump().c_str());
    std::printf("layers:             %s\n", s(j["block_count"]).c_str());
    std::printf("embedding:          %s\n", s(j["embedding_length"]).c_str());
    std::printf("feed-forward:       %s\n", s(j["feed_forward_length"]).c_str());
    std::printf("heads / kv heads:   %s / %s\n", s(j["head_count"]).c_str(), s(j["head_count_kv"]).c_str());
    std::printf("context length:     %s\n", s(j["context_length"]).c_str());
    std::printf("rope:               base %s, dims %s, scaling %s\n", s(j["rope_freq_base"]).c_str(),
                s(j["rope_dimension_count"]).c_str(), s(j["rope_scaling_type"]).c_str());
    std::printf("tokenizer:          %s (pre: %s), vocab %s\n", s(j["tokenizer_model"]).c_str(),
                s(j["tokenizer_pre"]).c_str(), s(j["vocab_size"]).c_str());
    std::printf("bos / eos:          %s / %s\n", s(j["bos_token_id"]).c_str(), s(j["eos_token_id"]).c_str());
    std::printf("chat template:      %s\n", j["chat_template"].get<bool>() ? "yes" : "no");
}

const bool kRegistered = register_command({"info", "Describe a GGUF file: architecture, sizes, hyperparameters, tokenizer",
                                           [](CLI::App& app) -> Runner {
    auto files = std::make_shared<std::vector<std::string>>();
    auto json = std::make_shared<bool>(false);
    app.add_option("files", *files, "GGUF files")->required();
    app.add_flag("--json", *json, "print one JSON object per file (an array when several)");
    return [files, json] {
        ordered_json all = ordered_json::array();
        for (size_t i = 0; i < files->size(); ++i) {
            gguf::File f = gguf::File::open((*files)[i]);
            ordered_json j = describe(f);
            if (*json) {
                all.push_back(j);
            } else {
                if (i) std::printf("\n");
                print_text(j);
            }
        }
        if (*json) std::printf("%s\n", (all.size() == 1 ? all[0] : all).dump(2).c_str());
        return 0;
    };
}});

}  // namespace
}  // namespace ead::cli
