// Internal: the vocabulary tables shared by the BPE and SentencePiece models, and the special-token matcher.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace ead::tokenizer {

// Hash/equality that let unordered_map<std::string, ...> be searched with a string_view without a copy.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct Vocab {
    std::vector<std::string> text;  // [n_vocab] raw token strings
    std::vector<float> score;       // [n_vocab] SentencePiece scores (0 when absent)
    std::vector<TokenType> type;    // [n_vocab]
    TokenMap id_of;                 // text -> id (the first id when a text repeats)

    int32_t size() const { return static_cast<int32_t>(text.size()); }
    int32_t find(std::string_view s) const {
        auto it = id_of.find(s);
        return it == id_of.end() ? -1 : it->second;
    }
};

// Longest-match recognizer of a set of token texts (a byte trie).
class SpecialMatcher {
  public:
    void add(std::string_view text, int32_t id);
    bool empty() const { return nodes_.size() <= 1; }
    // Length of the longest token text that starts at text[pos] (0 when none) and its id.
    size_t match(std::string_view text, size_t pos, int32_t* id) const;

  private:
    struct Node {
        std::vector<std::pair<uint8_t, uint32_t>> children;  // sorted by byte
        int32_t id = -1;
    };
    std::vector<Node> nodes_ = std::vector<Node>(1);
    bool first_byte_[256] = {};
};

}  // namespace ead::tokenizer
