// `ead serve` end to end: the built binary on a free loopback port with a random-weight model pair written by
// the synthetic writer; requests over HTTP.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "common/test_env.h"
#include "model/synthetic.h"
#include "server_test_util.h"

namespace ead::server {
namespace {

using nlohmann::json;
using test::is_error_body;
using test::parse_sse;
using test::post_json;

struct Pair {
    std::string dir, small, large;
};

// Removes the pair's directory when the test process exits (each ctest test is a process of its own).
struct PairDirCleanup {
    std::string dir;
    ~PairDirCleanup() {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};

const Pair& synthetic_pair() {
    static PairDirCleanup cleanup;
    static const Pair p = [] {
        Pair q;
        q.dir = (std::filesystem::temp_directory_path() / ("ead_server_test_" + std::to_string(getpid()))).string();
        std::filesystem::create_directories(q.dir);
        q.small = q.dir + "/small.gguf";
        q.large = q.dir + "/large.gguf";
        model::SyntheticSpec s;
        s.n_layer = 1;
        s.n_embd = 32;
        s.n_head = 2;
        s.n_head_kv = 1;
        s.n_ff = 64;
        s.n_vocab = 320;
        s.name = "tiny-small";
        model::write_synthetic_model(s, q.small);
        model::SyntheticSpec l = s;
        l.n_layer = 2;
        l.n_embd = 64;
        l.n_head = 4;
        l.n_head_kv = 2;
        l.n_ff = 128;
        l.seed = 2;
        l.name = "tiny-large";
        model::write_synthetic_model(l, q.large);
        cleanup.dir = q.dir;
        return q;
    }();
    return p;
}

class ServeTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        const Pair& p = synthetic_pair();
        server_ = new test::ServerProcess({"-m", p.small, "-M", p.large, "--slots", "2", "--queue", "64", "-c", "256",
                                           "--threads", "1", "--n-predict", "16"},
                                          p.dir + "/serve.log");
    }
    static void TearDownSuite() {}
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static httplib::Client client() {
        if (!server_) throw std::runtime_error("ead serve did not start (see SetUpTestSuite's error)");
        httplib::Client c("127.0.0.1", server_->port());
        c.set_read_timeout(60);
        return c;
    }
    static json chat(const std::string& content, int max_tokens, const json& ead = json::object()) {
        json b = {{"messages", {{{"role", "user"}, {"content", content}}}}, {"max_tokens", max_tokens}};
        if (!ead.empty()) b["ead"] = ead;
        return b;
    }
    static test::ServerProcess* server_;
};
test::ServerProcess* ServeTest::server_ = nullptr;

// Non-streaming response checks shared by several tests.
void expect_well_formed(const json& j, bool chat) {
    ASSERT_TRUE(j.contains("choices")) << j.dump();
    const json& ch = j["choices"][0];
    if (chat) ASSERT_TRUE(ch["message"]["content"].is_string()) << j.dump();
    else ASSERT_TRUE(ch["text"].is_string()) << j.dump();
    const int n = j["usage"]["completion_tokens"];
    EXPECT_EQ(j["ead"]["tokens"]["small"].get<int>() + j["ead"]["tokens"]["large"].get<int>(), n);
    EXPECT_EQ(j["ead"]["n_generated"], n);
    EXPECT_TRUE(ch["finish_reason"] == "stop" || ch["finish_reason"] == "length") << j.dump();
}

TEST_F(ServeTest, ChatNonStreamingAndStreamingAgree) {
    auto c = client();
    auto r = post_json(c, "/v1/chat/completions", chat("Hello there", 12));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    expect_well_formed(j, true);
    EXPECT_EQ(j["usage"]["completion_tokens"], 12);  // random weights rarely emit EOS
    EXPECT_EQ(j["ead"]["effective_params"]["strategy"], "ead");
    EXPECT_EQ(j["ead"]["effective_params"]["temperature"], 0.0);

    json body = chat("Hello there", 12);
    body["stream"] = true;
    auto s = post_json(c, "/v1/chat/completions", body);
    ASSERT_EQ(s->status, 200);
    bool done = false;
    const auto ev = parse_sse(s->body, &done);
    ASSERT_TRUE(done);
    std::string text;
    int tokens = 0;
    for (size_t i = 1; i + 1 < ev.size(); ++i) {
        text += ev[i]["choices"][0]["delta"]["content"].get<std::string>();
        tokens += ev[i]["ead"]["tokens"].get<int>();
        EXPECT_TRUE(ev[i]["ead"]["model"] == "small" || ev[i]["ead"]["model"] == "large");
    }
    // Greedy: the same text and statistics as the non-streaming request.
    EXPECT_EQ(text, j["choices"][0]["message"]["content"].get<std::string>());
    EXPECT_LE(tokens, 12);
    EXPECT_EQ(ev.back()["usage"], j["usage"]);
    EXPECT_EQ(ev.back()["ead"]["tokens"], j["ead"]["tokens"]);
    EXPECT_EQ(ev.back()["ead"]["switches"]["count"], j["ead"]["switches"]["count"]);
}

TEST_F(ServeTest, CompletionsNonStreamingAndStreaming) {
    auto c = client();
    auto r = post_json(c, "/v1/completions", {{"prompt", "once upon a time"}, {"max_tokens", 8}});
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    expect_well_formed(j, false);
    auto s = post_json(c, "/v1/completions", {{"prompt", "once upon a time"}, {"max_tokens", 8}, {"stream", true}});
    ASSERT_EQ(s->status, 200);
    bool done = false;
    const auto ev = parse_sse(s->body, &done);
    ASSERT_TRUE(done);
    std::string text;
    for (const auto& e : ev) text += e["choices"][0]["text"].get<std::string>();
    EXPECT_EQ(text, j["choices"][0]["text"].get<std::string>());
    EXPECT_EQ(ev.back()["choices"][0]["finish_reason"], j["choices"][0]["finish_reason"]);
}

TEST_F(ServeTest, PerRequestOverridesChangeLargeShare) {
    auto c = client();
    auto run = [&](const json& ead) {
        auto r = post_json(c, "/v1/chat/completions", chat("What is 2+2?", 16, ead));
        EXPECT_EQ(r->status, 200) << r->body;
        return json::parse(r->body)["ead"];
    };
    const json never = run({{"tau", 1e300}});
    EXPECT_EQ(never["tokens"]["large"], 0);
    EXPECT_EQ(never["tokens"]["small"], 16);
    EXPECT_EQ(never["effective_params"]["tau"], 1e300);
    const json always = run({{"tau", -1.0}, {"start_large", true}});
    EXPECT_EQ(always["tokens"]["small"], 0);
    EXPECT_EQ(always["tokens"]["large"], 16);
    EXPECT_EQ(always["large_share"], 1.0);
    // Random weights: entropies near log2(320) bits, far above tau = 1, so EAD hands over after the dwell.
    const json ead = run({{"tau", 1.0}, {"min_dwell", 2}, {"window", 2}});
    EXPECT_GT(ead["tokens"]["large"].get<int>(), 0);
    EXPECT_GE(ead["switches"]["count"].get<int>(), 1);
    const json large = run({{"strategy", "large"}});
    EXPECT_EQ(large["tokens"]["large"], 16);
    EXPECT_EQ(large["strategy"], "large");
    // Speculative: lossless, so greedy text equals large-only.
    auto rl = post_json(c, "/v1/completions", {{"prompt", "abc"}, {"max_tokens", 10}, {"ead", {{"strategy", "large"}}}});
    auto rs = post_json(c, "/v1/completions",
                        {{"prompt", "abc"}, {"max_tokens", 10}, {"ead", {{"strategy", "spec"}, {"draft_max", 4}}}});
    ASSERT_EQ(rl->status, 200);
    ASSERT_EQ(rs->status, 200) << rs->body;
    EXPECT_EQ(json::parse(rl->body)["choices"][0]["text"], json::parse(rs->body)["choices"][0]["text"]);
    EXPECT_GT(json::parse(rs->body)["ead"]["spec"]["drafted"].get<int>(), 0);
}

TEST_F(ServeTest, TokenizeDetokenizeModels) {
    auto c = client();
    auto r = post_json(c, "/tokenize", {{"content", "hello world"}});
    ASSERT_EQ(r->status, 200) << r->body;
    const json toks = json::parse(r->body)["tokens"];
    ASSERT_FALSE(toks.empty());
    auto d = post_json(c, "/detokenize", {{"tokens", toks}});
    ASSERT_EQ(d->status, 200) << d->body;
    EXPECT_EQ(json::parse(d->body)["content"], "hello world");
    auto m = c.Get("/v1/models");
    ASSERT_EQ(m->status, 200);
    EXPECT_EQ(json::parse(m->body)["data"][0]["id"], "small+large");
    EXPECT_EQ(json::parse(m->body)["data"][0]["ead"]["n_ctx"], 256);
}

TEST_F(ServeTest, ErrorsFromTheRealBackend) {
    auto c = client();
    auto r = c.Post("/v1/chat/completions", std::string("{\"messages\": [{\"role\": \"user\", \"content\": \"\xc3\x28\"}]}"),
                    "application/json");
    EXPECT_EQ(r->status, 400);
    EXPECT_TRUE(is_error_body(r->body));
    r = post_json(c, "/v1/chat/completions", chat("hi", 250));
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(json::parse(r->body)["error"]["code"], "context_length_exceeded");
    r = post_json(c, "/v1/completions", {{"prompt", {1, 2, 100000}}});
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(json::parse(r->body)["error"]["param"], "prompt[2]");
    r = c.Post("/v1/chat/completions", std::string(2u << 20, ' '), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(is_error_body(r->body));
    EXPECT_EQ(c.Get("/health")->status, 200);
}

TEST_F(ServeTest, ConcurrentClients) {
    const int n_clients = 8;
    const int n_requests = ead::test::quick() ? 3 : 25;
    std::atomic<int> ok{0}, bad{0};
    std::vector<std::string> failures;
    std::mutex mu;
    std::vector<std::thread> threads;
    for (int t = 0; t < n_clients; ++t) {
        threads.emplace_back([&, t] {
            auto c = client();
            for (int i = 0; i < n_requests; ++i) {
                const bool stream = (i + t) % 2 == 0;
                const bool is_chat = (i + t) % 3 != 0;
                json body = is_chat ? chat("client " + std::to_string(t) + " request " + std::to_string(i), 6)
                                    : json{{"prompt", "p" + std::to_string(i)}, {"max_tokens", 6}};
                body["stream"] = stream;
                auto r = post_json(c, is_chat ? "/v1/chat/completions" : "/v1/completions", body);
                bool good = r && r->status == 200;
                if (good) {
                    json last;
                    if (stream) {
                        bool done = false;
                        auto ev = parse_sse(r->body, &done);
                        good = done && ev.size() >= 2;
                        if (good) last = ev.back();
                    } else {
                        last = json::parse(r->body, nullptr, false);
                        good = !last.is_discarded() && last["choices"].size() == 1;
                    }
                    // Random weights may emit EOS early ("stop"); otherwise exactly max_tokens ("length").
                    const int n = good ? last["usage"]["completion_tokens"].get<int>() : -1;
                    const json& fr = last["choices"][0]["finish_reason"];
                    good = good && n >= 1 && n <= 6 && (fr == "length") == (n == 6) && (fr == "stop" || fr == "length") &&
                           last["ead"]["tokens"]["small"].get<int>() + last["ead"]["tokens"]["large"].get<int>() == n;
                }
                if (good) {
                    ++ok;
                } else {
                    ++bad;
                    std::lock_guard lock(mu);
                    failures.push_back(r ? std::to_string(r->status) + " " + r->body.substr(0, 300)
                                         : "transport error " + httplib::to_string(r.error()));
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, n_clients * n_requests);
    EXPECT_EQ(bad, 0) << (failures.empty() ? "" : failures.front());
}

TEST_F(ServeTest, MetricsAfterRequests) {
    auto c = client();
    const std::string before = c.Get("/metrics")->body;
    auto r = post_json(c, "/v1/chat/completions", chat("metrics", 5, {{"tau", -1.0}, {"start_large", true}}));
    ASSERT_EQ(r->status, 200);
    const std::string after = c.Get("/metrics")->body;
    const std::string ok = R"(ead_requests_total{endpoint="/v1/chat/completions",status="200"})";
    EXPECT_EQ(test::metric(after, ok), std::max(0.0, test::metric(before, ok)) + 1);
    const std::string large = R"(ead_tokens_generated_total{model="large"})";
    EXPECT_EQ(test::metric(after, large), test::metric(before, large) + 5);
    EXPECT_GE(test::metric(after, "ead_time_to_first_token_seconds_count"), 1);
}

TEST_F(ServeTest, GreedyMatchesGenerate) {
    const auto help = ead::test::run_cli("generate --help");
    if (help.exit_code != 0) GTEST_SKIP() << "`ead generate` is not available";
    const Pair& p = synthetic_pair();
    for (const std::string strategy : {"ead", "large", "spec"}) {
        const auto gen = ead::test::run_cli("generate -m " + p.small + " -M " + p.large +
                                           " -p 'the quick brown fox' --n-predict 12 --temperature 0 --threads 1"
                                           " --min-dwell 2 --window 2 --strategy " + strategy + " --json");
        ASSERT_EQ(gen.exit_code, 0) << gen.out.substr(0, 500);
        const json g = json::parse(gen.out.substr(gen.out.find('{')));
        auto c = client();
        auto r = post_json(c, "/v1/completions",
                           {{"prompt", "the quick brown fox"},
                            {"max_tokens", 12},
                            {"ead", {{"strategy", strategy}, {"min_dwell", 2}, {"window", 2}}}});
        ASSERT_EQ(r->status, 200);
        const json j = json::parse(r->body);
        EXPECT_EQ(j["ead"]["tokens"], g["stats"]["tokens"]) << strategy;
        EXPECT_EQ(j["ead"]["switches"], g["stats"]["switches"]) << strategy;
        // generate's text is Tokenizer::decode of the tokens, which drops the SentencePiece space prefix.
        std::string text = j["choices"][0]["text"];
        if (!text.empty() && text[0] == ' ') text.erase(0, 1);
        EXPECT_EQ(text, g["text"].get<std::string>()) << strategy;
    }
}

// serve takes the short spellings generate and eval take (and llama-server): -n, -s, -t, --temp.
TEST(ServeCli, ShortKnobAliasesSetTheDefaults) {
    const Pair& p = synthetic_pair();
    test::ServerProcess srv({"-m", p.small, "-c", "256", "-t", "1", "-n", "7", "-s", "3", "--temp", "0.25",
                             "--strategy", "small"},
                            p.dir + "/serve_aliases.log");
    httplib::Client c("127.0.0.1", srv.port());
    auto r = c.Get("/v1/models");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    const json d = json::parse(r->body)["data"][0]["ead"]["defaults"];
    EXPECT_EQ(d["threads"], 1) << d;
    EXPECT_EQ(d["n_predict"], 7) << d;
    EXPECT_EQ(d["seed"], 3) << d;
    EXPECT_EQ(d["temperature"], 0.25) << d;
}

// SIGTERM: in-flight requests finish, then the process exits 0.
TEST(ServeShutdown, SigtermFinishesInFlightAndExitsZero) {
    const Pair& p = synthetic_pair();
    test::ServerProcess srv({"-m", p.small, "-M", p.large, "--slots", "1", "-c", "512", "--threads", "1"},
                            p.dir + "/serve_term.log");
    std::atomic<bool> started{false};
    std::string body;
    int status = 0;
    std::thread t([&] {
        httplib::Client c("127.0.0.1", srv.port());
        c.set_read_timeout(60);
        httplib::Request req;
        req.method = "POST";
        req.path = "/v1/completions";
        req.body = json{{"prompt", "long"}, {"max_tokens", 400}, {"stream", true}}.dump();
        req.set_header("Content-Type", "application/json");
        req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
            body.append(d, n);
            started = true;
            return true;
        };
        auto r = c.send(req);
        status = r ? r->status : -1;
    });
    while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(srv.terminate(60), 0) << srv.log();
    t.join();
    EXPECT_EQ(status, 200);
    bool done = false;
    const auto ev = parse_sse(body, &done);
    EXPECT_TRUE(done);
    ASSERT_FALSE(ev.empty());
    EXPECT_FALSE(ev.back()["choices"][0]["finish_reason"].is_null());  // finished, not cancelled
    EXPECT_GE(ev.back()["usage"]["completion_tokens"].get<int>(), 1);
    httplib::Client c("127.0.0.1", srv.port());
    EXPECT_FALSE(c.Get("/health"));  // no longer accepting
}

}  // namespace
}  // namespace ead::server
