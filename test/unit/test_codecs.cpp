#include <gtest/gtest.h>

#include <cmath>

#include <png.h>

#include "helpers.hpp"

namespace {

bb::DecodeOptions defaults() {
    return bb::DecodeOptions();
}

double mean_abs_difference(const bb::Image &a, const bb::Image &b) {
    double sum = 0.0;
    size_t n = 0;
    for (uint32_t y = 0; y < a.height; y++)
        for (uint32_t x = 0; x < a.width; x++)
            for (int c = 0; c < a.channels; c++, n++)
                sum += std::fabs(bbtest::sample(a, x, y, c) - bbtest::sample(b, x, y, c));
    return sum / double(n);
}

} // namespace

TEST(Png, RoundTripIsLosslessForEveryTypeWithBothCompressors) {
    // in_memory_bytes 0 sends every image through libpng's zlib compressor, the default through
    // libdeflate; a width of 1 has no sample left of another to filter against.
    for (size_t in_memory : {size_t(0), bb::kPngInMemoryBytes})
        for (uint32_t width : {1u, 13u, 300u})
            for (int channels : {1, 2, 3, 4})
                for (int depth : {8, 16}) {
                    const int alpha = channels == 2 || channels == 4 ? channels - 1 : -1;
                    const bb::Image original = bbtest::make_image(width, 7, channels, depth, alpha);
                    const auto png = bb::encode_png(original, bb::PngMeta(), nullptr, in_memory);
                    bb::PngMeta meta;
                    const bb::Image decoded = bb::decode_png(png.data(), png.size(), defaults(), &meta);
                    ASSERT_EQ(decoded.channels, channels);
                    ASSERT_EQ(decoded.depth, depth);
                    EXPECT_EQ(decoded.alpha_channel, alpha);
                    ASSERT_EQ(decoded.pixels.size(), original.pixels.size());
                    EXPECT_EQ(0, std::memcmp(decoded.pixels.data(), original.pixels.data(), original.pixels.size()))
                        << in_memory << " " << width << "x7x" << channels << " depth " << depth;
                }
}

TEST(Png, ScanlineLayoutDecodesAndEncodesInPlace) {
    // The pipeline's path: decode with room for the filter bytes, encode filtering in place.
    for (size_t in_memory : {size_t(0), bb::kPngInMemoryBytes})
        for (int channels : {1, 3, 4})
            for (int depth : {8, 16}) {
                const int alpha = channels == 4 ? 3 : -1;
                const bb::Image original = bbtest::make_image(29, 11, channels, depth, alpha);
                const auto png = bbtest::png_of(original);
                bb::DecodeOptions options;
                options.png_row_prefix = 1;
                bb::PngMeta meta;
                bb::Image scanlines = bb::decode_png(png.data(), png.size(), options, &meta);
                ASSERT_EQ(scanlines.row_prefix, depth == 8 ? 1u : 0u); // 16-bit samples stay aligned
                for (uint32_t y = 0; y < original.height; y++)
                    ASSERT_EQ(0, std::memcmp(scanlines.row(y), original.row(y), original.row_bytes())) << y;
                const auto again = bb::encode_png_in_place(scanlines, meta, nullptr, in_memory);
                const bb::Image decoded = bb::decode_png(again.data(), again.size(), defaults(), &meta);
                ASSERT_EQ(decoded.pixels.size(), original.pixels.size());
                EXPECT_EQ(0, std::memcmp(decoded.pixels.data(), original.pixels.data(), original.pixels.size()))
                    << in_memory << " " << channels << " channels, depth " << depth;
            }
}

// Scanlines compressed in pieces (8-bit ones over one libdeflate call, joined; 16-bit ones by
// zlib) come out as one stream: our decoder reads them back exactly, and so does libpng through
// zlib (its simplified API gives 8-bit samples as they are).
TEST(Png, LargeImagesCompressInPiecesIntoOneStream) {
    for (int depth : {8, 16}) {
        const bb::Image original = bbtest::make_image(depth == 8 ? 2600 : 700, depth == 8 ? 1700 : 400, 3, depth);
        if (depth == 8) {
            ASSERT_GT((original.row_bytes() + 1) * original.height, bb::kDeflatePieceBytes);
        }
        ASSERT_GT((original.row_bytes() + 1) * original.height, bb::kZlibPieceBytes);
        long polls = 0;
        static long *counter;
        counter = &polls;
        const auto png = bb::encode_png(original, bb::PngMeta(), [] { return ++*counter < 0; });
        EXPECT_GE(polls, long((original.row_bytes() + 1) * original.height / bb::kZlibPieceBytes)) << "between pieces";
        const bb::Image again = bb::decode_png(png.data(), png.size(), bb::DecodeOptions(), nullptr);
        EXPECT_EQ(0, std::memcmp(again.pixels.data(), original.pixels.data(), original.pixels.size()));
        if (depth != 8)
            continue;
        png_image image{};
        image.version = PNG_IMAGE_VERSION;
        ASSERT_TRUE(png_image_begin_read_from_memory(&image, png.data(), png.size())) << image.message;
        image.format = PNG_FORMAT_RGB;
        std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
        ASSERT_TRUE(png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) << image.message;
        ASSERT_EQ(pixels.size(), original.row_bytes() * original.height);
        EXPECT_EQ(0, std::memcmp(pixels.data(), original.pixels.data(), pixels.size()));
    }
}

TEST(Png, EncoderChecksForInterruptsOnBothPaths) {
    const bb::Image img = bbtest::make_image(64, 64, 3);
    for (size_t in_memory : {size_t(0), bb::kPngInMemoryBytes}) {
        try {
            bb::encode_png(
                img, bb::PngMeta(), [] { return true; }, in_memory);
            ADD_FAILURE() << "not interrupted, in_memory " << in_memory;
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
        }
    }
}

TEST(Png, KeepsDisplayMetadata) {
    bb::PngMeta meta;
    meta.has_gama = true;
    meta.gama = 45455;
    meta.has_phys = true;
    meta.phys_x = meta.phys_y = 2835;
    meta.phys_unit = 1;
    meta.srgb_intent = 0;
    const auto png = bb::encode_png(bbtest::make_image(4, 4, 3), meta, nullptr);
    bb::PngMeta read;
    bb::decode_png(png.data(), png.size(), defaults(), &read);
    EXPECT_TRUE(read.has_gama);
    EXPECT_EQ(read.gama, 45455);
    EXPECT_TRUE(read.has_phys);
    EXPECT_EQ(read.phys_x, 2835u);
    EXPECT_EQ(read.srgb_intent, 0);
}

TEST(Png, RefusesTooManyPixelsBeforeAllocating) {
    const auto png = bbtest::png_of(bbtest::make_image(100, 100, 3));
    bb::DecodeOptions options;
    options.max_pixels = 9999;
    bb::PngMeta meta;
    try {
        bb::decode_png(png.data(), png.size(), options, &meta);
        FAIL();
    } catch (const bb::Error &e) {
        EXPECT_EQ(e.kind(), bb::ErrorKind::TooLarge);
    }
}

TEST(Png, EveryTruncationIsAnError) {
    const auto png = bbtest::png_of(bbtest::make_image(16, 16, 4, 8, 3));
    for (size_t n = 0; n < png.size(); n++) {
        bb::PngMeta meta;
        try {
            bb::decode_png(png.data(), n, defaults(), &meta);
            ADD_FAILURE() << "prefix of " << n << " bytes decoded";
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::InvalidData) << n;
        }
    }
}

TEST(Jpeg, RoundTripKeepsColourSpaceAndSize) {
    struct Case {
        int channels;
        J_COLOR_SPACE space;
    };
    for (const Case c : {Case{1, JCS_GRAYSCALE}, Case{3, JCS_YCbCr}, Case{4, JCS_CMYK}, Case{4, JCS_YCCK}}) {
        const bb::Image original = bbtest::make_image(29, 18, c.channels);
        const auto jpeg = bbtest::jpeg_of(original, c.space, 95);
        bb::JpegMeta meta;
        const bb::Image decoded = bb::decode_jpeg(jpeg.data(), jpeg.size(), defaults(), &meta);
        EXPECT_EQ(meta.color_space, c.space);
        EXPECT_EQ(decoded.channels, c.channels);
        EXPECT_EQ(decoded.width, 29u);
        EXPECT_EQ(decoded.height, 18u);
        EXPECT_LT(mean_abs_difference(original, decoded), 8.0) << c.space;
    }
}

TEST(Jpeg, KeepsIccProfileAndOrientation) {
    bb::JpegMeta meta;
    meta.color_space = JCS_YCbCr;
    meta.components = 3;
    meta.orientation = 6;
    meta.icc.assign(70000, 0x5a); // spans two APP2 chunks
    const auto jpeg = bb::encode_jpeg(bbtest::make_image(8, 8, 3), meta, 80, nullptr);
    bb::JpegMeta read;
    bb::decode_jpeg(jpeg.data(), jpeg.size(), defaults(), &read);
    EXPECT_EQ(read.orientation, 6);
    EXPECT_EQ(read.icc, meta.icc);
}

TEST(Jpeg, KeepsChromaSubsampling) {
    bb::JpegMeta meta;
    meta.color_space = JCS_YCbCr;
    meta.components = 3;
    meta.h_samp[0] = 2;
    meta.v_samp[0] = 1; // 4:2:2
    const auto jpeg = bb::encode_jpeg(bbtest::make_image(32, 16, 3), meta, 80, nullptr);
    bb::JpegMeta read;
    bb::decode_jpeg(jpeg.data(), jpeg.size(), defaults(), &read);
    EXPECT_EQ(read.h_samp[0], 2);
    EXPECT_EQ(read.v_samp[0], 1);
    EXPECT_EQ(read.h_samp[1], 1);
}

TEST(Jpeg, EveryTruncationIsAnError) {
    const auto baseline = bbtest::jpeg_of(bbtest::make_image(24, 24, 3), JCS_YCbCr);
    // Read whole into coefficients (jpeg_coefficients.cpp), which every error path frees.
    const auto progressive = bbtest::progressive_jpeg_of(bbtest::make_image(24, 24, 3));
    const auto three_scans = bbtest::progressive_jpeg_of(bbtest::make_image(24, 24, 3), 90, true);
    for (const auto *jpeg : {&baseline, &progressive, &three_scans}) {
        for (size_t n = 0; n + 2 < jpeg->size(); n++) { // the last two bytes are the EOI marker
            bb::JpegMeta meta;
            try {
                bb::decode_jpeg(jpeg->data(), n, defaults(), &meta);
                ADD_FAILURE() << "prefix of " << n << " bytes decoded";
            } catch (const bb::Error &e) {
                EXPECT_EQ(e.kind(), bb::ErrorKind::InvalidData) << n;
            }
        }
    }
}

// The coefficients of a progressive or multi-scan file live in our store, not libjpeg's
// memory manager: the pixels are the same, below and above the size where the store maps its
// memory (a 1600x1200 4:2:0 image has 5.6 MiB of coefficients).
TEST(Jpeg, FilesReadWholeDecodeAsStockLibjpegDoes) {
    for (const auto &size : {std::pair<uint32_t, uint32_t>{64, 48}, {1600, 1200}}) {
        const bb::Image image = bbtest::make_image(size.first, size.second, 3);
        for (bool three_scans : {false, true}) {
            const auto jpeg = bbtest::progressive_jpeg_of(image, 90, three_scans);
            bb::JpegMeta meta;
            const bb::Image decoded = bb::decode_jpeg(jpeg.data(), jpeg.size(), defaults(), &meta);
            const std::vector<uint8_t> ours(decoded.pixels.begin(), decoded.pixels.end());
            EXPECT_TRUE(ours == bbtest::libjpeg_pixels(jpeg)) << size.first << " three scans " << three_scans;
        }
    }
}
