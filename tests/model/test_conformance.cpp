// Forward-pass conformance: logits of the 25 random-weight models in shared/conformance against the reference
// engine's, within each file's tolerance (normalized RMS per position) and with top-1 checks where the
// reference's top-2 gap is wide (see shared/conformance/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/test_env.h"
#include "model/context.h"
#include "model/model.h"
#include "model_test_util.h"

namespace ead::model {
namespace {

std::string conformance_dir() {
    const std::string d = test::shared_dir();
    if (d.empty()) return d;
    const std::string c = d + "/conformance";
    return test::file_exists(c + "/manifest.json") ? c : std::string();
}

nlohmann::json manifest() {
    std::ifstream in(conformance_dir() + "/manifest.json");
    return nlohmann::json::parse(in);
}

TEST(Conformance, EveryFileWithinTolerance) {
    if (conformance_dir().empty()) GTEST_SKIP() << "shared/conformance not found (set EAD_SHARED_DIR)";
    const nlohmann::json m = manifest();
    const std::vector<int32_t> tokens = m["tokens"].get<std::vector<int32_t>>();
    const int n = static_cast<int>(tokens.size());
    std::printf("%-18s %10s %8s %6s\n", "file", "max nRMS", "T", "pass");
    for (const auto& f : m["files"]) {
        const std::string name = f["name"];
        SCOPED_TRACE(name);
        const double tol = f["tolerance"];
        const int n_vocab = f["n_vocab"];
        auto model = Model::load(conformance_dir() + "/" + f["gguf"].get<std::string>());
        ASSERT_EQ(model->n_vocab(), n_vocab);
        ContextOptions co;
        co.n_ctx = 64;
        co.kv_type = tensor::TensorType::kF32;  // as the reference
        co.n_threads = 2;
        Context ctx(model, co);
        const float* ours = ctx.eval(tokens, /*all_logits=*/true);
        const std::vector<float> ref = read_f32(conformance_dir() + "/" + f["logits"].get<std::string>());
        ASSERT_EQ(ref.size(), static_cast<size_t>(n) * n_vocab);
        double max_nrms = 0;
        for (int t = 0; t < n; ++t) {
            const double e = nrms(ours + static_cast<size_t>(t) * n_vocab, ref.data() + static_cast<size_t>(t) * n_vocab,
                                  n_vocab);
            max_nrms = std::max(max_nrms, e);
            EXPECT_LE(e, tol) << "position " << t;
        }
        const std::vector<int> top1 = f["top1"].get<std::vector<int>>();
        for (int t : f["top1_checked_positions"].get<std::vector<int>>()) {
            EXPECT_EQ(argmax(ours + static_cast<size_t>(t) * n_vocab, n_vocab), top1[t]) << "position " << t;
        }
        std::printf("%-18s %10.3g %8.3g %6s\n", name.c_str(), max_nrms, tol, max_nrms <= tol ? "yes" : "NO");
    }
}

}  // namespace
}  // namespace ead::model
