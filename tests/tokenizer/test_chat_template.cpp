// Chat templates: a fixed conversation renders to exactly the string of each family's published format.
#include <gtest/gtest.h>

#include "common/test_env.h"
#include "gguf/reader.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace ead::tokenizer {
namespace {

const std::vector<ChatMessage> kConversation = {
    {"system", "You are terse."},
    {"user", "What is 2+2?"},
    {"assistant", "4"},
    {"user", "And 3+3?"},
};

TEST(ChatTemplate, ChatMl) {
    ChatTemplate t = ChatTemplate::by_name("chatml");
    EXPECT_EQ(t.render(kConversation, true),
              "<|im_start|>system\nYou are terse.<|im_end|>\n"
              "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
              "<|im_start|>assistant\n4<|im_end|>\n"
              "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
              "<|im_start|>assistant\n");
    EXPECT_EQ(t.render({{"user", "hi"}}, false), "<|im_start|>user\nhi<|im_end|>\n");
    EXPECT_EQ(t.stop_strings(), std::vector<std::string>{"<|im_end|>"});
    EXPECT_FALSE(t.renders_bos());
}

TEST(ChatTemplate, Llama3) {
    ChatTemplate t = ChatTemplate::by_name("llama3");
    EXPECT_EQ(t.render(kConversation, true),
              "<|begin_of_text|>"
              "<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n");
    EXPECT_EQ(t.stop_strings(), std::vector<std::string>{"<|eot_id|>"});
    EXPECT_TRUE(t.renders_bos());
}

TEST(ChatTemplate, Gemma3) {
    ChatTemplate t = ChatTemplate::by_name("gemma3");
    EXPECT_EQ(t.render(kConversation, true),
              "<bos><start_of_turn>user\nYou are terse.\n\nWhat is 2+2?<end_of_turn>\n"
              "<start_of_turn>model\n4<end_of_turn>\n"
              "<start_of_turn>user\nAnd 3+3?<end_of_turn>\n"
              "<start_of_turn>model\n");
    EXPECT_EQ(t.render({{"user", "  hi  "}}, false), "<bos><start_of_turn>user\nhi<end_of_turn>\n");
    EXPECT_EQ(t.stop_strings(), std::vector<std::string>{"<end_of_turn>"});
    EXPECT_THROW(t.render({{"user", "a"}, {"system", "b"}}, true), Error);
}

TEST(ChatTemplate, DetectAndErrors) {
    EXPECT_EQ(ChatTemplate::detect(std::string("{{ '<|im_start|>' + role }}")).name(), "chatml");
    EXPECT_EQ(ChatTemplate::detect(std::string("{{ '<|start_header_id|>' }}")).name(), "llama3");
    EXPECT_EQ(ChatTemplate::detect(std::string("{{ '<start_of_turn>' }}")).name(), "gemma3");
    try {
        ChatTemplate::detect(std::string("{% for m in messages %}[INST] {{ m.content }}{% endfor %}"));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("unrecognized chat template"), std::string::npos) << e.what();
    }
    EXPECT_THROW(ChatTemplate::by_name("vicuna"), Error);
    EXPECT_THROW(ChatTemplate::by_name("chatml").render({{"tool", "x"}}, true), Error);
}

TEST(ChatTemplate, SmolLm2FromFile) {
    const std::string path = ead::test::real_model("SmolLM2-135M-Instruct.Q4_1.gguf");
    if (path.empty()) GTEST_SKIP() << "SmolLM2-135M-Instruct.Q4_1.gguf not fetched";
    gguf::File f = gguf::File::open(path);
    ChatTemplate t = ChatTemplate::detect(f);
    EXPECT_EQ(t.name(), "chatml");
    // SmolLM2's template writes its own system turn when the conversation has none.
    EXPECT_EQ(
        t.render({{"user", "Hi"}}, true),
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    Tokenizer tok = Tokenizer::from_gguf(f);
    const auto ids = tok.encode(t.render({{"user", "Hi"}}, true), !t.renders_bos(), true);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids[0], tok.find_token("<|im_start|>"));
    for (const std::string& s : t.stop_strings()) EXPECT_TRUE(tok.is_eog(tok.find_token(s))) << s;
}

TEST(ChatTemplate, Gemma3FromFile) {
    const std::string path = ead::test::real_model("gemma-3-270m-q4_k_m.gguf");
    if (path.empty()) GTEST_SKIP() << "gemma-3-270m-q4_k_m.gguf not fetched";
    gguf::File f = gguf::File::open(path);
    ChatTemplate t = ChatTemplate::detect(f);
    EXPECT_EQ(t.name(), "gemma3");
    Tokenizer tok = Tokenizer::from_gguf(f);
    const auto ids = tok.encode(t.render({{"user", "Hi"}}, true), true, true);
    // One BOS only, then <start_of_turn> as a single token.
    ASSERT_GE(ids.size(), 3u);
    EXPECT_EQ(ids[0], tok.bos());
    EXPECT_NE(ids[1], tok.bos());
    EXPECT_EQ(ids[1], tok.find_token("<start_of_turn>"));
    EXPECT_EQ(tok.eot(), tok.find_token("<end_of_turn>"));
    EXPECT_TRUE(tok.is_eog(tok.eot()));
    EXPECT_EQ(tok.decode(ids), "user\nHi\nmodel\n");  // control tokens are not printed
}

}  // namespace
}  // namespace ead::tokenizer
