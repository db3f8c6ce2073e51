// GGUF reader (format versions 2 and 3). The file is memory-mapped and treated as hostile: every count, length,
// shape and offset is validated before use. Any problem throws ead::gguf::Error whose message names the file,
// the key or tensor, and what was expected.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gguf/types.h"
#include "gguf/value.h"

namespace ead::gguf {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct TensorInfo {
    std::string name;
    TensorType type = TensorType::kF32;
    int n_dims = 0;
    std::array<int64_t, kMaxDims> ne = {1, 1, 1, 1};  // ne[0] is the innermost (contiguous) dimension
    uint64_t offset = 0;                              // relative to the start of the data section
    size_t n_bytes = 0;
    const uint8_t* data = nullptr;                    // points into the mapping

    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
    std::string shape_string() const;  // "[896, 4864]"
};

class File {
public:
    // Memory-maps and parses `path`.
    static File open(const std::string& path);
    // Parses a copy of `bytes`; `name` is used in error messages (tests, the fuzzer).
    static File from_bytes(std::vector<uint8_t> bytes, std::string name = "<memory>");

    File(File&&) noexcept;
    File& operator=(File&&) noexcept;
    ~File();

    const std::string& path() const { return path_; }
    uint32_t version() const { return version_; }
    size_t file_size() const { return size_; }
    size_t alignment() const { return alignment_; }
    size_t data_offset() const { return data_offset_; }

    // ---- metadata, in file order ----
    const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
    const Value* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }
    // Typed accessors: throw Error naming the key when it is missing or has the wrong type.
    const Value& get(std::string_view key) const;
    std::string get_string(std::string_view key) const;
    uint64_t get_u64(std::string_view key) const;
    uint32_t get_u32(std::string_view key) const;
    int64_t get_i64(std::string_view key) const;
    double get_f64(std::string_view key) const;
    float get_f32(std::string_view key) const { return static_cast<float>(get_f64(key)); }
    bool get_bool(std::string_view key) const;
    // With a default when the key is absent (a present key of the wrong type still throws).
    std::string get_string(std::string_view key, std::string def) const;
    uint32_t get_u32(std::string_view key, uint32_t def) const;
    float get_f32(std::string_view key, float def) const;
    bool get_bool(std::string_view key, bool def) const;

    // ---- tensors, in file order ----
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find_tensor(std::string_view name) const;

    // Tells the OS that the mapped pages inside [p, p + n) are not needed now: they leave this process's
    // resident memory and are read from the file again if touched. For data a caller has copied (e.g. weights
    // rearranged at load). No effect on files parsed from memory.
    void release_pages(const void* p, size_t n) const;

private:
    File();
    void parse();

    std::string path_;
    const uint8_t* base_ = nullptr;
    size_t size_ = 0;
    void* mapping_ = nullptr;     // mmap'ed region (or null)
    std::vector<uint8_t> owned_;  // from_bytes storage
    uint32_t version_ = 0;
    size_t alignment_ = kDefaultAlignment;
    size_t data_offset_ = 0;
    std::vector<std::pair<std::string, Value>> kv_;
    std::unordered_map<std::string, size_t> kv_index_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace ead::gguf
