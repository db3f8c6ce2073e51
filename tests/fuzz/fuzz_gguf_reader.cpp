// libFuzzer target: any byte string fed to the GGUF reader either parses or raises gguf::Error — never a crash,
// an out-of-bounds read (AddressSanitizer) or undefined behaviour (UBSan). Parsed files are walked completely.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gguf/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        auto f = ead::gguf::File::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz");
        uint64_t sum = 0;
        for (const auto& [key, v] : f.metadata()) {
            sum += key.size() + v.array_size();
            if (v.type() == ead::gguf::ValueType::kArray && v.array_type() != ead::gguf::ValueType::kString &&
                v.array_size() > 0) {
                // The number's bits: converting a negative, huge or NaN double to an integer is undefined.
                sum += std::bit_cast<uint64_t>(v.array_number(v.array_size() - 1));
            }
        }
        for (const auto& t : f.tensors()) {
            // Touch the first and last byte of every tensor's data: they must lie inside the buffer.
            if (t.n_bytes) sum += t.data[0] + t.data[t.n_bytes - 1];
        }
        volatile uint64_t sink = sum;  // keeps the reads (a compound assignment to a volatile is deprecated)
        (void)sink;
    } catch (const ead::gguf::Error&) {
    }
    return 0;
}
