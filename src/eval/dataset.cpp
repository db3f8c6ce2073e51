// JSONL reader for MATH-style problem sets and the deterministic selection helpers.
#include "eval/dataset.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_set>

#include "eval/grading.h"

namespace ead::eval {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& source, size_t line, const std::string& what) {
    throw DatasetError(source + ":" + std::to_string(line) + ": " + what);
}

std::string optional_string(const json& j, const char* key, const std::string& source, size_t line) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return "";
    if (!it->is_string()) fail(source, line, std::string("field \"") + key + "\" must be a string");
    return it->get<std::string>();
}

// 3, "3", "Level 3"; "Level ?" (present in MATH) and null give 0.
int parse_level(const json& j, const std::string& source, size_t line) {
    auto it = j.find("level");
    if (it == j.end() || it->is_null()) return 0;
    if (it->is_number_integer()) {
        const int64_t v = it->get<int64_t>();
        if (v < 0 || v > 100) fail(source, line, "field \"level\" out of range: " + it->dump());
        return static_cast<int>(v);
    }
    if (it->is_string()) {
        std::string s = it->get<std::string>();
        if (s.rfind("Level ", 0) == 0) s = s.substr(6);
        if (s == "?") return 0;
        if (!s.empty() && s.size() <= 2 &&
            std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return std::stoi(s);
        }
    }
    fail(source, line, "field \"level\" must be an integer or \"Level N\", got " + it->dump());
}

// SplitMix64: a fixed, portable generator (std distributions are implementation-defined).
uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// Uniform in [0, bound) by rejection.
uint64_t uniform_below(uint64_t& state, uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do r = splitmix64(state);
    while (r >= limit);
    return r % bound;
}

}  // namespace

std::vector<Problem> parse_problems(std::istream& in, const std::string& source) {
    std::vector<Problem> out;
    std::unordered_set<std::string> ids;
    std::string text;
    for (size_t line = 1; std::getline(in, text); ++line) {
        if (!text.empty() && text.back() == '\r') text.pop_back();
        if (text.find_first_not_of(" \t") == std::string::npos) continue;
        json j;
        try {
            j = json::parse(text);
        } catch (const json::parse_error& e) {
            fail(source, line, std::string("invalid JSON: ") + e.what());
        }
        if (!j.is_object()) fail(source, line, "expected a JSON object, got " + std::string(j.type_name()));
        Problem p;
        p.line = line;
        auto problem = j.find("problem");
        if (problem == j.end() || !problem->is_string())
            fail(source, line, "missing string field \"problem\"");
        p.problem = problem->get<std::string>();
        p.solution = optional_string(j, "solution", source, line);
        const bool has_answer = j.contains("answer") && !j["answer"].is_null();
        if (has_answer) {
            const json& a = j["answer"];
            if (a.is_string())
                p.answer = a.get<std::string>();
            else if (a.is_number())
                p.answer = a.dump();
            else
                fail(source, line, "field \"answer\" must be a string or a number");
        } else if (j.contains("solution") && !j["solution"].is_null()) {
            auto boxed = extract_boxed(p.solution);
            if (!boxed)
                fail(source, line,
                     "field \"solution\" has no \\boxed{...} answer and there is no \"answer\"");
            p.answer = *boxed;
        } else {
            fail(source, line, "needs a \"solution\" or an \"answer\"");
        }
        p.level = parse_level(j, source, line);
        p.subject = optional_string(j, "subject", source, line);
        if (p.subject.empty()) p.subject = optional_string(j, "type", source, line);
        p.unique_id = optional_string(j, "unique_id", source, line);
        if (p.unique_id.empty()) p.unique_id = source + ":" + std::to_string(line);
        if (!ids.insert(p.unique_id).second)
            fail(source, line, "duplicate unique_id \"" + p.unique_id + "\"");
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<Problem> read_problems(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw DatasetError(path + ": cannot open dataset file");
    return parse_problems(f, path);
}

std::vector<size_t> sample_indices(size_t total, size_t n, uint64_t seed) {
    std::vector<size_t> idx(total);
    std::iota(idx.begin(), idx.end(), size_t{0});
    if (n >= total) return idx;
    uint64_t state = seed;
    for (size_t i = 0; i < n; ++i) {
        const size_t j = i + static_cast<size_t>(uniform_below(state, total - i));
        std::swap(idx[i], idx[j]);
    }
    idx.resize(n);
    std::sort(idx.begin(), idx.end());
    return idx;
}

std::vector<Problem> select(const std::vector<Problem>& problems, const Selection& sel) {
    std::vector<size_t> idx =
        sample_indices(problems.size(), sel.sample ? sel.sample : problems.size(), sel.seed);
    std::vector<Problem> out;
    for (size_t k = sel.offset; k < idx.size() && (sel.limit == 0 || out.size() < sel.limit); ++k) {
        out.push_back(problems[idx[k]]);
    }
    return out;
}

}  // namespace ead::eval
