// The generation backend behind the HTTP layer: the server (server.h) parses and validates requests, queues them
// onto slots and writes responses; a Backend turns one validated request into text on one slot.
//
// ModelBackend (model_backend.h) runs a real model pair through the decode stage's strategies; the tests also
// use a scripted fake, so the HTTP, schema, queue and metrics layer is tested without models.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "decode/params.h"
#include "decode/sequence.h"
#include "decode/stats.h"

namespace ead::server {

enum class Endpoint : uint8_t { kChat, kCompletion };

struct Message {
    std::string role;  // "system" | "user" | "assistant"
    std::string content;
};

// One validated request (schema.h builds it from the JSON body).
struct CompletionRequest {
    Endpoint endpoint = Endpoint::kChat;
    std::string model;                  // as requested ("" when absent); informational
    std::vector<Message> messages;      // kChat
    std::string prompt;                 // kCompletion, text form
    std::vector<int32_t> prompt_ids;    // kCompletion, token form (non-empty: used instead of `prompt`)
    std::vector<std::string> stop;      // stop strings (not included in the output)
    bool stream = false;
    int32_t max_tokens = -1;            // -1: not given (the server's n_predict, capped by the context)
    decode::DecodeParams params;        // effective knobs: server defaults, then the request's overrides

    std::vector<int32_t> prompt_tokens;  // filled by the server (Backend::prompt_tokens) before queueing
};

// Text produced since the previous chunk, and which model produced the tokens behind it.
struct Chunk {
    std::string text;
    decode::ModelId model = decode::ModelId::kSmall;
    int32_t n_tokens = 0;
};

// Return false to stop generation (the client went away or the server is shutting down).
using ChunkFn = std::function<bool(const Chunk&)>;

struct Completion {
    std::string text;
    std::string finish_reason;  // "stop" (end of generation or a stop string), "length", "cancelled"
    int32_t prompt_tokens = 0;
    int32_t completion_tokens = 0;
    decode::DecodeStats stats;
};

struct BackendInfo {
    std::string model_id;                 // the name /v1/models lists and responses carry
    std::vector<std::string> model_files;  // small, then large (when loaded)
    bool has_large = false;
    int32_t n_ctx = 0;                     // context length of every slot (tokens)
    int32_t n_vocab = 0;
};

class Backend {
public:
    virtual ~Backend();

    virtual BackendInfo info() const = 0;
    virtual int n_slots() const = 0;

    // llama.cpp's /tokenize and /detokenize. detokenize throws ApiError(400) for an id outside the vocabulary.
    virtual std::vector<int32_t> tokenize(const std::string& text, bool add_special, bool parse_special) const = 0;
    virtual std::string detokenize(const std::vector<int32_t>& ids) const = 0;

    // The prompt of a request (chat template or raw text). Throws ApiError(400) naming the field on a bad
    // request (unknown role, token id out of range, empty prompt).
    virtual std::vector<int32_t> prompt_tokens(const CompletionRequest& req) const = 0;

    // Checks what depends on the loaded models (e.g. a strategy that needs the large model). Throws ApiError.
    virtual void check(const CompletionRequest& req) const = 0;

    // Generates on `slot` (0 <= slot < n_slots(); the caller guarantees one request per slot at a time).
    // req.prompt_tokens is set and fits the context; req.params.n_predict is the token limit.
    virtual Completion complete(int slot, const CompletionRequest& req, const ChunkFn& on_chunk) = 0;
};

}  // namespace ead::server
