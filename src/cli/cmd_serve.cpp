// `ead serve -m SMALL [-M LARGE] [--host H] [--port P] [--slots N] [--queue N] [decoding knobs...]`:
// the OpenAI-compatible HTTP server (src/server/). Every decoding knob of decode/params.h is a flag here too
// (its value is the server default; requests override it in their "ead" object); environment variables
// (EAD_TAU ...) apply first, flags over them.
//
// SIGTERM / SIGINT: stop accepting, let in-flight requests finish (at most --shutdown-timeout seconds, then
// they are cancelled at their next token), exit 0.
#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "decode/params.h"
#include "server/model_backend.h"
#include "server/server.h"

namespace ead::cli {
namespace {

struct ServeOptions {
    server::ModelBackendOptions backend;
    server::ServerOptions http;
    double shutdown_timeout_s = 30.0;
    std::map<std::string, std::string> knob_text;  // declared knob -> flag value
    std::map<std::string, CLI::Option*> knob_opts;
};

int run_serve(ServeOptions& o) {
    // Knobs: declared defaults, then environment, then flags.
    decode::DecodeParams params;
    if (o.backend.large_path.empty()) params.strategy = "small";
    decode::apply_env(params);
    for (const auto& d : decode::param_decls()) {
        CLI::Option* opt = o.knob_opts.at(std::string(d.name));
        if (opt->count() == 0) continue;
        std::string text = o.knob_text.at(std::string(d.name));
        if (text.empty() && d.type() == decode::ParamType::kBool) text = "true";
        decode::set_param(params, d, text);
    }
    decode::validate(params);
    if (o.backend.large_path.empty() && params.strategy != "small") {
        throw std::invalid_argument("--strategy " + params.strategy + " needs a large model (-M)");
    }
    o.backend.threads = params.threads;
    o.http.defaults = params;

    // Signals are taken by sigwait below; every thread started from here on inherits the mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    server::ModelBackend backend(o.backend);
    server::HttpServer http(backend, o.http);
    const int port = http.bind();
    const server::BackendInfo info = backend.info();
    std::fprintf(stderr, "serve: model %s, %d slot(s), context %d, queue %d\n", info.model_id.c_str(),
                 backend.n_slots(), info.n_ctx, o.http.max_queue);
    std::fprintf(stderr, "serve: default parameters %s\n", decode::to_json(params).dump().c_str());
    std::printf("listening on http://%s:%d\n", o.http.host.c_str(), port);
    std::fflush(stdout);

    std::promise<void> served;
    std::future<void> served_f = served.get_future();
    std::thread listener([&] {
        http.serve();
        served.set_value();
        kill(getpid(), SIGTERM);  // wakes sigwait if the listener ended on its own
    });

    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr, "serve: signal %d: no new requests; waiting up to %.0f s for %d in flight\n", sig,
                 o.shutdown_timeout_s, http.in_flight());
    http.stop_accepting();
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::duration<double>(o.shutdown_timeout_s);
    while (http.in_flight() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (http.in_flight() > 0) {
        std::fprintf(stderr, "serve: cancelling %d request(s)\n", http.in_flight());
        http.cancel_all();
    }
    if (served_f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        std::fprintf(stderr, "serve: workers did not stop in time; exiting\n");
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(0);
    }
    listener.join();
    std::fprintf(stderr, "serve: stopped\n");
    return 0;
}

const bool kRegistered = register_command(
    {"serve", "OpenAI-compatible HTTP server with entropy adaptive decoding", [](CLI::App& app) -> Runner {
         auto o = std::make_shared<ServeOptions>();
         app.add_option("-m,--model", o->backend.small_path, "small model (GGUF)")->required();
         app.add_option("-M,--large-model", o->backend.large_path, "large model of the same family (GGUF)");
         app.add_option("--host", o->http.host, "address to listen on")->capture_default_str();
         app.add_option("--port", o->http.port, "port (0: any free port, printed)")->capture_default_str();
         app.add_option("--slots", o->backend.n_slots, "requests generating at once (a KV cache per model each)")
             ->capture_default_str()
             ->check(CLI::Range(1, 256));
         app.add_option("--queue", o->http.max_queue, "requests waiting for a slot before 503")
             ->capture_default_str()
             ->check(CLI::Range(0, 65536));
         app.add_option("-c,--ctx-size", o->backend.n_ctx, "context length per slot (0: training, max 4096)")
             ->capture_default_str();
         app.add_option("--max-body", o->http.max_body_bytes, "largest request body in bytes (413 beyond)")
             ->capture_default_str();
         app.add_option("--max-tokens-limit", o->http.max_tokens_limit, "largest max_tokens (0: context length)")
             ->capture_default_str();
         app.add_option("--chat-template", o->backend.chat_template, "chatml, llama3 or gemma3 (default: detect)");
         app.add_option("--alias", o->http.model_alias, "model id reported by the API");
         app.add_option("--shutdown-timeout", o->shutdown_timeout_s, "seconds in-flight requests get at SIGTERM")
             ->capture_default_str();
         app.add_flag("-v,--verbose", o->backend.verbose, "print model summaries");
         const decode::DecodeParams defaults;
         for (const auto& d : decode::param_decls()) {
             const std::string name(d.name);
             std::string help = std::string(d.help) + " [" + std::string(d.env) + "; default " +
                                decode::param_text(defaults, d) + "]";
             CLI::Option* opt =
                 app.add_option(d.cli_names(), o->knob_text[name], help)->group("Decoding (server defaults)");
             if (d.type() == decode::ParamType::kBool) opt->expected(0, 1);
             o->knob_opts[name] = opt;
         }
         return [o] { return run_serve(*o); };
     }});

}  // namespace
}  // namespace ead::cli
