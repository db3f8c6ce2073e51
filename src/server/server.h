// `ead serve`: the OpenAI-compatible HTTP front end (cpp-httplib), independent of how text is generated (Backend).
//
//   POST /v1/chat/completions, POST /v1/completions   OpenAI schema (schema.h); "stream": true answers with
//                                                     server-sent events ending in "data: [DONE]"
//   GET  /v1/models, GET /health, GET /metrics        (metrics.h: Prometheus text)
//   POST /tokenize   {"content": "...", "add_special": false, "parse_special": false} -> {"tokens": [...]}
//   POST /detokenize {"tokens": [...]} -> {"content": "..."}
//
// Errors: every 4xx/5xx carries {"error": {"message", "type", "param", "code"}}. 400: malformed JSON, wrong types,
// out-of-range values, bad messages, a prompt or max_tokens beyond the context; 413: body over max_body_bytes,
// or over cpp-httplib's 8 KiB cap on bodies sent as application/x-www-form-urlencoded (curl -d without a
// content type; the message says to send application/json); 503: slots and queue full, or shutting down.
//
// Concurrency: n_slots requests generate at once (one per backend slot); up to max_queue more wait in FIFO
// order; beyond that 503. A streaming request whose client disconnects stops generating at the next token.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "decode/params.h"
#include "server/backend.h"
#include "server/metrics.h"
#include "server/slot_pool.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ead::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                    // 0: any free port (bind() returns it)
    int max_queue = 16;                 // requests waiting for a slot beyond the busy ones
    size_t max_body_bytes = 1u << 20;   // larger bodies get 413
    int max_tokens_limit = 0;           // largest accepted max_tokens; 0: the context length
    int http_threads = 0;               // 0: slots + queue + 8
    std::string model_alias;            // model id reported; "": the backend's
    decode::DecodeParams defaults;      // knobs of every request before its overrides
};

class HttpServer {
public:
    HttpServer(Backend& backend, ServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds the listening socket; returns the port. Throws std::runtime_error when it cannot.
    int bind();
    // Serves until stop_accepting(); call after bind(). Returns when the listener and its workers are done.
    void serve();

    // Graceful shutdown, step 1: new completions get 503, the listener closes; in-flight requests continue.
    void stop_accepting();
    // Step 2 (after a bounded wait): in-flight generations stop at their next token.
    void cancel_all() { cancel_all_ = true; }
    // Completion requests admitted (generating or queued).
    int in_flight() const { return pool_.admitted(); }

    const Metrics& metrics() const { return metrics_; }
    const ServerOptions& options() const { return options_; }

private:
    void route(const std::string& name, const httplib::Request& req, httplib::Response& res);
    void handle_completion(const httplib::Request& req, httplib::Response& res, Endpoint endpoint);
    void handle_tokenize(const httplib::Request& req, httplib::Response& res);
    void handle_detokenize(const httplib::Request& req, httplib::Response& res);
    void handle_models(httplib::Response& res);
    void handle_health(httplib::Response& res);
    std::string model_id() const;
    std::string next_id(Endpoint endpoint);

    Backend& backend_;
    ServerOptions options_;
    BackendInfo info_;
    SlotPool pool_;
    Metrics metrics_;
    std::unique_ptr<httplib::Server> http_;
    std::atomic<bool> draining_{false};
    std::atomic<bool> cancel_all_{false};
    std::atomic<bool> serving_{false};
    std::atomic<bool> serve_done_{false};
    std::atomic<uint64_t> id_counter_{0};
};

}  // namespace ead::server
