// Hostile-input suite for the GGUF reader: a table of corrupt files, each built byte by byte, must raise
// gguf::Error with the expected message; a valid file truncated at every byte must raise gguf::Error.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "gguf/reader.h"
#include "gguf/writer.h"

using namespace ead::gguf;

namespace {

// Raw little-endian byte builder, so that fields can hold values the writer would refuse.
struct Bytes {
    std::vector<uint8_t> b;
    template <typename T>
    Bytes& put(T v) {
        size_t n = b.size();
        b.resize(n + sizeof(T));
        std::memcpy(b.data() + n, &v, sizeof(T));
        return *this;
    }
    Bytes& str(const std::string& s) {
        put<uint64_t>(s.size());
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    Bytes& raw(const std::vector<uint8_t>& r) {
        b.insert(b.end(), r.begin(), r.end());
        return *this;
    }
};

std::vector<uint8_t> kv_u32(const std::string& k, uint32_t v) {
    return Bytes().str(k).put<uint32_t>(4).put<uint32_t>(v).b;
}
std::vector<uint8_t> kv_str(const std::string& k, const std::string& v) {
    return Bytes().str(k).put<uint32_t>(8).str(v).b;
}

struct TensorSpec {
    std::string name = "w";
    std::vector<uint64_t> dims = {32, 2};
    uint32_t type = 0;  // F32
    uint64_t offset = 0;
};

struct FileSpec {
    uint32_t magic = kMagic;
    uint32_t version = 3;
    std::optional<uint64_t> n_tensors, n_kv;  // override the true counts
    std::vector<std::vector<uint8_t>> kvs = {kv_str("general.architecture", "llama")};
    std::vector<TensorSpec> tensors = {TensorSpec{}};
    uint32_t alignment = 32;
    size_t data_bytes = 256;  // bytes of the data section
};

std::vector<uint8_t> build(const FileSpec& s) {
    Bytes o;
    o.put<uint32_t>(s.magic).put<uint32_t>(s.version);
    o.put<uint64_t>(s.n_tensors.value_or(s.tensors.size()));
    o.put<uint64_t>(s.n_kv.value_or(s.kvs.size()));
    for (const auto& kv : s.kvs) o.raw(kv);
    for (const auto& t : s.tensors) {
        o.str(t.name).put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
        for (auto d : t.dims) o.put<uint64_t>(d);
        o.put<uint32_t>(t.type).put<uint64_t>(t.offset);
    }
    while (o.b.size() % s.alignment) o.b.push_back(0);
    o.b.resize(o.b.size() + s.data_bytes, 0x5a);
    return o.b;
}

struct Case {
    const char* kind;
    FileSpec spec;
    const char* expect;  // substring of the error message
};

std::vector<Case> corrupt_cases() {
    std::vector<Case> c;
    auto base = [] { return FileSpec{}; };
    auto with = [&](const char* kind, const char* expect, auto mutate) {
        FileSpec s = base();
        mutate(s);
        c.push_back({kind, s, expect});
    };
    with("bad magic", "bad magic", [](FileSpec& s) { s.magic = 0x46554746; });
    with("version 1", "version 1 is not supported", [](FileSpec& s) { s.version = 1; });
    with("future version", "unsupported GGUF version 4", [](FileSpec& s) { s.version = 4; });
    with("version 0", "unsupported GGUF version 0", [](FileSpec& s) { s.version = 0; });
    with("huge tensor count", "tensor count", [](FileSpec& s) { s.n_tensors = 1ull << 60; });
    with("huge kv count", "metadata count", [](FileSpec& s) { s.n_kv = ~0ull; });
    with("kv count beyond the keys", "truncated", [](FileSpec& s) { s.n_kv = 3; s.tensors.clear(); s.data_bytes = 0; s.alignment = 1; });
    with("string longer than the file", "has length", [](FileSpec& s) {
        s.kvs = {Bytes().put<uint64_t>(1ull << 40).b};
    });
    with("value string longer than the file", "has length", [](FileSpec& s) {
        s.kvs = {Bytes().str("k").put<uint32_t>(8).put<uint64_t>(~0ull).b};
    });
    with("duplicate key", "duplicate metadata key 'general.architecture'",
         [](FileSpec& s) { s.kvs.push_back(kv_str("general.architecture", "qwen2")); });
    with("unknown value type", "unknown value type 13", [](FileSpec& s) {
        s.kvs.push_back(Bytes().str("k").put<uint32_t>(13).put<uint32_t>(0).b);
    });
    with("unknown array element type", "unknown array element type", [](FileSpec& s) {
        s.kvs.push_back(Bytes().str("k").put<uint32_t>(9).put<uint32_t>(77).put<uint64_t>(1).b);
    });
    with("nested array", "nested arrays", [](FileSpec& s) {
        s.kvs.push_back(Bytes().str("k").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(1).b);
    });
    with("array longer than the file", "cannot fit", [](FileSpec& s) {
        s.kvs.push_back(Bytes().str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(1ull << 61).b);
    });
    with("string array longer than the file", "cannot fit", [](FileSpec& s) {
        s.kvs.push_back(Bytes().str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(1ull << 40).b);
    });
    with("bool not 0 or 1", "neither 0 nor 1", [](FileSpec& s) {
        s.kvs.push_back(Bytes().str("k").put<uint32_t>(7).put<uint8_t>(2).b);
    });
    with("empty key", "is empty", [](FileSpec& s) { s.kvs.push_back(kv_u32("", 1)); });
    with("alignment not a power of two", "not a power of two",
         [](FileSpec& s) { s.kvs.push_back(kv_u32("general.alignment", 48)); });
    with("alignment zero", "not a power of two", [](FileSpec& s) { s.kvs.push_back(kv_u32("general.alignment", 0)); });
    with("alignment of the wrong type", "expected uint32",
         [](FileSpec& s) { s.kvs.push_back(kv_str("general.alignment", "32")); });
    with("too many dimensions", "5 dimensions", [](FileSpec& s) { s.tensors[0].dims = {32, 1, 1, 1, 1}; });
    with("zero dimensions", "0 dimensions", [](FileSpec& s) { s.tensors[0].dims = {}; });
    with("zero shape", "dimension 1 is zero", [](FileSpec& s) { s.tensors[0].dims = {32, 0}; });
    with("negative shape", "negative or too large", [](FileSpec& s) { s.tensors[0].dims = {32, ~0ull}; });
    with("overflowing shape", "element count overflows",
         [](FileSpec& s) { s.tensors[0].dims = {1ull << 32, 1ull << 32, 1ull << 32}; });
    with("overflowing byte size", "overflows", [](FileSpec& s) { s.tensors[0].dims = {1ull << 62, 2}; });
    with("unknown tensor type", "unknown tensor type 99", [](FileSpec& s) { s.tensors[0].type = 99; });
    with("row not a multiple of the block", "not a multiple of the block size 32",
         [](FileSpec& s) { s.tensors[0] = {"q", {30, 2}, 2, 0}; });
    with("data offset outside the file", "lies outside the data section",
         [](FileSpec& s) { s.tensors[0].offset = 1ull << 40; });
    with("data offset near uint64 max", "lies outside the data section",
         [](FileSpec& s) { s.tensors[0].offset = ~0ull - 31; });
    with("data running past the end", "lies outside the data section", [](FileSpec& s) { s.data_bytes = 200; });
    with("misaligned offset", "not a multiple of the alignment", [](FileSpec& s) { s.tensors[0].offset = 4; });
    with("duplicate tensor name", "duplicate tensor name 'w'",
         [](FileSpec& s) { s.tensors.push_back({"w", {32}, 0, 256}); s.data_bytes = 512; });
    with("tensor count beyond the infos", "truncated", [](FileSpec& s) { s.n_tensors = 2; s.data_bytes = 0; s.alignment = 1; });
    with("truncated data", "outside the data section",
         [](FileSpec& s) { s.tensors.push_back({"v", {64, 4}, 0, 256}); s.data_bytes = 300; });
    return c;
}

}  // namespace

TEST(GgufCorrupt, BaseFileIsValid) {
    File f = File::from_bytes(build(FileSpec{}), "base.gguf");
    EXPECT_EQ(f.tensors().size(), 1u);
}

TEST(GgufCorrupt, EveryFailureKindRaisesItsError) {
    auto cases = corrupt_cases();
    ASSERT_GE(cases.size(), 15u);
    std::cout << "[ corrupt ] " << cases.size() << " failure kinds\n";
    for (const auto& c : cases) {
        try {
            File::from_bytes(build(c.spec), "corrupt.gguf");
            ADD_FAILURE() << c.kind << ": no error raised";
        } catch (const Error& e) {
            std::string m = e.what();
            EXPECT_NE(m.find(c.expect), std::string::npos) << c.kind << ": message was: " << m;
            EXPECT_EQ(m.rfind("corrupt.gguf", 0), 0u) << c.kind << ": message does not name the file: " << m;
        } catch (const std::exception& e) {
            ADD_FAILURE() << c.kind << ": wrong exception type: " << e.what();
        }
    }
}

TEST(GgufCorrupt, TruncationAtEveryByte) {
    Writer w;
    w.set("general.architecture", Value::string("llama"));
    w.set("llama.block_count", Value::u32(2));
    w.set("tokenizer.ggml.tokens", Value::strings({"<unk>", "<s>", "▁the"}));
    w.set("tokenizer.ggml.scores", Value::array_of<float>(ValueType::kFloat32, {0.f, -1.f, -2.f}));
    w.add_tensor_f32("a", {8, 2}, std::vector<float>(16, 1.0f));
    w.add_tensor("b", TensorType::kQ4_0, {32, 3}, std::vector<uint8_t>(18 * 3, 7));
    std::vector<uint8_t> full = w.to_bytes();
    File ok = File::from_bytes(full);
    const TensorInfo& last = ok.tensors().back();
    size_t end = ok.data_offset() + last.offset + last.n_bytes;  // bytes after this are only padding
    size_t tested = 0;
    for (size_t len = 0; len < end; ++len) {
        std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(len));
        EXPECT_THROW(File::from_bytes(std::move(cut)), Error) << "truncated at " << len;
        ++tested;
    }
    std::cout << "[ truncate ] " << tested << " truncation points\n";
    // Trailing alignment padding is not data: cutting it leaves a valid file.
    for (size_t len = end; len <= full.size(); ++len)
        EXPECT_NO_THROW(File::from_bytes(std::vector<uint8_t>(full.begin(), full.begin() + static_cast<long>(len))));
}

TEST(GgufCorrupt, OpenErrorsNameThePath) {
    try {
        File::open("/nonexistent/dir/model.gguf");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf"), std::string::npos);
    }
    EXPECT_THROW(File::open("/"), Error);  // a directory
    std::string empty = ::testing::TempDir() + "/empty.gguf";
    FILE* f = std::fopen(empty.c_str(), "wb");
    std::fclose(f);
    EXPECT_THROW(File::open(empty), Error);
}
