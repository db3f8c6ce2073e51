#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "gguf/reader.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/spm.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace ead::tokenizer {

// ---------------------------------------------------------------------------------------------------------------------
// Special-token matcher
// ---------------------------------------------------------------------------------------------------------------------
void SpecialMatcher::add(std::string_view text, int32_t id) {
    if (text.empty()) return;
    uint32_t node = 0;
    for (char c : text) {
        const uint8_t b = static_cast<uint8_t>(c);
        auto& ch = nodes_[node].children;
        auto it =
            std::lower_bound(ch.begin(), ch.end(), b, [](const auto& p, uint8_t v) { return p.first < v; });
        if (it != ch.end() && it->first == b) {
            node = it->second;
        } else {
            const uint32_t next = static_cast<uint32_t>(nodes_.size());
            ch.insert(it, {b, next});
            nodes_.emplace_back();  // invalidates `ch`, not needed any more
            node = next;
        }
    }
    if (nodes_[node].id < 0) nodes_[node].id = id;  // the first id wins when a text repeats
    first_byte_[static_cast<uint8_t>(text[0])] = true;
}

size_t SpecialMatcher::match(std::string_view text, size_t pos, int32_t* id) const {
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) return 0;
    size_t best = 0;
    uint32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
        const uint8_t b = static_cast<uint8_t>(text[i]);
        const auto& ch = nodes_[node].children;
        auto it =
            std::lower_bound(ch.begin(), ch.end(), b, [](const auto& p, uint8_t v) { return p.first < v; });
        if (it == ch.end() || it->first != b) break;
        node = it->second;
        if (nodes_[node].id >= 0) {
            best = i + 1 - pos;
            *id = nodes_[node].id;
        }
    }
    return best;
}

// ---------------------------------------------------------------------------------------------------------------------
// Implementation state
// ---------------------------------------------------------------------------------------------------------------------
struct Tokenizer::Impl {
    bool is_spm = false;
    std::string model_name, pre_name;
    Vocab vocab;
    std::vector<std::string> piece;  // [n_vocab] decoded bytes of each token (control tokens: their text)
    int32_t bos = -1, eos = -1, eot = -1, pad = -1, unk = -1;
    bool add_bos = false, add_eos = false, add_space_prefix = false;
    std::vector<uint8_t> eog;     // [n_vocab]
    SpecialMatcher all_specials;  // control, unknown and user-defined tokens (parse_special)
    SpecialMatcher user_defined;  // user-defined tokens only (always matched unless disabled)
    bool match_user_defined = true;
    std::unique_ptr<BpeModel> bpe;
    std::unique_ptr<SpmModel> spm;

    void check_id(int32_t id) const {
        if (id < 0 || id >= vocab.size())
            throw Error("token id " + std::to_string(id) + " is out of range [0, " +
                        std::to_string(vocab.size()) + ")");
    }
    bool is_control(int32_t id) const {
        const TokenType t = vocab.type[id];
        return t == TokenType::kControl || t == TokenType::kUnused;
    }
};

namespace {

// Token texts that end a turn or the text in the chat formats this engine knows.
constexpr std::string_view kEotNames[] = {"<|eot_id|>", "<|im_end|>", "<end_of_turn>",
                                          "<|end|>",    "<|EOT|>",    "<|end_of_turn|>"};
constexpr std::string_view kEogNames[] = {"<|eot_id|>",    "<|im_end|>", "<end_of_turn>", "<|end|>",
                                          "<|endoftext|>", "<|eom_id|>", "<|EOT|>",       "<|end_of_text|>"};

int32_t read_id(const gguf::File& f, const char* key, int32_t def, int32_t n_vocab) {
    const gguf::Value* v = f.find(key);
    if (!v) return def;
    int64_t id;
    try {
        id = v->as_i64();
    } catch (const std::exception& e) {
        throw Error(f.path() + ": " + key + ": expected an integer token id (" + e.what() + ")");
    }
    // Some converters write ids past the vocabulary (e.g. a pad id of an untrimmed vocab): treat as absent.
    return id >= 0 && id < n_vocab ? static_cast<int32_t>(id) : -1;
}

std::string piece_of(const Tokenizer::Impl& im, int32_t id) {
    const std::string& t = im.vocab.text[id];
    const TokenType type = im.vocab.type[id];
    std::string out;
    if (im.is_spm) {
        if (type == TokenType::kByte && t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>') {
            out += static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16));
        } else if (type == TokenType::kUnknown) {
            out = " \xE2\x81\x87 ";  // " ⁇ ", as SentencePiece prints an unknown piece
        } else if (type == TokenType::kNormal || type == TokenType::kUndefined) {
            for (size_t i = 0; i < t.size(); ++i) {
                if (t.compare(i, 3, "\xE2\x96\x81") == 0) {
                    out += ' ';
                    i += 2;
                } else {
                    out += t[i];
                }
            }
        } else {
            out = t;  // control, user-defined, unused: their text
        }
    } else {
        if (type == TokenType::kNormal || type == TokenType::kUndefined || type == TokenType::kByte) {
            bpe_text_to_bytes(t, out);
        } else {
            // Added tokens: mapped to bytes only when every character is a byte character (as Hugging Face's
            // ByteLevel decoder does), else their text as is ("<｜begin▁of▁sentence｜>").
            for (size_t i = 0; i < t.size();) {
                const size_t len = utf8_char_len(t, i);
                const int b = len == 1 && static_cast<uint8_t>(t[i]) >= 0x80
                                  ? -1
                                  : bpe_char_to_byte(utf8_decode(t, i, len));
                if (b < 0) return t;
                out += static_cast<char>(b);
                i += len;
            }
        }
    }
    return out;
}

// A user-defined token of a byte-level vocabulary that is one non-ASCII byte character (DeepSeek adds 'õ',
// 'ÿ', ... for bytes its merges lack): it stands for that byte, so it is a BPE symbol, not text to match.
bool is_byte_filler(std::string_view t) {
    if (t.empty()) return false;
    const size_t len = utf8_char_len(t, 0);
    if (len != t.size() || len == 1) return false;
    return bpe_char_to_byte(utf8_decode(t, 0, len)) >= 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------------------------
Tokenizer Tokenizer::from_gguf(const gguf::File& f, const TokenizerOptions& options) {
    auto im = std::make_shared<Impl>();
    const std::string where = f.path() + ": ";
    auto require = [&](const char* key) -> const gguf::Value& {
        const gguf::Value* v = f.find(key);
        if (!v) throw Error(where + "missing key " + key + " (not a GGUF file with a tokenizer?)");
        return *v;
    };
    try {
        im->model_name = f.get_string("tokenizer.ggml.model");
    } catch (const std::exception& e) {
        throw Error(where + "tokenizer.ggml.model: " + e.what());
    }
    if (im->model_name == "llama")
        im->is_spm = true;
    else if (im->model_name != "gpt2")
        throw Error(where + "tokenizer.ggml.model = '" + im->model_name +
                    "' is not supported (expected 'gpt2' for byte-level BPE or 'llama' for SentencePiece)");

    try {
        Vocab& v = im->vocab;
        v.text = require("tokenizer.ggml.tokens").as_strings();
        const size_t n = v.text.size();
        if (n == 0 || n > static_cast<size_t>(INT32_MAX / 2))
            throw Error(where + "tokenizer.ggml.tokens: expected 1 .. 2^30 tokens, got " + std::to_string(n));
        v.score.assign(n, 0.0f);
        if (const gguf::Value* s = f.find("tokenizer.ggml.scores")) {
            v.score = s->as_floats();
            if (v.score.size() != n)
                throw Error(where + "tokenizer.ggml.scores: expected " + std::to_string(n) + " scores, got " +
                            std::to_string(v.score.size()));
        } else if (im->is_spm) {
            throw Error(where + "missing key tokenizer.ggml.scores (required by the 'llama' tokenizer)");
        }
        v.type.assign(n, TokenType::kNormal);
        if (const gguf::Value* t = f.find("tokenizer.ggml.token_type")) {
            const std::vector<int64_t> types = t->as_ints();
            if (types.size() != n)
                throw Error(where + "tokenizer.ggml.token_type: expected " + std::to_string(n) +
                            " types, got " + std::to_string(types.size()));
            for (size_t i = 0; i < n; ++i) {
                if (types[i] < 0 || types[i] > 6)
                    throw Error(where + "tokenizer.ggml.token_type[" + std::to_string(i) +
                                "] = " + std::to_string(types[i]) + ": expected 0..6");
                v.type[i] = static_cast<TokenType>(types[i]);
            }
        }
        v.id_of.reserve(n);
        for (size_t i = 0; i < n; ++i) v.id_of.try_emplace(v.text[i], static_cast<int32_t>(i));
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(where + "tokenizer.ggml.*: " + e.what());
    }
    const Vocab& v = im->vocab;
    const int32_t n = v.size();

    // ---- special ids and flags ----
    im->bos = read_id(f, "tokenizer.ggml.bos_token_id", im->is_spm && n > 1 ? 1 : -1, n);
    im->eos = read_id(f, "tokenizer.ggml.eos_token_id", im->is_spm && n > 2 ? 2 : -1, n);
    im->unk = read_id(f, "tokenizer.ggml.unknown_token_id", im->is_spm ? 0 : -1, n);
    im->pad = read_id(f, "tokenizer.ggml.padding_token_id", -1, n);
    im->eot = read_id(f, "tokenizer.ggml.eot_token_id", -1, n);
    if (im->eot < 0)
        for (std::string_view name : kEotNames)
            if (int32_t id = v.find(name); id >= 0 && v.type[id] != TokenType::kNormal) {
                im->eot = id;
                break;
            }
    try {
        im->add_bos = f.get_bool("tokenizer.ggml.add_bos_token", im->is_spm);
        im->add_eos = f.get_bool("tokenizer.ggml.add_eos_token", false);
        im->add_space_prefix = im->is_spm && f.get_bool("tokenizer.ggml.add_space_prefix", true);
    } catch (const std::exception& e) {
        throw Error(where + "tokenizer.ggml.add_*: " + e.what());
    }
    im->eog.assign(n, 0);
    for (int32_t id : {im->eos, im->eot})
        if (id >= 0) im->eog[id] = 1;
    for (std::string_view name : kEogNames)
        if (int32_t id = v.find(name); id >= 0 && v.type[id] == TokenType::kControl) im->eog[id] = 1;

    // ---- special-token matchers ----
    im->match_user_defined = options.always_match_user_defined;
    for (int32_t id = 0; id < n; ++id) {
        const TokenType t = v.type[id];
        if (!im->is_spm && is_byte_filler(v.text[id])) continue;
        if (t == TokenType::kControl || t == TokenType::kUnknown || t == TokenType::kUserDefined)
            im->all_specials.add(v.text[id], id);
        if (t == TokenType::kUserDefined) im->user_defined.add(v.text[id], id);
    }

    // ---- the model ----
    if (im->is_spm) {
        im->pre_name = f.get_string("tokenizer.ggml.pre", "default");
        im->spm = std::make_unique<SpmModel>(im->vocab, im->unk);
    } else {
        std::string pre = f.get_string("tokenizer.ggml.pre", "default");
        if (!options.pre_override.empty()) pre = options.pre_override;
        if (!PreTokenizer::is_known(pre)) {
            try {
                PreTokenizer::by_name(pre);
            } catch (const Error& e) {
                throw Error(options.pre_override.empty()
                                ? where + e.what()
                                : std::string("--tokenizer-pre / pre_override: ") + e.what());
            }
        }
        im->pre_name = pre;
        PreTokenizer pt = PreTokenizer::by_name(pre);
        const bool ignore_merges = pt.kind() == "llama3";
        const gguf::Value& merges = require("tokenizer.ggml.merges");
        try {
            im->bpe = std::make_unique<BpeModel>(
                im->vocab, merges.as_strings(), std::move(pt), ignore_merges,
                // an UNK that is really EOS (StarCoder) must not appear mid-text
                im->unk >= 0 && v.type[im->unk] == TokenType::kUnknown ? im->unk : -1);
        } catch (const Error& e) {
            throw Error(where + e.what());
        } catch (const std::exception& e) {
            throw Error(where + "tokenizer.ggml.merges: " + e.what());
        }
    }

    im->piece.resize(n);
    for (int32_t id = 0; id < n; ++id) im->piece[id] = piece_of(*im, id);
    return Tokenizer(std::move(im));
}

// ---------------------------------------------------------------------------------------------------------------------
// Encoding and decoding
// ---------------------------------------------------------------------------------------------------------------------
std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    const Impl& im = *impl_;
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    const bool want_bos = add_special && im.add_bos && im.bos >= 0;
    if (want_bos) out.push_back(im.bos);

    const SpecialMatcher* matcher = parse_special           ? &im.all_specials
                                    : im.match_user_defined ? &im.user_defined
                                                            : nullptr;
    if (matcher && matcher->empty()) matcher = nullptr;
    bool prev_special =
        true;  // SentencePiece puts its space prefix on the first text and after special tokens
    auto encode_text = [&](std::string_view part) {
        if (part.empty()) return;
        if (im.is_spm)
            im.spm->encode(part, im.add_space_prefix && prev_special, out);
        else
            im.bpe->encode(part, out);
        prev_special = false;
    };
    size_t start = 0;
    if (matcher) {
        for (size_t pos = 0; pos < text.size();) {
            int32_t id = -1;
            const size_t len = matcher->match(text, pos, &id);
            if (len == 0) {
                ++pos;
                continue;
            }
            encode_text(text.substr(start, pos - start));
            // BOS written in the text (a rendered chat template) replaces the one added above.
            if (!(want_bos && id == im.bos && out.size() == 1 && out[0] == im.bos)) out.push_back(id);
            prev_special = true;
            pos += len;
            start = pos;
        }
    }
    encode_text(text.substr(start));
    if (add_special && im.add_eos && im.eos >= 0) out.push_back(im.eos);
    return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool print_special) const {
    const Impl& im = *impl_;
    std::string out;
    bool strip = im.add_space_prefix;
    for (int32_t id : ids) {
        im.check_id(id);
        if (!print_special && im.is_control(id)) continue;
        const std::string& p = im.piece[id];
        if (strip && !p.empty()) {
            out.append(p, p[0] == ' ' ? 1 : 0);
            strip = false;
            continue;
        }
        out += p;
    }
    return out;
}

const std::string& Tokenizer::token_text(int32_t id) const {
    impl_->check_id(id);
    return impl_->vocab.text[id];
}

std::string Tokenizer::token_to_piece(int32_t id, bool print_special) const {
    impl_->check_id(id);
    if (!print_special && impl_->is_control(id)) return {};
    return impl_->piece[id];
}

TokenType Tokenizer::token_type(int32_t id) const {
    impl_->check_id(id);
    return impl_->vocab.type[id];
}

float Tokenizer::token_score(int32_t id) const {
    impl_->check_id(id);
    return impl_->vocab.score[id];
}

int32_t Tokenizer::find_token(std::string_view text) const {
    return impl_->vocab.find(text);
}
int32_t Tokenizer::n_vocab() const {
    return impl_->vocab.size();
}
int32_t Tokenizer::bos() const {
    return impl_->bos;
}
int32_t Tokenizer::eos() const {
    return impl_->eos;
}
int32_t Tokenizer::eot() const {
    return impl_->eot;
}
int32_t Tokenizer::pad() const {
    return impl_->pad;
}
int32_t Tokenizer::unk() const {
    return impl_->unk;
}
bool Tokenizer::add_bos() const {
    return impl_->add_bos;
}
bool Tokenizer::add_eos() const {
    return impl_->add_eos;
}
bool Tokenizer::add_space_prefix() const {
    return impl_->add_space_prefix;
}
bool Tokenizer::is_eog(int32_t id) const {
    return id >= 0 && id < n_vocab() && impl_->eog[id];
}
bool Tokenizer::is_control(int32_t id) const {
    return id >= 0 && id < n_vocab() && impl_->is_control(id);
}
std::string Tokenizer::model() const {
    return impl_->model_name;
}
std::string Tokenizer::pre() const {
    return impl_->pre_name;
}

std::vector<int32_t> Tokenizer::eog_ids() const {
    std::vector<int32_t> ids;
    for (int32_t id = 0; id < n_vocab(); ++id)
        if (impl_->eog[id]) ids.push_back(id);
    return ids;
}

// ---------------------------------------------------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------------------------------------------------
StreamDecoder::StreamDecoder(const Tokenizer& tok, bool print_special, bool strip_leading_space)
    : tok_(&tok), print_special_(print_special), strip_leading_space_(strip_leading_space) {}

std::string StreamDecoder::push(int32_t id) {
    std::string p = tok_->token_to_piece(id, print_special_);
    if (!started_ && !p.empty()) {
        started_ = true;
        if (strip_leading_space_ && p[0] == ' ') p.erase(0, 1);
    }
    pending_ += p;
    const size_t hold = utf8_incomplete_tail(pending_);
    std::string out = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out;
    out.swap(pending_);
    return out;
}

}  // namespace ead::tokenizer
