// The HTTP, schema, queue and metrics layer against a scripted backend (no models): response shapes, streaming,
// stop strings, the malformed-input table, queue overflow, client disconnects, metrics.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "server/api_error.h"
#include "server/server.h"
#include "server/stop_matcher.h"
#include "server_test_util.h"

namespace ead::server {
namespace {

using nlohmann::json;
using test::is_error_body;
using test::parse_sse;
using test::post_json;

// Token i is the text "t<i> "; tokens alternate between the models in runs of three.
class FakeBackend : public Backend {
public:
    std::atomic<int> delay_ms{0};
    std::atomic<int> active{0};
    std::atomic<int> max_active{0};
    std::atomic<int> cancelled{0};
    std::atomic<int> generated{0};

    BackendInfo info() const override { return {"fake-pair", {"small.gguf", "large.gguf"}, true, 256, 256}; }
    int n_slots() const override { return slots_; }
    void set_slots(int n) { slots_ = n; }
    std::vector<int32_t> tokenize(const std::string& text, bool, bool) const override {
        return {text.begin(), text.end()};
    }
    std::string detokenize(const std::vector<int32_t>& ids) const override { return {ids.begin(), ids.end()}; }
    std::vector<int32_t> prompt_tokens(const CompletionRequest& req) const override {
        if (req.endpoint == Endpoint::kCompletion) {
            return req.prompt_ids.empty() ? tokenize(req.prompt, true, false) : req.prompt_ids;
        }
        std::string all;
        for (const auto& m : req.messages) all += m.role + ":" + m.content + "\n";
        return tokenize(all, true, false);
    }
    void check(const CompletionRequest&) const override {}
    Completion complete(int slot, const CompletionRequest& req, const ChunkFn& on_chunk) override {
        EXPECT_GE(slot, 0);
        EXPECT_LT(slot, slots_);
        const int now = ++active;
        for (int m = max_active; now > m && !max_active.compare_exchange_weak(m, now);) {
        }
        Completion c;
        c.prompt_tokens = static_cast<int32_t>(req.prompt_tokens.size());
        c.stats.strategy = req.params.strategy;
        c.stats.n_prompt = c.prompt_tokens;
        StopMatcher stops(req.stop);
        c.finish_reason = "length";
        for (int i = 0; i < req.params.n_predict; ++i) {
            if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
            const auto model = (i / 3) % 2 ? decode::ModelId::kLarge : decode::ModelId::kSmall;
            if (i > 0 && i % 3 == 0) c.stats.switches.push_back({i, decode::other(model), model, 1.0});
            const std::string out = stops.push("t" + std::to_string(i) + " ");
            c.text += out;
            ++c.stats.tokens[decode::index_of(model)];
            ++c.stats.n_generated;
            ++generated;
            if (!on_chunk(Chunk{out, model, 1})) {
                c.finish_reason = "cancelled";
                ++cancelled;
                break;
            }
            if (stops.stopped()) {
                c.finish_reason = "stop";
                break;
            }
        }
        if (c.finish_reason == "length") c.text += stops.finish();
        c.completion_tokens = c.stats.n_generated;
        --active;
        return c;
    }

private:
    int slots_ = 2;
};

class HttpTest : public ::testing::Test {
protected:
    void start(int slots, int queue, size_t max_body = 4096) {
        backend_.set_slots(slots);
        ServerOptions o;
        o.port = 0;
        o.max_queue = queue;
        o.max_body_bytes = max_body;
        o.defaults.n_predict = 16;
        server_ = std::make_unique<HttpServer>(backend_, o);
        port_ = server_->bind();
        thread_ = std::thread([this] { server_->serve(); });
    }
    void SetUp() override { start(2, 4); }
    void TearDown() override {
        server_->stop_accepting();
        thread_.join();
    }
    void restart(int slots, int queue, size_t max_body = 4096) {
        TearDown();
        start(slots, queue, max_body);
    }
    httplib::Client client() {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(30);
        return c;
    }
    json health() {
        auto c = client();
        auto r = c.Get("/health");
        return r ? json::parse(r->body) : json();
    }
    // Polls /health until pred holds (2 s at most).
    bool wait_health(const std::function<bool(const json&)>& pred) {
        for (int i = 0; i < 200; ++i) {
            if (pred(health())) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    FakeBackend backend_;
    std::unique_ptr<HttpServer> server_;
    std::thread thread_;
    int port_ = 0;
};

const json kChat = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 5}};

TEST_F(HttpTest, ChatCompletionShape) {
    auto c = client();
    auto r = post_json(c, "/v1/chat/completions", kChat);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    const json j = json::parse(r->body);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
    EXPECT_EQ(j["model"], "fake-pair");
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(j["choices"][0]["message"]["content"], "t0 t1 t2 t3 t4 ");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["completion_tokens"], 5);
    EXPECT_EQ(j["usage"]["prompt_tokens"], 8);  // "user:hi\n"
    EXPECT_EQ(j["usage"]["total_tokens"], 13);
    EXPECT_EQ(j["ead"]["tokens"]["small"], 3);
    EXPECT_EQ(j["ead"]["tokens"]["large"], 2);
    EXPECT_EQ(j["ead"]["switches"]["count"], 1);
    EXPECT_TRUE(j["ead"]["server"].contains("time_to_first_token_s"));
    EXPECT_EQ(j["ead"]["effective_params"]["n_predict"], 5);
}

TEST_F(HttpTest, CompletionAndStopStrings) {
    auto c = client();
    auto r = post_json(c, "/v1/completions", {{"prompt", "abc"}, {"max_tokens", 10}, {"stop", {"t3", "zz"}}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    EXPECT_EQ(j["object"], "text_completion");
    EXPECT_EQ(j["choices"][0]["text"], "t0 t1 t2 ");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(j["usage"]["prompt_tokens"], 3);
    // Token-id prompts.
    r = post_json(c, "/v1/completions", {{"prompt", {1, 2, 3, 4}}, {"max_tokens", 1}});
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["usage"]["prompt_tokens"], 4);
}

TEST_F(HttpTest, StreamingChatChunks) {
    auto c = client();
    json body = kChat;
    body["stream"] = true;
    body["max_tokens"] = 7;
    auto r = post_json(c, "/v1/chat/completions", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
    bool done = false;
    const auto ev = parse_sse(r->body, &done);
    EXPECT_TRUE(done);
    ASSERT_GE(ev.size(), 3u);
    EXPECT_EQ(ev.front()["choices"][0]["delta"]["role"], "assistant");
    std::string text;
    int tokens = 0;
    for (size_t i = 1; i + 1 < ev.size(); ++i) {
        EXPECT_EQ(ev[i]["object"], "chat.completion.chunk");
        EXPECT_EQ(ev[i]["id"], ev.front()["id"]);
        EXPECT_TRUE(ev[i]["choices"][0]["finish_reason"].is_null());
        text += ev[i]["choices"][0]["delta"]["content"].get<std::string>();
        const std::string model = ev[i]["ead"]["model"];
        EXPECT_TRUE(model == "small" || model == "large");
        EXPECT_EQ(model, (i - 1) / 3 % 2 ? "large" : "small");
        tokens += ev[i]["ead"]["tokens"].get<int>();
    }
    EXPECT_EQ(text, "t0 t1 t2 t3 t4 t5 t6 ");
    EXPECT_EQ(tokens, 7);
    const json& last = ev.back();
    EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(last["usage"]["completion_tokens"], 7);
    EXPECT_EQ(last["ead"]["tokens"]["large"], 3);
}

TEST_F(HttpTest, StreamingCompletionWithStop) {
    auto c = client();
    auto r = post_json(c, "/v1/completions", {{"prompt", "x"}, {"stream", true}, {"stop", "t2"}, {"max_tokens", 9}});
    ASSERT_EQ(r->status, 200);
    bool done = false;
    const auto ev = parse_sse(r->body, &done);
    ASSERT_TRUE(done);
    std::string text;
    for (const auto& e : ev) text += e["choices"][0]["text"].get<std::string>();
    EXPECT_EQ(text, "t0 t1 ");
    EXPECT_EQ(ev.back()["choices"][0]["finish_reason"], "stop");
}

TEST_F(HttpTest, ModelsHealthTokenize) {
    auto c = client();
    auto r = c.Get("/v1/models");
    ASSERT_EQ(r->status, 200);
    json j = json::parse(r->body);
    EXPECT_EQ(j["object"], "list");
    EXPECT_EQ(j["data"][0]["id"], "fake-pair");
    EXPECT_EQ(health()["status"], "ok");
    r = post_json(c, "/tokenize", {{"content", "AB"}});
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(json::parse(r->body)["tokens"], json({65, 66}));
    r = post_json(c, "/detokenize", {{"tokens", {72, 105}}});
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(json::parse(r->body)["content"], "Hi");
}

TEST_F(HttpTest, MalformedRequestsTable) {
    struct Case {
        const char* name;
        const char* path;
        std::string body;
        int status;
        const char* param;  // expected error.param (nullptr: not checked)
    };
    const std::string big(5000, 'x');
    const std::vector<Case> cases = {
        {"truncated JSON", "/v1/chat/completions", "{\"messages\": [", 400, nullptr},
        {"empty body", "/v1/chat/completions", "", 400, nullptr},
        {"array body", "/v1/chat/completions", "[1, 2]", 400, nullptr},
        {"no messages", "/v1/chat/completions", R"({"max_tokens": 3})", 400, "messages"},
        {"messages not array", "/v1/chat/completions", R"({"messages": "hi"})", 400, "messages"},
        {"empty messages", "/v1/chat/completions", R"({"messages": []})", 400, "messages"},
        {"message not object", "/v1/chat/completions", R"({"messages": [3]})", 400, "messages[0]"},
        {"unknown role", "/v1/chat/completions", R"({"messages": [{"role": "wizard", "content": "x"}]})", 400,
         "messages[0].role"},
        {"missing content", "/v1/chat/completions", R"({"messages": [{"role": "user"}]})", 400,
         "messages[0].content"},
        {"content wrong type", "/v1/chat/completions", R"({"messages": [{"role": "user", "content": 5}]})", 400,
         "messages[0].content"},
        {"invalid UTF-8", "/v1/chat/completions",
         "{\"messages\": [{\"role\": \"user\", \"content\": \"\xff\xfe\xc3\"}]}", 400, nullptr},
        {"max_tokens string", "/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": "ten"})",
         400, "max_tokens"},
        {"max_tokens negative", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": -5})", 400, "max_tokens"},
        {"max_tokens over context", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 100000})", 400, "max_tokens"},
        {"prompt + max_tokens over context", "/v1/completions", R"({"prompt": ")" + std::string(200, 'a') +
                                                                     R"(", "max_tokens": 100})",
         400, "max_tokens"},
        {"prompt over context", "/v1/completions", R"({"prompt": ")" + std::string(300, 'a') + R"("})", 400,
         "prompt"},
        {"temperature out of range", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "temperature": 3})", 400, "temperature"},
        {"top_p out of range", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "top_p": -0.1})", 400, "top_p"},
        {"seed fraction", "/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "seed": 1.5})",
         400, "seed"},
        {"n = 2", "/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "n": 2})", 400, "n"},
        {"stream not bool", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "stream": "yes"})", 400, "stream"},
        {"stop wrong type", "/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "stop": 5})",
         400, "stop"},
        {"ead not object", "/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "ead": "x"})",
         400, "ead"},
        {"ead tau wrong type", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "ead": {"tau": "high"}})", 400, "ead.tau"},
        {"ead unknown strategy", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "ead": {"strategy": "magic"}})", 400, "ead.strategy"},
        {"ead window out of range", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "ead": {"window": 0}})", 400, "ead.window"},
        {"ead unknown knob", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "ead": {"bogus": 1}})", 400, "ead.bogus"},
        {"ead tau_up < tau_down", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "ead": {"tau_up": 0.5, "tau_down": 1.0}})", 400, "ead"},
        {"ead tau_up ok with tau_down", "/v1/chat/completions",
         R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 1, "ead": {"tau_up": 2.0, "tau_down": 1.5}})",
         200, nullptr},
        {"no prompt", "/v1/completions", R"({"max_tokens": 3})", 400, "prompt"},
        {"prompt object", "/v1/completions", R"({"prompt": {}})", 400, "prompt"},
        {"body too large", "/v1/chat/completions", R"({"messages": [{"role": "user", "content": ")" + big + R"("}]})",
         413, nullptr},
        {"tokenize wrong type", "/tokenize", R"({"content": 5})", 400, "content"},
        {"detokenize not array", "/detokenize", R"({"tokens": "abc"})", 400, "tokens"},
        {"detokenize id out of range", "/detokenize", R"({"tokens": [1, 999999]})", 400, "tokens[1]"},
        {"unknown route", "/v1/nothing", "{}", 404, nullptr},
    };
    ASSERT_GE(cases.size(), 15u);
    for (const auto& k : cases) {
        auto c = client();
        auto r = c.Post(k.path, k.body, "application/json");
        ASSERT_TRUE(r) << k.name;
        EXPECT_EQ(r->status, k.status) << k.name << ": " << r->body;
        if (k.status == 200) continue;
        EXPECT_TRUE(is_error_body(r->body)) << k.name << ": " << r->body;
        if (k.param && is_error_body(r->body)) {
            EXPECT_EQ(json::parse(r->body)["error"]["param"], k.param) << k.name << ": " << r->body;
        }
    }
    // Still serving.
    auto c = client();
    auto r = post_json(c, "/v1/chat/completions", kChat);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

// cpp-httplib parses a body sent as a form (curl -d without a content type) and refuses it past
// CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH bytes before any handler runs, whatever max_body_bytes
// allows. The 413 says so and names the fix, instead of blaming the server's own limit; the same bytes sent
// as JSON are served.
TEST_F(HttpTest, FormBodyOverTheLibraryCapSaysToSendJson) {
    restart(2, 4, 64 * 1024);
    const std::string body = kChat.dump() + std::string(10000, ' ');  // valid JSON: trailing whitespace
    auto c = client();
    auto r = c.Post("/v1/chat/completions", body, "application/x-www-form-urlencoded");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    ASSERT_TRUE(is_error_body(r->body)) << r->body;
    std::string message = json::parse(r->body)["error"]["message"];
    EXPECT_NE(message.find("application/json"), std::string::npos) << message;
    EXPECT_EQ(message.find("65536"), std::string::npos) << message;
    r = c.Post("/v1/chat/completions", body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    // Past the server's own limit, a form body is told that limit.
    r = c.Post("/v1/chat/completions", kChat.dump() + std::string(70000, ' '),
               "application/x-www-form-urlencoded");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    ASSERT_TRUE(is_error_body(r->body)) << r->body;
    message = json::parse(r->body)["error"]["message"];
    EXPECT_NE(message.find("65536"), std::string::npos) << message;
}

TEST_F(HttpTest, QueueFullGives503) {
    restart(1, 1);
    backend_.delay_ms = 20;
    json body = kChat;
    body["max_tokens"] = 40;
    std::atomic<int> ok{0};
    auto run = [&] {
        auto c = client();
        auto r = post_json(c, "/v1/chat/completions", body);
        if (r && r->status == 200) ++ok;
    };
    std::thread a(run);
    ASSERT_TRUE(wait_health([](const json& h) { return h.value("slots_busy", 0) == 1; }));
    std::thread b(run);
    ASSERT_TRUE(wait_health([](const json& h) { return h.value("queue_length", 0) == 1; }));
    auto c = client();
    auto r = post_json(c, "/v1/chat/completions", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_TRUE(is_error_body(r->body));
    EXPECT_EQ(json::parse(r->body)["error"]["code"], "server_busy");
    a.join();
    b.join();
    EXPECT_EQ(ok, 2);
    EXPECT_EQ(backend_.max_active, 1);
}

TEST_F(HttpTest, DisconnectMidStreamFreesSlot) {
    restart(1, 4);
    backend_.delay_ms = 10;
    {
        httplib::Client c("127.0.0.1", port_);
        httplib::Request req;
        req.method = "POST";
        req.path = "/v1/chat/completions";
        json body = kChat;
        body["stream"] = true;
        body["max_tokens"] = 200;
        req.body = body.dump();
        req.set_header("Content-Type", "application/json");
        int received = 0;
        req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++received < 3; };
        c.send(req);
        EXPECT_EQ(received, 3);
    }
    ASSERT_TRUE(wait_health([](const json& h) { return h.value("slots_busy", 1) == 0; }));
    EXPECT_EQ(backend_.cancelled, 1);
    EXPECT_LT(backend_.generated, 200);
    // The slot serves the next request.
    backend_.delay_ms = 0;
    auto c = client();
    auto r = post_json(c, "/v1/chat/completions", kChat);
    ASSERT_EQ(r->status, 200);
    auto m = c.Get("/metrics");
    EXPECT_EQ(test::metric(m->body, "ead_requests_cancelled_total"), 1);
}

TEST_F(HttpTest, MetricsCountRequests) {
    auto c = client();
    int small = 0, large = 0;
    for (int i = 0; i < 3; ++i) {
        json body = kChat;
        body["max_tokens"] = 4 + i;
        auto r = post_json(c, "/v1/chat/completions", body);
        ASSERT_EQ(r->status, 200);
        const json j = json::parse(r->body);
        small += j["ead"]["tokens"]["small"].get<int>();
        large += j["ead"]["tokens"]["large"].get<int>();
    }
    auto s = post_json(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 2}, {"stream", true}});
    ASSERT_EQ(s->status, 200);
    small += 2;
    EXPECT_EQ(post_json(c, "/v1/chat/completions", {{"messages", 1}})->status, 400);
    EXPECT_EQ(post_json(c, "/v1/completions", {{"prompt", 1}})->status, 400);
    EXPECT_EQ(c.Get("/nope")->status, 404);
    const std::string m = c.Get("/metrics")->body;
    EXPECT_EQ(test::metric(m, R"(ead_requests_total{endpoint="/v1/chat/completions",status="200"})"), 3) << m;
    EXPECT_EQ(test::metric(m, R"(ead_requests_total{endpoint="/v1/chat/completions",status="400"})"), 1) << m;
    EXPECT_EQ(test::metric(m, R"(ead_requests_total{endpoint="/v1/completions",status="200"})"), 1) << m;
    EXPECT_EQ(test::metric(m, R"(ead_requests_total{endpoint="/v1/completions",status="400"})"), 1) << m;
    EXPECT_EQ(test::metric(m, R"(ead_requests_total{endpoint="other",status="404"})"), 1) << m;
    EXPECT_EQ(test::metric(m, R"(ead_tokens_generated_total{model="small"})"), small) << m;
    EXPECT_EQ(test::metric(m, R"(ead_tokens_generated_total{model="large"})"), large) << m;
    EXPECT_EQ(test::metric(m, R"(ead_switches_total{direction="up"})") +
                  test::metric(m, R"(ead_switches_total{direction="down"})"),
              1 + 1 + 1) << m;
    EXPECT_EQ(test::metric(m, "ead_request_duration_seconds_count"), 4) << m;
    EXPECT_EQ(test::metric(m, "ead_time_to_first_token_seconds_count"), 4) << m;
    EXPECT_EQ(test::metric(m, "ead_queue_length"), 0) << m;
    EXPECT_EQ(test::metric(m, "ead_slots_total"), 2) << m;
}

TEST(StopMatcher, HoldsBackPrefixes) {
    StopMatcher s({"END", "xy"});
    EXPECT_EQ(s.push("abc E"), "abc ");
    EXPECT_EQ(s.push("N"), "");
    EXPECT_EQ(s.push("d x"), "ENd ");
    EXPECT_EQ(s.push("yz"), "");
    EXPECT_TRUE(s.stopped());
    StopMatcher t({"END"});
    EXPECT_EQ(t.push("aE"), "a");
    EXPECT_EQ(t.finish(), "E");
}

}  // namespace
}  // namespace ead::server
