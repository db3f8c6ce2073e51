// The exception type of the tokenizer stage.
#pragma once

#include <stdexcept>

namespace ead::tokenizer {

// Raised for bad vocabularies (missing or malformed `tokenizer.ggml.*` keys), unknown pre-tokenizers or chat
// templates, and out-of-range token ids; the message names the key, name or id and what was expected.
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace ead::tokenizer
