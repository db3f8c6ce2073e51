#include "server/schema.h"

#include <cmath>
#include <limits>

#include "server/api_error.h"

namespace ead::server {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& param, const std::string& message, const std::string& code = {}) {
    throw ApiError(400, "'" + param + "': " + message, param, code);
}

std::string type_of(const json& v) {
    if (v.is_number_integer()) return "an integer";
    if (v.is_number_float()) return "a number";
    return std::string("a") + (v.is_object() || v.is_array() ? "n " : " ") + v.type_name();
}

double number(const json& v, const std::string& param, double lo, double hi) {
    if (!v.is_number()) bad(param, "expected a number, got " + type_of(v));
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi)) {
        bad(param, "must be in [" + json(lo).dump() + ", " + json(hi).dump() + "], got " + v.dump());
    }
    return x;
}

int64_t integer(const json& v, const std::string& param, int64_t lo, int64_t hi) {
    if (!v.is_number_integer()) bad(param, "expected an integer, got " + type_of(v));
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) {
        bad(param, "must be at most " + std::to_string(hi) + ", got " + v.dump());
    }
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) {
        bad(param, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v.dump());
    }
    return x;
}

bool boolean(const json& v, const std::string& param) {
    if (!v.is_boolean()) bad(param, "expected a boolean, got " + type_of(v));
    return v.get<bool>();
}

// Message content: a string, or an array of {"type": "text", "text": "..."} parts (concatenated).
std::string content_text(const json& v, const std::string& param) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array()) {
        std::string out;
        for (size_t i = 0; i < v.size(); ++i) {
            const std::string p = param + "[" + std::to_string(i) + "]";
            const json& part = v[i];
            if (!part.is_object()) bad(p, "expected a content part object, got " + type_of(part));
            auto t = part.find("type");
            if (t == part.end() || !t->is_string() || *t != "text") bad(p + ".type", "only \"text\" parts are supported");
            auto text = part.find("text");
            if (text == part.end() || !text->is_string()) bad(p + ".text", "expected a string");
            out += text->get<std::string>();
        }
        return out;
    }
    bad(param, "expected a string or an array of text parts, got " + type_of(v));
}

void apply_knob(decode::DecodeParams& p, const std::string& key, const json& v, const std::string& param) {
    json one = json::object();
    one[key] = v;
    try {
        decode::apply_json(p, one);
    } catch (const decode::ParamError& e) {
        bad(param, e.what());
    }
}

}  // namespace

json parse_json_object(const std::string& body) {
    json j;
    try {
        j = json::parse(body);
    } catch (const json::parse_error& e) {
        throw ApiError(400, std::string("request body is not valid JSON: ") + e.what(), "", "invalid_json");
    }
    if (!j.is_object()) throw ApiError(400, "request body must be a JSON object, got " + type_of(j), "", "invalid_json");
    return j;
}

CompletionRequest parse_completion_request(const std::string& body, Endpoint endpoint,
                                           const decode::DecodeParams& defaults) {
    const json j = parse_json_object(body);
    CompletionRequest r;
    r.endpoint = endpoint;
    r.params = defaults;

    if (auto it = j.find("model"); it != j.end() && !it->is_null()) {
        if (!it->is_string()) bad("model", "expected a string, got " + type_of(*it));
        r.model = it->get<std::string>();
    }

    if (endpoint == Endpoint::kChat) {
        auto it = j.find("messages");
        if (it == j.end()) bad("messages", "required");
        if (!it->is_array()) bad("messages", "expected an array, got " + type_of(*it));
        if (it->empty()) bad("messages", "must contain at least one message");
        for (size_t i = 0; i < it->size(); ++i) {
            const std::string p = "messages[" + std::to_string(i) + "]";
            const json& m = (*it)[i];
            if (!m.is_object()) bad(p, "expected an object, got " + type_of(m));
            auto role = m.find("role");
            if (role == m.end()) bad(p + ".role", "required");
            if (!role->is_string()) bad(p + ".role", "expected a string, got " + type_of(*role));
            std::string rs = role->get<std::string>();
            if (rs == "developer") rs = "system";
            if (rs != "system" && rs != "user" && rs != "assistant") {
                bad(p + ".role", "unknown role \"" + role->get<std::string>() +
                                     "\" (expected system, developer, user or assistant)");
            }
            auto content = m.find("content");
            if (content == m.end() || content->is_null()) bad(p + ".content", "required");
            r.messages.push_back({rs, content_text(*content, p + ".content")});
        }
    } else {
        auto it = j.find("prompt");
        if (it == j.end()) bad("prompt", "required");
        if (it->is_string()) {
            r.prompt = it->get<std::string>();
        } else if (it->is_array() && it->size() == 1 && (*it)[0].is_string()) {
            r.prompt = (*it)[0].get<std::string>();
        } else if (it->is_array() && !it->empty() && (*it)[0].is_number()) {
            for (size_t i = 0; i < it->size(); ++i) {
                r.prompt_ids.push_back(static_cast<int32_t>(
                    integer((*it)[i], "prompt[" + std::to_string(i) + "]", 0, std::numeric_limits<int32_t>::max())));
            }
        } else if (it->is_array()) {
            bad("prompt", "expected a string, an array of one string or an array of token ids");
        } else {
            bad("prompt", "expected a string or an array, got " + type_of(*it));
        }
    }

    if (auto it = j.find("n"); it != j.end() && !it->is_null()) {
        if (integer(*it, "n", 1, 128) != 1) bad("n", "only n = 1 is supported");
    }
    if (auto it = j.find("stream"); it != j.end() && !it->is_null()) r.stream = boolean(*it, "stream");
    if (auto it = j.find("stream_options"); it != j.end() && !it->is_null() && !it->is_object()) {
        bad("stream_options", "expected an object, got " + type_of(*it));
    }
    for (const char* key : {"max_tokens", "max_completion_tokens"}) {
        if (endpoint == Endpoint::kCompletion && std::string(key) == "max_completion_tokens") continue;
        if (auto it = j.find(key); it != j.end() && !it->is_null()) {
            r.max_tokens = static_cast<int32_t>(integer(*it, key, 1, std::numeric_limits<int32_t>::max()));
        }
    }
    if (auto it = j.find("stop"); it != j.end() && !it->is_null()) {
        if (it->is_string()) {
            r.stop.push_back(it->get<std::string>());
        } else if (it->is_array()) {
            if (it->size() > kMaxStopStrings) bad("stop", "at most " + std::to_string(kMaxStopStrings) + " strings");
            for (size_t i = 0; i < it->size(); ++i) {
                if (!(*it)[i].is_string()) bad("stop[" + std::to_string(i) + "]", "expected a string");
                r.stop.push_back((*it)[i].get<std::string>());
            }
        } else {
            bad("stop", "expected a string or an array of strings, got " + type_of(*it));
        }
        for (size_t i = 0; i < r.stop.size(); ++i) {
            if (r.stop[i].empty()) bad("stop", "stop strings must not be empty");
        }
    }
    if (auto it = j.find("logprobs"); it != j.end() && !it->is_null() && !(it->is_boolean() && !it->get<bool>())) {
        bad("logprobs", "not supported");
    }

    // OpenAI sampling fields: checked against OpenAI's ranges, stored in the declared knobs.
    struct Field {
        const char* name;
        double lo, hi;
    };
    for (const Field& f : {Field{"temperature", 0, 2}, Field{"top_p", 0, 1}, Field{"presence_penalty", -2, 2},
                           Field{"frequency_penalty", -2, 2}}) {
        if (auto it = j.find(f.name); it != j.end() && !it->is_null()) {
            number(*it, f.name, f.lo, f.hi);
            apply_knob(r.params, f.name, *it, f.name);
        }
    }
    if (auto it = j.find("seed"); it != j.end() && !it->is_null()) {
        integer(*it, "seed", -1, std::numeric_limits<int64_t>::max());
        apply_knob(r.params, "seed", *it, "seed");
    }

    // EAD knobs.
    if (auto it = j.find("ead"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) bad("ead", "expected an object, got " + type_of(*it));
        for (auto k = it->begin(); k != it->end(); ++k) {
            const std::string p = "ead." + k.key();
            if (k.key() == "threads") bad(p, "is a server setting (--threads)");
            if (k.key() == "n_predict") bad(p, "use max_tokens");
            if (!decode::find_param(k.key())) bad(p, "unknown EAD parameter");
        }
        try {
            decode::apply_json(r.params, *it);  // types, ranges, then cross-field checks (tau_up >= tau_down)
        } catch (const decode::ParamError& e) {
            // Name the field when one alone is at fault (type or range), else the object (a cross-field rule).
            std::string param = "ead";
            for (auto k = it->begin(); k != it->end() && param == "ead"; ++k) {
                decode::DecodeParams probe;
                probe.tau_up = std::numeric_limits<double>::infinity();  // no cross-field rule can fail
                probe.tau_down = -std::numeric_limits<double>::infinity();
                try {
                    decode::apply_json(probe, json{{k.key(), k.value()}});
                } catch (const decode::ParamError&) {
                    param = "ead." + k.key();
                }
            }
            bad(param, e.what());
        }
    }
    return r;
}

ordered_json usage_json(const Completion& c) {
    ordered_json u;
    u["prompt_tokens"] = c.prompt_tokens;
    u["completion_tokens"] = c.completion_tokens;
    u["total_tokens"] = c.prompt_tokens + c.completion_tokens;
    return u;
}

ordered_json ead_json(const Completion& c, const decode::DecodeParams& params, const ServerTimings& t) {
    ordered_json j = decode::to_json(c.stats);
    ordered_json timing;
    timing["queue_s"] = t.queue_s;
    timing["time_to_first_token_s"] = t.ttft_s;
    timing["total_s"] = t.total_s;
    j["server"] = std::move(timing);
    j["effective_params"] = decode::to_json(params);
    return j;
}

namespace {

ordered_json envelope(const CompletionRequest& req, const std::string& id, int64_t created, const std::string& model,
                      bool chunk) {
    ordered_json j;
    j["id"] = id;
    if (req.endpoint == Endpoint::kChat) j["object"] = chunk ? "chat.completion.chunk" : "chat.completion";
    else j["object"] = "text_completion";
    j["created"] = created;
    j["model"] = model;
    return j;
}

ordered_json finish(const Completion& c) {
    return c.finish_reason.empty() || c.finish_reason == "cancelled" ? ordered_json(nullptr)
                                                                      : ordered_json(c.finish_reason);
}

}  // namespace

ordered_json completion_response(const CompletionRequest& req, const std::string& id, int64_t created,
                                 const std::string& model, const Completion& c, const ServerTimings& t) {
    ordered_json j = envelope(req, id, created, model, false);
    ordered_json choice;
    choice["index"] = 0;
    if (req.endpoint == Endpoint::kChat) {
        choice["message"] = {{"role", "assistant"}, {"content", c.text}};
    } else {
        choice["text"] = c.text;
    }
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish(c);
    j["choices"] = ordered_json::array({choice});
    j["usage"] = usage_json(c);
    j["ead"] = ead_json(c, req.params, t);
    return j;
}

ordered_json first_chunk(const CompletionRequest& req, const std::string& id, int64_t created,
                         const std::string& model) {
    ordered_json j = envelope(req, id, created, model, true);
    ordered_json choice;
    choice["index"] = 0;
    if (req.endpoint == Endpoint::kChat) choice["delta"] = {{"role", "assistant"}, {"content", ""}};
    else choice["text"] = "";
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = nullptr;
    j["choices"] = ordered_json::array({choice});
    return j;
}

ordered_json text_chunk(const CompletionRequest& req, const std::string& id, int64_t created,
                        const std::string& model, const Chunk& chunk) {
    ordered_json j = envelope(req, id, created, model, true);
    ordered_json choice;
    choice["index"] = 0;
    if (req.endpoint == Endpoint::kChat) choice["delta"] = {{"content", chunk.text}};
    else choice["text"] = chunk.text;
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = nullptr;
    j["choices"] = ordered_json::array({choice});
    j["ead"] = {{"model", decode::model_name(chunk.model)}, {"tokens", chunk.n_tokens}};
    return j;
}

ordered_json final_chunk(const CompletionRequest& req, const std::string& id, int64_t created,
                         const std::string& model, const Completion& c, const ServerTimings& t) {
    ordered_json j = envelope(req, id, created, model, true);
    ordered_json choice;
    choice["index"] = 0;
    if (req.endpoint == Endpoint::kChat) choice["delta"] = ordered_json::object();
    else choice["text"] = "";
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish(c);
    j["choices"] = ordered_json::array({choice});
    j["usage"] = usage_json(c);
    j["ead"] = ead_json(c, req.params, t);
    return j;
}

}  // namespace ead::server
