#include "server/server.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "decode/sequence.h"
#include "server/api_error.h"
#include "server/schema.h"

namespace ead::server {

Backend::~Backend() = default;

namespace {

using nlohmann::json;
using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void send_json(httplib::Response& res, int status, const ordered_json& j) {
    res.status = status;
    res.set_content(dump_json(j), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) { send_json(res, e.status(), error_json(e)); }

int64_t unix_time() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string sse(const ordered_json& j) { return "data: " + dump_json(j) + "\n\n"; }

const char* kKnownRoutes[] = {"/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics",
                              "/tokenize", "/detokenize"};

}  // namespace

HttpServer::HttpServer(Backend& backend, ServerOptions options)
    : backend_(backend),
      options_(std::move(options)),
      info_(backend.info()),
      pool_(backend.n_slots(), options_.max_queue),
      http_(std::make_unique<httplib::Server>()) {
    const int threads = options_.http_threads > 0 ? options_.http_threads : pool_.n_slots() + pool_.max_queue() + 8;
    http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    http_->set_payload_max_length(options_.max_body_bytes);
    http_->set_keep_alive_timeout(2);
    http_->set_read_timeout(30);
    http_->set_write_timeout(30);

    auto post = [this](const std::string& path) {
        http_->Post(path, [this, path](const httplib::Request& q, httplib::Response& r) { route(path, q, r); });
    };
    auto get = [this](const std::string& path) {
        http_->Get(path, [this, path](const httplib::Request& q, httplib::Response& r) { route(path, q, r); });
    };
    post("/v1/chat/completions");
    post("/v1/completions");
    post("/chat/completions");
    post("/completions");
    post("/tokenize");
    post("/detokenize");
    get("/v1/models");
    get("/models");
    get("/health");
    get("/metrics");

    // Errors httplib produces itself (unknown route 404, body too large 413, unreadable request 400) arrive
    // with an empty body; give them the JSON error shape and count them.
    http_->set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& q, httplib::Response& r) -> httplib::Server::HandlerResponse {
        if (!r.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string message;
        switch (r.status) {
            case 404: message = "no route for " + q.method + " " + q.path; break;
            case 413: {
                // httplib parses a form body (curl -d without a content type) itself and refuses it past its
                // own cap, before any handler and whatever max_body_bytes allows.
                const std::string length = q.get_header_value("Content-Length");
                const bool form =
                    q.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0;
                if (form && std::strtoull(length.c_str(), nullptr, 10) <= options_.max_body_bytes) {
                    message = "a request body sent as application/x-www-form-urlencoded is limited to " +
                              std::to_string(CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH) +
                              " bytes by the HTTP library: send the JSON with Content-Type: application/json";
                } else {
                    message = "request body is larger than the limit of " +
                              std::to_string(options_.max_body_bytes) + " bytes";
                }
                break;
            }
            case 405: message = "method " + q.method + " not allowed on " + q.path; break;
            default: message = "HTTP " + std::to_string(r.status) + " for " + q.method + " " + q.path;
        }
        send_json(r, r.status, error_json(r.status, message, "", r.status == 413 ? "body_too_large" : ""));
        std::string name = "other";
        for (const char* k : kKnownRoutes)
            if (q.path == k) name = k;
        metrics_.count_request(name, r.status);
        return httplib::Server::HandlerResponse::Handled;
    }));
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
    int port = options_.port;
    if (port == 0) {
        port = http_->bind_to_any_port(options_.host);
        if (port < 0) throw std::runtime_error("cannot bind " + options_.host + " to a free port");
    } else if (!http_->bind_to_port(options_.host, port)) {
        throw std::runtime_error("cannot bind " + options_.host + ":" + std::to_string(port) +
                                 " (in use or not permitted)");
    }
    options_.port = port;
    return port;
}

void HttpServer::serve() {
    serving_ = true;
    if (!draining_) http_->listen_after_bind();
    serve_done_ = true;
}

void HttpServer::stop_accepting() {
    draining_ = true;
    // httplib's stop() does nothing before the listener runs: wait for it (or for serve() to have given up).
    while (serving_ && !serve_done_ && !http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    http_->stop();
}

std::string HttpServer::model_id() const {
    return options_.model_alias.empty() ? info_.model_id : options_.model_alias;
}

std::string HttpServer::next_id(Endpoint endpoint) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%llu", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(id_counter_++));
    return std::string(endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-") + buf;
}

void HttpServer::route(const std::string& name, const httplib::Request& req, httplib::Response& res) {
    try {
        if (name == "/v1/chat/completions" || name == "/chat/completions") {
            handle_completion(req, res, Endpoint::kChat);
        } else if (name == "/v1/completions" || name == "/completions") {
            handle_completion(req, res, Endpoint::kCompletion);
        } else if (name == "/tokenize") {
            handle_tokenize(req, res);
        } else if (name == "/detokenize") {
            handle_detokenize(req, res);
        } else if (name == "/v1/models" || name == "/models") {
            handle_models(res);
        } else if (name == "/health") {
            handle_health(res);
        } else if (name == "/metrics") {
            res.set_content(metrics_.render(pool_.queued(), pool_.busy(), pool_.n_slots()),
                            "text/plain; version=0.0.4");
        }
    } catch (const ApiError& e) {
        send_error(res, e);
    } catch (const std::exception& e) {
        send_error(res, ApiError(500, std::string("internal error: ") + e.what()));
    }
    metrics_.count_request(name, res.status);
}

void HttpServer::handle_models(httplib::Response& res) {
    ordered_json m;
    m["id"] = model_id();
    m["object"] = "model";
    m["created"] = unix_time();
    m["owned_by"] = "ead";
    m["ead"] = {{"files", info_.model_files}, {"has_large", info_.has_large}, {"n_ctx", info_.n_ctx},
                {"n_vocab", info_.n_vocab}, {"slots", pool_.n_slots()}, {"defaults", decode::to_json(options_.defaults)}};
    send_json(res, 200, {{"object", "list"}, {"data", ordered_json::array({m})}});
}

void HttpServer::handle_health(httplib::Response& res) {
    ordered_json j;
    j["status"] = draining_ ? "shutting_down" : "ok";
    j["slots_total"] = pool_.n_slots();
    j["slots_busy"] = pool_.busy();
    j["queue_length"] = pool_.queued();
    send_json(res, draining_ ? 503 : 200, j);
}

void HttpServer::handle_tokenize(const httplib::Request& req, httplib::Response& res) {
    const json j = parse_json_object(req.body);
    auto it = j.find("content");
    if (it == j.end()) throw ApiError(400, "'content': required", "content");
    if (!it->is_string()) throw ApiError(400, "'content': expected a string", "content");
    bool add_special = false, parse_special = false;
    for (auto [key, dst] : {std::pair{"add_special", &add_special}, std::pair{"parse_special", &parse_special}}) {
        if (auto f = j.find(key); f != j.end() && !f->is_null()) {
            if (!f->is_boolean()) throw ApiError(400, std::string("'") + key + "': expected a boolean", key);
            *dst = f->get<bool>();
        }
    }
    send_json(res, 200, {{"tokens", backend_.tokenize(it->get<std::string>(), add_special, parse_special)}});
}

void HttpServer::handle_detokenize(const httplib::Request& req, httplib::Response& res) {
    const json j = parse_json_object(req.body);
    auto it = j.find("tokens");
    if (it == j.end()) throw ApiError(400, "'tokens': required", "tokens");
    if (!it->is_array()) throw ApiError(400, "'tokens': expected an array of token ids", "tokens");
    std::vector<int32_t> ids;
    for (size_t i = 0; i < it->size(); ++i) {
        const json& v = (*it)[i];
        const std::string p = "tokens[" + std::to_string(i) + "]";
        if (!v.is_number_integer()) throw ApiError(400, "'" + p + "': expected an integer token id", p);
        const int64_t id = v.get<int64_t>();
        if (id < 0 || id >= info_.n_vocab) {
            throw ApiError(400, "'" + p + "': token id " + std::to_string(id) + " is outside [0, " +
                                    std::to_string(info_.n_vocab) + ")", p);
        }
        ids.push_back(static_cast<int32_t>(id));
    }
    send_json(res, 200, {{"content", backend_.detokenize(ids)}});
}

namespace {

// Per-request generation bookkeeping shared by the streaming and non-streaming paths.
struct Generation {
    CompletionRequest req;
    std::unique_ptr<Ticket> ticket;
    std::string id;
    int64_t created = 0;
    Clock::time_point t0;
    double queue_s = 0.0;
    double ttft_s = -1.0;
};

}  // namespace

void HttpServer::handle_completion(const httplib::Request& http_req, httplib::Response& res, Endpoint endpoint) {
    auto g = std::make_shared<Generation>();
    g->t0 = Clock::now();
    g->created = unix_time();
    g->id = next_id(endpoint);
    g->req = parse_completion_request(http_req.body, endpoint, options_.defaults);
    CompletionRequest& req = g->req;
    backend_.check(req);
    req.prompt_tokens = backend_.prompt_tokens(req);

    // Context length and max_tokens.
    const int32_t n_ctx = info_.n_ctx;
    const int32_t n_prompt = static_cast<int32_t>(req.prompt_tokens.size());
    const char* prompt_field = endpoint == Endpoint::kChat ? "messages" : "prompt";
    if (n_prompt == 0) throw ApiError(400, std::string("'") + prompt_field + "': the prompt is empty", prompt_field);
    if (const std::string e = decode::prompt_overflow(n_prompt, n_ctx); !e.empty())
        throw ApiError(400, e, prompt_field, "context_length_exceeded");
    const int32_t limit = options_.max_tokens_limit > 0 ? std::min(options_.max_tokens_limit, n_ctx) : n_ctx;
    if (req.max_tokens > limit) {
        throw ApiError(400, "'max_tokens': must be at most " + std::to_string(limit) + ", got " +
                                std::to_string(req.max_tokens), "max_tokens");
    }
    if (req.max_tokens > 0 && n_prompt + req.max_tokens > n_ctx) {
        throw ApiError(400,
                       "this model's maximum context length is " + std::to_string(n_ctx) +
                           " tokens, but " + std::to_string(n_prompt + req.max_tokens) + " were requested (" +
                           std::to_string(n_prompt) + " in the prompt, " + std::to_string(req.max_tokens) +
                           " for the completion); reduce the prompt or max_tokens",
                       "max_tokens", "context_length_exceeded");
    }
    const int32_t room = n_ctx - n_prompt;
    const int32_t n_default = options_.defaults.n_predict < 0 ? room : std::min(options_.defaults.n_predict, room);
    req.params.n_predict = req.max_tokens > 0 ? req.max_tokens : std::max(1, std::min(n_default, limit));

    if (draining_) throw ApiError(503, "the server is shutting down", "", "shutting_down");
    try {
        g->ticket = pool_.admit();
    } catch (const QueueFull& e) {
        throw ApiError(503, e.what(), "", "server_busy");
    }

    auto finish_metrics = [this](Generation& gen, const Completion& c) {
        metrics_.count_generation(c.stats, c.finish_reason == "cancelled");
        metrics_.observe_latency(seconds_since(gen.t0));
        if (gen.ttft_s >= 0) metrics_.observe_ttft(gen.ttft_s);
    };

    if (!req.stream) {
        const int slot = g->ticket->wait([this] { return !cancel_all_.load(); });
        if (slot < 0) throw ApiError(503, "the server is shutting down", "", "shutting_down");
        g->queue_s = seconds_since(g->t0);
        Completion c = backend_.complete(slot, req, [&](const Chunk& ch) {
            if (ch.n_tokens > 0 && g->ttft_s < 0) g->ttft_s = seconds_since(g->t0);
            return !cancel_all_.load();
        });
        g->ticket.reset();
        finish_metrics(*g, c);
        const ServerTimings t{g->queue_s, std::max(0.0, g->ttft_s), seconds_since(g->t0)};
        send_json(res, 200, completion_response(req, g->id, g->created, model_id(), c, t));
        return;
    }

    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    const std::string model = model_id();
    res.set_chunked_content_provider("text/event-stream", [this, g, model, finish_metrics](
                                                              size_t, httplib::DataSink& sink) {
        bool client_ok = true;
        auto write = [&](const std::string& s) {
            if (client_ok && !sink.write(s.data(), s.size())) client_ok = false;
            return client_ok;
        };
        // While queued, an SSE comment every second notices a client that went away.
        int polls = 0;
        const int slot = g->ticket->wait([&] {
            if (cancel_all_) return false;
            if (++polls % 20 == 0) return write(": queued\n\n");
            return true;
        });
        if (slot < 0) {
            if (client_ok) write(sse(error_json(503, "the server is shutting down", "", "shutting_down")));
            return false;
        }
        g->queue_s = seconds_since(g->t0);
        const CompletionRequest& req = g->req;
        write(sse(first_chunk(req, g->id, g->created, model)));

        int32_t pending_tokens = 0;
        Completion c;
        try {
            c = backend_.complete(slot, req, [&](const Chunk& ch) {
                if (ch.n_tokens > 0 && g->ttft_s < 0) g->ttft_s = seconds_since(g->t0);
                pending_tokens += ch.n_tokens;
                if (!ch.text.empty()) {
                    Chunk out = ch;
                    out.n_tokens = pending_tokens;
                    pending_tokens = 0;
                    write(sse(text_chunk(req, g->id, g->created, model, out)));
                }
                return client_ok && !cancel_all_;
            });
        } catch (const std::exception& e) {
            g->ticket.reset();
            write(sse(error_json(500, std::string("generation failed: ") + e.what())));
            write("data: [DONE]\n\n");
            if (client_ok) sink.done();
            return client_ok;
        }
        g->ticket.reset();
        if (!client_ok) c.finish_reason = "cancelled";
        finish_metrics(*g, c);
        const ServerTimings t{g->queue_s, std::max(0.0, g->ttft_s), seconds_since(g->t0)};
        write(sse(final_chunk(req, g->id, g->created, model, c, t)));
        write("data: [DONE]\n\n");
        if (client_ok) sink.done();
        return client_ok;
    });
}

}  // namespace ead::server
