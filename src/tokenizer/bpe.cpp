#include "tokenizer/bpe.h"

#include <queue>

#include "tokenizer/unicode.h"

namespace ead::tokenizer {

BpeModel::BpeModel(const Vocab& vocab, const std::vector<std::string>& merges, PreTokenizer pre,
                   bool ignore_merges, int32_t unk)
    : vocab_(vocab), pre_(std::move(pre)), ignore_merges_(ignore_merges), unk_(unk) {
    for (int b = 0; b < 256; ++b)
        byte_symbol_[b] = intern(std::string(byte_to_bpe_char(static_cast<uint8_t>(b))));
    merges_.reserve(merges.size() * 2);
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const std::string& m = merges[rank];
        // The separator is the first space after the first character (a merge never starts with a space in
        // byte-level BPE, but skip one anyway).
        const size_t sp = m.find(' ', 1);
        if (sp == std::string::npos || sp + 1 >= m.size())
            throw Error("tokenizer.ggml.merges[" + std::to_string(rank) + "] = '" + m +
                        "': expected two symbols separated by a space");
        const std::string left = m.substr(0, sp), right = m.substr(sp + 1);
        const int32_t l = intern(left), r = intern(right);
        const int32_t res = intern(left + right);
        merges_.try_emplace(key(l, r), Merge{static_cast<int32_t>(rank), res});
    }
}

int32_t BpeModel::intern(const std::string& bpe_text) {
    const int32_t id = vocab_.find(bpe_text);
    if (id >= 0) return id;
    auto [it, inserted] =
        extra_id_.try_emplace(bpe_text, vocab_.size() + static_cast<int32_t>(extra_text_.size()));
    if (inserted) extra_text_.push_back(bpe_text);
    return it->second;
}

void BpeModel::encode(std::string_view text, std::vector<int32_t>& out) const {
    std::vector<std::string_view> pieces;
    pre_.split(text, pieces);
    for (std::string_view p : pieces) encode_piece(p, out);
}

void BpeModel::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
    if (piece.empty()) return;
    if (ignore_merges_) {
        std::string mapped;
        bytes_to_bpe_text(piece, mapped);
        const int32_t id = vocab_.find(mapped);
        if (id >= 0) {
            out.push_back(id);
            return;
        }
    }
    if (piece.size() == 1) {
        emit(byte_symbol_[static_cast<uint8_t>(piece[0])], out);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        auto it = cache_.find(piece);
        if (it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<int32_t> ids;
    merge_symbols(piece, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kCacheMax) cache_.clear();
    cache_.emplace(std::string(piece), std::move(ids));
}

void BpeModel::merge_symbols(std::string_view piece, std::vector<int32_t>& out) const {
    // Symbols form a doubly linked list over the bytes of the piece; a merge keeps the left one.
    struct Symbol {
        int32_t id;
        int32_t prev, next;  // indices, -1 at the ends
    };
    const int32_t n = static_cast<int32_t>(piece.size());
    std::vector<Symbol> sym(n);
    for (int32_t i = 0; i < n; ++i)
        sym[i] = {byte_symbol_[static_cast<uint8_t>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};

    // Candidate merges, lowest rank first, then leftmost. Stale entries are skipped when popped.
    struct Cand {
        int32_t rank, left, right, left_id, right_id;
        bool operator<(const Cand& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Cand> queue;
    auto consider = [&](int32_t l) {
        if (l < 0 || sym[l].next < 0) return;
        const int32_t r = sym[l].next;
        auto it = merges_.find(key(sym[l].id, sym[r].id));
        if (it != merges_.end()) queue.push({it->second.rank, l, r, sym[l].id, sym[r].id});
    };
    for (int32_t i = 0; i + 1 < n; ++i) consider(i);
    while (!queue.empty()) {
        const Cand c = queue.top();
        queue.pop();
        Symbol& l = sym[c.left];
        if (l.id != c.left_id || l.next != c.right || sym[c.right].id != c.right_id) continue;  // stale
        Symbol& r = sym[c.right];
        l.id = merges_.at(key(c.left_id, c.right_id)).result;
        l.next = r.next;
        if (r.next >= 0) sym[r.next].prev = c.left;
        r.id = -1;  // dead
        consider(l.prev);
        consider(c.left);
    }
    for (int32_t i = 0; i >= 0; i = sym[i].next) emit(sym[i].id, out);
}

void BpeModel::emit(int32_t sym, std::vector<int32_t>& out) const {
    if (sym < vocab_.size()) {
        out.push_back(sym);
        return;
    }
    // A merged text the vocabulary lacks: its characters one by one (each is one byte's character).
    const std::string& t = extra_text_[sym - vocab_.size()];
    for (size_t i = 0; i < t.size();) {
        const size_t len = utf8_char_len(t, i);
        const int32_t id = vocab_.find(std::string_view(t).substr(i, len));
        if (id >= 0)
            out.push_back(id);
        else if (unk_ >= 0)
            out.push_back(unk_);  // the vocabulary lacks this byte
        i += len;
    }
}

}  // namespace ead::tokenizer
