// Internal: byte-level BPE (`tokenizer.ggml.model = gpt2`) over the pieces of a pre-tokenizer.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab.h"

namespace ead::tokenizer {

class BpeModel {
  public:
    // `merges`: "left right" strings in rank order. `ignore_merges`: a piece that is a whole token is emitted
    // as is (Llama 3). `unk`: emitted for a byte whose character the vocabulary lacks (-1: the byte is
    // dropped). Throws Error naming the merge when one has no space.
    BpeModel(const Vocab& vocab, const std::vector<std::string>& merges, PreTokenizer pre, bool ignore_merges,
             int32_t unk);

    // Appends the ids of raw text (no special tokens in it) to `out`.
    void encode(std::string_view text, std::vector<int32_t>& out) const;

    const PreTokenizer& pre_tokenizer() const { return pre_; }

  private:
    struct Merge {
        int32_t rank;
        int32_t result;  // symbol id of the merged text
    };
    int32_t intern(const std::string& bpe_text);
    void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;
    void merge_symbols(std::string_view piece, std::vector<int32_t>& out) const;
    void emit(int32_t sym, std::vector<int32_t>& out) const;
    static uint64_t key(int32_t a, int32_t b) {
        return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
    }

    const Vocab& vocab_;
    PreTokenizer pre_;
    bool ignore_merges_;
    int32_t unk_;
    // Symbols are token ids; texts that merges produce but the vocabulary lacks get ids >= n_vocab.
    std::vector<std::string> extra_text_;  // [id - n_vocab] byte-level text
    std::unordered_map<std::string, int32_t> extra_id_;
    int32_t byte_symbol_[256];                    // byte -> symbol id of its printable character
    std::unordered_map<uint64_t, Merge> merges_;  // (left id, right id) -> merge

    // Piece -> ids cache (cleared when it reaches kCacheMax entries).
    static constexpr size_t kCacheMax = 1 << 16;
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace ead::tokenizer
