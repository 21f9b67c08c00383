// A PNG on two threads: compressed in pairs of pieces (compress_in_pairs in png_codec.cpp), the
// same scanlines as on one, in one zlib stream that libpng reads; decoded with the blur a few
// rows behind the unfiltering (inflate_and_blur in png_inflate.cpp, through run_pipelined and
// a RowGate), the same pixels as the blur after the decoding. A cancel at any point is an
// interrupt, with the worker joined first. Also built under ThreadSanitizer (make
// unittest-threads).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>

#include "codecs.hpp"
#include "fixed_blur.hpp"
#include "gaussian.hpp"
#include "helpers.hpp"
#include "png_files.hpp"
#include "png_inflate.hpp"
#include "worker_thread.hpp"

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

// run, which polls with poll_counting, stopped at each of its polls in turn: an interrupt, or
// a run that asked fewer times (how often a wait for a worker polls depends on timing).
void expect_a_cancel_at_every_poll(const std::function<void()> &run) {
    g_stop_at = -1;
    g_polls = 0;
    run();
    const long polls = g_polls;
    ASSERT_GE(polls, 3);
    for (long stop = 1; stop <= polls; stop++) {
        g_polls = 0;
        g_stop_at = stop;
        try {
            run();
            EXPECT_LT(g_polls, stop) << "the poll said stop, and the work went on";
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted) << stop;
        }
    }
    g_stop_at = -1;
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
    expect_a_cancel_at_every_poll(
        [&] { bb::encode_png(original, bb::PngMeta(), poll_counting, bb::kPngInMemoryBytes, 2); });
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

// ---- the blur beside the decoding --------------------------------------------------------

namespace {

// decode_png, then gaussian_blur: what the blur beside the decoding must give.
bb::Image blurred_after(const std::vector<uint8_t> &png, size_t prefix, double sigma) {
    bb::DecodeOptions options;
    options.png_row_prefix = prefix;
    bb::PngMeta meta;
    bb::Image image = bb::decode_png(png.data(), png.size(), options, &meta);
    bb::gaussian_blur(image, sigma, nullptr);
    return image;
}

bb::Image blurred_beside(const std::vector<uint8_t> &png, size_t prefix, double sigma,
                         bb::InterruptPoll poll = nullptr) {
    bb::DecodeOptions options;
    options.png_row_prefix = prefix;
    options.threads = 2;
    options.poll = poll;
    bb::PngMeta meta;
    return bb::decode_png_blurred(png.data(), png.size(), options, sigma, &meta);
}

// An image laid out as decode_png lays out an 8-bit one with this row prefix.
bb::Image like(const bb::Image &original, size_t prefix) {
    bb::Image out;
    out.width = original.width;
    out.height = original.height;
    out.channels = original.channels;
    out.row_prefix = prefix;
    out.allocate();
    return out;
}

// The outcome of a decode, for comparing two: "pixels" or the error's kind and messages.
template <class Decode> std::string outcome(Decode decode) {
    try {
        decode();
        return "pixels";
    } catch (const bb::Error &e) {
        return std::to_string(int(e.kind())) + ": " + e.what() + " / " + e.detail();
    }
}

} // namespace

// Every filter type (the rows cycle through them), grey and RGB, in place and not, images
// shorter than the kernel's reach and not a whole number of the decoder's batches of rows:
// the same pixels as the blur after the decoding, at sigmas of 1 to 10 taps' reach.
TEST(PngThreads, BlurBesideTheDecodingIsTheBlurAfterIt) {
    if (!bb::fixed_blur_vectorised())
        GTEST_SKIP() << "the fixed-point blur is not this processor's: decode_png_blurred blurs after decoding";
    const uint32_t tall = kThreadSanitizer ? 300 : 1300;
    for (const auto &size : {std::pair<uint32_t, uint32_t>{300, 7}, {301, 200}, {1000, tall}, {1, 90}})
        for (const int channels : {1, 3})
            for (const double sigma : {0.8, 5.0, 10.0})
                for (const size_t prefix : {size_t(0), size_t(1)}) {
                    const bb::Image original = bbtest::make_image(size.first, size.second, channels);
                    const auto png = bbtest::make_png(original);
                    bbtest::expect_same_pixels(blurred_beside(png, prefix, sigma), blurred_after(png, prefix, sigma),
                                               std::to_string(size.first) + "x" + std::to_string(size.second) + "x" +
                                                   std::to_string(channels) + " sigma " + std::to_string(sigma) +
                                                   " prefix " + std::to_string(prefix));
                }
}

// zlib's batches (images above kPngFastInflateBytes; here forced small), a row at a time up to
// all rows in one, publish their rows as the one call does.
TEST(PngThreads, BlurBesideTheBatchesIsTheBlurAfterThem) {
    if (!bb::fixed_blur_vectorised())
        GTEST_SKIP() << "the fixed-point blur is not this processor's";
    const bb::Image original = bbtest::make_image(333, 250, 3);
    const auto png = bbtest::make_png(original);
    for (const size_t batch : {size_t(1), size_t(5000), size_t(1) << 20})
        for (const size_t prefix : {size_t(0), size_t(1)}) {
            bb::Image image = like(original, prefix);
            ASSERT_TRUE(bb::inflate_and_blur(png.data(), png.size(), image, 5.0, nullptr, 0, batch));
            bbtest::expect_same_pixels(image, blurred_after(png, prefix, 5.0),
                                       "batch " + std::to_string(batch) + " prefix " + std::to_string(prefix));
        }
}

// A file the fast path gives up on part way (a bad filter type low in the image, a stream cut
// short, a bad checksum) goes to libpng as on one thread: the same error, or the same pixels.
TEST(PngThreads, BlurBesideTheDecodingFaultsAsTheDecoderDoes) {
    const bb::Image original = bbtest::make_image(400, kThreadSanitizer ? 300 : 900, 3);
    std::vector<bbtest::PngParts> faults(4);
    faults[0].bad_filter_row = int(original.height) - 20;
    faults[1].truncate_stream = 40;
    faults[2].bad_adler = true;
    faults[3].bad_idat_crc = true;
    for (const bbtest::PngParts &parts : faults) {
        const auto png = bbtest::make_png(original, parts);
        bb::Image after, beside;
        const std::string one = outcome([&] { after = blurred_after(png, 1, 5.0); });
        EXPECT_EQ(outcome([&] { beside = blurred_beside(png, 1, 5.0); }), one);
        if (one == "pixels")
            bbtest::expect_same_pixels(beside, after, "bad Adler-32");
    }
    EXPECT_NE(outcome([&] { blurred_beside(bbtest::make_png(original, faults[0]), 1, 5.0); }), "pixels");
}

// A cancel at each of the decoding's polls, the waits for the blur's thread included, is an
// interrupt (or comes after the last poll of a run that asked fewer times).
TEST(PngThreads, ACancelWhileBlurringBesideTheDecodingIsAnInterrupt) {
    const auto png = bbtest::make_png(bbtest::make_image(800, kThreadSanitizer ? 200 : 1200, 3));
    expect_a_cancel_at_every_poll([&] { blurred_beside(png, 1, 5.0, poll_counting); });
}

// run_pipelined: a producer that gives up or throws ends a consumer waiting for rows that
// will not come; a consumer's exception comes after the producer's result.
TEST(PngThreads, APipelineEndsItsConsumerWhenTheProducerStops) {
    for (const int how : {0, 1, 2}) {
        bb::RowGate gate;
        std::atomic<bool> consumer_saw_the_end{false};
        auto consume = [&] {
            if (!gate.wait_for(1000))
                consumer_saw_the_end = true;
        };
        auto produce = [&] {
            gate.publish(how == 2 ? 1000 : 10); // 2: every row, and done
            if (how == 1)
                throw bb::Error(bb::ErrorKind::InvalidData, "the producer's error");
            return how == 2;
        };
        if (how == 1) {
            EXPECT_THROW(bb::run_pipelined(gate, consume, produce, nullptr), bb::Error);
        } else {
            EXPECT_EQ(bb::run_pipelined(gate, consume, produce, nullptr), how == 2);
        }
        EXPECT_EQ(consumer_saw_the_end.load(), how != 2) << how;
        EXPECT_EQ(gate.abandoned(), how != 2) << how;
    }
    bb::RowGate gate;
    EXPECT_THROW(bb::run_pipelined(
                     gate, [] { throw std::runtime_error("the consumer's error"); },
                     [&] {
                         gate.publish(5);
                         return true;
                     },
                     nullptr),
                 std::runtime_error);
}
