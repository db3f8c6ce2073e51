#include "gguf/reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

namespace ead::gguf {

std::string TensorInfo::shape_string() const {
    std::string s = "[";
    for (int i = 0; i < n_dims; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
}

namespace {

// Bounds-checked little-endian cursor over the file bytes.
class Cursor {
public:
    Cursor(const uint8_t* p, size_t n, const std::string& file) : p_(p), n_(n), file_(file) {}

    size_t pos() const { return pos_; }
    size_t remaining() const { return n_ - pos_; }

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(file_ + ": " + what + " (at byte offset " + std::to_string(pos_) + ")");
    }

    void need(size_t bytes, const std::string& what) const {
        if (bytes > remaining())
            fail("truncated file: " + what + " needs " + std::to_string(bytes) + " bytes but only " +
                 std::to_string(remaining()) + " remain");
    }

    template <typename T>
    T read(const std::string& what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, p_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    std::string read_string(const std::string& what) {
        uint64_t len = read<uint64_t>(what + " length");
        if (len > remaining())
            fail("string " + what + " has length " + std::to_string(len) + " but only " +
                 std::to_string(remaining()) + " bytes remain");
        std::string s(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(len));
        pos_ += static_cast<size_t>(len);
        return s;
    }

    const uint8_t* take(size_t bytes, const std::string& what) {
        need(bytes, what);
        const uint8_t* r = p_ + pos_;
        pos_ += bytes;
        return r;
    }

private:
    const uint8_t* p_;
    size_t n_;
    size_t pos_ = 0;
    const std::string& file_;
};

Value read_value(Cursor& c, ValueType type, const std::string& key) {
    switch (type) {
        case ValueType::kUint8: return Value::u8(c.read<uint8_t>(key));
        case ValueType::kInt8: return Value::i8(c.read<int8_t>(key));
        case ValueType::kUint16: return Value::u16(c.read<uint16_t>(key));
        case ValueType::kInt16: return Value::i16(c.read<int16_t>(key));
        case ValueType::kUint32: return Value::u32(c.read<uint32_t>(key));
        case ValueType::kInt32: return Value::i32(c.read<int32_t>(key));
        case ValueType::kUint64: return Value::u64(c.read<uint64_t>(key));
        case ValueType::kInt64: return Value::i64(c.read<int64_t>(key));
        case ValueType::kFloat32: return Value::f32(c.read<float>(key));
        case ValueType::kFloat64: return Value::f64(c.read<double>(key));
        case ValueType::kBool: {
            uint8_t b = c.read<uint8_t>(key);
            if (b > 1) c.fail("key '" + key + "': bool value " + std::to_string(b) + " is neither 0 nor 1");
            return Value::boolean(b != 0);
        }
        case ValueType::kString: return Value::string(c.read_string("value of key '" + key + "'"));
        case ValueType::kArray: {
            uint32_t et = c.read<uint32_t>(key + " array element type");
            if (et >= kValueTypeCount)
                c.fail("key '" + key + "': unknown array element type " + std::to_string(et));
            auto elem = static_cast<ValueType>(et);
            if (elem == ValueType::kArray) c.fail("key '" + key + "': nested arrays are not supported");
            uint64_t n = c.read<uint64_t>(key + " array length");
            if (elem == ValueType::kString) {
                // Each string takes at least its 8-byte length.
                if (n > c.remaining() / 8)
                    c.fail("key '" + key + "': array of " + std::to_string(n) + " strings cannot fit in the " +
                           std::to_string(c.remaining()) + " remaining bytes");
                std::vector<std::string> v;
                v.reserve(static_cast<size_t>(n));
                for (uint64_t i = 0; i < n; ++i) v.push_back(c.read_string(key + "[" + std::to_string(i) + "]"));
                return Value::strings(std::move(v));
            }
            size_t esz = value_type_size(elem);
            if (n > c.remaining() / esz)
                c.fail("key '" + key + "': array of " + std::to_string(n) + " " +
                       std::string(value_type_name(elem)) + " cannot fit in the " +
                       std::to_string(c.remaining()) + " remaining bytes");
            const uint8_t* p = c.take(static_cast<size_t>(n) * esz, key);
            if (elem == ValueType::kBool) {
                for (uint64_t i = 0; i < n; ++i)
                    if (p[i] > 1) c.fail("key '" + key + "': bool array element is neither 0 nor 1");
            }
            return Value::array(elem, std::vector<uint8_t>(p, p + n * esz));
        }
    }
    c.fail("key '" + key + "': unknown value type " + std::to_string(static_cast<uint32_t>(type)));
}

}  // namespace

File::File() = default;
File::File(File&& o) noexcept { *this = std::move(o); }
File& File::operator=(File&& o) noexcept {
    if (this == &o) return *this;
    if (mapping_) munmap(mapping_, size_);
    path_ = std::move(o.path_);
    base_ = o.base_;
    size_ = o.size_;
    mapping_ = o.mapping_;
    owned_ = std::move(o.owned_);
    if (!owned_.empty()) base_ = owned_.data();
    version_ = o.version_;
    alignment_ = o.alignment_;
    data_offset_ = o.data_offset_;
    kv_ = std::move(o.kv_);
    kv_index_ = std::move(o.kv_index_);
    tensors_ = std::move(o.tensors_);
    tensor_index_ = std::move(o.tensor_index_);
    o.mapping_ = nullptr;
    o.base_ = nullptr;
    o.size_ = 0;
    // Tensor data pointers point into the mapping or into owned_ (whose buffer moved with it), so they stay valid.
    return *this;
}
void File::release_pages(const void* p, size_t n) const {
    if (!mapping_ || n == 0) return;
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto lo = std::max(reinterpret_cast<uintptr_t>(p), reinterpret_cast<uintptr_t>(base_));
    const auto hi = std::min(reinterpret_cast<uintptr_t>(p) + n, reinterpret_cast<uintptr_t>(base_) + size_);
    const uintptr_t a = (lo + page - 1) / page * page, b = hi / page * page;  // whole pages inside the range
    if (a < b) madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);
}

File::~File() {
    if (mapping_) munmap(mapping_, size_);
}

File File::open(const std::string& path) {
    File f;
    f.path_ = path;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        throw Error(path + ": cannot stat: " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(path + ": not a regular file");
    }
    f.size_ = static_cast<size_t>(st.st_size);
    if (f.size_ > 0) {
        void* m = mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            ::close(fd);
            throw Error(path + ": mmap failed: " + std::strerror(e));
        }
        f.mapping_ = m;
        f.base_ = static_cast<const uint8_t*>(m);
    }
    ::close(fd);
    f.parse();
    return f;
}

File File::from_bytes(std::vector<uint8_t> bytes, std::string name) {
    File f;
    f.path_ = std::move(name);
    f.owned_ = std::move(bytes);
    f.base_ = f.owned_.data();
    f.size_ = f.owned_.size();
    f.parse();
    return f;
}

void File::parse() {
    Cursor c(base_, size_, path_);
    if (size_ < 4) c.fail("file too small to be GGUF (" + std::to_string(size_) + " bytes)");
    uint32_t magic = c.read<uint32_t>("magic");
    if (magic != kMagic) c.fail("bad magic: not a GGUF file");
    version_ = c.read<uint32_t>("version");
    if (version_ == 1) c.fail("GGUF version 1 is not supported (expected version 2 or 3)");
    if (version_ != 2 && version_ != 3)
        c.fail("unsupported GGUF version " + std::to_string(version_) + " (expected 2 or 3)");
    uint64_t n_tensors = c.read<uint64_t>("tensor count");
    uint64_t n_kv = c.read<uint64_t>("metadata key-value count");

    // Each key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes.
    constexpr uint64_t kMinKvBytes = 13;
    if (n_kv > c.remaining() / kMinKvBytes)
        c.fail("metadata count " + std::to_string(n_kv) + " cannot fit in the " + std::to_string(c.remaining()) +
               " remaining bytes");
    // Each tensor info takes at least 8 (name length) + 4 (n_dims) + 8 (one dim) + 4 (type) + 8 (offset) bytes.
    constexpr uint64_t kMinTensorBytes = 32;
    if (n_tensors > c.remaining() / kMinTensorBytes)
        c.fail("tensor count " + std::to_string(n_tensors) + " cannot fit in the " + std::to_string(c.remaining()) +
               " remaining bytes");

    kv_.reserve(static_cast<size_t>(n_kv));
    for (uint64_t i = 0; i < n_kv; ++i) {
        std::string key = c.read_string("metadata key #" + std::to_string(i));
        if (key.empty()) c.fail("metadata key #" + std::to_string(i) + " is empty");
        uint32_t t = c.read<uint32_t>("type of key '" + key + "'");
        if (t >= kValueTypeCount) c.fail("key '" + key + "': unknown value type " + std::to_string(t));
        Value v = read_value(c, static_cast<ValueType>(t), key);
        if (!kv_index_.emplace(key, kv_.size()).second) c.fail("duplicate metadata key '" + key + "'");
        kv_.emplace_back(std::move(key), std::move(v));
    }

    if (const Value* a = find("general.alignment")) {
        if (a->type() != ValueType::kUint32)
            c.fail("key 'general.alignment': expected uint32, got " + a->type_string());
        uint64_t al = a->as_u64();
        if (al == 0 || (al & (al - 1)) != 0)
            c.fail("key 'general.alignment': " + std::to_string(al) + " is not a power of two");
        alignment_ = static_cast<size_t>(al);
    }

    tensors_.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t i = 0; i < n_tensors; ++i) {
        TensorInfo ti;
        ti.name = c.read_string("tensor name #" + std::to_string(i));
        const std::string where = "tensor '" + ti.name + "'";
        uint32_t n_dims = c.read<uint32_t>(where + " dimension count");
        if (n_dims == 0 || n_dims > static_cast<uint32_t>(kMaxDims))
            c.fail(where + ": " + std::to_string(n_dims) + " dimensions (expected 1 to " + std::to_string(kMaxDims) +
                   ")");
        ti.n_dims = static_cast<int>(n_dims);
        int64_t n_elem = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            uint64_t ne = c.read<uint64_t>(where + " dimension");
            if (ne == 0) c.fail(where + ": dimension " + std::to_string(d) + " is zero");
            if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                c.fail(where + ": dimension " + std::to_string(d) + " is negative or too large (" +
                       std::to_string(static_cast<int64_t>(ne)) + ")");
            ti.ne[d] = static_cast<int64_t>(ne);
            if (__builtin_mul_overflow(n_elem, ti.ne[d], &n_elem))
                c.fail(where + ": element count overflows (shape " + ti.shape_string() + "...)");
        }
        uint32_t type_id = c.read<uint32_t>(where + " type");
        auto lay = tensor_type_layout(type_id);
        if (!lay) c.fail(where + ": unknown tensor type " + std::to_string(type_id));
        ti.type = static_cast<TensorType>(type_id);
        if (ti.ne[0] % lay->block_size != 0)
            c.fail(where + ": row size " + std::to_string(ti.ne[0]) + " is not a multiple of the block size " +
                   std::to_string(lay->block_size) + " of type " + std::string(lay->name));
        uint64_t blocks = static_cast<uint64_t>(n_elem / lay->block_size);
        uint64_t nbytes = 0;
        if (__builtin_mul_overflow(blocks, static_cast<uint64_t>(lay->type_size), &nbytes) ||
            nbytes > std::numeric_limits<size_t>::max() / 2)
            c.fail(where + ": byte size overflows");
        ti.n_bytes = static_cast<size_t>(nbytes);
        ti.offset = c.read<uint64_t>(where + " offset");
        if (!tensor_index_.emplace(ti.name, tensors_.size()).second) c.fail("duplicate tensor name '" + ti.name + "'");
        tensors_.push_back(std::move(ti));
    }

    // The data section starts at the next multiple of the alignment.
    size_t header_end = c.pos();
    size_t pad = (alignment_ - header_end % alignment_) % alignment_;
    data_offset_ = header_end + pad;
    if (!tensors_.empty() && data_offset_ > size_)
        throw Error(path_ + ": truncated file: data section would start at byte " + std::to_string(data_offset_) +
                    " but the file has " + std::to_string(size_) + " bytes");
    size_t data_size = data_offset_ <= size_ ? size_ - data_offset_ : 0;
    for (auto& ti : tensors_) {
        if (ti.offset % alignment_ != 0)
            throw Error(path_ + ": tensor '" + ti.name + "': data offset " + std::to_string(ti.offset) +
                        " is not a multiple of the alignment " + std::to_string(alignment_));
        if (ti.offset > data_size || ti.n_bytes > data_size - ti.offset)
            throw Error(path_ + ": tensor '" + ti.name + "': data [" + std::to_string(ti.offset) + ", " +
                        std::to_string(ti.offset + ti.n_bytes) + ") lies outside the data section of " +
                        std::to_string(data_size) + " bytes (file truncated or offset corrupt)");
        ti.data = base_ + data_offset_ + ti.offset;
    }
}

const Value* File::find(std::string_view key) const {
    auto it = kv_index_.find(std::string(key));
    return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const Value& File::get(std::string_view key) const {
    const Value* v = find(key);
    if (!v) throw Error(path_ + ": missing metadata key '" + std::string(key) + "'");
    return *v;
}

namespace {
template <typename F>
auto typed(const std::string& path, std::string_view key, F&& f) {
    try {
        return f();
    } catch (const std::invalid_argument& e) {
        throw Error(path + ": key '" + std::string(key) + "': " + e.what());
    }
}
}  // namespace

std::string File::get_string(std::string_view key) const {
    return typed(path_, key, [&] { return get(key).as_string(); });
}
uint64_t File::get_u64(std::string_view key) const {
    return typed(path_, key, [&] { return get(key).as_u64(); });
}
uint32_t File::get_u32(std::string_view key) const {
    uint64_t v = get_u64(key);
    if (v > std::numeric_limits<uint32_t>::max())
        throw Error(path_ + ": key '" + std::string(key) + "': value " + std::to_string(v) + " does not fit uint32");
    return static_cast<uint32_t>(v);
}
int64_t File::get_i64(std::string_view key) const {
    return typed(path_, key, [&] { return get(key).as_i64(); });
}
double File::get_f64(std::string_view key) const {
    return typed(path_, key, [&] { return get(key).as_f64(); });
}
bool File::get_bool(std::string_view key) const {
    return typed(path_, key, [&] { return get(key).as_bool(); });
}
std::string File::get_string(std::string_view key, std::string def) const {
    return has(key) ? get_string(key) : def;
}
uint32_t File::get_u32(std::string_view key, uint32_t def) const { return has(key) ? get_u32(key) : def; }
float File::get_f32(std::string_view key, float def) const { return has(key) ? get_f32(key) : def; }
bool File::get_bool(std::string_view key, bool def) const { return has(key) ? get_bool(key) : def; }

const TensorInfo* File::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(std::string(name));
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace ead::gguf
