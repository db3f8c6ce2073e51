// Weight buffers (tensor/memory.h) and the read-bandwidth baseline (tensor/bandwidth.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "tensor/bandwidth.h"
#include "tensor/memory.h"

namespace ead::tensor {
namespace {

TEST(WeightBuffer, AlignedAndWritable) {
    for (size_t bytes : {size_t{1}, size_t{100}, size_t{4096}, size_t{1} << 20, (size_t{3} << 20) + 5}) {
        SCOPED_TRACE(bytes);
        WeightBuffer b = alloc_weight_buffer(bytes);
        ASSERT_TRUE(b);
        const auto addr = reinterpret_cast<uintptr_t>(b.get());
        EXPECT_EQ(addr % 64, 0u);
        if (bytes >= (size_t{1} << 20)) {
            EXPECT_EQ(addr % (size_t{2} << 20), 0u) << "huge-page buffers are 2 MiB aligned";
        }
        std::memset(b.get(), 0xA5, bytes);
        EXPECT_EQ(b[bytes - 1], 0xA5);
    }
}

// read_stream must read every byte: its checksum is the wrapping sum of the 64-bit words. The last size is
// one stretch of kStreams runs of kRunBytes and a rest too short for another.
TEST(ReadStream, SumsEveryWord) {
    std::mt19937_64 rng(5);
    const size_t run_words = kRunBytes / 8;
    for (size_t words :
         {size_t{32}, size_t{1024}, size_t{4096 + 32}, kStreams * run_words + run_words + 96}) {
        SCOPED_TRACE(words);
        WeightBuffer b = alloc_weight_buffer(words * 8);
        auto* u = reinterpret_cast<uint64_t*>(b.get());
        uint64_t want = 0;
        for (size_t i = 0; i < words; ++i) want += (u[i] = rng());
        EXPECT_EQ(read_stream(b.get(), words * 8), want);
        EXPECT_GT(timed_read(b.get(), words * 8, 2), 0.0);
    }
}

}  // namespace
}  // namespace ead::tensor
