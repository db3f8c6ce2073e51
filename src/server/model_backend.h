// The real generation backend: one Model per file (weights shared by every slot), per slot a KV cache (Context)
// for each model, the small model's tokenizer and chat template, and the decode stage's strategies.
//
// Uses decode::ModelSequence and decode::vocab_info (decode/model_sequence.h); decode::load_pair is not used
// because a server needs one Context per slot and model, with the weights loaded once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/backend.h"

namespace ead::server {

struct ModelBackendOptions {
    std::string small_path;
    std::string large_path;      // "": small model only
    int n_slots = 1;
    int n_ctx = 0;               // per slot; 0: the models' training context, capped at 4096
    int threads = 0;             // per slot; 0: hardware threads / n_slots (at least 1)
    std::string chat_template;   // chatml | llama3 | gemma3; "": detect from the file (chatml when unknown)
    bool verbose = false;
};

class ModelBackend : public Backend {
public:
    // Loads the models and checks the pair (decode::check_pair). Throws with a message naming the file.
    explicit ModelBackend(const ModelBackendOptions& options);
    ~ModelBackend() override;

    BackendInfo info() const override;
    int n_slots() const override;
    std::vector<int32_t> tokenize(const std::string& text, bool add_special, bool parse_special) const override;
    std::string detokenize(const std::vector<int32_t>& ids) const override;
    std::vector<int32_t> prompt_tokens(const CompletionRequest& req) const override;
    void check(const CompletionRequest& req) const override;
    Completion complete(int slot, const CompletionRequest& req, const ChunkFn& on_chunk) override;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace ead::server
