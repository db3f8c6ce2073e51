// Decoding strategies: one interface, five implementations, one statistics struct.
//
//   small / large  one model alone
//   ead            entropy adaptive decoding (paper sections 2-5; switch_rule.h)
//   spec           speculative decoding: the small model drafts, the large one verifies (lossless)
//   ead-spec       ead whose large-model tokens are produced by speculative decoding with the small model as
//                  draft; greedy output is identical to ead's, with fewer large-model forward passes
//
// Context hand-off (paper section 5, [choice]): both models condition on the same full sequence (prompt +
// every generated token). Each keeps its own KV cache; when a model becomes active it first evaluates, in one
// batch, the tokens it has not seen ("catch-up"), then decodes. With lazy_prefill a model not active at the
// start prefills the prompt at its first activation (that batch's prompt part counts as prompt prefill, the
// rest as catch-up).
//
// Entropy: every trace entry carries the entropy (bits) of the raw logits of the model that produced the
// token, at that position. In ead-spec the large model's tokens take their entropy from the verification
// batch's rows — exactly the logits the large model computes in ead — so the rule sees the same entropies and
// decides the same. A switch to the small model in the middle of a verified run discards the rest of that
// run.
//
// Vocabulary: entropy is over the producing model's full output rows; tokens are drawn only from ids below
// n_vocab_common (min of the models' rows, or PairInfo::n_vocab_common), so padding rows are never emitted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "decode/params.h"
#include "decode/sequence.h"
#include "decode/stats.h"

namespace ead::decode {

struct TokenEvent {
    int32_t index;  // among the generated tokens, 0-based
    const TokenTrace& token;
};

// Called for each generated token as soon as it is chosen (before the next forward pass). Return false to
// stop generation after this token (e.g. a stop string matched); the token is kept.
using OnToken = std::function<bool(const TokenEvent&)>;

struct RunOptions {
    std::vector<int32_t> eog_ids;  // generation ends after emitting one of these (the token is kept)
    OnToken on_token;              // optional
    int32_t n_vocab_common = 0;    // 0: min of the sequences' n_vocab
};

struct DecodeResult {
    std::vector<int32_t> tokens;    // generated tokens (no prompt)
    std::vector<TokenTrace> trace;  // one per generated token
    DecodeStats stats;
};

class DecodeStrategy {
  public:
    virtual ~DecodeStrategy();
    virtual Strategy kind() const = 0;
    // Generates after `prompt` (non-empty). The sequences it runs are reset (truncate(0)) first.
    virtual DecodeResult run(std::span<const int32_t> prompt, const RunOptions& options) = 0;
};

// small: `large` may be null; large: `small` may be null; the others need both. Given to small / large, the
// other model is not run, but still bounds the vocabulary drawn from and gives the cost statistics their
// reference. The sequences are borrowed and must outlive the strategy. Throws ParamError for invalid params,
// std::invalid_argument for a missing model.
std::unique_ptr<DecodeStrategy> make_strategy(const DecodeParams& params, Sequence* small, Sequence* large);

// Convenience: make_strategy(params, small, large)->run(prompt, options).
DecodeResult generate(const DecodeParams& params, Sequence* small, Sequence* large,
                      std::span<const int32_t> prompt, const RunOptions& options = {});

}  // namespace ead::decode
