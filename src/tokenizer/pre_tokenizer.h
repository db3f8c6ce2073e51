// Pre-tokenizers of byte-level BPE: the regex splits chosen by `tokenizer.ggml.pre`, run with PCRE2 (UTF,
// UCP, JIT).
//
// A pre-tokenizer is a sequence of regexes. Each one splits every piece produced by the previous one into the
// matches and the text between them (both kept, in order), so the pieces always concatenate back to the
// input. Invalid UTF-8 never matches anything and ends up in the pieces between matches.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ead::tokenizer {

class PreTokenizer {
  public:
    // The pre-tokenizer for `name` (a `tokenizer.ggml.pre` value such as "llama-bpe", "qwen2", "smollm",
    // "gpt-2", "default"). Throws tokenizer::Error naming `name` and the known names when it is unknown.
    static PreTokenizer by_name(const std::string& name);
    // Whether `name` is known.
    static bool is_known(const std::string& name);
    // Every accepted name (aliases included), sorted.
    static std::vector<std::string> known_names();

    // Appends the pieces of `text` to `out`; the pieces are views into `text`.
    void split(std::string_view text, std::vector<std::string_view>& out) const;

    // The canonical name of the regex set ("gpt2", "llama3", ...), for messages.
    const std::string& kind() const { return kind_; }

  private:
    struct Regex;
    std::string kind_;
    std::vector<std::shared_ptr<const Regex>> regexes_;
};

}  // namespace ead::tokenizer
