// Dequantizing the weights of the conformance files (the same random weights quantized by an independent writer to
// every type) must reproduce the F32 file's tensors within each type's quantization error.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/test_env.h"
#include "gguf/reader.h"
#include "tensor/matmul.h"
#include "tensor/type_traits.h"

namespace ead::tensor {
namespace {

struct Case {
    const char* type_name;
    // ||dequant - f32|| / ||f32|| over one tensor; measured values are ~3/4 of these, a layout mistake gives ~1.
    double max_rel_rms;
};

class ConformanceDequant : public ::testing::TestWithParam<Case> {};

TEST_P(ConformanceDequant, MatchesF32Weights) {
    const std::string dir = test::shared_dir();
    if (dir.empty()) GTEST_SKIP() << "shared conformance data absent";
    const std::string ref_path = dir + "/conformance/llama.F32.gguf";
    const std::string q_path = dir + "/conformance/llama." + GetParam().type_name + ".gguf";
    if (!test::file_exists(ref_path) || !test::file_exists(q_path)) GTEST_SKIP() << "missing " << q_path;
    const auto ref = gguf::File::open(ref_path);
    const auto qf = gguf::File::open(q_path);
    const TensorType type = *gguf::tensor_type_from_name(GetParam().type_name);

    int checked = 0;
    for (const auto& t : qf.tensors()) {
        if (t.type != type) continue;
        const gguf::TensorInfo* r = ref.find_tensor(t.name);
        ASSERT_NE(r, nullptr) << t.name;
        ASSERT_EQ(r->type, TensorType::kF32);
        ASSERT_EQ(r->n_elements(), t.n_elements()) << t.name;
        const int64_t cols = t.ne[0];
        const int64_t rows = t.n_rows();
        const auto* rf = reinterpret_cast<const float*>(r->data);
        std::vector<float> row(static_cast<size_t>(cols));
        double err = 0, norm = 0;
        for (int64_t i = 0; i < rows; ++i) {
            dequantize_row(type, t.data, cols, i, row.data());
            for (int64_t c = 0; c < cols; ++c) {
                const double e = static_cast<double>(row[c]) - rf[i * cols + c];
                err += e * e;
                norm += static_cast<double>(rf[i * cols + c]) * rf[i * cols + c];
            }
        }
        const double rel = std::sqrt(err / norm);
        EXPECT_LT(rel, GetParam().max_rel_rms) << t.name;
        ++checked;
    }
    EXPECT_GT(checked, 0) << "no tensor of type " << GetParam().type_name;
}

INSTANTIATE_TEST_SUITE_P(AllTypes, ConformanceDequant,
                         ::testing::Values(Case{"F16", 5e-4}, Case{"BF16", 4e-3}, Case{"Q8_0", 0.008},
                                           Case{"Q5_0", 0.055}, Case{"Q5_1", 0.05}, Case{"Q4_0", 0.1},
                                           Case{"Q4_1", 0.1}, Case{"Q6_K", 0.025}, Case{"Q5_K", 0.05},
                                           Case{"Q4_K", 0.09}, Case{"Q3_K", 0.2}, Case{"Q2_K", 0.4}),
                         [](const auto& info) { return std::string(info.param.type_name); });

}  // namespace
}  // namespace ead::tensor
