// A JPEG's entropy coding in two parts (JpegPlaneWriter with split, codecs.hpp): the top and
// the bottom iMCU rows written by two compressors that count into one set of tables, joined
// by a restart marker, their entropy passes on two threads at bytea_blur.threads 2. The file
// holds the coefficients of the file written whole, decodes without a warning, and is the same
// bytes at one thread, two, and two with no thread to be had; every poll stops it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "codecs.hpp"
#include "helpers.hpp"
#include "jpeg_files.hpp"
#include "pipeline.hpp"
#include "worker_thread.hpp"

namespace {

using Written = bbtest::WrittenPlanes;
using bbtest::read_coefficients;
using bbtest::restart_markers;

Written write_planes(uint32_t width, uint32_t height, const bb::JpegMeta &meta, bool split, int threads,
                     bb::InterruptPoll poll = nullptr) {
    bbtest::PlaneWriting how;
    how.split = split;
    how.threads = threads;
    how.poll = poll;
    return bbtest::write_planes(width, height, meta, how);
}

bb::JpegMeta meta_of(int components, int luma_h, int luma_v) {
    return bbtest::planes_meta(components, luma_h, luma_v);
}

struct NoThreads {
    NoThreads() { bb::worker_threads_denied = true; }
    ~NoThreads() { bb::worker_threads_denied = false; }
};

} // namespace

// Every sampling (chroma finer than luma and factors of 3 and 4 too), odd and even numbers of
// iMCU rows, partial blocks at the edges: where there are two iMCU rows or more, the parts'
// file has the whole file's coefficients, a DRI of the top part's MCUs (the larger half) and
// one restart marker, a few bytes more; the same bytes on one thread, two, and two with the
// threads taken away. With one iMCU row, the whole file.
TEST(JpegSplitEntropy, ThePartsHoldTheWholeFilesCoefficients) {
    struct Case {
        int components, h, v;
        uint32_t width, height;
        int chroma_h = 1, chroma_v = 1;
    };
    const Case cases[] = {{3, 2, 2, 200, 150}, {3, 2, 2, 97, 33},       {3, 2, 2, 64, 16},       {3, 2, 1, 123, 41},
                          {3, 1, 1, 203, 17},  {3, 1, 2, 50, 70},       {3, 4, 1, 150, 30},      {3, 1, 4, 40, 130},
                          {3, 3, 2, 77, 51},   {3, 1, 1, 90, 70, 2, 2}, {3, 2, 1, 66, 40, 1, 2}, {1, 1, 1, 77, 45},
                          {1, 1, 1, 9, 8}};
    for (const Case &c : cases) {
        SCOPED_TRACE(testing::Message() << c.components << " components " << c.h << "x" << c.v << " (chroma "
                                        << c.chroma_h << "x" << c.chroma_v << "), " << c.width << "x" << c.height);
        bb::JpegMeta meta = meta_of(c.components, c.h, c.v);
        for (int k = 1; k < c.components; k++) {
            meta.h_samp[k] = c.chroma_h;
            meta.v_samp[k] = c.chroma_v;
        }
        const Written whole = write_planes(c.width, c.height, meta, false, 1);
        const Written one = write_planes(c.width, c.height, meta, true, 1);
        const Written two = write_planes(c.width, c.height, meta, true, 2);
        Written denied;
        {
            NoThreads no_threads;
            denied = write_planes(c.width, c.height, meta, true, 2);
        }
        EXPECT_FALSE(whole.split);
        EXPECT_EQ(one.file, two.file);
        EXPECT_EQ(one.file, denied.file);
        const uint32_t max_h = uint32_t(std::max(c.h, c.chroma_h)), max_v = uint32_t(std::max(c.v, c.chroma_v));
        const uint32_t mcu_w = c.components == 1 ? 8 : 8 * max_h, mcu_h = c.components == 1 ? 8 : 8 * max_v;
        const uint32_t rows = (c.height + mcu_h - 1) / mcu_h, across = (c.width + mcu_w - 1) / mcu_w;
        ASSERT_EQ(one.split, rows >= 2);
        if (!one.split) {
            EXPECT_EQ(one.file, whole.file);
            continue;
        }
        const bbtest::ReadCoefficients parts = read_coefficients(one.file), reference = read_coefficients(whole.file);
        EXPECT_EQ(parts.warnings, 0);
        EXPECT_EQ(parts.coefficients, reference.coefficients);
        EXPECT_EQ(parts.restart_interval, (rows + 1) / 2 * across);
        EXPECT_EQ(reference.restart_interval, 0u);
        EXPECT_EQ(restart_markers(one.file), 1);
        EXPECT_EQ(restart_markers(whole.file), 0);
        EXPECT_LE(one.file.size(), whole.file.size() + 16);
        EXPECT_EQ(bbtest::libjpeg_pixels(one.file), bbtest::libjpeg_pixels(whole.file));
    }
}

// A DRI counts at most 65535 MCUs: a picture whose top half has more is written whole.
TEST(JpegSplitEntropy, NotWhereTheTopHasMoreMcusThanADriCounts) {
    const bb::JpegMeta grey = meta_of(1, 1, 1);
    // 8188 blocks across: 8 rows of them are 65504 MCUs, 9 rows 73692
    const Written fits = write_planes(65500, 8 * 16, grey, true, 1);
    const Written over = write_planes(65500, 8 * 18, grey, true, 1);
    EXPECT_TRUE(fits.split);
    EXPECT_EQ(read_coefficients(fits.file).restart_interval, 65504u);
    EXPECT_FALSE(over.split);
    EXPECT_EQ(restart_markers(over.file), 0);
}

// On one thread every poll stops the writing, in either part and in both entropy passes; on
// two, where the calling thread also polls while it waits for the other, each poll that says
// stop does, or that run asked fewer times.
TEST(JpegSplitEntropy, EveryPollStopsIt) {
    const bb::JpegMeta meta = meta_of(3, 2, 2);
    const auto run = [&](int threads) {
        return [&meta, threads] {
            const Written w = write_planes(160, 96, meta, true, threads, bbtest::PollCounter::poll);
            if (!w.split)
                throw std::logic_error("not split");
        };
    };
    EXPECT_GT(bbtest::expect_every_poll_stops_it(run(1)), 6);
    EXPECT_GT(bbtest::expect_stops_at_every_poll(run(2)), 6);
}

// Through blur_image: a photo of a megapixel or more is written in two parts (codecs.hpp:
// kSplitEntropyPixels), the same bytes at bytea_blur.threads 1 and 2; a smaller one whole.
TEST(JpegSplitEntropy, BlurredPhotosOfAMegapixelAreWrittenInTwoParts) {
    for (const uint32_t width : {1280u, 1000u}) {
        const uint32_t height = 832;     // 1280 x 832 is 1.02 MP, 1000 x 832 0.79
        const bbtest::JpegFileOptions o; // 4:2:0
        const std::vector<uint8_t> input = bbtest::jpeg_file(bbtest::make_image(width, height, 3), o);
        bb::BlurOptions options;
        options.sigma = 5.0;
        options.threads = 1;
        const std::vector<uint8_t> one = bbtest::bytes_of(bb::blur_image(input.data(), input.size(), options));
        options.threads = 2;
        const std::vector<uint8_t> two = bbtest::bytes_of(bb::blur_image(input.data(), input.size(), options));
        EXPECT_EQ(one, two) << width;
        const bbtest::ReadCoefficients read = read_coefficients(one);
        EXPECT_EQ(read.warnings, 0);
        const bool split = uint64_t(width) * height >= bb::kSplitEntropyPixels;
        EXPECT_EQ(read.restart_interval, split ? 26u * (width / 16) : 0u) << width; // 52 MCU rows of 16
        EXPECT_EQ(restart_markers(one), split ? 1 : 0) << width;
    }
}
