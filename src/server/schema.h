// The OpenAI request schema: JSON body -> validated CompletionRequest, and the response / chunk shapes.
//
// Request fields (OpenAI): model, messages (chat) or prompt (completions: a string, an array of one string or an
// array of token ids), max_tokens (chat also max_completion_tokens), temperature [0, 2], top_p [0, 1], seed,
// presence_penalty / frequency_penalty [-2, 2], stop (a string or up to 4), stream, stream_options, n (1 only).
// Unknown top-level fields are ignored, as OpenAI clients send extras. EAD knobs go in an `ead` object whose keys
// are the declared knobs of decode/params.h (strategy, tau, window, min_dwell, draft_max, ...); they override the
// server defaults and are validated by decode::apply_json. `threads` and `n_predict` are server-side only.
//
// Every problem raises ApiError(400) naming the field ("messages[2].role", "ead.tau").
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "decode/stats.h"
#include "server/backend.h"

namespace ead::server {

inline constexpr size_t kMaxStopStrings = 4;

CompletionRequest parse_completion_request(const std::string& body, Endpoint endpoint,
                                           const decode::DecodeParams& defaults);

// Parses a body that must be a JSON object; ApiError(400, code "invalid_json") otherwise.
nlohmann::json parse_json_object(const std::string& body);

// The `ead` object of a response: the request's statistics (decode::to_json(DecodeStats)), the effective
// parameters, and the server's timings (queue wait, time to first token, request latency; seconds).
struct ServerTimings {
    double queue_s = 0.0;
    double ttft_s = 0.0;  // time to the first generated token (from the request's arrival)
    double total_s = 0.0;
};
nlohmann::ordered_json ead_json(const Completion& c, const decode::DecodeParams& params, const ServerTimings& t);

nlohmann::ordered_json usage_json(const Completion& c);

// Non-streaming response bodies.
nlohmann::ordered_json completion_response(const CompletionRequest& req, const std::string& id, int64_t created,
                                           const std::string& model, const Completion& c,
                                           const ServerTimings& t);

// Streaming chunks: the first (chat: role only), one per Chunk (carrying "ead": {"model", "tokens"}), the final
// (finish_reason, usage, the statistics).
nlohmann::ordered_json first_chunk(const CompletionRequest& req, const std::string& id, int64_t created,
                                   const std::string& model);
nlohmann::ordered_json text_chunk(const CompletionRequest& req, const std::string& id, int64_t created,
                                  const std::string& model, const Chunk& chunk);
nlohmann::ordered_json final_chunk(const CompletionRequest& req, const std::string& id, int64_t created,
                                   const std::string& model, const Completion& c, const ServerTimings& t);

}  // namespace ead::server
