#include "tokenizer/chat_template.h"

#include "gguf/reader.h"

namespace ead::tokenizer {

namespace {

// Jinja's `| trim`: strips leading and trailing whitespace.
std::string trim(const std::string& s) {
    const char* ws = " \t\n\r\f\v";
    const size_t b = s.find_first_not_of(ws);
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

void check_role(const ChatMessage& m, size_t i) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant")
        throw Error("chat message " + std::to_string(i) + ": unknown role '" + m.role +
                    "' (expected system, user or assistant)");
}

// A ChatML template that writes a fixed system turn when the conversation has none carries its text as a
// string literal: '<|im_start|>system\n' + TEXT + '<|im_end|>' (the newline written as \n or as a real
// newline).
std::string chatml_default_system(const std::string& jinja) {
    for (const std::string head : {"<|im_start|>system\\n", "<|im_start|>system\n"}) {
        for (size_t pos = jinja.find(head); pos != std::string::npos; pos = jinja.find(head, pos + 1)) {
            const size_t start = pos + head.size();
            const size_t end = jinja.find("<|im_end|>", start);
            if (end == std::string::npos) continue;
            const std::string text = jinja.substr(start, end - start);
            if (text.empty() || text.find_first_of("'\"{}+") != std::string::npos) continue;  // not a literal
            std::string out;
            for (size_t i = 0; i < text.size(); ++i) {
                if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
                    out += '\n';
                    ++i;
                } else {
                    out += text[i];
                }
            }
            return out;
        }
    }
    return {};
}

}  // namespace

ChatTemplate ChatTemplate::detect(const std::string& jinja) {
    if (jinja.find("<|im_start|>") != std::string::npos) {
        ChatTemplate t(Family::kChatMl);
        t.default_system_ = chatml_default_system(jinja);
        return t;
    }
    if (jinja.find("<|start_header_id|>") != std::string::npos) return ChatTemplate(Family::kLlama3);
    if (jinja.find("<start_of_turn>") != std::string::npos) return ChatTemplate(Family::kGemma3);
    std::string head = jinja.substr(0, 80);
    for (char& c : head)
        if (c == '\n') c = ' ';
    throw Error("unrecognized chat template '" + head + (jinja.size() > 80 ? "...'" : "'") +
                " (known: chatml, llama3, gemma3; choose one with --chat-template NAME)");
}

ChatTemplate ChatTemplate::detect(const gguf::File& file) {
    if (const gguf::Value* v = file.find("tokenizer.chat_template")) {
        try {
            return detect(v->as_string());
        } catch (const Error& e) {
            throw Error(file.path() + ": tokenizer.chat_template: " + e.what());
        }
    }
    // No template in the file: recognize the family by its turn tokens.
    if (const gguf::Value* v = file.find("tokenizer.ggml.tokens")) {
        for (const std::string& t : v->as_strings()) {
            if (t == "<start_of_turn>") return ChatTemplate(Family::kGemma3);
            if (t == "<|start_header_id|>") return ChatTemplate(Family::kLlama3);
            if (t == "<|im_start|>") return ChatTemplate(Family::kChatMl);
        }
    }
    throw Error(file.path() +
                ": no tokenizer.chat_template and no known turn tokens; choose one with --chat-template NAME "
                "(chatml, llama3, gemma3)");
}

ChatTemplate ChatTemplate::by_name(const std::string& name) {
    if (name == "chatml") return ChatTemplate(Family::kChatMl);
    if (name == "llama3") return ChatTemplate(Family::kLlama3);
    if (name == "gemma3") return ChatTemplate(Family::kGemma3);
    throw Error("unknown chat template '" + name + "' (known: chatml, llama3, gemma3)");
}

std::vector<std::string> ChatTemplate::names() {
    return {"chatml", "llama3", "gemma3"};
}

std::string ChatTemplate::name() const {
    switch (family_) {
        case Family::kChatMl:
            return "chatml";
        case Family::kLlama3:
            return "llama3";
        case Family::kGemma3:
            return "gemma3";
    }
    return {};
}

bool ChatTemplate::renders_bos() const {
    return family_ != Family::kChatMl;
}

std::vector<std::string> ChatTemplate::stop_strings() const {
    switch (family_) {
        case Family::kChatMl:
            return {"<|im_end|>"};
        case Family::kLlama3:
            return {"<|eot_id|>"};
        case Family::kGemma3:
            return {"<end_of_turn>"};
    }
    return {};
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
    for (size_t i = 0; i < messages.size(); ++i) check_role(messages[i], i);
    std::string out;
    switch (family_) {
        case Family::kChatMl: {
            const bool has_system = !messages.empty() && messages[0].role == "system";
            if (!has_system && !default_system_.empty())
                out += "<|im_start|>system\n" + default_system_ + "<|im_end|>\n";
            for (const ChatMessage& m : messages)
                out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
            if (add_generation_prompt) out += "<|im_start|>assistant\n";
            break;
        }
        case Family::kLlama3: {
            out += "<|begin_of_text|>";
            for (const ChatMessage& m : messages)
                out +=
                    "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content) + "<|eot_id|>";
            if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
            break;
        }
        case Family::kGemma3: {
            out += "<bos>";
            size_t first = 0;
            std::string prefix;  // the system prompt, written at the start of the first user turn
            if (!messages.empty() && messages[0].role == "system") {
                prefix = messages[0].content + "\n\n";
                first = 1;
            }
            for (size_t i = first; i < messages.size(); ++i) {
                const ChatMessage& m = messages[i];
                if (m.role == "system")
                    throw Error("chat message " + std::to_string(i) +
                                ": gemma3 accepts a system message only as the first message");
                out += "<start_of_turn>" + std::string(m.role == "assistant" ? "model" : m.role) + "\n";
                if (i == first) out += prefix;
                out += trim(m.content) + "<end_of_turn>\n";
            }
            if (add_generation_prompt) out += "<start_of_turn>model\n";
            break;
        }
    }
    return out;
}

}  // namespace ead::tokenizer
