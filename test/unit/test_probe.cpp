#include <gtest/gtest.h>

#include "helpers.hpp"
#include "probe.hpp"

using bb::ErrorKind;

namespace {

ErrorKind probe_error(const std::vector<uint8_t> &bytes) {
    try {
        bb::probe(bytes.data(), bytes.size());
    } catch (const bb::Error &e) {
        return e.kind();
    }
    ADD_FAILURE() << "probe accepted the input";
    return ErrorKind::InvalidParameter;
}

} // namespace

TEST(Probe, ReadsPngHeader) {
    for (int channels : {1, 2, 3, 4}) {
        for (int depth : {8, 16}) {
            const auto png = bbtest::png_of(bbtest::make_image(31, 17, channels, depth));
            const bb::ImageInfo info = bb::probe(png.data(), png.size());
            EXPECT_EQ(info.format, bb::Format::Png);
            EXPECT_EQ(info.width, 31u);
            EXPECT_EQ(info.height, 17u);
            EXPECT_EQ(info.channels, channels);
            EXPECT_EQ(info.bit_depth, depth);
        }
    }
}

TEST(Probe, ReadsJpegHeader) {
    const auto jpeg = bbtest::jpeg_of(bbtest::make_image(40, 9, 3), JCS_YCbCr);
    const bb::ImageInfo info = bb::probe(jpeg.data(), jpeg.size());
    EXPECT_EQ(info.format, bb::Format::Jpeg);
    EXPECT_EQ(info.width, 40u);
    EXPECT_EQ(info.height, 9u);
    EXPECT_EQ(info.channels, 3);
    EXPECT_EQ(info.bit_depth, 8);
    EXPECT_STREQ(bb::mime_type(info.format), "image/jpeg");
}

TEST(Probe, RejectsEmptyAndUnknownData) {
    EXPECT_EQ(probe_error({}), ErrorKind::InvalidData);
    EXPECT_EQ(probe_error({'h', 'e', 'l', 'l', 'o'}), ErrorKind::InvalidData);
    EXPECT_EQ(probe_error({0xff, 0xd8}), ErrorKind::InvalidData);
    EXPECT_EQ(probe_error({'G', 'I', 'F', '8', '9', 'a', 1, 0}), ErrorKind::Unsupported);
}

TEST(Probe, RejectsZeroDimensions) {
    auto png = bbtest::png_of(bbtest::make_image(5, 5, 3));
    std::memset(png.data() + 16, 0, 4); // IHDR width
    EXPECT_EQ(probe_error(png), ErrorKind::InvalidData);
    EXPECT_EQ(probe_error({0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 0, 0, 16, 1, 1, 0x11, 0}), ErrorKind::InvalidData);
}

TEST(Probe, EveryTruncatedHeaderIsInvalidData) {
    const auto png = bbtest::png_of(bbtest::make_image(5, 5, 3));
    for (size_t n = 0; n < 33; n++)
        EXPECT_EQ(probe_error(std::vector<uint8_t>(png.begin(), png.begin() + long(n))), ErrorKind::InvalidData) << n;
    const auto jpeg = bbtest::jpeg_of(bbtest::make_image(5, 5, 3), JCS_YCbCr);
    size_t sof = 0;
    for (size_t i = 0; i + 1 < jpeg.size(); i++)
        if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0) {
            sof = i;
            break;
        }
    ASSERT_GT(sof, 0u);
    for (size_t n = 0; n < sof + 10; n++)
        EXPECT_EQ(probe_error(std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + long(n))), ErrorKind::InvalidData) << n;
}

TEST(Probe, UnsupportedJpegProcesses) {
    const std::vector<uint8_t> twelve_bit = {0xff, 0xd8, 0xff, 0xc1, 0, 11, 12, 0, 16, 0, 16, 1, 1, 0x11, 0};
    const bb::ImageInfo info = bb::probe(twelve_bit.data(), twelve_bit.size());
    EXPECT_EQ(info.bit_depth, 12);
    EXPECT_THROW(bb::check_supported(info), bb::Error);
    const std::vector<uint8_t> lossless = {0xff, 0xd8, 0xff, 0xc3, 0, 11, 8, 0, 16, 0, 16, 1, 1, 0x11, 0};
    EXPECT_THROW(bb::check_supported(bb::probe(lossless.data(), lossless.size())), bb::Error);
}
