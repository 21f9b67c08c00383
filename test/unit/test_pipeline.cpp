#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "helpers.hpp"
#include "pipeline.hpp"
#include "probe.hpp"

namespace {

bb::ErrorKind error_of(const std::vector<uint8_t> &data, const bb::BlurOptions &options) {
    try {
        bb::blur_image(data.data(), data.size(), options);
    } catch (const bb::Error &e) {
        return e.kind();
    }
    ADD_FAILURE() << "no error";
    return bb::ErrorKind::Interrupted;
}

} // namespace

TEST(Pipeline, OutputHasTheInputsFormatAndSize) {
    const auto png = bbtest::png_of(bbtest::make_image(21, 12, 4, 16, 3));
    const auto out_png = bb::blur_image(png.data(), png.size(), bb::BlurOptions());
    const bb::ImageInfo png_info = bb::probe(out_png.data(), out_png.size());
    EXPECT_EQ(png_info.format, bb::Format::Png);
    EXPECT_EQ(png_info.width, 21u);
    EXPECT_EQ(png_info.channels, 4);
    EXPECT_EQ(png_info.bit_depth, 16);

    const auto jpeg = bbtest::jpeg_of(bbtest::make_image(21, 12, 1), JCS_GRAYSCALE);
    const auto out_jpeg = bb::blur_image(jpeg.data(), jpeg.size(), bb::BlurOptions());
    const bb::ImageInfo jpeg_info = bb::probe(out_jpeg.data(), out_jpeg.size());
    EXPECT_EQ(jpeg_info.format, bb::Format::Jpeg);
    EXPECT_EQ(jpeg_info.height, 12u);
    EXPECT_EQ(jpeg_info.channels, 1);
}

TEST(Pipeline, ValidatesParameters) {
    const auto png = bbtest::png_of(bbtest::make_image(4, 4, 3));
    for (double sigma :
         {-0.001, 1000.5, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
        bb::BlurOptions options;
        options.sigma = sigma;
        EXPECT_EQ(error_of(png, options), bb::ErrorKind::InvalidParameter) << sigma;
    }
    for (int quality : {0, 101, -1}) {
        bb::BlurOptions options;
        options.quality = quality;
        EXPECT_EQ(error_of(png, options), bb::ErrorKind::InvalidParameter) << quality;
    }
    bb::BlurOptions edge;
    edge.sigma = 1000.0;
    edge.quality = 100;
    EXPECT_NO_THROW(bb::blur_image(png.data(), png.size(), edge));
}

TEST(Pipeline, PixelLimitComesFromTheHeader) {
    auto png = bbtest::png_of(bbtest::make_image(4, 4, 3));
    // claim 60000 x 60000 in IHDR: refused before any decoding (the CRC is now wrong, too)
    const uint8_t big[8] = {0, 0, 0xea, 0x60, 0, 0, 0xea, 0x60};
    std::memcpy(png.data() + 16, big, 8);
    EXPECT_EQ(error_of(png, bb::BlurOptions()), bb::ErrorKind::TooLarge);
}

TEST(Pipeline, InterruptionUnwinds) {
    const auto jpeg = bbtest::jpeg_of(bbtest::make_image(64, 64, 3), JCS_YCbCr);
    bb::BlurOptions options;
    options.poll = [] { return true; };
    EXPECT_EQ(error_of(jpeg, options), bb::ErrorKind::Interrupted);
}

TEST(Buffer, AllocationFailureIsOutOfMemory) {
    try {
        bb::Buffer huge(size_t(1) << 62);
        FAIL() << "allocated 4 EiB";
    } catch (const bb::Error &e) {
        EXPECT_EQ(e.kind(), bb::ErrorKind::OutOfMemory);
    }
}

namespace {

long poll_budget = 0;
long poll_calls = 0;
bool counting_poll() {
    poll_calls++;
    return --poll_budget < 0;
}

// Interrupts a blur at every point where it polls, and checks that each one unwinds with
// ErrorKind::Interrupted. Under the sanitizers (make unittest-sanitize) a double free or a leak
// on any of these paths fails the run; one did: libjpeg's jpeg_mem_dest forgets a grown buffer.
// On two threads the number of polls depends on timing (this thread polls while it waits for
// the other), so a run may end before its k-th poll: that is a pass as long as no poll said
// stop. (The gate's two releases at once, on two cores, made this fail as written before.)
void interrupt_everywhere(const std::vector<uint8_t> &data, double sigma, int threads = 1) {
    bb::BlurOptions options;
    options.sigma = sigma;
    options.threads = threads;
    options.quality = 100; // a large output, so that the encoder's buffer has to grow
    options.poll = counting_poll;
    poll_budget = 1L << 40;
    poll_calls = 0;
    bb::blur_image(data.data(), data.size(), options);
    const long total = poll_calls;
    ASSERT_GT(total, 10);
    for (long k = 0; k < total; k++) {
        poll_budget = k;
        try {
            bb::blur_image(data.data(), data.size(), options);
            if (poll_budget < 0 || threads == 1)
                ADD_FAILURE() << "not interrupted at poll " << k << " of " << total;
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted) << k;
        }
    }
}

} // namespace

TEST(Pipeline, JpegDecodeScaleKeepsThePlanesSigma) {
    EXPECT_EQ(bb::jpeg_decode_scale(0.0), 1);
    EXPECT_EQ(bb::jpeg_decode_scale(2.4), 1);
    EXPECT_EQ(bb::jpeg_decode_scale(2.5), 2);
    EXPECT_EQ(bb::jpeg_decode_scale(4.9), 2);
    EXPECT_EQ(bb::jpeg_decode_scale(5.0), 4);
    EXPECT_EQ(bb::jpeg_decode_scale(31.9), 4);
    EXPECT_EQ(bb::jpeg_decode_scale(32.0), 8);
    EXPECT_EQ(bb::jpeg_decode_scale(1000.0), 8);
}

TEST(Pipeline, InterruptedAtEveryPollJpeg) {
    const auto jpeg = bbtest::jpeg_of(bbtest::make_image(320, 200, 3), JCS_YCbCr, 100);
    for (double sigma : {1.0, 3.0, 5.0, 40.0}) // each decode scale
        interrupt_everywhere(jpeg, sigma);
}

// A progressive file is read whole into coefficients inside jpeg_start_decompress, where
// libjpeg's progress monitor polls: interrupted there too, at full and at 1/8 scale.
TEST(Pipeline, InterruptedAtEveryPollProgressiveJpeg) {
    const auto jpeg = bbtest::progressive_jpeg_of(bbtest::make_image(320, 200, 3));
    for (double sigma : {5.0, 40.0})
        interrupt_everywhere(jpeg, sigma);
}

// On two threads, each large enough for it: a baseline file's rows decoded ahead (2 MP), a
// progressive one's scans split (0.3 MP).
TEST(Pipeline, InterruptedAtEveryPollJpegOnTwoThreads) {
    interrupt_everywhere(bbtest::jpeg_of(bbtest::make_image(1600, 1250, 3), JCS_YCbCr, 100), 5.0, 2);
    for (double sigma : {1.0, 5.0})
        interrupt_everywhere(bbtest::progressive_jpeg_of(bbtest::make_image(640, 480, 3)), sigma, 2);
}

TEST(Pipeline, TwoThreadsGiveTheSameBytesAsOne) {
    for (const auto &jpeg : {bbtest::jpeg_of(bbtest::make_image(1600, 1250, 3), JCS_YCbCr),
                             bbtest::progressive_jpeg_of(bbtest::make_image(640, 480, 3)),
                             bbtest::jpeg_of(bbtest::make_image(1600, 1250, 1), JCS_GRAYSCALE)})
        for (double sigma : {1.0, 5.0, 40.0}) {
            bb::BlurOptions options;
            options.sigma = sigma;
            const auto one = bbtest::bytes_of(bb::blur_image(jpeg.data(), jpeg.size(), options));
            options.threads = 2;
            const auto two = bbtest::bytes_of(bb::blur_image(jpeg.data(), jpeg.size(), options));
            EXPECT_TRUE(one == two) << sigma;
        }
}

// Every blur method: float FIR (16-bit with alpha at 3), recursive (8-bit RGB at 20, 8-bit
// RGBA at 8), fixed point (8-bit RGB at 3).
TEST(Pipeline, InterruptedAtEveryPollPng) {
    interrupt_everywhere(bbtest::png_of(bbtest::make_image(200, 120, 4, 16, 3)), 3.0);
    interrupt_everywhere(bbtest::png_of(bbtest::make_image(200, 120, 3)), 20.0);
    interrupt_everywhere(bbtest::png_of(bbtest::make_image(150, 90, 4, 8, 3)), 8.0);
    interrupt_everywhere(bbtest::png_of(bbtest::make_image(200, 120, 3)), 3.0);
}
