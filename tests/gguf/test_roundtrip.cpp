// Writer → reader round trip of every metadata value type and every tensor type.
#include <gtest/gtest.h>

#include <cstring>

#include <random>

#include "gguf/reader.h"
#include "gguf/writer.h"

using namespace ead::gguf;

namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
}

}  // namespace

TEST(GgufRoundTrip, EveryScalarType) {
    Writer w;
    w.set("u8", Value::u8(250));
    w.set("i8", Value::i8(-120));
    w.set("u16", Value::u16(65000));
    w.set("i16", Value::i16(-32000));
    w.set("u32", Value::u32(4000000000u));
    w.set("i32", Value::i32(-2000000000));
    w.set("u64", Value::u64(18000000000000000000ull));
    w.set("i64", Value::i64(-9000000000000000000ll));
    w.set("f32", Value::f32(3.25f));
    w.set("f64", Value::f64(-1e300));
    w.set("bool", Value::boolean(true));
    w.set("str", Value::string("héllo ▁ wörld"));
    w.set("empty", Value::string(""));
    File f = File::from_bytes(w.to_bytes());
    EXPECT_EQ(f.version(), 3u);
    ASSERT_EQ(f.metadata().size(), 13u);
    EXPECT_EQ(f.get("u8").type(), ValueType::kUint8);
    EXPECT_EQ(f.get_u64("u8"), 250u);
    EXPECT_EQ(f.get_i64("i8"), -120);
    EXPECT_EQ(f.get_u64("u16"), 65000u);
    EXPECT_EQ(f.get_i64("i16"), -32000);
    EXPECT_EQ(f.get_u32("u32"), 4000000000u);
    EXPECT_EQ(f.get_i64("i32"), -2000000000);
    EXPECT_EQ(f.get_u64("u64"), 18000000000000000000ull);
    EXPECT_EQ(f.get_i64("i64"), -9000000000000000000ll);
    EXPECT_EQ(f.get_f32("f32"), 3.25f);
    EXPECT_EQ(f.get_f64("f64"), -1e300);
    EXPECT_TRUE(f.get_bool("bool"));
    EXPECT_EQ(f.get_string("str"), "héllo ▁ wörld");
    EXPECT_EQ(f.get_string("empty"), "");
    for (const auto& [k, v] : f.metadata()) {
        const Value* orig = nullptr;
        (void)orig;
        EXPECT_EQ(f.get(k), v) << k;
    }
    // Keys keep their order.
    EXPECT_EQ(f.metadata().front().first, "u8");
    EXPECT_EQ(f.metadata().back().first, "empty");
}

TEST(GgufRoundTrip, EveryArrayType) {
    const ValueType scalar_types[] = {ValueType::kUint8,   ValueType::kInt8,   ValueType::kUint16, ValueType::kInt16,
                                      ValueType::kUint32,  ValueType::kInt32,  ValueType::kFloat32,
                                      ValueType::kUint64,  ValueType::kInt64,  ValueType::kFloat64};
    Writer w;
    std::vector<Value> expect;
    for (ValueType t : scalar_types) {
        auto raw = random_bytes(value_type_size(t) * 7, static_cast<uint32_t>(t));
        Value v = Value::array(t, raw);
        w.set("arr." + std::string(value_type_name(t)), v);
        expect.push_back(v);
    }
    Value bools = Value::array(ValueType::kBool, {1, 0, 1, 1});
    w.set("arr.bool", bools);
    expect.push_back(bools);
    Value strs = Value::strings({"a", "", "▁the", std::string("nul\0inside", 10)});
    w.set("arr.string", strs);
    expect.push_back(strs);
    w.set("arr.empty", Value::array(ValueType::kInt32, {}));
    expect.push_back(Value::array(ValueType::kInt32, {}));
    File f = File::from_bytes(w.to_bytes());
    ASSERT_EQ(f.metadata().size(), expect.size());
    for (size_t i = 0; i < expect.size(); ++i) {
        EXPECT_EQ(f.metadata()[i].second, expect[i]) << f.metadata()[i].first;
    }
    EXPECT_EQ(f.get("arr.string").as_strings()[3].size(), 10u);
    EXPECT_EQ(f.get("arr.int32").array_size(), 7u);
    EXPECT_EQ(f.get("arr.empty").array_size(), 0u);
    EXPECT_EQ(f.get("arr.bool").as_ints(), (std::vector<int64_t>{1, 0, 1, 1}));
}

TEST(GgufRoundTrip, EveryTensorType) {
    const TensorType types[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16, TensorType::kQ4_0,
                                TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ8_0,
                                TensorType::kQ8_1, TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K,
                                TensorType::kQ5_K, TensorType::kQ6_K, TensorType::kQ8_K, TensorType::kI8,
                                TensorType::kI16,  TensorType::kI32,  TensorType::kI64,  TensorType::kF64};
    for (uint32_t alignment : {32u, 64u, 1u}) {
        Writer w(alignment);
        if (alignment != 32) w.set("general.alignment", Value::u32(alignment));
        std::vector<std::vector<uint8_t>> datas;
        int i = 0;
        for (TensorType t : types) {
            const auto& l = layout(t);
            std::vector<int64_t> shape = {l.block_size * (1 + i % 3), 3, 1 + i % 2};
            if (i % 4 == 0) shape.resize(1);
            size_t rows = 1;
            for (size_t d = 1; d < shape.size(); ++d) rows *= static_cast<size_t>(shape[d]);
            auto data = random_bytes(row_bytes(t, shape[0]) * rows, 100 + i);
            w.add_tensor("t." + std::string(l.name), t, shape, data);
            datas.push_back(std::move(data));
            ++i;
        }
        File f = File::from_bytes(w.to_bytes());
        ASSERT_EQ(f.tensors().size(), std::size(types));
        EXPECT_EQ(f.alignment(), alignment);
        for (size_t k = 0; k < std::size(types); ++k) {
            const TensorInfo& ti = f.tensors()[k];
            EXPECT_EQ(ti.type, types[k]);
            EXPECT_EQ(ti.name, "t." + std::string(layout(types[k]).name));
            EXPECT_EQ(ti.offset % alignment, 0u);
            ASSERT_EQ(ti.n_bytes, datas[k].size());
            EXPECT_EQ(0, std::memcmp(ti.data, datas[k].data(), ti.n_bytes)) << ti.name;
            EXPECT_EQ(f.find_tensor(ti.name), &ti);
        }
    }
}

TEST(GgufRoundTrip, FileOnDiskMatchesBytes) {
    Writer w;
    w.set("general.architecture", Value::string("llama"));
    w.add_tensor_f32("x", {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    std::string path = ::testing::TempDir() + "/roundtrip.gguf";
    w.write(path);
    File f = File::open(path);
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    const TensorInfo* t = f.find_tensor("x");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->shape_string(), "[4, 2]");
    EXPECT_EQ(reinterpret_cast<const float*>(t->data)[7], 8.0f);
    // Moving the file keeps tensor pointers valid.
    File g = std::move(f);
    EXPECT_EQ(reinterpret_cast<const float*>(g.find_tensor("x")->data)[0], 1.0f);
}

// Released pages of a mapped file read back unchanged (they fault in again from the file).
TEST(GgufRoundTrip, ReleasedPagesReadBackUnchanged) {
    Writer w;
    w.set("general.architecture", Value::string("llama"));
    std::vector<float> v(64 * 1024);  // 256 KiB: whole pages inside the tensor
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.5f;
    w.add_tensor_f32("big", {static_cast<int64_t>(v.size())}, v);
    const std::string path = ::testing::TempDir() + "/release.gguf";
    w.write(path);
    File f = File::open(path);
    const TensorInfo* t = f.find_tensor("big");
    ASSERT_NE(t, nullptr);
    f.release_pages(t->data, t->n_bytes);
    EXPECT_EQ(0, std::memcmp(t->data, v.data(), v.size() * sizeof(float)));
    // A file parsed from memory is left alone.
    File m = File::from_bytes(std::vector<uint8_t>(t->data - t->offset - f.data_offset(), t->data + t->n_bytes), "mem");
    const TensorInfo* tm = m.find_tensor("big");
    ASSERT_NE(tm, nullptr);
    m.release_pages(tm->data, tm->n_bytes);
    EXPECT_EQ(0, std::memcmp(tm->data, v.data(), v.size() * sizeof(float)));
}

TEST(GgufAccessors, ErrorsNameKeyAndTypes) {
    Writer w;
    w.set("name", Value::string("x"));
    w.set("count", Value::i32(-5));
    File f = File::from_bytes(w.to_bytes(), "model.gguf");
    try {
        f.get_u32("name");
        FAIL();
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("model.gguf"), std::string::npos) << m;
        EXPECT_NE(m.find("'name'"), std::string::npos) << m;
        EXPECT_NE(m.find("string"), std::string::npos) << m;
    }
    EXPECT_THROW(f.get_u32("count"), Error);  // negative for unsigned
    EXPECT_EQ(f.get_i64("count"), -5);
    try {
        f.get_string("missing");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("missing metadata key 'missing'"), std::string::npos);
    }
    EXPECT_EQ(f.get_u32("missing", 7u), 7u);
    EXPECT_THROW(f.get_u32("name", 7u), Error);  // present with the wrong type still throws
}
