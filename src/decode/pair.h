// Can two models decode one token sequence together? (EAD and speculative decoding need one shared
// tokenizer.)
//
// The check works on plain token lists so it is testable without models; an adapter fills VocabInfo from
// tokenizer::Tokenizer / the GGUF tokenizer keys.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ead::decode {

struct VocabInfo {
    std::string model;  // tokenizer.ggml.model ("gpt2", "llama", ...)
    std::string pre;    // tokenizer.ggml.pre ("qwen2", "llama-bpe", ...); may be empty
    int32_t bos = -1;   // -1: none
    int32_t eos = -1;
    int32_t eot = -1;
    std::vector<std::string> tokens;   // text of every id
    std::vector<int32_t> token_types;  // optional (GGUF token_type: 1 normal, 3 control, 5 unused, ...)
    int32_t n_vocab = 0;               // rows of the model's output matrix; 0 = tokens.size()

    int32_t rows() const { return n_vocab > 0 ? n_vocab : static_cast<int32_t>(tokens.size()); }
};

class PairError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct PairInfo {
    // Ids both models can embed and emit: [0, n_vocab_common). Strategies sample only from these.
    int32_t n_vocab_common = 0;
};

// True for a token that is only padding: no text, GGUF type "unused" (5), or a placeholder name such as
// "[PAD151936]", "<|PAD_TOKEN|>", "<pad>", "<unused12>", "<|reserved_special_token_7|>".
bool is_padding_token(const VocabInfo& v, int32_t id);

// Throws PairError unless: same tokenizer model and pre-tokenizer; same BOS, EOS and EOT ids; identical token
// text for every id below the smaller token count; and every id of the larger vocabulary beyond that (text
// entries and extra output rows) is padding, which no strategy ever samples. The message names the first
// difference (for tokens: the id and both texts, escaped).
PairInfo check_pair(const VocabInfo& small, const VocabInfo& large);

// Token text with control characters and non-printable bytes escaped ("\n", "\x01"), quoted.
std::string quote_token(const std::string& text);

}  // namespace ead::decode
