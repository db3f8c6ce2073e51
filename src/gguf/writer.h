// GGUF writer (version 3). Used by tests, tools and benchmarks to produce models; what it writes reads back
// identical through gguf::File.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gguf/types.h"
#include "gguf/value.h"

namespace ead::gguf {

class Writer {
public:
    explicit Writer(uint32_t alignment = kDefaultAlignment) : alignment_(alignment) {}

    // Sets (or replaces) a metadata value; keys keep the order of their first set.
    void set(const std::string& key, Value v);
    // Adds a tensor; `shape` lists ne[0] (innermost) first; `data` holds exactly row_bytes(type, ne0) * rows bytes.
    void add_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& shape,
                    std::vector<uint8_t> data);
    void add_tensor_f32(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& data);

    std::vector<uint8_t> to_bytes() const;
    // Writes to `path` through a temporary file renamed into place, so an interrupted write never leaves a
    // truncated file under the final name. Throws std::runtime_error on I/O failure.
    void write(const std::string& path) const;

private:
    struct Tensor {
        std::string name;
        TensorType type;
        std::vector<int64_t> shape;
        std::vector<uint8_t> data;
    };
    uint32_t alignment_;
    std::vector<std::pair<std::string, Value>> kv_;
    std::vector<Tensor> tensors_;
};

}  // namespace ead::gguf
