// The PNG filter the in-memory encoder picks (choose_png_filter: Sub or Up, whichever compresses
// smaller on a sample of rows), what it writes, and that every choice decodes exactly.
#include <gtest/gtest.h>

#include <libdeflate.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "codecs.hpp"
#include "helpers.hpp"

namespace {

using bbtest::image_of;

// The filter-type byte of every row of a PNG with one IDAT chunk of an image of this size.
std::vector<int> row_filters(const std::vector<uint8_t> &png, const bb::Image &like) {
    size_t p = 8;
    std::vector<uint8_t> idat;
    while (p + 12 <= png.size()) {
        const size_t length = size_t(png[p]) << 24 | size_t(png[p + 1]) << 16 | size_t(png[p + 2]) << 8 | png[p + 3];
        if (std::memcmp(&png[p + 4], "IDAT", 4) == 0)
            idat.insert(idat.end(), png.begin() + long(p + 8), png.begin() + long(p + 8 + length));
        p += 12 + length;
    }
    const size_t row = like.row_bytes() + 1;
    std::vector<uint8_t> raw(row * like.height);
    libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    const libdeflate_result r =
        libdeflate_zlib_decompress(d, idat.data(), idat.size(), raw.data(), raw.size(), nullptr);
    libdeflate_free_decompressor(d);
    EXPECT_EQ(r, LIBDEFLATE_SUCCESS);
    std::vector<int> filters;
    for (uint32_t y = 0; y < like.height; y++)
        filters.push_back(raw[row * y]);
    return filters;
}

void expect_same(const bb::Image &a, const bb::Image &b) {
    ASSERT_EQ(a.width, b.width);
    ASSERT_EQ(a.height, b.height);
    for (uint32_t y = 0; y < a.height; y++)
        ASSERT_EQ(std::memcmp(a.row(y), b.row(y), a.row_bytes()), 0) << "row " << y;
}

} // namespace

namespace {

// The whole image's bytes with one filter, compressed as the encoder compresses them.
size_t compressed_with(const bb::Image &img, int filter) {
    const size_t row_bytes = img.row_bytes(), bpp = size_t(img.channels);
    std::vector<uint8_t> lines;
    for (uint32_t y = 0; y < img.height; y++)
        for (size_t i = 0; i < row_bytes; i++) {
            const uint8_t left = i >= bpp ? img.row(y)[i - bpp] : 0, above = y ? img.row(y - 1)[i] : 0;
            lines.push_back(uint8_t(img.row(y)[i] - (filter == bb::kPngFilterSub ? left : above)));
        }
    libdeflate_compressor *c = libdeflate_alloc_compressor(1);
    std::vector<uint8_t> out(libdeflate_deflate_compress_bound(c, lines.size()));
    const size_t n = libdeflate_deflate_compress(c, lines.data(), lines.size(), out.data(), out.size());
    libdeflate_free_compressor(c);
    return n;
}

// The sum of the residues' absolute values, as signed bytes, with one filter.
uint64_t residues(const bb::Image &img, int filter) {
    const size_t row_bytes = img.row_bytes(), bpp = size_t(img.channels);
    uint64_t sum = 0;
    for (uint32_t y = 1; y < img.height; y++)
        for (size_t i = 0; i < row_bytes; i++) {
            const uint8_t left = i >= bpp ? img.row(y)[i - bpp] : 0, above = img.row(y - 1)[i];
            sum +=
                uint64_t(std::abs(int(int8_t(uint8_t(img.row(y)[i] - (filter == bb::kPngFilterSub ? left : above))))));
        }
    return sum;
}

} // namespace

TEST(PngFilter, WritesItsChoiceOnEveryRow) {
    for (const int channels : {1, 2, 3, 4}) {
        // each row one level, the rows all different (Sub leaves zeros), and each column one
        // level (Up leaves zeros)
        const bb::Image across = image_of(64, 48, channels, [](uint32_t, uint32_t y, int c) { return y * 5 + c; });
        const bb::Image down = image_of(64, 48, channels, [](uint32_t x, uint32_t, int c) { return x * 3 + c; });
        for (const auto *img : {&across, &down}) {
            const int chosen = bb::choose_png_filter(*img);
            const int other = chosen == bb::kPngFilterSub ? bb::kPngFilterUp : bb::kPngFilterSub;
            EXPECT_LE(compressed_with(*img, chosen), compressed_with(*img, other)) << channels;
            const auto png = bbtest::png_of(*img);
            for (const int f : row_filters(png, *img))
                ASSERT_EQ(f, chosen);
            bb::PngMeta meta;
            expect_same(bb::decode_png(png.data(), png.size(), bb::DecodeOptions(), &meta), *img);
        }
    }
    // 16-bit images keep Up
    EXPECT_EQ(bb::choose_png_filter(bbtest::make_image(64, 48, 3, 16)), bb::kPngFilterUp);
}

TEST(PngFilter, ChoosesTheSmallerOutputNotTheSmallerResidues) {
    // Waves running diagonally over a slope: Sub leaves the smaller residues, but Up's repeat
    // from row to row and compress smaller (the benchmark's Flow and FallenLeaf photos are so),
    // on an image tall enough to be tried on kPngTrialBands bands.
    for (const int channels : {1, 3}) {
        const bb::Image diag = image_of(600, 600, channels, [](uint32_t x, uint32_t y, int c) {
            return long(std::lround(40 * std::sin((double(x) + 2.0 * y) / 9.0) + 0.8 * y + 30 * c)) & 255;
        });
        ASSERT_LT(residues(diag, bb::kPngFilterSub), residues(diag, bb::kPngFilterUp));
        ASSERT_LT(compressed_with(diag, bb::kPngFilterUp), compressed_with(diag, bb::kPngFilterSub));
        EXPECT_EQ(bb::choose_png_filter(diag), bb::kPngFilterUp) << channels;
    }
    // Photo-like images (noise over ramps): a short one is tried whole, so the choice is the
    // smaller; on a tall one the sample may miss by a little where the two come close.
    for (const uint32_t height : {60u, 600u}) {
        const bb::Image img = bbtest::make_image(600, height, 3);
        const size_t sub = compressed_with(img, bb::kPngFilterSub), up = compressed_with(img, bb::kPngFilterUp);
        const size_t chosen = bb::choose_png_filter(img) == bb::kPngFilterSub ? sub : up;
        if (height == 60)
            EXPECT_EQ(chosen, std::min(sub, up));
        else
            EXPECT_LE(chosen, std::min(sub, up) * 102 / 100) << sub << " " << up;
    }
}

TEST(PngFilter, EveryChoiceDecodesExactly) {
    // photo-like images of every width around the pixel sizes, each filter as it falls
    for (const int channels : {1, 2, 3, 4})
        for (const uint32_t width : {1u, 2u, 3u, 7u, 33u}) {
            const bb::Image img = bbtest::make_image(width, 20, channels);
            const auto png = bbtest::png_of(img);
            bb::PngMeta meta;
            expect_same(bb::decode_png(png.data(), png.size(), bb::DecodeOptions(), &meta), img);
            for (const int f : row_filters(png, img))
                ASSERT_EQ(f, bb::choose_png_filter(img));
        }
}
