// Round trips on the real models' vocabularies (and the fixture vocabularies):
//   decode(encode(s)) == s over a corpus of hard strings, and for every id whose token is not control/unused,
//   encode(decode(id)) decodes back to decode(id).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/test_env.h"
#include "gguf/reader.h"
#include "tokenizer/tokenizer.h"

namespace ead::tokenizer {
namespace {

const std::vector<std::string>& hard_strings() {
    static const std::vector<std::string> corpus = {
        "",
        " ",
        "  ",
        "\t",
        "\n",
        "\n\n\n",
        " \t \n \r\n\t\t  \n\n   x",
        "Hello world",
        " Hello  world   ",
        "Hello, y'all! How're you? I'M FINE, THEY'LL SEE, we'd've",
        "12345678901234567890 3.14159 1,000,000 0x7fff 1e-9",
        "Grüße aus Köln — «ça va?» naïve café Ångström",
        "Привет, мир! Ελληνικά Ἀθῆναι ქართული Հայերեն",
        "你好，世界！这是一个测试。日本語のテキスト、カタカナ。한국어 텍스트입니다.",
        "ខ្ញុំស្រលាញ់ភាសាខ្មែរ ภาษาไทย हिन्दी भाषा العربية עברית",
        "e\u0301 a\u0300\u0316 Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334 o\u0308\u0304",
        "🦙🦙 👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 😀😃😄 🇫🇷 ✅ ❤️",
        "\xF0\x9F\x98\x80 emoji at the end \xF0\x9F\xA6\x99",
        "int main(int argc, char** argv) {\n    std::printf(\"%d\\n\", argc);\n    return 0; // done\n}\n",
        "def f(x):\n\tif x > 0:\n\t\treturn [i ** 2 for i in range(x)]\n\treturn {}\n",
        "<|im_start|>user\nhi<|im_end|> <|eot_id|> <start_of_turn>model <end_of_turn> <s> </s> <bos> <eos> "
        "<unk>",
        "<|endoftext|><|begin_of_text|>[INST] <<SYS>> <0x0A> <table><tr><td>x</td></tr></table>",
        "''''''```````\"\"\"\"......!!!!!!?????? ------=======",
        "a\u00a0b\u2002c\u3000d\u200be\ufeff",
        "   leading and trailing spaces   ",
        "\r\n\r\nwindows\r\nline endings\r\n",
        "mixed: abc123DEF456 αβγ789 под123",
        std::string(300, ' ') + std::string(200, '\n') + std::string(100, 'a'),
    };
    return corpus;
}

struct Vocab {
    const char* label;
    std::string path;
};

std::vector<Vocab> vocabs() {
    std::vector<Vocab> v;
    v.push_back({"smollm2", ead::test::real_model("SmolLM2-135M-Instruct.Q4_1.gguf")});
    v.push_back({"gemma3", ead::test::real_model("gemma-3-270m-q4_k_m.gguf")});
    const std::string dir = ead::test::shared_dir();
    for (const char* n :
         {"gpt-2", "llama-spm", "starcoder", "refact", "falcon", "deepseek-llm", "deepseek-coder"}) {
        std::string p = dir.empty() ? "" : dir + "/tokenizer/ggml-vocab-" + n + ".gguf";
        v.push_back({n, !p.empty() && ead::test::file_exists(p) ? p : ""});
    }
    return v;
}

class RoundTrip : public ::testing::TestWithParam<int> {
  protected:
    void SetUp() override {
        vocab_ = vocabs()[GetParam()];
        if (vocab_.path.empty())
            GTEST_SKIP() << vocab_.label << ": file not present (fetch the models / shared dir)";
    }
    Vocab vocab_;
};

TEST_P(RoundTrip, HardStrings) {
    gguf::File f = gguf::File::open(vocab_.path);
    Tokenizer tok = Tokenizer::from_gguf(f);
    size_t pass = 0;
    for (const std::string& s : hard_strings()) {
        for (bool special : {false, true}) {
            const auto ids = tok.encode(s, special, false);
            const std::string back = tok.decode(ids);
            EXPECT_EQ(back, s) << vocab_.label << " add_special=" << special;
            pass += back == s;
        }
    }
    std::printf("[ roundtrip] %-14s hard strings: %zu / %zu\n", vocab_.label, pass,
                2 * hard_strings().size());
}

TEST_P(RoundTrip, EveryToken) {
    gguf::File f = gguf::File::open(vocab_.path);
    Tokenizer tok = Tokenizer::from_gguf(f);
    const int32_t n = tok.n_vocab();
    const int32_t step = ead::test::quick() ? 97 : 1;
    const auto t0 = std::chrono::steady_clock::now();
    size_t checked = 0, pass = 0, skipped = 0;
    for (int32_t id = 0; id < n; id += step) {
        if (tok.is_control(id)) {
            ++skipped;
            continue;
        }
        const std::string text = tok.decode({id});
        const std::string back = tok.decode(tok.encode(text, false, false));
        ++checked;
        if (back == text)
            ++pass;
        else if (checked - pass <= 10)
            ADD_FAILURE() << vocab_.label << " id " << id << " '" << tok.token_text(id) << "'";
    }
    EXPECT_EQ(pass, checked);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[ roundtrip] %-14s every token: %zu / %zu pass (%zu control/unused skipped, %.2f s)\n",
                vocab_.label, pass, checked, skipped, s);
}

INSTANTIATE_TEST_SUITE_P(Vocabs, RoundTrip, ::testing::Range(0, 9), [](const auto& info) {
    std::string n = vocabs()[info.param].label;
    for (char& c : n)
        if (c == '-') c = '_';
    return n;
});

}  // namespace
}  // namespace ead::tokenizer
