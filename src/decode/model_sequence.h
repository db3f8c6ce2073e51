// The Sequence a strategy drives, over a real model::Context; and loading a model pair from GGUF files.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "decode/pair.h"
#include "decode/sequence.h"
#include "model/context.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace ead::decode {

// Borrows the context, which must outlive it.
class ModelSequence : public Sequence {
  public:
    explicit ModelSequence(model::Context& ctx) : ctx_(&ctx) {}

    int32_t n_vocab() const override { return ctx_->n_vocab(); }
    int32_t n_ctx() const override { return ctx_->n_ctx(); }
    int32_t n_past() const override { return ctx_->n_past(); }
    const float* eval(const int32_t* tokens, int32_t n, bool all_logits) override {
        return ctx_->eval(tokens, n, all_logits);
    }
    void truncate(int32_t n_past) override { ctx_->truncate(n_past); }
    double forward_flops(int32_t n_tokens, int32_t n_past) const override {
        return ctx_->model().flops(n_tokens, n_past);
    }
    int64_t n_params() const override { return ctx_->model().n_params(); }

    model::Context& context() { return *ctx_; }

  private:
    model::Context* ctx_;
};

// The pair check's view of a tokenizer; n_vocab_rows: the model's output rows (0: the tokenizer's count).
VocabInfo vocab_info(const tokenizer::Tokenizer& tok, int32_t n_vocab_rows = 0);

// One loaded model with its tokenizer, context and Sequence.
struct LoadedModel {
    std::string path;
    std::shared_ptr<const model::Model> model;
    std::optional<tokenizer::Tokenizer> tokenizer;
    std::unique_ptr<model::Context> context;
    std::unique_ptr<ModelSequence> sequence;

    // Loads `path` (throws gguf::Error / tokenizer::Error naming the file or key).
    static LoadedModel load(const std::string& path, const model::ContextOptions& context_options);
};

struct ModelPair {
    LoadedModel small;
    std::optional<LoadedModel> large;  // absent when no large model was given
    PairInfo info;                     // n_vocab_common: both models' (the small one's alone without a pair)

    Sequence* small_sequence() { return small.sequence.get(); }
    Sequence* large_sequence() { return large ? large->sequence.get() : nullptr; }
};

// Loads the small model and, when large_path is not empty, the large one, and checks that they share a
// tokenizer (check_pair; throws PairError naming both files and the first difference).
ModelPair load_pair(const std::string& small_path, const std::string& large_path,
                    const model::ContextOptions& context_options);

}  // namespace ead::decode
