// The PNG filter the in-memory encoder picks (choose_png_filter: Sub or Up, whichever leaves the
// smaller residues on a sample of rows), what it writes, and that every choice decodes exactly.
#include <gtest/gtest.h>

#include <libdeflate.h>

#include <vector>

#include "codecs.hpp"
#include "helpers.hpp"

namespace {

// An 8-bit image whose samples follow f(x, y, c).
template <class F> bb::Image image_of(uint32_t width, uint32_t height, int channels, F f) {
    bb::Image img;
    img.width = width;
    img.height = height;
    img.channels = channels;
    img.depth = 8;
    img.allocate();
    for (uint32_t y = 0; y < height; y++)
        for (uint32_t x = 0; x < width; x++)
            for (int c = 0; c < channels; c++)
                img.row(y)[size_t(x) * size_t(channels) + size_t(c)] = uint8_t(f(x, y, c));
    return img;
}

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

TEST(PngFilter, SubForDetailAcrossUpForDetailDown) {
    for (const int channels : {1, 2, 3, 4}) {
        // each row one level, the rows all different: Sub leaves zeros, Up does not
        const bb::Image across = image_of(64, 48, channels, [](uint32_t, uint32_t y, int c) { return y * 5 + c; });
        // each column one level: Up leaves zeros
        const bb::Image down = image_of(64, 48, channels, [](uint32_t x, uint32_t, int c) { return x * 3 + c; });
        EXPECT_EQ(bb::choose_png_filter(across), bb::kPngFilterSub) << channels;
        EXPECT_EQ(bb::choose_png_filter(down), bb::kPngFilterUp) << channels;
        for (const auto *img : {&across, &down}) {
            const auto png = bbtest::png_of(*img);
            const int want = img == &across ? bb::kPngFilterSub : bb::kPngFilterUp;
            for (const int f : row_filters(png, *img))
                ASSERT_EQ(f, want);
            bb::PngMeta meta;
            expect_same(bb::decode_png(png.data(), png.size(), bb::DecodeOptions(), &meta), *img);
        }
    }
    // 16-bit images keep Up
    EXPECT_EQ(bb::choose_png_filter(bbtest::make_image(64, 48, 3, 16)), bb::kPngFilterUp);
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
