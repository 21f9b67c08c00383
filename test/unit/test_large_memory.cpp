#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "image.hpp"
#include "jpeg_files.hpp"
#include "large_memory.hpp"
#include "pipeline.hpp"

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
#include <sys/mman.h>
#ifdef MADV_FREE
#define BB_RECYCLES 1 // as large_memory.cpp: mapped memory, MADV_FREE to keep it with
#endif
#endif

#include <thread>
#include <vector>

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

// ---- recycling (large_memory.hpp) --------------------------------------------------------

namespace {

constexpr size_t kMiB = size_t(1) << 20;

} // namespace

// A mapping freed is kept, and the next request of its size that does not need zeroes gets it
// back as it was left (or zeroed, if the kernel took its pages meanwhile).
TEST(LargeMemoryRecycling, TheNextRequestOfTheSameSizeGetsTheMappingBack) {
#ifdef BB_RECYCLES
    bb::release_recycled_memory();
    const size_t bytes = 6 * kMiB + 100;
    auto *p = static_cast<uint8_t *>(bb::allocate_large(bytes, bb::LargeFill::Any));
    ASSERT_NE(p, nullptr);
    std::memset(p, 0x5a, bytes);
    bb::free_large(p, bytes);
    EXPECT_EQ(bb::recycled_large_bytes(), 8 * kMiB); // whole 2 MiB pages
    // another size (in whole pages) does not fit it
    void *other = bb::allocate_large(10 * kMiB, bb::LargeFill::Any);
    ASSERT_NE(other, nullptr);
    EXPECT_NE(other, static_cast<void *>(p));
    EXPECT_EQ(bb::recycled_large_bytes(), 8 * kMiB);
    bb::free_large(other, 10 * kMiB);
    auto *q = static_cast<uint8_t *>(bb::allocate_large(bytes + 1000, bb::LargeFill::Any));
    EXPECT_EQ(q, p);
    EXPECT_EQ(bb::recycled_large_bytes(), 10 * kMiB);
    EXPECT_TRUE(q[0] == 0x5a || q[0] == 0);
    bb::free_large(q, bytes + 1000);
    bb::release_recycled_memory();
    EXPECT_EQ(bb::recycled_large_bytes(), 0u);
#else
    GTEST_SKIP() << "memory is recycled only where it is mapped (Linux, without AddressSanitizer)";
#endif
}

// Memory asked for zeroed is never a kept mapping.
TEST(LargeMemoryRecycling, ZeroedRequestsGetFreshMemory) {
    bb::release_recycled_memory();
    const size_t bytes = 6 * kMiB;
    auto *p = static_cast<uint8_t *>(bb::allocate_large(bytes, bb::LargeFill::Any));
    ASSERT_NE(p, nullptr);
    std::memset(p, 0xa5, bytes);
    bb::free_large(p, bytes);
    bb::scribble_recycled_memory(0xa5);
    auto *z = static_cast<uint8_t *>(bb::allocate_large(bytes));
    ASSERT_NE(z, nullptr);
    EXPECT_TRUE(all_zero(z, bytes));
#ifdef BB_RECYCLES
    EXPECT_EQ(bb::recycled_large_bytes(), bytes); // still kept
#endif
    bb::free_large(z, bytes);
    bb::release_recycled_memory();
}

// At most kRecycledMappings mappings and kRecycledBytes are kept, the oldest given back first;
// a mapping over kRecycledBytes is not kept at all.
TEST(LargeMemoryRecycling, KeepsTheNewestWithinItsLimits) {
#ifdef BB_RECYCLES
    static_assert(bb::kRecycledMappings == 2 && bb::kRecycledBytes == 32 * kMiB, "the sizes below");
    bb::release_recycled_memory();
    void *m[3];
    for (void *&p : m)
        p = bb::allocate_large(6 * kMiB, bb::LargeFill::Any);
    for (void *p : m)
        bb::free_large(p, 6 * kMiB);
    EXPECT_EQ(bb::recycled_large_bytes(), 12 * kMiB); // two of the three
    void *big = bb::allocate_large(40 * kMiB, bb::LargeFill::Any);
    bb::free_large(big, 40 * kMiB);
    EXPECT_EQ(bb::recycled_large_bytes(), 12 * kMiB); // too large to keep
    void *large = bb::allocate_large(30 * kMiB, bb::LargeFill::Any);
    bb::free_large(large, 30 * kMiB);
    EXPECT_EQ(bb::recycled_large_bytes(), 30 * kMiB); // both 6 MiB ones given back for it
    bb::release_recycled_memory();
#else
    GTEST_SKIP() << "memory is recycled only where it is mapped (Linux, without AddressSanitizer)";
#endif
}

// Threads that allocate and free at once (also under ThreadSanitizer: run_thread_tests_tsan).
TEST(LargeMemoryRecycling, ThreadsShareTheKeptMappings) {
    bb::release_recycled_memory();
    auto work = [](size_t bytes, uint8_t byte) {
        for (int i = 0; i < 100; i++) {
            auto *p = static_cast<uint8_t *>(bb::allocate_large(bytes, bb::LargeFill::Any));
            ASSERT_NE(p, nullptr);
            std::memset(p, byte, bytes);
            for (size_t at = 0; at < bytes; at += 4096)
                ASSERT_EQ(p[at], byte);
            bb::free_large(p, bytes);
        }
    };
    std::thread a(work, 6 * kMiB, uint8_t(1)), b(work, 6 * kMiB, uint8_t(2)), c(work, 10 * kMiB, uint8_t(3));
    a.join();
    b.join();
    c.join();
    EXPECT_LE(bb::recycled_large_bytes(), bb::kRecycledBytes);
    bb::release_recycled_memory();
}

// An encoder with optimised tables holds the picture's coefficients in memory it asks for
// without zeroes (jpeg_coefficients.hpp): in a mapping kept from the call before, filled with
// junk, it writes the same file as in fresh memory, split in two parts or not.
TEST(LargeMemoryRecycling, AnEncoderWritesTheSameFileInAKeptMapping) {
    const bb::JpegMeta meta = bbtest::planes_meta(3, 2, 2);
    const uint32_t width = 2048, height = 1536; // 9 MiB of coefficients; split, two of 4.5
    for (const bool split : {false, true}) {
        SCOPED_TRACE(split ? "split" : "whole");
        bb::release_recycled_memory();
        bbtest::PlaneWriting how;
        how.split = split;
        const std::vector<uint8_t> fresh = bbtest::write_planes(width, height, meta, how).file;
#ifdef BB_RECYCLES
        ASSERT_GT(bb::recycled_large_bytes(), 0u); // the store, kept
        bb::scribble_recycled_memory(0xa5);
        {
            // the next writer's store takes it as it starts
            const bb::JpegLayout layout = bb::jpeg_layout(width, height, meta);
            bb::JpegPlaneWriter writer(layout, meta, 75, true, nullptr, split, 1, 1);
            EXPECT_EQ(bb::recycled_large_bytes(), 0u);
        }
        bb::scribble_recycled_memory(0xa5);
#endif
        EXPECT_EQ(bbtest::write_planes(width, height, meta, how).file, fresh);
        bb::release_recycled_memory();
    }
}

// A decoder asks for its coefficients zeroed (a progressive file's scans add to them): blurring
// a progressive photo twice, the kept mappings of the first call filled with junk between, gives
// the same file (were the decoder's store recycled, the second would decode the junk too).
TEST(LargeMemoryRecycling, ADecoderNeverReadsAKeptMapping) {
    bbtest::JpegFileOptions o;
    o.progressive = true;
    // 1600 x 1200 at 4:2:0: 5.5 MiB of coefficients to decode, and to encode
    const std::vector<uint8_t> input = bbtest::jpeg_file(bbtest::make_image(1600, 1200, 3), o);
    for (const int threads : {1, 2}) {
        bb::release_recycled_memory();
        bb::BlurOptions options;
        options.sigma = 5.0;
        options.threads = threads;
        const std::vector<uint8_t> first = bbtest::bytes_of(bb::blur_image(input.data(), input.size(), options));
#ifdef BB_RECYCLES
        EXPECT_GT(bb::recycled_large_bytes(), 0u);
#endif
        bb::scribble_recycled_memory(0x7f);
        EXPECT_EQ(bbtest::bytes_of(bb::blur_image(input.data(), input.size(), options)), first) << threads;
    }
    bb::release_recycled_memory();
}
