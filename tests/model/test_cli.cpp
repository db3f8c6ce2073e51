// The model stage's subcommands end to end on a small synthetic model: make-model, logits, perplexity, bench.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/test_env.h"
#include "model/context.h"
#include "model/fingerprint.h"
#include "model/model.h"
#include "model_test_util.h"

namespace ead::model {
namespace {

class CliTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = (std::filesystem::temp_directory_path() / ("ead_test_cli_model_" + std::to_string(::getpid()))).string();
        std::filesystem::create_directories(dir_);
        model_ = dir_ + "/m.gguf";
        const auto r = test::run_cli("make-model -o " + model_ +
                                     " --arch qwen3 --layers 2 --embd 64 --heads 4 --kv-heads 2 --ff 128 "
                                     "--vocab 400 --type Q8_0 --seed 3");
        ASSERT_EQ(r.exit_code, 0) << r.out;
    }
    static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
    static std::string dir_, model_;
};
std::string CliTest::dir_, CliTest::model_;

TEST_F(CliTest, MakeModelWritesALoadableModel) {
    auto m = Model::load(model_);
    EXPECT_EQ(m->hparams().arch, "qwen3");
    EXPECT_EQ(m->n_vocab(), 400);
    EXPECT_EQ(m->layer(0).wq.type, gguf::TensorType::kQ8_0);
    const auto bad = test::run_cli("make-model -o " + dir_ + "/x.gguf --preset nope");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.out.find("unknown preset 'nope'"), std::string::npos) << bad.out;
}

TEST_F(CliTest, LogitsWritesEveryPositionAndItsFingerprint) {
    const std::string out = dir_ + "/logits.f32";
    const auto r = test::run_cli("logits -m " + model_ + " --tokens 1,5,300,7 -o " + out + " -t 2");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const std::vector<float> logits = read_f32(out);
    ASSERT_EQ(logits.size(), 4u * 400);
    // The same numbers as the library (F32 KV cache is the CLI's default).
    auto m = Model::load(model_);
    Context ctx(m, {.n_ctx = 8, .kv_type = tensor::TensorType::kF32, .n_threads = 2});
    const float* ref = ctx.eval({1, 5, 300, 7}, true);
    EXPECT_LE(nrms(logits.data(), ref, 1600), 1e-6);
    EXPECT_NE(r.out.find("fingerprint: " + logits_fingerprint(logits.data(), logits.size())), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find(std::to_string(argmax(ref + 3 * 400, 400))), std::string::npos) << r.out;
    // Text input through the model's vocabulary.
    const auto p = test::run_cli("logits -m " + model_ + " -p 'hello world'");
    EXPECT_EQ(p.exit_code, 0) << p.out;
    EXPECT_NE(p.out.find("top-5"), std::string::npos) << p.out;
    // Errors name the problem.
    const auto e1 = test::run_cli("logits -m " + model_ + " --tokens 1,x");
    EXPECT_EQ(e1.exit_code, 1);
    EXPECT_NE(e1.out.find("'x' is not a token id"), std::string::npos) << e1.out;
    const auto e2 = test::run_cli("logits -m " + model_ + " --tokens 1,400");
    EXPECT_EQ(e2.exit_code, 1);
    EXPECT_NE(e2.out.find("token 400"), std::string::npos) << e2.out;
}

TEST_F(CliTest, PerplexityPrintsAnIntervalAndSpeed) {
    const std::string text = dir_ + "/text.txt";
    {
        std::ofstream f(text);
        for (int i = 0; i < 40; ++i) f << "the quick brown fox jumps over the lazy dog " << i << ". ";
    }
    const auto r = test::run_cli("perplexity -m " + model_ + " -f " + text + " --ctx 64 --batch 16 -t 2");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("perplexity: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("95% CI"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("tokens/s"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fingerprint: "), std::string::npos) << r.out;
    const auto e = test::run_cli("perplexity -m " + model_ + " -f " + text + " --ctx 100000");
    EXPECT_EQ(e.exit_code, 1) << e.out;
    EXPECT_NE(e.out.find("fewer than one window"), std::string::npos) << e.out;
}

TEST_F(CliTest, BenchJsonHasLlamaBenchFields) {
    const auto r = test::run_cli("bench -m " + model_ + " -t 1 -p 8 -n 4 -r 2 --json --bw-mib 16");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const size_t start = r.out.find("[\n");  // after the log lines on stderr
    ASSERT_NE(start, std::string::npos) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(start));
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 2u);
    for (const char* k : {"model_filename", "model_type", "n_threads", "n_prompt", "n_gen", "avg_ts", "stddev_ts",
                          "samples_ts", "median_ts", "bandwidth_fraction"}) {
        EXPECT_TRUE(j[0].contains(k)) << k;
    }
    EXPECT_EQ(j[0]["n_prompt"], 8);
    EXPECT_EQ(j[1]["n_gen"], 4);
    EXPECT_EQ(j[1]["samples_ts"].size(), 2u);
    EXPECT_GT(j[1]["bandwidth_fraction"].get<double>(), 0.0);
    EXPECT_TRUE(j[0]["bandwidth_fraction"].is_null());  // prompt processing: no weights-per-token figure
    EXPECT_GT(j[0]["bandwidth_gbs"].get<double>(), 0.0);  // the read baseline, measured beside every test
    const auto md = test::run_cli("bench -m " + model_ + " -t 1 -p 8 -n 4 -r 1 --bw-mib 16");
    ASSERT_EQ(md.exit_code, 0) << md.out;
    EXPECT_NE(md.out.find("| tg4 |"), std::string::npos) << md.out;
}

}  // namespace
}  // namespace ead::model
