#include "tokenizer/spm.h"

#include <cstdio>
#include <queue>

#include "tokenizer/unicode.h"

namespace ead::tokenizer {

namespace {
constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space
}

SpmModel::SpmModel(const Vocab& vocab, int32_t unk) : vocab_(vocab), unk_(unk) {
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        byte_token_[b] = vocab_.find(name);
    }
    for (int32_t id = 0; id < vocab_.size(); ++id) {
        if (!mergeable(id)) continue;
        const std::string& t = vocab_.text[id];
        size_t prev = std::string::npos;  // start of the previous character
        for (size_t i = 0; i < t.size();) {
            const size_t len = utf8_char_len(t, i);
            if (prev != std::string::npos && t.compare(i, kSpace.size(), kSpace) == 0) {
                const size_t plen = i - prev;
                glued_before_space_.insert(plen == 1 ? static_cast<uint8_t>(t[prev])
                                                     : utf8_decode(t, prev, plen));
            }
            prev = i;
            i += len;
        }
    }
}

bool SpmModel::mergeable(int32_t id) const {
    const TokenType t = vocab_.type[id];
    return t == TokenType::kNormal || t == TokenType::kUserDefined || t == TokenType::kUndefined;
}

void SpmModel::emit_bytes(std::string_view bytes, std::vector<int32_t>& out) const {
    for (char c : bytes) {
        const uint8_t b = static_cast<uint8_t>(c);
        int32_t id = byte_token_[b];
        if (id < 0) id = vocab_.find(std::string_view(&c, 1));
        if (id < 0) id = unk_;
        if (id >= 0) out.push_back(id);
    }
}

void SpmModel::encode(std::string_view raw, bool space_prefix, std::vector<int32_t>& out) const {
    std::string text;
    text.reserve(raw.size() + raw.size() / 4 + 3);
    if (space_prefix) text += kSpace;
    for (char c : raw) {
        if (c == ' ')
            text += kSpace;
        else
            text += c;
    }
    if (text.empty()) return;

    // Cut before every ▁ whose preceding character never precedes ▁ inside a token (see glued_before_space_).
    const std::string_view tv(text);
    size_t seg = 0, prev = std::string::npos;
    for (size_t i = 0; i < tv.size();) {
        const size_t len = utf8_char_len(tv, i);
        if (prev != std::string::npos && tv.compare(i, kSpace.size(), kSpace) == 0) {
            const size_t plen = i - prev;
            const uint32_t cp = plen == 1 ? static_cast<uint8_t>(tv[prev]) : utf8_decode(tv, prev, plen);
            if (!glued_before_space_.count(cp)) {
                encode_segment(tv.substr(seg, i - seg), out);
                seg = i;
            }
        }
        prev = i;
        i += len;
    }
    encode_segment(tv.substr(seg), out);
}

void SpmModel::encode_segment(std::string_view text, std::vector<int32_t>& out) const {
    if (text.empty()) return;
    {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        auto it = cache_.find(text);
        if (it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    const size_t first_out = out.size();
    // Symbols: one per UTF-8 character (or invalid byte), as a doubly linked list over `text`.
    struct Symbol {
        int32_t prev, next;
        uint32_t start, len;  // len 0: merged into its left neighbour
    };
    std::vector<Symbol> sym;
    sym.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        const size_t len = utf8_char_len(text, i);
        const int32_t idx = static_cast<int32_t>(sym.size());
        sym.push_back({idx - 1, -1, static_cast<uint32_t>(i), static_cast<uint32_t>(len)});
        if (idx > 0) sym[idx - 1].next = idx;
        i += len;
    }

    // Candidate merges: highest score first, then leftmost. Stale entries are skipped when popped.
    struct Cand {
        float score;
        int32_t left, right;
        uint32_t len;
        bool operator<(const Cand& o) const { return score != o.score ? score < o.score : left > o.left; }
    };
    std::priority_queue<Cand> queue;
    const std::string_view tv(text);
    auto consider = [&](int32_t l) {
        if (l < 0 || sym[l].next < 0) return;
        const int32_t r = sym[l].next;
        const uint32_t len = sym[l].len + sym[r].len;
        const int32_t id = vocab_.find(tv.substr(sym[l].start, len));
        if (id < 0 || !mergeable(id)) return;
        queue.push({vocab_.score[id], l, r, len});
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) consider(i);
    while (!queue.empty()) {
        const Cand c = queue.top();
        queue.pop();
        Symbol& l = sym[c.left];
        Symbol& r = sym[c.right];
        if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.len) continue;  // stale
        l.len += r.len;
        r.len = 0;
        l.next = r.next;
        if (r.next >= 0) sym[r.next].prev = c.left;
        consider(l.prev);
        consider(c.left);
    }
    for (int32_t i = 0; i >= 0; i = sym[i].next) {
        const std::string_view piece = tv.substr(sym[i].start, sym[i].len);
        const int32_t id = vocab_.find(piece);
        if (id >= 0)
            out.push_back(id);
        else
            emit_bytes(piece, out);
    }
    if (text.size() > 256) return;  // only word-sized segments are worth keeping
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kCacheMax) cache_.clear();
    cache_.emplace(std::string(text), std::vector<int32_t>(out.begin() + first_out, out.end()));
}

}  // namespace ead::tokenizer
