// How a blurred JPEG is written (codecs.hpp, jpeg_encoding_for): chroma 4:2:0 from sigma 2 on,
// Huffman tables optimised for the image up to the coefficient buffer's limit, and a cancel
// inside libjpeg's entropy pass.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "codecs.hpp"
#include "gaussian.hpp"
#include "helpers.hpp"
#include "jpeg_files.hpp"
#include "jpeg_glue.hpp"
#include "jpeg_statistics.hpp"
#include "pipeline.hpp"

// after jpeglib.h (codecs.hpp), which it needs
#include <jpegint.h>

namespace {

bb::JpegMeta meta_of(int color_space, int components, int luma_h, int luma_v) {
    bb::JpegMeta meta;
    meta.color_space = color_space;
    meta.components = components;
    meta.h_samp[0] = luma_h;
    meta.v_samp[0] = luma_v;
    return meta;
}

std::vector<uint8_t> ycbcr_jpeg(uint32_t width, uint32_t height, int luma_h, int luma_v) {
    const bb::JpegMeta meta = meta_of(JCS_YCbCr, 3, luma_h, luma_v);
    return bbtest::bytes_of(bb::encode_jpeg(bbtest::make_image(width, height, 3), meta, 90, nullptr));
}

// libjpeg's standard luminance DC table (ITU T.81 K.3): its code counts and symbols.
const std::vector<uint8_t> kStandardLumaDc = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0,  0,
                                              0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

bb::JpegMeta sampling_of(const std::vector<uint8_t> &jpeg) {
    bb::JpegMeta meta;
    bb::decode_jpeg(jpeg.data(), jpeg.size(), bb::DecodeOptions(), &meta);
    return meta;
}

} // namespace

TEST(JpegEncoding, ChromaIs420FromSigma2) {
    for (const auto &luma : {std::pair<int, int>{1, 1}, {2, 1}, {1, 2}, {2, 2}}) {
        const bb::JpegMeta in = meta_of(JCS_YCbCr, 3, luma.first, luma.second);
        for (const double sigma : {0.0, 1.0, 1.99}) {
            const bb::JpegEncoding kept = bb::jpeg_encoding_for(in, 640, 480, sigma);
            EXPECT_EQ(kept.meta.h_samp[0], luma.first) << sigma;
            EXPECT_EQ(kept.meta.v_samp[0], luma.second) << sigma;
        }
        for (const double sigma : {2.0, 5.0, 100.0}) {
            const bb::JpegEncoding out = bb::jpeg_encoding_for(in, 640, 480, sigma);
            EXPECT_EQ(out.meta.h_samp[0], 2);
            EXPECT_EQ(out.meta.v_samp[0], 2);
            for (int c = 1; c < 3; c++) {
                EXPECT_EQ(out.meta.h_samp[c], 1);
                EXPECT_EQ(out.meta.v_samp[c], 1);
            }
        }
    }
    // Grey, RGB, CMYK and YCCK files keep their own sampling at any sigma.
    for (const auto &other : {meta_of(JCS_GRAYSCALE, 1, 1, 1), meta_of(JCS_RGB, 3, 1, 1), meta_of(JCS_CMYK, 4, 1, 1),
                              meta_of(JCS_YCCK, 4, 2, 2)}) {
        const bb::JpegEncoding out = bb::jpeg_encoding_for(other, 640, 480, 5.0);
        for (int c = 0; c < other.components; c++) {
            EXPECT_EQ(out.meta.h_samp[c], other.h_samp[c]);
            EXPECT_EQ(out.meta.v_samp[c], other.v_samp[c]);
        }
    }
}

TEST(JpegEncoding, OptimisedTablesUpToTheBufferLimit) {
    const bb::JpegMeta in = meta_of(JCS_YCbCr, 3, 2, 2);
    // 4:2:0: 6 blocks of 128 bytes per 16x16 MCU, 3 bytes a pixel
    const uint32_t side = 4736; // 296 x 296 MCUs: 296 * 296 * 6 * 128 bytes = 64.2 MiB
    EXPECT_TRUE(bb::jpeg_encoding_for(in, 4096, 4096, 5.0).optimize);
    EXPECT_TRUE(bb::jpeg_encoding_for(in, 4720, 4720, 5.0).optimize); // 295 x 295 MCUs
    EXPECT_FALSE(bb::jpeg_encoding_for(in, side, side, 5.0).optimize);
    // at sigma 1 a 4:4:4 file stays so: twice the blocks
    const bb::JpegMeta full = meta_of(JCS_YCbCr, 3, 1, 1);
    EXPECT_TRUE(bb::jpeg_encoding_for(full, 3344, 3344, 1.0).optimize);
    EXPECT_FALSE(bb::jpeg_encoding_for(full, 3352, 3352, 1.0).optimize);
}

TEST(JpegEncoding, BlurredFileHasItsOwnTablesAndChroma) {
    const std::vector<uint8_t> in = ycbcr_jpeg(96, 64, 1, 1); // 4:4:4
    ASSERT_EQ(bbtest::huffman_tables(in)[0x00], kStandardLumaDc);
    bb::BlurOptions options;
    options.sigma = 5.0;
    const std::vector<uint8_t> blurred = bbtest::bytes_of(bb::blur_image(in.data(), in.size(), options));
    const bb::JpegMeta out = sampling_of(blurred);
    EXPECT_EQ(out.h_samp[0], 2);
    EXPECT_EQ(out.v_samp[0], 2);
    EXPECT_EQ(out.h_samp[1], 1);
    const auto tables = bbtest::huffman_tables(blurred);
    ASSERT_EQ(tables.size(), 4u); // DC and AC, luma and chroma
    EXPECT_NE(tables.at(0x00), kStandardLumaDc);
    // a light blur keeps 4:4:4, still with the image's own tables
    options.sigma = 1.0;
    const std::vector<uint8_t> light = bbtest::bytes_of(bb::blur_image(in.data(), in.size(), options));
    EXPECT_EQ(sampling_of(light).h_samp[0], 1);
    EXPECT_EQ(sampling_of(light).v_samp[0], 1);
    EXPECT_NE(bbtest::huffman_tables(light).at(0x00), kStandardLumaDc);
}

// With optimised tables libjpeg writes the whole file inside jpeg_finish_compress; a cancel
// there is answered between its iMCU rows, and everything is freed (ASan's leak check).
TEST(JpegEncoding, CancelInsideTheEntropyPass) {
    const std::vector<uint8_t> in = ycbcr_jpeg(256, 256, 2, 2);
    bb::JpegMeta meta;
    bb::JpegPlaneReader reader(in.data(), in.size(), bb::DecodeOptions(), 1, &meta);
    const bb::JpegLayout layout = bb::jpeg_layout(reader.width(), reader.height(), meta);
    static bool cancel;
    static int polls;
    cancel = false;
    polls = 0;
    bb::JpegPlaneWriter writer(layout, meta, 75, true, [] {
        polls++;
        return cancel;
    });
    while (!writer.done()) {
        for (int c = 0; c < 3; c++)
            for (uint32_t r = 0; r < writer.rows_per_step(c); r++)
                std::memset(writer.row(c, r), 128, layout.padded_width[c]);
        writer.write();
    }
    const int polls_before = polls;
    cancel = true;
    try {
        writer.finish();
        FAIL() << "finish() was not interrupted";
    } catch (const bb::Error &e) {
        EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
    }
    EXPECT_EQ(polls, polls_before + 1); // the first row of the entropy pass
}

// A picture smaller than 8 sigma on a side is blurred whole at full size (planes_hold in
// jpeg_blur.cpp): through the planes, the partial blocks at its edges weighed as whole ones
// (33 columns at sigma 12 came out 7 levels redder on average). Each channel's mean stays
// that of the blur of the decoded pixels, colour or grey, at every size around the bound.
TEST(JpegEncoding, SmallPicturesKeepTheirColours) {
    struct Case {
        uint32_t w, h;
        double sigma;
    };
    const Case cases[] = {{2, 3, 5},    {33, 250, 12}, {33, 250, 5}, {90, 50, 12},
                          {95, 97, 12}, {97, 95, 12},  {7, 7, 100}};
    for (bool grey : {false, true}) {
        for (const Case &c : cases) {
            bbtest::JpegFileOptions o;
            o.grey = grey;
            o.quality = 95;
            const std::vector<uint8_t> jpeg = bbtest::jpeg_file(bbtest::make_image(c.w, c.h, 3), o);
            bb::DecodeOptions rgb;
            rgb.jpeg_to_rgb = true;
            bb::JpegMeta meta;
            bb::Image want = bb::decode_jpeg(jpeg.data(), jpeg.size(), rgb, &meta);
            bb::gaussian_blur(want, c.sigma, nullptr);
            bb::BlurOptions options;
            options.sigma = c.sigma;
            options.quality = 100;
            const std::vector<uint8_t> out = bbtest::bytes_of(bb::blur_image(jpeg.data(), jpeg.size(), options));
            const bb::Image got = bb::decode_jpeg(out.data(), out.size(), rgb, &meta);
            ASSERT_EQ(got.width, c.w);
            ASSERT_EQ(got.height, c.h);
            ASSERT_EQ(got.channels, want.channels);
            for (int ch = 0; ch < got.channels; ch++) {
                double sum_got = 0, sum_want = 0;
                for (uint32_t y = 0; y < c.h; y++)
                    for (uint32_t x = 0; x < c.w; x++) {
                        sum_got += got.row(y)[size_t(x) * size_t(got.channels) + size_t(ch)];
                        sum_want += want.row(y)[size_t(x) * size_t(want.channels) + size_t(ch)];
                    }
                EXPECT_NEAR(sum_got / (c.w * c.h), sum_want / (c.w * c.h), 1.0)
                    << c.w << "x" << c.h << " sigma " << c.sigma << (grey ? " grey" : " colour") << " channel " << ch;
            }
        }
    }
}

// Our Huffman statistics (jpeg_statistics.hpp) make the tables and the file libjpeg's own make:
// the same bytes, for pictures with few and many nonzero coefficients (long zero runs, full
// blocks, the largest coefficients at quality 100), at every sampling and through the blurred
// planes' writer; and a JPEG written with them decodes.
// jpeg_glue.hpp's zigzag order is a constant of ours, for the compiler: the one libjpeg reads
// and writes with (jpeg_natural_order, in its internal header) is the same.
TEST(JpegEncoding, OurZigzagOrderIsLibjpegs) {
    for (int k = 0; k < 64; k++)
        EXPECT_EQ(bb::jpeg::kNaturalOrder[k], jpeg_natural_order[k]) << k;
}

// The nonzero coefficients the statistics visit, found sixteen at a time with SSE2: the same
// as the portable loop's (the one builds without SSE2 take), extremes and lone ones included.
TEST(JpegEncoding, NonzeroCoefficientsAreFoundAsThePortableLoopFindsThem) {
    uint32_t seed = 11;
    auto next = [&] {
        seed = seed * 1103515245u + 12345u;
        return seed >> 8;
    };
    JCOEF block[64];
    for (int trial = 0; trial < 5000; trial++) {
        const uint32_t density = next() % 65; // how many of 64 are set, about
        for (int n = 0; n < 64; n++) {
            const uint32_t r = next();
            const JCOEF values[] = {1, -1, 2, -2, 255, -256, 256, 32767, -32768, JCOEF(r % 2047 - 1023)};
            block[n] = r % 64 < density ? values[(r >> 6) % 10] : 0;
        }
        if (trial < 64) { // one coefficient alone, at each position
            std::memset(block, 0, sizeof block);
            block[trial] = trial % 2 ? -32768 : 256;
        }
        ASSERT_EQ(bb::jpeg::nonzero_natural_fast(block), bb::jpeg::nonzero_natural_portable(block)) << trial;
    }
}

// use_optimised_tables(false), for measuring what the tables cost: the standard tables, more
// bytes, the same coefficients and so the same pixels.
TEST(JpegEncoding, TheStandardTablesOnRequestGiveTheSamePixels) {
    struct Restore {
        ~Restore() { bb::use_optimised_tables(true); }
    } restore;
    const std::vector<uint8_t> input = ycbcr_jpeg(320, 200, 2, 2);
    bb::BlurOptions options;
    options.sigma = 5.0;
    const std::vector<uint8_t> optimised = bbtest::bytes_of(bb::blur_image(input.data(), input.size(), options));
    bb::use_optimised_tables(false);
    const std::vector<uint8_t> standard = bbtest::bytes_of(bb::blur_image(input.data(), input.size(), options));
    EXPECT_EQ(bbtest::huffman_tables(standard).at(0x00), kStandardLumaDc);
    EXPECT_NE(bbtest::huffman_tables(optimised).at(0x00), kStandardLumaDc);
    EXPECT_GT(standard.size(), optimised.size());
    EXPECT_EQ(bbtest::libjpeg_pixels(standard, JCS_RGB), bbtest::libjpeg_pixels(optimised, JCS_RGB));
}

TEST(JpegEncoding, OurHuffmanStatisticsMakeLibjpegsFile) {
    struct Restore {
        ~Restore() { bb::jpeg::use_fast_statistics(true); }
    } restore;
    auto both = [](auto encode) {
        bb::jpeg::use_fast_statistics(false);
        const std::vector<uint8_t> theirs = encode();
        bb::jpeg::use_fast_statistics(true);
        const std::vector<uint8_t> ours = encode();
        return std::make_pair(theirs, ours);
    };
    const bb::Image photo = bbtest::make_image(203, 131, 3);
    bb::Image blurred = bbtest::make_image(203, 131, 3);
    bb::gaussian_blur(blurred, 5.0, nullptr);
    const bb::Image checks = bbtest::image_of(96, 64, 3, [](uint32_t x, uint32_t y, int c) {
        return ((x + y) % 2 ? 255 : 0) ^ (c == 1 && x % 7 == 0 ? 255 : 0); // full blocks, extremes
    });
    const bb::Image sparse = bbtest::image_of(160, 48, 3, [](uint32_t x, uint32_t y, int) {
        return x == 37 || y == 21 ? 250 : 128; // lone lines: zero runs past 16
    });
    const bb::Image grey = bbtest::make_image(77, 45, 1);
    int compared = 0;
    for (const bb::Image *image : std::vector<const bb::Image *>{&photo, &blurred, &checks, &sparse, &grey}) {
        const bool colour = image->channels == 3;
        const int samplings[][2] = {{2, 2}, {1, 1}, {2, 1}, {1, 2}};
        for (const auto &s : samplings) {
            if (!colour && (s[0] != 1 || s[1] != 1))
                continue;
            const bb::JpegMeta meta = colour ? meta_of(JCS_YCbCr, 3, s[0], s[1]) : meta_of(JCS_GRAYSCALE, 1, 1, 1);
            for (int quality : {5, 50, 75, 95, 100}) {
                const auto files =
                    both([&] { return bbtest::bytes_of(bb::encode_jpeg(*image, meta, quality, nullptr, true)); });
                ASSERT_EQ(files.first, files.second) << image->width << "x" << image->height << " sampling " << s[0]
                                                     << "x" << s[1] << " quality " << quality;
                compared++;
            }
        }
    }
    EXPECT_EQ(compared, 4 * 4 * 5 + 5);
    // Through the planes' writer: a 4:2:0 photo blurred to JPEG.
    const std::vector<uint8_t> input = ycbcr_jpeg(320, 200, 2, 2);
    bb::BlurOptions options;
    options.sigma = 5.0;
    const auto blurs = both([&] { return bbtest::bytes_of(bb::blur_image(input.data(), input.size(), options)); });
    EXPECT_EQ(blurs.first, blurs.second);
    EXPECT_NE(bbtest::huffman_tables(blurs.second).at(0x00), kStandardLumaDc) << "the tables are optimised";
    EXPECT_EQ(bbtest::libjpeg_pixels(blurs.second, JCS_RGB).size(), size_t(320) * 200 * 3);
}
