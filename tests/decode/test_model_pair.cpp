// The decode stage over real model::Contexts: the ModelSequence adapter, pair loading and the pair check on
// GGUF files, and `ead generate` — on small random-weight models written for the test (model/synthetic.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "common/test_env.h"
#include "decode/model_sequence.h"
#include "decode/strategy.h"
#include "model/synthetic.h"

namespace ead::decode {
namespace {

namespace fs = std::filesystem;

struct Files {
    std::string dir, small, large, other_vocab;
};

const Files& files() {
    static const Files f = [] {
        Files x;
        x.dir = (fs::temp_directory_path() / ("ead_test_decode_" + std::to_string(::getpid()))).string();
        fs::create_directories(x.dir);
        model::SyntheticSpec s;
        s.n_layer = 2;
        s.n_embd = 64;
        s.n_vocab = 512;
        s.seed = 11;
        x.small = x.dir + "/small.gguf";
        model::write_synthetic_model(s, x.small);
        model::SyntheticSpec l = s;
        l.n_layer = 3;
        l.n_embd = 96;
        l.n_ff = 192;
        l.seed = 22;
        x.large = x.dir + "/large.gguf";
        model::write_synthetic_model(l, x.large);
        model::SyntheticSpec o = s;
        o.n_vocab = 600;
        x.other_vocab = x.dir + "/other_vocab.gguf";
        model::write_synthetic_model(o, x.other_vocab);
        return x;
    }();
    return f;
}

class ModelPairTest : public ::testing::Test {
  protected:
    static void TearDownTestSuite() {
        std::error_code ec;
        fs::remove_all(files().dir, ec);
    }
};

model::ContextOptions context_options() {
    model::ContextOptions co;
    co.n_ctx = 256;
    co.n_threads = 1;
    co.kv_type = tensor::TensorType::kF32;
    return co;
}

DecodeParams params(const std::string& strategy) {
    DecodeParams p;
    p.strategy = strategy;
    p.n_predict = 24;
    p.seed = 3;
    return p;
}

TEST_F(ModelPairTest, InvariantsOnRealContexts) {
    ModelPair pair = load_pair(files().small, files().large, context_options());
    ASSERT_TRUE(pair.large);
    EXPECT_EQ(pair.info.n_vocab_common, 512);
    Sequence* s = pair.small_sequence();
    Sequence* l = pair.large_sequence();
    EXPECT_EQ(s->n_params(), pair.small.model->n_params());
    EXPECT_EQ(s->forward_flops(3, 7), pair.small.model->flops(3, 7));
    const std::vector<int32_t> prompt = pair.small.tokenizer->encode("hello world", true, false);
    ASSERT_FALSE(prompt.empty());

    const auto small_only = generate(params("small"), s, l, prompt);
    const auto large_only = generate(params("large"), s, l, prompt);
    ASSERT_EQ(small_only.tokens.size(), 24u);
    EXPECT_NE(small_only.tokens, large_only.tokens);

    DecodeParams p = params("ead");
    p.tau = std::numeric_limits<double>::infinity();
    EXPECT_EQ(generate(p, s, l, prompt).tokens, small_only.tokens);
    p.tau = -1;
    p.start_large = true;
    EXPECT_EQ(generate(p, s, l, prompt).tokens, large_only.tokens);

    // Batched verification must reproduce the large model's one-token decode steps (bit-identical logits are
    // not guaranteed across batch sizes; on these F32 models they agree to far below the gaps between top
    // logits).
    p = params("spec");
    p.draft_max = 4;
    const auto spec = generate(p, s, l, prompt);
    EXPECT_EQ(spec.tokens, large_only.tokens);
    // (Random-weight models rarely agree: at worst one verification per token, after the prompt.)
    EXPECT_LE(spec.stats.forward_passes[1], large_only.stats.forward_passes[1] + 1);

    // ead vs ead-spec around the median entropy, so that both models take turns.
    std::vector<double> h;
    for (const auto& t : small_only.trace) h.push_back(t.rolling_entropy);
    std::sort(h.begin(), h.end());
    p = params("ead");
    p.tau = h[h.size() / 2];
    p.min_dwell = 3;
    const auto ead = generate(p, s, l, prompt);
    p.strategy = "ead-spec";
    const auto ead_spec = generate(p, s, l, prompt);
    EXPECT_EQ(ead_spec.tokens, ead.tokens);
    EXPECT_EQ(ead_spec.stats.tokens, ead.stats.tokens);
    for (size_t i = 0; i < ead.trace.size() && i < ead_spec.trace.size(); ++i)
        EXPECT_NEAR(ead_spec.trace[i].entropy, ead.trace[i].entropy, 1e-3) << i;
    EXPECT_GT(ead.stats.measured_cost_ratio(), 0.0);
    EXPECT_GT(ead.stats.nominal_cost_ratio(), 0.0);
}

TEST_F(ModelPairTest, VocabularyMismatchNamesBothFiles) {
    try {
        load_pair(files().small, files().other_vocab, context_options());
        FAIL() << "expected PairError";
    } catch (const PairError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("vocabulary sizes differ (small 512 tokens"), std::string::npos) << m;
        EXPECT_NE(m.find("token 512 "), std::string::npos) << m;
        EXPECT_NE(m.find(files().small), std::string::npos) << m;
        EXPECT_NE(m.find(files().other_vocab), std::string::npos) << m;
    }
}

TEST_F(ModelPairTest, VocabInfoFromTokenizer) {
    ModelPair pair = load_pair(files().small, "", context_options());
    EXPECT_FALSE(pair.large);
    const VocabInfo v = vocab_info(*pair.small.tokenizer, pair.small.model->n_vocab());
    EXPECT_EQ(v.model, "llama");
    EXPECT_EQ(v.tokens.size(), 512u);
    EXPECT_EQ(v.bos, pair.small.tokenizer->bos());
    EXPECT_EQ(check_pair(v, v).n_vocab_common, 512);
}

TEST_F(ModelPairTest, CliGenerateJson) {
    const auto r =
        test::run_cli("generate -m " + files().small + " -M " + files().large +
                      " --strategy ead-spec --tau 8 --min-dwell 2 -p 'hello world' -n 8 -t 1 -c 128 "
                      "--seed 5 --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const size_t start = r.out.find('{');
    ASSERT_NE(start, std::string::npos) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(start));
    ASSERT_EQ(j["tokens"].size(), 8u);
    for (const auto& t : j["tokens"]) {
        for (const char* k : {"id", "text", "model", "entropy", "rolling_entropy"})
            EXPECT_TRUE(t.contains(k)) << k;
        EXPECT_TRUE(t["model"] == "small" || t["model"] == "large");
    }
    EXPECT_TRUE(j["switches"].is_array());
    EXPECT_EQ(j["stats"]["n_generated"], 8);
    EXPECT_EQ(j["stats"]["seed"], 5);
    EXPECT_EQ(j["params"]["strategy"], "ead-spec");
    EXPECT_EQ(j["params"]["tau"], 8.0);
    EXPECT_EQ(j["params"]["min_dwell"], 2);
}

TEST_F(ModelPairTest, CliGenerateText) {
    const auto r = test::run_cli("generate -m " + files().small + " -M " + files().large +
                                 " --strategy ead --tau 8 -p 'hello' -n 6 -t 1 -c 128 --color always");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("legend:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\033[32m"), std::string::npos);
    EXPECT_NE(r.out.find("--- ead: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("params:"), std::string::npos);
    EXPECT_NE(r.out.find("tau=8"), std::string::npos);

    const auto missing = test::run_cli("generate -m " + files().small + " --strategy ead -p hi -n 2");
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.out.find("error: strategy 'ead' needs a large model (-M LARGE)"), std::string::npos)
        << missing.out;
    const auto bad = test::run_cli("generate -m " + files().small + " --strategy small -p hi --window 0");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.out.find("error: decode parameter 'window': value 0 is out of range [1, 4096]"),
              std::string::npos)
        << bad.out;
}

// A prompt that leaves no room in the context is an error naming both lengths (as the server's 400), not a
// run that stops at once with nothing generated and exit code 0.
TEST_F(ModelPairTest, CliGeneratePromptLongerThanContext) {
    std::string text;
    for (int i = 0; i < 40; ++i) text += "hello world ";
    for (const char* strategy : {"small", "ead"}) {
        const auto r = test::run_cli("generate -m " + files().small + " -M " + files().large +
                                     " --strategy " + strategy + " -p '" + text + "' -n 4 -t 1 -c 16");
        EXPECT_EQ(r.exit_code, 1) << strategy << "\n" << r.out;
        EXPECT_NE(r.out.find("error: the prompt has "), std::string::npos) << strategy << "\n" << r.out;
        EXPECT_NE(r.out.find(" tokens but the context length is 16 tokens"), std::string::npos) << r.out;
    }
    const auto fits =
        test::run_cli("generate -m " + files().small + " --strategy small -p 'hello' -n 2 -t 1 -c 16");
    EXPECT_EQ(fits.exit_code, 0) << fits.out;
}

}  // namespace
}  // namespace ead::decode
