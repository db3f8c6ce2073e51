#include "decode/sequence.h"

namespace ead::decode {

Sequence::~Sequence() = default;

std::string_view model_name(ModelId m) {
    return m == ModelId::kSmall ? "small" : "large";
}

std::string prompt_overflow(int64_t n_prompt, int32_t n_ctx) {
    if (n_prompt < n_ctx) return {};
    return "the prompt has " + std::to_string(n_prompt) + " tokens but the context length is " +
           std::to_string(n_ctx) + " tokens (at least one must be left to generate)";
}

}  // namespace ead::decode
