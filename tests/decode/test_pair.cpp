#include <gtest/gtest.h>

#include <string>

#include "decode/pair.h"

namespace ead::decode {
namespace {

VocabInfo qwen_like(int32_t n_tokens) {
    VocabInfo v;
    v.model = "gpt2";
    v.pre = "qwen2";
    v.bos = 151643;
    v.eos = 151645;
    v.eot = 151645;
    v.tokens.reserve(static_cast<size_t>(n_tokens));
    for (int32_t i = 0; i < n_tokens; ++i) {
        // (std::string::append rather than "literal" + std::string: GCC 12 warns falsely on the latter.)
        std::string t = i < 151643 ? "t" : (i < 151665 ? "<|special_" : "[PAD");
        t.append(std::to_string(i)).append(i < 151643 ? "" : (i < 151665 ? "|>" : "]"));
        v.tokens.push_back(std::move(t));
    }
    return v;
}

std::string message_of(const VocabInfo& a, const VocabInfo& b) {
    try {
        check_pair(a, b);
    } catch (const PairError& e) {
        return e.what();
    }
    return "";
}

TEST(Pair, IdenticalVocabulariesAreCompatible) {
    const VocabInfo v = qwen_like(151936);
    EXPECT_EQ(check_pair(v, v).n_vocab_common, 151936);
}

TEST(Pair, PaddingRowsAreAllowed) {
    // Qwen2.5 1.5B (151936) with 14B (152064): the extra ids are "[PADnnn]" placeholders.
    const VocabInfo s = qwen_like(151936), l = qwen_like(152064);
    EXPECT_EQ(check_pair(s, l).n_vocab_common, 151936);
    EXPECT_EQ(check_pair(l, s).n_vocab_common, 151936);
    // Extra output rows without any token text are padding too.
    VocabInfo rows = qwen_like(151936);
    rows.n_vocab = 152064;
    EXPECT_EQ(check_pair(s, rows).n_vocab_common, 151936);
}

TEST(Pair, ExtraRealTokensAreRejected) {
    const VocabInfo s = qwen_like(151936);
    VocabInfo l = qwen_like(152064);
    l.tokens[152000] = "hello";
    EXPECT_EQ(
        message_of(s, l),
        "model pair: vocabulary sizes differ (small 151936 tokens, 151936 rows; large 152064 tokens, 152064 "
        "rows) and token 152000 'hello' of the large model, beyond the common 151936, is not padding");
}

TEST(Pair, UnusedTokenTypeIsPadding) {
    VocabInfo s = qwen_like(151936), l = qwen_like(151940);
    for (int i = 151936; i < 151940; ++i) l.tokens[i] = std::string("x").append(std::to_string(i));
    EXPECT_FALSE(message_of(s, l).empty());
    l.token_types.assign(151940, 1);
    for (int i = 151936; i < 151940; ++i) l.token_types[i] = 5;
    EXPECT_EQ(message_of(s, l), "");
}

TEST(Pair, DifferentTokenTextNamesFirstId) {
    VocabInfo s = qwen_like(1000), l = qwen_like(1000);
    s.bos = l.bos = 1;
    s.eos = l.eos = s.eot = l.eot = 2;
    l.tokens[500] = "\xC4\xA0the\n";
    l.tokens[700] = "other";
    EXPECT_EQ(message_of(s, l), "model pair: token 500 differs: small 't500', large '\xC4\xA0the\\n'");
}

TEST(Pair, DifferentTokenizersAreRejected) {
    VocabInfo s = qwen_like(100), l = qwen_like(100);
    s.bos = l.bos = 1;
    s.eos = l.eos = s.eot = l.eot = 2;
    l.model = "llama";
    EXPECT_EQ(message_of(s, l), "model pair: different tokenizer models: small 'gpt2', large 'llama'");
    l.model = "gpt2";
    l.pre = "llama-bpe";
    EXPECT_EQ(message_of(s, l), "model pair: different pre-tokenizers: small 'qwen2', large 'llama-bpe'");
    l.pre = "qwen2";
    l.eos = 3;
    EXPECT_EQ(message_of(s, l), "model pair: different EOS token ids: small 2, large 3");
    l.eos = 2;
    l.eot = -1;
    EXPECT_EQ(message_of(s, l), "model pair: different EOT token ids: small 2, large none");
    l.eot = 2;
    l.bos = 0;
    EXPECT_EQ(message_of(s, l), "model pair: different BOS token ids: small 1, large 0");
}

TEST(Pair, PaddingNames) {
    VocabInfo v;
    v.tokens = {"a", "[PAD151936]", "<|PAD_TOKEN|>", "<pad>", "<unused12>", "<|reserved_special_token_7|>",
                "",  "PAD",         "<|im_start|>"};
    const bool expected[] = {false, true, true, true, true, true, true, false, false};
    for (int32_t i = 0; i < 9; ++i) EXPECT_EQ(is_padding_token(v, i), expected[i]) << v.tokens[i];
    EXPECT_TRUE(is_padding_token(v, 9));  // a row beyond the token list
}

TEST(Pair, QuoteEscapesControlCharacters) {
    EXPECT_EQ(quote_token("a\tb\x01'"), "'a\\tb\\x01\\''");
}

}  // namespace
}  // namespace ead::decode
