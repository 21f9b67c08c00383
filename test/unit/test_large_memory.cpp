#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "image.hpp"
#include "large_memory.hpp"

namespace {

bool all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

} // namespace

// Either side of the size where memory is mapped rather than taken from calloc.
TEST(LargeMemory, ZeroedAndWritableAtEverySize) {
    for (size_t bytes : {size_t(1), size_t(4095), bb::kLargeMemoryBytes - 1, bb::kLargeMemoryBytes,
                         bb::kLargeMemoryBytes + 12345, 3 * bb::kLargeMemoryBytes + 1}) {
        auto *p = static_cast<uint8_t *>(bb::allocate_large(bytes));
        ASSERT_NE(p, nullptr) << bytes;
        EXPECT_TRUE(all_zero(p, bytes)) << bytes;
        std::memset(p, 0xa5, bytes);
        EXPECT_EQ(p[bytes - 1], 0xa5);
        bb::free_large(p, bytes);
    }
}

// Mapped memory starts on a 2 MiB boundary, so that huge pages can back all of it.
TEST(LargeMemory, MappedMemoryIsHugePageAligned) {
#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
    void *p = bb::allocate_large(bb::kLargeMemoryBytes + 1);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size_t(2) << 20), 0u);
    bb::free_large(p, bb::kLargeMemoryBytes + 1);
#else
    GTEST_SKIP() << "memory is mapped only on Linux without AddressSanitizer";
#endif
}

TEST(LargeMemory, NothingForNothingOrTheImpossible) {
    EXPECT_EQ(bb::allocate_large(0), nullptr);
    EXPECT_EQ(bb::allocate_large(SIZE_MAX), nullptr);
    EXPECT_EQ(bb::allocate_large(SIZE_MAX / 2), nullptr);
    bb::free_large(nullptr, 0);
    bb::free_large(nullptr, bb::kLargeMemoryBytes);
}

// A Buffer takes large sizes from allocate_large and gives them back however it was moved.
TEST(LargeMemory, BufferOwnsLargeAndSmallMemory) {
    for (size_t bytes : {size_t(100), bb::kLargeMemoryBytes * 2}) {
        bb::Buffer a(bytes);
        std::memset(a.data(), 1, bytes);
        bb::Buffer b(std::move(a));
        EXPECT_EQ(b.size(), bytes);
        EXPECT_EQ(b.data()[bytes - 1], 1);
        b.shrink(10);
        EXPECT_EQ(b.size(), 10u);
        bb::Buffer c;
        c = std::move(b);
        c.reset(bytes / 2);
        EXPECT_EQ(c.size(), bytes / 2);
    }
}
