#include "server/model_backend.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "decode/model_sequence.h"
#include "decode/pair.h"
#include "decode/strategy.h"
#include "model/context.h"
#include "model/model.h"
#include "server/api_error.h"
#include "server/stop_matcher.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace ead::server {
namespace {

std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

}  // namespace

struct ModelBackend::Impl {
    struct Slot {
        std::unique_ptr<model::Context> small_ctx, large_ctx;
        std::unique_ptr<decode::ModelSequence> small, large;
    };
    ModelBackendOptions options;
    std::shared_ptr<const model::Model> small, large;
    std::optional<tokenizer::Tokenizer> tok;
    std::optional<tokenizer::ChatTemplate> chat;
    int32_t n_vocab_common = 0;
    int32_t n_ctx = 0;
    std::vector<Slot> slots;
};

ModelBackend::ModelBackend(const ModelBackendOptions& o) : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.options = o;
    m.small = model::Model::load(o.small_path, {o.verbose});
    m.tok.emplace(tokenizer::Tokenizer::from_gguf(m.small->file()));
    m.n_vocab_common = m.small->n_vocab();
    if (!o.large_path.empty()) {
        m.large = model::Model::load(o.large_path, {o.verbose});
        const tokenizer::Tokenizer large_tok = tokenizer::Tokenizer::from_gguf(m.large->file());
        try {
            m.n_vocab_common = decode::check_pair(decode::vocab_info(*m.tok, m.small->n_vocab()),
                                                  decode::vocab_info(large_tok, m.large->n_vocab()))
                                   .n_vocab_common;
        } catch (const decode::PairError& e) {
            throw std::runtime_error(o.small_path + " and " + o.large_path + " cannot be paired: " + e.what());
        }
    }
    if (!o.chat_template.empty()) {
        m.chat.emplace(tokenizer::ChatTemplate::by_name(o.chat_template));
    } else {
        try {
            m.chat.emplace(tokenizer::ChatTemplate::detect(m.small->file()));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "serve: %s: no recognized chat template (%s); using chatml\n", o.small_path.c_str(),
                         e.what());
            m.chat.emplace(tokenizer::ChatTemplate::by_name("chatml"));
        }
    }
    int n_ctx = o.n_ctx > 0 ? o.n_ctx : std::min(4096, m.small->n_ctx_train());
    if (m.large && o.n_ctx <= 0) n_ctx = std::min(n_ctx, m.large->n_ctx_train());
    m.n_ctx = n_ctx;
    const int n_slots = std::max(1, o.n_slots);
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    model::ContextOptions co;
    co.n_ctx = n_ctx;
    co.n_threads = o.threads > 0 ? o.threads : std::max(1, hw / n_slots);
    for (int i = 0; i < n_slots; ++i) {
        Impl::Slot s;
        s.small_ctx = std::make_unique<model::Context>(m.small, co);
        s.small = std::make_unique<decode::ModelSequence>(*s.small_ctx);
        if (m.large) {
            s.large_ctx = std::make_unique<model::Context>(m.large, co);
            s.large = std::make_unique<decode::ModelSequence>(*s.large_ctx);
        }
        m.slots.push_back(std::move(s));
    }
}

ModelBackend::~ModelBackend() = default;

BackendInfo ModelBackend::info() const {
    const Impl& m = *impl_;
    BackendInfo b;
    b.model_id = stem(m.options.small_path);
    if (m.large) {
        b.model_id += '+';
        b.model_id += stem(m.options.large_path);
    }
    b.model_files.push_back(m.options.small_path);
    if (m.large) b.model_files.push_back(m.options.large_path);
    b.has_large = m.large != nullptr;
    b.n_ctx = m.n_ctx;
    b.n_vocab = m.tok->n_vocab();
    return b;
}

int ModelBackend::n_slots() const { return static_cast<int>(impl_->slots.size()); }

std::vector<int32_t> ModelBackend::tokenize(const std::string& text, bool add_special, bool parse_special) const {
    return impl_->tok->encode(text, add_special, parse_special);
}

std::string ModelBackend::detokenize(const std::vector<int32_t>& ids) const {
    try {
        return impl_->tok->decode(ids);
    } catch (const tokenizer::Error& e) {
        throw ApiError(400, std::string("'tokens': ") + e.what(), "tokens");
    }
}

std::vector<int32_t> ModelBackend::prompt_tokens(const CompletionRequest& req) const {
    const Impl& m = *impl_;
    if (req.endpoint == Endpoint::kChat) {
        std::vector<tokenizer::ChatMessage> msgs;
        for (const auto& x : req.messages) msgs.push_back({x.role, x.content});
        std::string text;
        try {
            text = m.chat->render(msgs, true);
        } catch (const tokenizer::Error& e) {
            throw ApiError(400, std::string("'messages': ") + e.what(), "messages");
        }
        return m.tok->encode(text, !m.chat->renders_bos(), true);
    }
    if (!req.prompt_ids.empty()) {
        for (size_t i = 0; i < req.prompt_ids.size(); ++i) {
            if (req.prompt_ids[i] >= m.n_vocab_common) {
                const std::string p = "prompt[" + std::to_string(i) + "]";
                throw ApiError(400, "'" + p + "': token id " + std::to_string(req.prompt_ids[i]) +
                                        " is outside [0, " + std::to_string(m.n_vocab_common) + ")", p);
            }
        }
        return req.prompt_ids;
    }
    return m.tok->encode(req.prompt, true, false);
}

void ModelBackend::check(const CompletionRequest& req) const {
    if (!impl_->large && req.params.strategy != "small") {
        throw ApiError(400, "'ead.strategy': strategy \"" + req.params.strategy +
                                "\" needs a large model; the server was started without -M (use \"small\")",
                       "ead.strategy");
    }
}

Completion ModelBackend::complete(int slot, const CompletionRequest& req, const ChunkFn& on_chunk) {
    Impl& m = *impl_;
    Impl::Slot& s = m.slots.at(static_cast<size_t>(slot));
    Completion c;
    c.prompt_tokens = static_cast<int32_t>(req.prompt_tokens.size());

    tokenizer::StreamDecoder sd(*m.tok);
    StopMatcher stops(req.stop);
    bool cancelled = false;
    decode::ModelId last_model = decode::ModelId::kSmall;

    decode::RunOptions ro;
    ro.eog_ids = m.tok->eog_ids();
    ro.n_vocab_common = m.n_vocab_common;
    ro.on_token = [&](const decode::TokenEvent& ev) {
        last_model = ev.token.model;
        const std::string piece = m.tok->is_eog(ev.token.id) ? std::string() : sd.push(ev.token.id);
        const std::string out = stops.push(piece);
        c.text += out;
        if (!on_chunk(Chunk{out, ev.token.model, 1})) {
            cancelled = true;
            return false;
        }
        return !stops.stopped();
    };
    decode::DecodeResult r = decode::generate(req.params, s.small.get(), s.large ? s.large.get() : nullptr,
                                              req.prompt_tokens, ro);
    if (!cancelled && !stops.stopped()) {
        const std::string rest = stops.push(sd.flush()) + stops.finish();
        if (!rest.empty()) {
            c.text += rest;
            on_chunk(Chunk{rest, last_model, 0});
        }
    }
    c.completion_tokens = r.stats.n_generated;
    if (cancelled) c.finish_reason = "cancelled";
    else if (stops.stopped()) c.finish_reason = "stop";
    else if (r.stats.stop_reason == decode::StopReason::kNPredict || r.stats.stop_reason == decode::StopReason::kContext)
        c.finish_reason = "length";
    else c.finish_reason = "stop";
    c.stats = std::move(r.stats);
    return c;
}

}  // namespace ead::server
