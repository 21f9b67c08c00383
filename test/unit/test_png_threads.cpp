// A PNG compressed on two threads (compress_in_pairs in png_codec.cpp): the same scanlines as
// on one, in one zlib stream that libpng reads; a cancel at any point is an interrupt, with the
// worker joined first. Also built under ThreadSanitizer (make unittest-threads).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>

#include "codecs.hpp"
#include "helpers.hpp"

namespace {

// ThreadSanitizer runs the core some twenty times slower: there the 27 MB image of four pieces
// is left to the other builds, and the cancels use the image of two pieces.
#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif
#else
constexpr bool kThreadSanitizer = false;
#endif

bb::Image decoded(const bb::Buffer &png) {
    bb::PngMeta meta;
    return bb::decode_png(png.data(), png.size(), bb::DecodeOptions(), &meta);
}

std::atomic<long> g_polls{0}, g_stop_at{-1};
bool poll_counting() {
    const long n = ++g_polls;
    return g_stop_at >= 0 && n >= g_stop_at;
}

} // namespace

// Below kParallelDeflateBytes one thread compresses; above, pairs of pieces (two pieces; four
// from 2 x kDeflatePieceBytes, of which the last pair's second is shorter).
TEST(PngThreads, TwoThreadsWriteTheSameScanlines) {
    const uint32_t rows_below = uint32_t(bb::kParallelDeflateBytes / (300 * 3 + 1)) - 1;
    const uint32_t rows_four = uint32_t(2 * bb::kDeflatePieceBytes / (3000 * 3 + 1)) + 7;
    for (const auto &size :
         {std::pair<uint32_t, uint32_t>{300, rows_below}, {300, rows_below + 2}, {3000, rows_four}}) {
        const bb::Image original = bbtest::make_image(size.first, size.second, 3);
        const bb::Buffer one = bb::encode_png(original, bb::PngMeta(), nullptr, bb::kPngInMemoryBytes, 1);
        const bb::Buffer two = bb::encode_png(original, bb::PngMeta(), nullptr, bb::kPngInMemoryBytes, 2);
        for (const bb::Buffer *png : {&one, &two}) {
            const bb::Image back = decoded(*png);
            ASSERT_EQ(back.pixels.size(), original.pixels.size());
            EXPECT_EQ(0, std::memcmp(back.pixels.data(), original.pixels.data(), original.pixels.size()))
                << size.first << "x" << size.second << (png == &one ? " one thread" : " two threads");
        }
        // One thread's file below the threshold; above, only the cuts between the pieces differ.
        const bool pairs = original.pixels.size() + original.height >= bb::kParallelDeflateBytes;
        EXPECT_EQ(pairs, one.size() != two.size() || std::memcmp(one.data(), two.data(), one.size()) != 0);
        EXPECT_NEAR(double(two.size()), double(one.size()), 64.0 * 4) << size.first << "x" << size.second;
    }
}

// A cancel before, between and during the pairs (the poll is also asked every 5 ms while the
// worker runs, so the number of polls varies from run to run).
TEST(PngThreads, ACancelAtAnyPollIsAnInterrupt) {
    const bb::Image original = kThreadSanitizer
                                   ? bbtest::make_image(1000, uint32_t(bb::kParallelDeflateBytes / 3001) + 2, 3)
                                   : bbtest::make_image(3000, uint32_t(2 * bb::kDeflatePieceBytes / 9001) + 7, 3);
    g_stop_at = -1;
    g_polls = 0;
    bb::encode_png(original, bb::PngMeta(), poll_counting, bb::kPngInMemoryBytes, 2);
    const long polls = g_polls;
    ASSERT_GE(polls, 3);
    for (long stop = 1; stop <= polls; stop++) {
        g_polls = 0;
        g_stop_at = stop;
        try {
            bb::encode_png(original, bb::PngMeta(), poll_counting, bb::kPngInMemoryBytes, 2);
            // How often the wait polls depends on timing: this run may have asked fewer times.
            EXPECT_LT(g_polls, stop) << "the poll said stop, and the encoder went on";
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted) << stop;
        }
    }
    g_stop_at = -1;
}

// Noise compresses to more than its own size: the output buffer's bound must hold every piece
// and the joins, on one thread and on two, at two pieces and at four.
TEST(PngThreads, IncompressibleScanlinesFitTheBound) {
    for (const uint32_t height : {400u, kThreadSanitizer ? 400u : uint32_t(2 * bb::kDeflatePieceBytes / 3001) + 3}) {
        bb::Image noise = bbtest::make_image(1000, height, 3);
        uint64_t state = 88172645463325252ull;
        for (size_t i = 0; i < noise.pixels.size(); i++) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17;
            noise.pixels.data()[i] = uint8_t(state >> 32);
        }
        for (const int threads : {1, 2}) {
            const bb::Buffer png = bb::encode_png(noise, bb::PngMeta(), nullptr, bb::kPngInMemoryBytes, threads);
            EXPECT_GT(png.size(), noise.pixels.size());
            const bb::Image back = decoded(png);
            ASSERT_EQ(back.pixels.size(), noise.pixels.size());
            EXPECT_EQ(0, std::memcmp(back.pixels.data(), noise.pixels.data(), noise.pixels.size()))
                << height << " rows, " << threads << " threads";
        }
    }
}
