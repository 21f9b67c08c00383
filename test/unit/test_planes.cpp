#include <gtest/gtest.h>

#include <cmath>

#include "helpers.hpp"
#include "planes.hpp"

namespace {

bb::Plane ramp(uint32_t w, uint32_t h) {
    bb::Plane p;
    p.resize(w, h);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            p.row(y)[x] = float(10 * x + y);
    return p;
}

} // namespace

TEST(Planes, ResampleSameSizeRoundsAndPads) {
    bb::Plane src = ramp(6, 4);
    src.row(0)[0] = -3.0f;  // clamped to 0
    src.row(1)[1] = 300.0f; // clamped to 255
    std::vector<uint8_t> out(8 * 8);
    bb::resample_to_u8(src, 1.0, 1.0, 6, 4, out.data(), 8, 8, 8, nullptr);
    EXPECT_EQ(out[0], 0);
    EXPECT_EQ(out[8 + 1], 255);
    EXPECT_EQ(out[2 * 8 + 3], 32);
    EXPECT_EQ(out[2 * 8 + 7], out[2 * 8 + 5]); // padding repeats the last column
    EXPECT_EQ(out[7 * 8 + 4], out[3 * 8 + 4]); // and the last row
}

TEST(Planes, ResampleUpInterpolatesLinearly) {
    // A linear ramp stays linear: 2x up with aligned pixel centres.
    bb::Plane src;
    src.resize(4, 1);
    for (uint32_t x = 0; x < 4; x++)
        src.row(0)[x] = float(40 * x + 20);
    std::vector<uint8_t> out(8);
    bb::resample_to_u8(src, 0.5, 1.0, 8, 1, out.data(), 8, 8, 1, nullptr);
    // destination centre x maps to (x + 0.5) / 2 - 0.5 in the source, clamped at the ends
    const uint8_t expected[8] = {20, 30, 50, 70, 90, 110, 130, 140};
    for (int x = 0; x < 8; x++)
        EXPECT_EQ(out[size_t(x)], expected[x]) << x;
}

TEST(Planes, BlurPlaneWithDifferentSigmas) {
    bb::Plane p;
    p.resize(31, 31);
    for (uint32_t y = 0; y < 31; y++)
        for (uint32_t x = 0; x < 31; x++)
            p.row(y)[x] = (x == 15 && y == 15) ? 1000.0f : 0.0f;
    bb::gaussian_blur_plane(p, 3.0, 1.0, nullptr);
    // an impulse spreads wider along x than along y, and keeps its mass
    EXPECT_GT(p.row(15)[18], p.row(18)[15]);
    double sum = 0;
    for (uint32_t y = 0; y < 31; y++)
        for (uint32_t x = 0; x < 31; x++)
            sum += p.row(y)[x];
    EXPECT_NEAR(sum, 1000.0, 0.01);
}

TEST(JpegPlanes, DecodeAveragesBlocksAsItStreams) {
    // 41 x 23 grey: with sigma 8 and a working sigma of 2, planes come in 4 x 4 block averages,
    // the last column and row of blocks partial.
    bb::Image flat = bbtest::make_image(41, 23, 1);
    std::memset(flat.pixels.data(), 120, flat.pixels.size());
    const auto jpeg = bbtest::jpeg_of(flat, JCS_GRAYSCALE, 95);
    bb::JpegMeta meta;
    const bb::JpegPlanes planes =
        bb::decode_jpeg_planes(jpeg.data(), jpeg.size(), bb::DecodeOptions(), 1, 8.0, 2.0, &meta);
    ASSERT_EQ(planes.block[0], 4u);
    ASSERT_EQ(planes.planes[0].width, 11u);
    ASSERT_EQ(planes.planes[0].height, 6u);
    for (uint32_t y = 0; y < 6; y++)
        for (uint32_t x = 0; x < 11; x++)
            EXPECT_NEAR(planes.planes[0].row(y)[x], 120.0f, 1.0f) << x << "," << y;
}

TEST(JpegPlanes, DecodeScalesAndEncodeRoundTrips) {
    const bb::Image original = bbtest::make_image(40, 24, 3);
    const auto jpeg = bbtest::jpeg_of(original, JCS_YCbCr, 95);
    for (int scale : {1, 2, 4, 8}) {
        bb::JpegMeta meta;
        bb::JpegPlanes planes =
            bb::decode_jpeg_planes(jpeg.data(), jpeg.size(), bb::DecodeOptions(), scale, 0.0, 2.0, &meta);
        ASSERT_EQ(planes.planes.size(), 3u);
        EXPECT_EQ(planes.width, 40u);
        EXPECT_EQ(planes.planes[0].width, (40u + unsigned(scale) - 1) / unsigned(scale));
        EXPECT_EQ(planes.planes[0].height, (24u + unsigned(scale) - 1) / unsigned(scale));
    }
    // scale 1: planes back to bytes, re-encoded, decoded again: close to the original
    bb::JpegMeta meta;
    bb::JpegPlanes planes = bb::decode_jpeg_planes(jpeg.data(), jpeg.size(), bb::DecodeOptions(), 1, 0.0, 2.0, &meta);
    const bb::JpegLayout layout = bb::jpeg_layout(planes.width, planes.height, meta);
    std::vector<std::vector<uint8_t>> bytes(3);
    const uint8_t *pointers[3];
    for (size_t c = 0; c < 3; c++) {
        bytes[c].resize(size_t(layout.padded_width[c]) * layout.padded_height[c]);
        bb::resample_to_u8(planes.planes[c], 1.0, 1.0, layout.comp_width[c], layout.comp_height[c], bytes[c].data(),
                           layout.padded_width[c], layout.padded_width[c], layout.padded_height[c], nullptr);
        pointers[c] = bytes[c].data();
    }
    const auto again = bb::encode_jpeg_planes(layout, pointers, meta, 95, nullptr);
    bb::JpegMeta meta2;
    const bb::Image a = bb::decode_jpeg(jpeg.data(), jpeg.size(), bb::DecodeOptions(), &meta);
    const bb::Image b = bb::decode_jpeg(again.data(), again.size(), bb::DecodeOptions(), &meta2);
    EXPECT_EQ(meta2.h_samp[0], meta.h_samp[0]);
    double diff = 0;
    for (size_t i = 0; i < a.pixels.size(); i++)
        diff += std::fabs(double(a.pixels.data()[i]) - double(b.pixels.data()[i]));
    EXPECT_LT(diff / double(a.pixels.size()), 2.0);
}
