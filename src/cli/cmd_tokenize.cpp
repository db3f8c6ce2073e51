// `ead tokenize` and `ead detokenize`: text <-> token ids with a GGUF file's tokenizer (a vocab-only file is
// enough).
//
//   ead tokenize -m MODEL [--ids|--pieces] [--no-bos] [--parse-special] [--tokenizer-pre NAME]
//                [--chat [--chat-template NAME] [--system TEXT]] (TEXT | -f FILE)
//   ead detokenize -m MODEL [--special] IDS          IDS: "1,2,3", "1 2 3" or "[1, 2, 3]"
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "gguf/reader.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace ead::cli {
namespace {

std::string json_string(const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("-f " + path + ": cannot open the file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<int32_t> parse_ids(const std::string& arg, int32_t n_vocab) {
    std::vector<int32_t> ids;
    std::string tok;
    auto flush = [&] {
        if (tok.empty()) return;
        size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(tok, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != tok.size()) throw std::runtime_error("IDS: '" + tok + "' is not an integer token id");
        if (v < 0 || v >= n_vocab)
            throw std::runtime_error("IDS: token id " + tok + " is out of range [0, " +
                                     std::to_string(n_vocab) + ")");
        ids.push_back(static_cast<int32_t>(v));
        tok.clear();
    };
    for (char c : arg) {
        if (c == ',' || c == '[' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r')
            flush();
        else
            tok += c;
    }
    flush();
    return ids;
}

struct TokenizeArgs {
    std::string model, text, file, pre, chat_template, system;
    bool ids = false, pieces = false, no_bos = false, parse_special = false, chat = false;
};

const bool kRegisteredTokenize = register_command(
    {"tokenize", "Split text into token ids with a GGUF file's tokenizer", [](CLI::App& app) -> Runner {
         auto a = std::make_shared<TokenizeArgs>();
         app.add_option("-m,--model", a->model, "GGUF file (a vocab-only file is enough)")->required();
         auto* text_opt =
             app.add_option("-p,--prompt,text", a->text, "the text to tokenize (-p as in generate)");
         app.add_option("-f,--file", a->file, "read the text from this file")->excludes(text_opt);
         auto* ids = app.add_flag("--ids", a->ids, "print the ids as one JSON array on one line");
         app.add_flag("--pieces", a->pieces, "print the token pieces as one JSON array of strings")
             ->excludes(ids);
         app.add_flag("--no-bos", a->no_bos, "do not add BOS/EOS even when the vocabulary asks for them");
         app.add_flag("--parse-special", a->parse_special,
                      "recognize control tokens written in the text (<|im_start|>, <start_of_turn>, ...)");
         app.add_option(
             "--tokenizer-pre", a->pre,
             "use this pre-tokenizer instead of the file's tokenizer.ggml.pre (e.g. llama-bpe, qwen2)");
         app.add_flag(
             "--chat", a->chat,
             "treat TEXT as a user message: render it with the chat template (implies --parse-special)");
         app.add_option("--chat-template", a->chat_template,
                        "with --chat: chatml, llama3 or gemma3 (default: detect)");
         app.add_option("--system", a->system, "with --chat: a system message");
         return [a, text_opt] {
             if (text_opt->count() == 0 && a->file.empty())
                 throw std::runtime_error("give the TEXT or -f FILE");
             std::string text = a->file.empty() ? a->text : read_text_file(a->file);
             gguf::File f = gguf::File::open(a->model);
             tokenizer::TokenizerOptions opt;
             opt.pre_override = a->pre;
             tokenizer::Tokenizer tok = tokenizer::Tokenizer::from_gguf(f, opt);
             bool parse_special = a->parse_special;
             if (a->chat) {
                 tokenizer::ChatTemplate t = a->chat_template.empty()
                                                 ? tokenizer::ChatTemplate::detect(f)
                                                 : tokenizer::ChatTemplate::by_name(a->chat_template);
                 std::vector<tokenizer::ChatMessage> msgs;
                 if (!a->system.empty()) msgs.push_back({"system", a->system});
                 msgs.push_back({"user", text});
                 text = t.render(msgs, true);
                 parse_special = true;
             }
             const std::vector<int32_t> out = tok.encode(text, !a->no_bos, parse_special);
             if (a->ids) {
                 std::string s = "[";
                 for (size_t i = 0; i < out.size(); ++i) s += (i ? ", " : "") + std::to_string(out[i]);
                 std::printf("%s]\n", s.c_str());
             } else if (a->pieces) {
                 std::string s = "[";
                 for (size_t i = 0; i < out.size(); ++i)
                     s += (i ? ", " : "") + json_string(tok.token_to_piece(out[i]));
                 std::printf("%s]\n", s.c_str());
             } else {
                 for (int32_t id : out)
                     std::printf("%7d -> %s\n", id, json_string(tok.token_to_piece(id)).c_str());
                 std::printf("%zu tokens (%s, pre %s)\n", out.size(), tok.model().c_str(), tok.pre().c_str());
             }
             return 0;
         };
     }});

struct DetokenizeArgs {
    std::string model, ids, pre;
    bool special = false;
};

const bool kRegisteredDetokenize = register_command(
    {"detokenize", "Turn token ids back into text with a GGUF file's tokenizer", [](CLI::App& app) -> Runner {
         auto a = std::make_shared<DetokenizeArgs>();
         app.add_option("-m,--model", a->model, "GGUF file (a vocab-only file is enough)")->required();
         app.add_option("ids", a->ids, "token ids: 1,2,3 or a JSON array [1, 2, 3]")->required();
         app.add_flag("--special", a->special, "print control tokens (BOS, <|im_end|>, ...) too");
         app.add_option("--tokenizer-pre", a->pre,
                        "use this pre-tokenizer instead of the file's tokenizer.ggml.pre");
         return [a] {
             gguf::File f = gguf::File::open(a->model);
             tokenizer::TokenizerOptions opt;
             opt.pre_override = a->pre;
             tokenizer::Tokenizer tok = tokenizer::Tokenizer::from_gguf(f, opt);
             const std::string text = tok.decode(parse_ids(a->ids, tok.n_vocab()), a->special);
             std::fwrite(text.data(), 1, text.size(), stdout);
             std::printf("\n");
             return 0;
         };
     }});

}  // namespace
}  // namespace ead::cli
