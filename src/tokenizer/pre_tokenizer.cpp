#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pre_tokenizer.h"

#include <pcre2.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "tokenizer/error.h"

namespace ead::tokenizer {

// ---------------------------------------------------------------------------------------------------------------------
// The regex sets. Sources: the `pre_tokenizer` sections of the families' Hugging Face tokenizer.json files,
// as grouped by llama.cpp's LLAMA_VOCAB_PRE_TYPE_* (written here in PCRE2 syntax).
// ---------------------------------------------------------------------------------------------------------------------
namespace {

// GPT-2: contractions, optional space + letters / digits / other symbols, whitespace not followed by a
// non-space.
constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Llama 3: case-insensitive contractions, one non-letter glued before letters, digits in groups of up to
// three, punctuation runs that keep their trailing newlines, newline runs.
constexpr const char* kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Qwen 2: as Llama 3 but every digit on its own.
constexpr const char* kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// CJK ideographs, a wide block below them and Hangul, as DeepSeek's tokenizers group them.
constexpr const char* kDeepSeekCjk = R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";

// DeepSeek LLM: the cased letters of many scripts (ranges of code points), optionally after one whitespace.
constexpr const char* kDeepSeekLetters =
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF})"
    R"(\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1})"
    R"(\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5})"
    R"(\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A})"
    R"(\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B})"
    R"(\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC})"
    R"(\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107})"
    R"(\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134})"
    R"(\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4})"
    R"(\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787})"
    R"(\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A})"
    R"(\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2})"
    R"(\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)";
// DeepSeek LLM: ASCII and full-width punctuation, quotes and CJK punctuation, optionally after one
// whitespace.
constexpr const char* kDeepSeekPunct =
    R"(\s?[\x{21}-\x{2F}\x{3A}-\x{7E}\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)";

struct PreSet {
    const char* kind;
    std::vector<const char*> patterns;
};

const std::vector<PreSet>& pre_sets() {
    static const std::vector<PreSet> sets = {
        {"gpt2", {kGpt2}},
        {"llama3", {kLlama3}},
        {"qwen2", {kQwen2}},
        {"starcoder", {R"(\p{N})", kGpt2}},
        {"falcon", {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}},
        {"default", {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}},
        {"deepseek-llm",
         {R"([\r\n])", kDeepSeekLetters, kDeepSeekPunct, R"(\s+$)", kDeepSeekCjk, R"(\p{N}+)"}},
        {"deepseek-coder", {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kDeepSeekCjk, R"(\p{N})"}},
    };
    return sets;
}

// `tokenizer.ggml.pre` value -> regex set.
const std::map<std::string, std::string>& pre_aliases() {
    static const std::map<std::string, std::string> aliases = {
        {"default", "default"},
        {"gpt-2", "gpt2"},
        {"gpt2", "gpt2"},
        {"mpt", "gpt2"},
        {"olmo", "gpt2"},
        {"jais", "gpt2"},
        {"phi-2", "gpt2"},
        {"llama-bpe", "llama3"},
        {"llama3", "llama3"},
        {"llama-v3", "llama3"},
        {"dbrx", "llama3"},
        {"smaug-bpe", "llama3"},
        {"qwen2", "qwen2"},
        {"stablelm2", "qwen2"},
        {"deepseek-r1-qwen", "qwen2"},
        {"starcoder", "starcoder"},
        {"refact", "starcoder"},
        {"smollm", "starcoder"},
        {"command-r", "starcoder"},
        {"codeshell", "starcoder"},
        {"exaone", "starcoder"},
        {"falcon", "falcon"},
        {"deepseek-llm", "deepseek-llm"},
        {"deepseek-coder", "deepseek-coder"},
    };
    return aliases;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------------
// PCRE2 wrapper
// ---------------------------------------------------------------------------------------------------------------------
struct PreTokenizer::Regex {
    pcre2_code* code = nullptr;
    std::string pattern;

    explicit Regex(const char* p) : pattern(p) {
        int err = 0;
        PCRE2_SIZE err_off = 0;
        const uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY;
        code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p), PCRE2_ZERO_TERMINATED, opts, &err, &err_off,
                             nullptr);
        if (!code) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            throw Error("pre-tokenizer regex /" + pattern + "/ does not compile at offset " +
                        std::to_string(err_off) + ": " + reinterpret_cast<const char*>(msg));
        }
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
    }
    ~Regex() { pcre2_code_free(code); }
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
};

namespace {

// Per-thread match state: match data for one pair of offsets and a JIT stack that can grow to 16 MiB.
struct MatchState {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    pcre2_jit_stack* stack = pcre2_jit_stack_create(64 * 1024, 16 * 1024 * 1024, nullptr);
    pcre2_match_context* context = pcre2_match_context_create(nullptr);
    MatchState() { pcre2_jit_stack_assign(context, nullptr, stack); }
    ~MatchState() {
        pcre2_match_context_free(context);
        pcre2_jit_stack_free(stack);
        pcre2_match_data_free(data);
    }
};

MatchState& match_state() {
    thread_local MatchState state;
    return state;
}

}  // namespace

PreTokenizer PreTokenizer::by_name(const std::string& name) {
    auto it = pre_aliases().find(name);
    if (it == pre_aliases().end()) {
        std::string known;
        for (const auto& n : known_names()) known += (known.empty() ? "" : ", ") + n;
        throw Error("unknown pre-tokenizer tokenizer.ggml.pre = '" + name + "' (known: " + known +
                    "); force one with TokenizerOptions::pre_override / --tokenizer-pre NAME");
    }
    // Compiled regexes are shared between tokenizers of the same kind.
    static std::map<std::string, std::vector<std::shared_ptr<const Regex>>> compiled;
    static std::mutex mutex;
    std::lock_guard<std::mutex> lock(mutex);
    PreTokenizer p;
    p.kind_ = it->second;
    auto& regexes = compiled[p.kind_];
    if (regexes.empty()) {
        for (const auto& set : pre_sets())
            if (set.kind == p.kind_)
                for (const char* pat : set.patterns) regexes.push_back(std::make_shared<const Regex>(pat));
    }
    p.regexes_ = regexes;
    return p;
}

bool PreTokenizer::is_known(const std::string& name) {
    return pre_aliases().count(name) != 0;
}

std::vector<std::string> PreTokenizer::known_names() {
    std::vector<std::string> names;
    for (const auto& [k, v] : pre_aliases()) names.push_back(k);
    return names;
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& out) const {
    MatchState& ms = match_state();
    std::vector<std::string_view> cur{text}, next;
    if (text.empty()) return;
    for (const auto& re : regexes_) {
        next.clear();
        for (std::string_view piece : cur) {
            const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
            size_t start = 0, pos = 0;
            while (pos < piece.size()) {
                const int rc = pcre2_match(re->code, subject, piece.size(), pos, PCRE2_NO_UTF_CHECK, ms.data,
                                           ms.context);
                if (rc == PCRE2_ERROR_NOMATCH) break;
                if (rc < 0) {
                    PCRE2_UCHAR msg[256];
                    pcre2_get_error_message(rc, msg, sizeof msg);
                    throw Error("pre-tokenizer regex /" + re->pattern + "/ failed on a piece of " +
                                std::to_string(piece.size()) +
                                " bytes: " + reinterpret_cast<const char*>(msg));
                }
                const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(ms.data);
                const size_t m0 = ov[0], m1 = ov[1];
                if (m1 <= m0) {  // empty match (no set has one, but never loop forever)
                    pos = m0 + 1;
                    continue;
                }
                if (m0 > start) next.push_back(piece.substr(start, m0 - start));
                next.push_back(piece.substr(m0, m1 - m0));
                start = pos = m1;
            }
            if (start < piece.size()) next.push_back(piece.substr(start));
        }
        std::swap(cur, next);
    }
    out.insert(out.end(), cur.begin(), cur.end());
}

}  // namespace ead::tokenizer
