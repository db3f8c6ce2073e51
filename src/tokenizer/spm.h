// Internal: SentencePiece-style BPE (`tokenizer.ggml.model = llama`): highest-scoring pair first, byte
// fallback.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/vocab.h"

namespace ead::tokenizer {

class SpmModel {
  public:
    SpmModel(const Vocab& vocab, int32_t unk);

    // Appends the ids of raw text (no special tokens in it) to `out`; spaces become U+2581 and, with
    // `space_prefix`, one is put in front.
    void encode(std::string_view text, bool space_prefix, std::vector<int32_t>& out) const;

  private:
    bool mergeable(int32_t id) const;
    void emit_bytes(std::string_view bytes, std::vector<int32_t>& out) const;
    void encode_segment(std::string_view text, std::vector<int32_t>& out) const;

    const Vocab& vocab_;
    int32_t unk_;
    int32_t byte_token_[256];  // <0xNN> ids, or -1
    // Code points c such that some mergeable token contains "c▁". Before a ▁ that follows any other character
    // no merge can ever cross, so the text is cut there into segments that are merged independently (and
    // cached): the result is the same as merging the whole text at once, only faster.
    std::unordered_set<uint32_t> glued_before_space_;

    static constexpr size_t kCacheMax = 1 << 16;
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace ead::tokenizer
