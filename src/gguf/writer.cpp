#include "gguf/writer.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace ead::gguf {

namespace {

class Out {
public:
    template <typename T>
    void put(T v) {
        size_t n = bytes.size();
        bytes.resize(n + sizeof(T));
        std::memcpy(bytes.data() + n, &v, sizeof(T));
    }
    void put_string(const std::string& s) {
        put<uint64_t>(s.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
    }
    void pad_to(size_t alignment) {
        while (bytes.size() % alignment) bytes.push_back(0);
    }
    std::vector<uint8_t> bytes;
};

void put_value(Out& o, const Value& v) {
    switch (v.type()) {
        case ValueType::kString: o.put_string(v.as_string()); return;
        case ValueType::kArray:
            o.put<uint32_t>(static_cast<uint32_t>(v.array_type()));
            o.put<uint64_t>(v.array_size());
            if (v.array_type() == ValueType::kString) {
                for (const auto& s : v.as_strings()) o.put_string(s);
            } else {
                const auto& raw = v.raw_array();
                o.bytes.insert(o.bytes.end(), raw.begin(), raw.end());
            }
            return;
        default: {
            uint64_t bits = v.raw_bits();
            size_t n = value_type_size(v.type());
            const auto* p = reinterpret_cast<const uint8_t*>(&bits);
            o.bytes.insert(o.bytes.end(), p, p + n);
        }
    }
}

}  // namespace

void Writer::set(const std::string& key, Value v) {
    if (key == "general.alignment") alignment_ = static_cast<uint32_t>(v.as_u64());
    for (auto& kv : kv_) {
        if (kv.first == key) {
            kv.second = std::move(v);
            return;
        }
    }
    kv_.emplace_back(key, std::move(v));
}

void Writer::add_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& shape,
                        std::vector<uint8_t> data) {
    if (shape.empty() || shape.size() > static_cast<size_t>(kMaxDims))
        throw std::invalid_argument("tensor '" + name + "': 1 to 4 dimensions expected");
    const auto& lay = layout(type);
    if (shape[0] % lay.block_size != 0)
        throw std::invalid_argument("tensor '" + name + "': row size not a multiple of the block size");
    int64_t rows = 1;
    for (size_t i = 1; i < shape.size(); ++i) rows *= shape[i];
    size_t expect = row_bytes(type, shape[0]) * static_cast<size_t>(rows);
    if (data.size() != expect)
        throw std::invalid_argument("tensor '" + name + "': " + std::to_string(data.size()) + " bytes given, " +
                                    std::to_string(expect) + " expected");
    tensors_.push_back({name, type, shape, std::move(data)});
}

void Writer::add_tensor_f32(const std::string& name, const std::vector<int64_t>& shape,
                            const std::vector<float>& data) {
    std::vector<uint8_t> raw(data.size() * 4);
    if (!data.empty()) std::memcpy(raw.data(), data.data(), raw.size());
    add_tensor(name, TensorType::kF32, shape, std::move(raw));
}

std::vector<uint8_t> Writer::to_bytes() const {
    Out o;
    o.put<uint32_t>(kMagic);
    o.put<uint32_t>(3);
    o.put<uint64_t>(tensors_.size());
    o.put<uint64_t>(kv_.size());
    for (const auto& [key, v] : kv_) {
        o.put_string(key);
        o.put<uint32_t>(static_cast<uint32_t>(v.type()));
        put_value(o, v);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
        o.put_string(t.name);
        o.put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
        for (int64_t d : t.shape) o.put<uint64_t>(static_cast<uint64_t>(d));
        o.put<uint32_t>(static_cast<uint32_t>(t.type));
        o.put<uint64_t>(offset);
        offset += t.data.size();
        offset = (offset + alignment_ - 1) / alignment_ * alignment_;
    }
    o.pad_to(alignment_);
    for (const auto& t : tensors_) {
        o.bytes.insert(o.bytes.end(), t.data.begin(), t.data.end());
        o.pad_to(alignment_);
    }
    return o.bytes;
}

void Writer::write(const std::string& path) const {
    std::vector<uint8_t> bytes = to_bytes();
    std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw std::runtime_error(tmp + ": cannot open for writing");
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw std::runtime_error(path + ": write failed");
    }
}

}  // namespace ead::gguf
