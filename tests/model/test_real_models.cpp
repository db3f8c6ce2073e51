// The real models in models/ (fetched by tools/fetch_models.py; skipped when absent): they load, answer a short
// chat question greedily with coherent text, and have a sane perplexity on an English text (GPL-3).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/test_env.h"
#include "model/context.h"
#include "model/model.h"
#include "model/perplexity.h"
#include "model_test_util.h"
#include "tokenizer/tokenizer.h"

namespace ead::model {
namespace {

struct Prompt {
    const char* text;
    const char* expected;  // a word the greedy answer must contain; nullptr: printed only
};

struct RealModel {
    const char* file;
    std::vector<Prompt> prompts;
};

// gemma-3-270m-q4_k_m.gguf is the pretrained (base) model: no chat template, and asked in the Gemma chat format
// it repeats the question. Its chat answer is printed; the check uses a question/answer completion.
const RealModel kModels[] = {
    {"SmolLM2-135M-Instruct.Q4_1.gguf",
     {{"<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n", "Paris"}}},
    {"gemma-3-270m-q4_k_m.gguf",
     {{"<bos><start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n", nullptr},
      {"<bos>Question: What is the capital of France?\nAnswer:", "Paris"}}},
};

std::string greedy(Context& ctx, const tokenizer::Tokenizer& tok, const std::string& prompt, int max_tokens) {
    const std::vector<int32_t> ids = tok.encode(prompt, /*add_special=*/true, /*parse_special=*/true);
    const float* logits = ctx.eval(ids, false);
    std::vector<int32_t> out;
    for (int i = 0; i < max_tokens; ++i) {
        const int32_t next = argmax(logits, ctx.n_vocab());
        if (tok.is_eog(next)) break;
        out.push_back(next);
        logits = ctx.eval({next}, false);
    }
    return tok.decode(out);
}

TEST(RealModels, AnswerAChatQuestionGreedily) {
    int found = 0;
    for (const RealModel& rm : kModels) {
        const std::string path = test::real_model(rm.file);
        if (path.empty()) continue;
        ++found;
        SCOPED_TRACE(rm.file);
        auto model = Model::load(path);
        const auto tok = tokenizer::Tokenizer::from_gguf(model->file());
        Context ctx(model, {.n_ctx = 256, .n_threads = 2});
        for (const Prompt& p : rm.prompts) {
            ctx.reset();
            const std::string answer = greedy(ctx, tok, p.text, test::quick() ? 8 : 16);
            std::printf("%s\n  prompt: %s\n  greedy: %s\n", rm.file, p.text, answer.c_str());
            if (p.expected) {
                EXPECT_NE(answer.find(p.expected), std::string::npos) << answer;
            }
        }
    }
    if (!found) GTEST_SKIP() << "no real model in " << test::models_dir() << " (run tools/fetch_models.py)";
}

TEST(RealModels, PerplexityOnEnglishTextIsSane) {
    const std::string text_path = "/usr/share/common-licenses/GPL-3";
    if (!test::file_exists(text_path)) GTEST_SKIP() << text_path << " not found";
    std::ifstream in(text_path);
    std::stringstream ss;
    ss << in.rdbuf();
    int found = 0;
    for (const RealModel& rm : kModels) {
        const std::string path = test::real_model(rm.file);
        if (path.empty()) continue;
        ++found;
        SCOPED_TRACE(rm.file);
        auto model = Model::load(path);
        const auto tok = tokenizer::Tokenizer::from_gguf(model->file());
        const std::vector<int32_t> ids = tok.encode(ss.str(), true, false);
        Context ctx(model, {.n_ctx = 256, .n_threads = 2, .n_batch = 128});
        PerplexityOptions po;
        po.window = test::quick() ? 128 : 256;
        po.batch = 128;
        po.bos = tok.add_bos() ? tok.bos() : -1;
        po.max_windows = test::quick() ? 1 : 2;
        const PerplexityResult r = perplexity(ctx, ids, po);
        std::printf("%s: GPL-3 perplexity %.3f (95%% CI %.3f..%.3f) over %lld tokens, %.1f tokens/s\n", rm.file,
                    r.ppl, r.ppl_lo, r.ppl_hi, static_cast<long long>(r.n_scored), r.n_evaluated / r.seconds);
        EXPECT_GT(r.ppl, 1.0);
        EXPECT_LT(r.ppl, 50.0);
    }
    if (!found) GTEST_SKIP() << "no real model in " << test::models_dir() << " (run tools/fetch_models.py)";
}

}  // namespace
}  // namespace ead::model
