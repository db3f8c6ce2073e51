// Chat templates: an OpenAI-style list of messages -> the prompt text of a model family.
//
//   ChatTemplate t = ChatTemplate::detect(file);                  // or ChatTemplate::by_name("chatml")
//   std::string prompt = t.render({{"system", "Be brief."}, {"user", "Hi"}}, /*add_generation_prompt=*/true);
//   auto ids = tok.encode(prompt, /*add_special=*/!t.renders_bos(), /*parse_special=*/true);
//
// Families (names for by_name / --chat-template):
//   chatml  Qwen, SmolLM2:  <|im_start|>ROLE\nCONTENT<|im_end|>\n ... <|im_start|>assistant\n
//           (the default system prompt of the file's template, when it has one, is used when none is given)
//   llama3  Llama 3:        <|begin_of_text|><|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>
//   ... gemma3  Gemma 3: <bos><start_of_turn>user\nSYSTEM\n\nCONTENT<end_of_turn>\n<start_of_turn>model\n ...
//           (no system role: the system prompt opens the first user turn; "assistant" is written "model")
// Roles are "system", "user" and "assistant"; others raise tokenizer::Error naming the role.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/error.h"

namespace ead::gguf {
class File;
}

namespace ead::tokenizer {

struct ChatMessage {
    std::string role;  // "system" | "user" | "assistant"
    std::string content;
};

class ChatTemplate {
  public:
    // Recognizes `tokenizer.chat_template` (<|im_start|> -> chatml, <|start_header_id|> -> llama3,
    // <start_of_turn> -> gemma3); when the file has no template, recognizes the vocabulary's turn tokens
    // instead. Throws Error quoting the start of the template when it is not recognized.
    static ChatTemplate detect(const gguf::File& file);
    // Recognizes a template string (Jinja source).
    static ChatTemplate detect(const std::string& jinja);
    // "chatml", "llama3" or "gemma3"; throws Error naming `name` and the known names.
    static ChatTemplate by_name(const std::string& name);
    static std::vector<std::string> names();

    // The prompt for `messages`; with `add_generation_prompt`, ends with the header of an assistant turn.
    std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
    // Texts that end an assistant turn (tokens with these texts are end-of-generation).
    std::vector<std::string> stop_strings() const;
    std::string name() const;
    // True when render() starts with the BOS token's text (llama3, gemma3): encode the prompt with
    // parse_special and do not add another BOS (Tokenizer::encode skips a second one anyway).
    bool renders_bos() const;
    // The system prompt used when the conversation has none ("" for none).
    const std::string& default_system() const { return default_system_; }

  private:
    enum class Family { kChatMl, kLlama3, kGemma3 };
    explicit ChatTemplate(Family f) : family_(f) {}
    Family family_;
    std::string default_system_;
};

}  // namespace ead::tokenizer
