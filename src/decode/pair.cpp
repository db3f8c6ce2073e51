#include "decode/pair.h"

#include <algorithm>
#include <cstdio>
#include <regex>

namespace ead::decode {
namespace {

constexpr int32_t kTokenTypeUnused = 5;

std::string id_text(int32_t id) {
    return id < 0 ? "none" : std::to_string(id);
}

}  // namespace

std::string quote_token(const std::string& text) {
    std::string out = "'";
    for (unsigned char c : text) {
        switch (c) {
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\'':
                out += "\\'";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "'";
}

bool is_padding_token(const VocabInfo& v, int32_t id) {
    if (id < 0) return false;
    if (id >= static_cast<int32_t>(v.tokens.size())) return true;  // an output row without a token
    if (id < static_cast<int32_t>(v.token_types.size()) && v.token_types[id] == kTokenTypeUnused) return true;
    const std::string& t = v.tokens[id];
    if (t.empty()) return true;
    static const std::regex kPad(
        R"((\[PAD\d*\])|(<\|?(pad|PAD)(_?TOKEN)?\d*\|?>)|(<\|?(unused|UNUSED)_?\d*\|?>)|)"
        R"((<\|(reserved|RESERVED)_(special_)?(token|TOKEN)_?\d*\|>))");
    return std::regex_match(t, kPad);
}

PairInfo check_pair(const VocabInfo& s, const VocabInfo& l) {
    if (s.model != l.model)
        throw PairError("model pair: different tokenizer models: small " + quote_token(s.model) + ", large " +
                        quote_token(l.model));
    if (s.pre != l.pre)
        throw PairError("model pair: different pre-tokenizers: small " + quote_token(s.pre) + ", large " +
                        quote_token(l.pre));
    auto special = [&](const char* name, int32_t a, int32_t b) {
        if (a != b)
            throw PairError(std::string("model pair: different ") + name + " token ids: small " + id_text(a) +
                            ", large " + id_text(b));
    };
    special("BOS", s.bos, l.bos);
    special("EOS", s.eos, l.eos);
    special("EOT", s.eot, l.eot);

    const int32_t n_s = static_cast<int32_t>(s.tokens.size());
    const int32_t n_l = static_cast<int32_t>(l.tokens.size());
    const int32_t n_text = std::min(n_s, n_l);
    for (int32_t id = 0; id < n_text; ++id) {
        if (s.tokens[id] != l.tokens[id])
            throw PairError("model pair: token " + std::to_string(id) + " differs: small " +
                            quote_token(s.tokens[id]) + ", large " + quote_token(l.tokens[id]));
    }
    // Ids both can emit: a token of each model with an output row in each.
    const int32_t n_common = std::min({n_text, s.rows(), l.rows()});
    // Everything either model has beyond n_common must be padding.
    for (const VocabInfo* v : {&s, &l}) {
        const int32_t n_rows = std::max(v->rows(), static_cast<int32_t>(v->tokens.size()));
        for (int32_t id = n_common; id < n_rows; ++id) {
            if (!is_padding_token(*v, id)) {
                const bool small = v == &s;
                throw PairError("model pair: vocabulary sizes differ (small " + std::to_string(n_s) +
                                " tokens, " + std::to_string(s.rows()) + " rows; large " +
                                std::to_string(n_l) + " tokens, " + std::to_string(l.rows()) +
                                " rows) and token " + std::to_string(id) + " " + quote_token(v->tokens[id]) +
                                " of the " + (small ? "small" : "large") + " model, beyond the common " +
                                std::to_string(n_common) + ", is not padding");
            }
        }
    }
    for (int32_t id : {s.bos, s.eos, s.eot})
        if (id >= n_common)
            throw PairError("model pair: special token id " + std::to_string(id) + " is beyond the common " +
                            std::to_string(n_common) + " ids");
    return {n_common};
}

}  // namespace ead::decode
