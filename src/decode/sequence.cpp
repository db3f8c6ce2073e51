#include "decode/sequence.h"

namespace ead::decode {

Sequence::~Sequence() = default;

std::string_view model_name(ModelId m) {
    return m == ModelId::kSmall ? "small" : "large";
}

}  // namespace ead::decode
