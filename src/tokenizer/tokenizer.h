// The tokenizer stage: text <-> token ids, built only from the `tokenizer.ggml.*` keys of a GGUF file.
//
//   gguf::File f = gguf::File::open("model.gguf");          // a vocab-only GGUF is enough
//   Tokenizer tok = Tokenizer::from_gguf(f);
//   std::vector<int32_t> ids = tok.encode("Hello", /*add_special=*/true, /*parse_special=*/false);
//   std::string text = tok.decode(ids);                      // "Hello" (control tokens such as BOS not
//   printed)
//
//   StreamDecoder sd(tok);                                   // while generating:
//   std::cout << sd.push(id);                                //   never a broken UTF-8 sequence
//   std::cout << sd.flush();                                 // at the end
//
// Models (`tokenizer.ggml.model`):
//   "gpt2"  byte-level BPE: bytes mapped to printable characters, the pre-tokenizer regexes chosen by
//           `tokenizer.ggml.pre` (see pre_tokenizer.h), merges applied by rank (`tokenizer.ggml.merges`).
//   "llama" SentencePiece BPE: spaces written U+2581, optional space prefix
//   (`tokenizer.ggml.add_space_prefix`),
//           the highest-scoring adjacent pair (`tokenizer.ggml.scores`) merged first, `<0xNN>` byte fallback,
//           UNK.
//
// Special tokens: control tokens (type 3) are recognized in text only with parse_special; user-defined tokens
// (type 4, e.g. Gemma's runs of newlines and spaces, DeepSeek's added tokens) are part of the vocabulary's
// ordinary segmentation and are recognized always (as Hugging Face and llama.cpp do), unless
// TokenizerOptions::always_match_user_defined is off. Matching is longest-first at each position.
//
// Errors: every problem raises tokenizer::Error (a std::runtime_error) whose message names the key, the name
// or the token id and what was expected. The tokenizer is immutable after loading; encode/decode may be
// called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/error.h"

namespace ead::gguf {
class File;
}

namespace ead::tokenizer {

// `tokenizer.ggml.token_type` values.
enum class TokenType : uint8_t {
    kUndefined = 0,
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,
    kUserDefined = 4,
    kUnused = 5,
    kByte = 6,
};

struct TokenizerOptions {
    // Use this pre-tokenizer instead of `tokenizer.ggml.pre` (needed when the file names one this engine does
    // not know; see PreTokenizer::known_names()). Empty: use the file's.
    std::string pre_override;
    // Recognize user-defined tokens in text even when parse_special is off (the Hugging Face behaviour).
    bool always_match_user_defined = true;
};

class Tokenizer {
  public:
    // Reads the vocabulary from `file`. Throws Error naming the key when a required key is missing or
    // malformed, or naming the pre-tokenizer when it is unknown (and options.pre_override is empty).
    static Tokenizer from_gguf(const gguf::File& file, const TokenizerOptions& options = {});

    // Text -> ids. `add_special`: prepend BOS when the vocabulary asks for it (add_bos()) and append EOS when
    // it asks for that (add_eos()); BOS is not added twice when the text already starts with the BOS token
    // (e.g. a rendered chat template with parse_special). `parse_special`: recognize control tokens written
    // in the text
    // (`<|im_start|>`); off for untrusted raw text. Any bytes are accepted (invalid UTF-8 is encoded
    // byte-wise).
    std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

    // Ids -> text. Control and unused tokens print nothing unless `print_special`. For SentencePiece
    // vocabularies with a space prefix, the one space that encode() put in front of the text is removed
    // again. Throws Error naming the id when an id is outside [0, n_vocab()).
    std::string decode(const std::vector<int32_t>& ids, bool print_special = false) const;

    // The raw vocabulary string of `id` (e.g. "Ġworld", "▁world", "<0x0A>"). Throws Error when out of range.
    const std::string& token_text(int32_t id) const;
    // The bytes `id` stands for ("Ġworld" -> " world", "<0x0A>" -> "\n"); control/unused tokens give their
    // text when `print_special`, nothing otherwise. Throws Error when out of range.
    std::string token_to_piece(int32_t id, bool print_special = true) const;
    TokenType token_type(int32_t id) const;
    float token_score(int32_t id) const;
    // The id of the token whose text is exactly `text`, or -1.
    int32_t find_token(std::string_view text) const;

    int32_t n_vocab() const;
    // Special token ids, -1 when the vocabulary has none.
    int32_t bos() const;
    int32_t eos() const;
    int32_t eot() const;  // `tokenizer.ggml.eot_token_id`, else a token named <|eot_id|>, <|im_end|>,
                          // <end_of_turn>, ...
    int32_t pad() const;
    int32_t unk() const;
    bool add_bos() const;  // `tokenizer.ggml.add_bos_token` (default: true for "llama", false for "gpt2")
    bool add_eos() const;  // `tokenizer.ggml.add_eos_token` (default false)
    bool add_space_prefix() const;  // "llama" only: `tokenizer.ggml.add_space_prefix` (default true)
    // End of generation: EOS, EOT, and the control tokens that end a turn in the known chat templates.
    bool is_eog(int32_t id) const;
    std::vector<int32_t> eog_ids() const;
    bool is_control(int32_t id) const;  // control or unused

    std::string model() const;  // "gpt2" or "llama"
    std::string pre() const;  // the pre-tokenizer in use ("smollm", "llama-bpe", ...; "default" for "llama")

    struct Impl;

  private:
    explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

// Incremental detokenizer: ids in, text out, never splitting a UTF-8 sequence across calls. Incomplete
// trailing bytes are held back until the next token completes them; flush() returns whatever is left
// (possibly invalid).
class StreamDecoder {
  public:
    // `strip_leading_space`: drop one space at the very start of the stream (the SentencePiece space prefix).
    explicit StreamDecoder(const Tokenizer& tok, bool print_special = false,
                           bool strip_leading_space = false);
    std::string push(int32_t id);
    std::string flush();

  private:
    const Tokenizer* tok_;
    bool print_special_;
    bool strip_leading_space_;
    bool started_ = false;
    std::string pending_;
};

}  // namespace ead::tokenizer
