// Huffman tables from a sample of the rows (jpeg_statistics.hpp: StatisticsRows): from
// kSampledStatisticsPixels up the writer counts the symbols of one iMCU row in
// kStatisticsRowStride and gives every symbol a code. The file holds the coefficients of the
// file counted whole, in a few more bytes, decodes without a warning whatever the rows not
// counted hold, and is the same bytes at one thread and two.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "codecs.hpp"
#include "helpers.hpp"
#include "jpeg_files.hpp"
#include "pipeline.hpp"

namespace {

// The codes a table of every symbol a baseline scan of 8-bit samples can ask for holds: DC
// magnitude categories 0-11; AC end of block, 16 zeros, and 16 runs x 10 magnitudes.
constexpr size_t kEveryDcSymbol = 12, kEveryAcSymbol = 2 + 16 * 10;

void expect_every_symbol_coded(const std::vector<uint8_t> &file, int tables) {
    const auto coded = bbtest::huffman_tables(file);
    for (int id = 0; id < tables; id++) {
        ASSERT_TRUE(coded.count(0x00 | id) && coded.count(0x10 | id)) << id;
        EXPECT_EQ(bbtest::symbols_coded(coded.at(0x00 | id)), kEveryDcSymbol) << id;
        EXPECT_EQ(bbtest::symbols_coded(coded.at(0x10 | id)), kEveryAcSymbol) << id;
    }
}

} // namespace

// At every sampling, split in two parts or not, and at one thread or two: the coefficients of
// the file whose tables counted every row, no more than 2 % more bytes on a picture whose rows
// are alike, every symbol coded; with a stride of 1, the tables counted from all rows (the
// picture leaves some symbols without a code).
TEST(JpegSampledStatistics, TheSampledFileHoldsTheSameCoefficients) {
    struct Case {
        int components, h, v;
        uint32_t width, height;
    };
    const Case cases[] = {
        {3, 2, 2, 320, 200}, {3, 1, 1, 203, 97}, {3, 2, 1, 150, 70}, {1, 1, 1, 177, 145}, {3, 2, 2, 40, 16}};
    for (const Case &c : cases) {
        for (const bool split : {false, true}) {
            SCOPED_TRACE(testing::Message() << c.components << " components " << c.h << "x" << c.v << ", " << c.width
                                            << "x" << c.height << (split ? ", split" : ""));
            const bb::JpegMeta meta = bbtest::planes_meta(c.components, c.h, c.v);
            bbtest::PlaneWriting how;
            how.split = split;
            const std::vector<uint8_t> all = bbtest::write_planes(c.width, c.height, meta, how).file;
            how.statistics_stride = 4;
            const std::vector<uint8_t> sampled = bbtest::write_planes(c.width, c.height, meta, how).file;
            how.threads = 2;
            EXPECT_EQ(bbtest::write_planes(c.width, c.height, meta, how).file, sampled);
            const bbtest::ReadCoefficients got = bbtest::read_coefficients(sampled);
            EXPECT_EQ(got.warnings, 0);
            EXPECT_EQ(got.coefficients, bbtest::read_coefficients(all).coefficients);
            EXPECT_LE(double(sampled.size()), 1.02 * double(all.size()) + 600); // the fuller tables: < 600 bytes
            expect_every_symbol_coded(sampled, c.components == 1 ? 1 : 2);
            EXPECT_LT(bbtest::symbols_coded(bbtest::huffman_tables(all).at(0x10)), kEveryAcSymbol);
        }
    }
}

// The rows not counted may hold what the counted ones never do: here the counted iMCU rows
// (every fourth, from the first) are flat and the others noise at quality 100, coefficients of
// every size and runs of every length, and large DC steps at their edges. The file decodes
// without a warning to the coefficients of the file counted whole, split or not.
TEST(JpegSampledStatistics, RowsNotCountedMayHoldAnySymbol) {
    const bb::JpegMeta meta = bbtest::planes_meta(3, 2, 2);
    bbtest::PlaneWriting how;
    how.quality = 100;
    how.sample = [](uint32_t x, uint32_t y, int c) -> uint8_t {
        const uint32_t imcu = c == 0 ? y / 16 : y / 8; // 4:2:0: 16 luma rows, 8 chroma rows
        if (imcu % 4 == 0)
            return 128;
        uint32_t h = (x * 2654435761u) ^ (y * 40503u) ^ (uint32_t(c) * 977u);
        h ^= h >> 13;
        h *= 0x5bd1e995u;
        h ^= h >> 15;
        // sparse noise in some blocks (long zero runs), full noise or extremes in others
        switch ((x / 8 + y / 8) % 3) {
        case 0: return h % 61 == 0 ? uint8_t(h >> 8) : 128;
        case 1: return uint8_t(h >> 8);
        default: return (x + y) % 2 ? 255 : 0;
        }
    };
    for (const bool split : {false, true}) {
        how.split = split;
        how.statistics_stride = 1;
        const std::vector<uint8_t> all = bbtest::write_planes(256, 192, meta, how).file;
        how.statistics_stride = 4;
        const std::vector<uint8_t> sampled = bbtest::write_planes(256, 192, meta, how).file;
        const bbtest::ReadCoefficients got = bbtest::read_coefficients(sampled);
        EXPECT_EQ(got.warnings, 0) << split;
        EXPECT_EQ(got.coefficients, bbtest::read_coefficients(all).coefficients) << split;
        EXPECT_EQ(bbtest::libjpeg_pixels(sampled), bbtest::libjpeg_pixels(all)) << split;
        expect_every_symbol_coded(sampled, 2);
    }
}

// Through blur_image: the tables of a photo of a megapixel or more are made from a sample of
// its rows (every symbol coded), the same bytes at bytea_blur.threads 1 and 2; a smaller one's
// from all of them.
TEST(JpegSampledStatistics, BlurredPhotosOfAMegapixelHaveSampledTables) {
    EXPECT_EQ(bb::jpeg_encoding_for(bbtest::planes_meta(3, 2, 2), 1024, 1024, 5.0).statistics_stride,
              bb::kStatisticsRowStride);
    EXPECT_EQ(bb::jpeg_encoding_for(bbtest::planes_meta(3, 2, 2), 1024, 1023, 5.0).statistics_stride, 1u);
    for (const uint32_t width : {1280u, 1000u}) {
        const uint32_t height = 832; // 1280 x 832 is 1.02 MP, 1000 x 832 0.79
        const std::vector<uint8_t> input =
            bbtest::jpeg_file(bbtest::make_image(width, height, 3), bbtest::JpegFileOptions());
        bb::BlurOptions options;
        options.sigma = 5.0;
        options.threads = 1;
        const std::vector<uint8_t> one = bbtest::bytes_of(bb::blur_image(input.data(), input.size(), options));
        options.threads = 2;
        EXPECT_EQ(bbtest::bytes_of(bb::blur_image(input.data(), input.size(), options)), one) << width;
        EXPECT_EQ(bbtest::read_coefficients(one).warnings, 0);
        const size_t ac = bbtest::symbols_coded(bbtest::huffman_tables(one).at(0x10));
        if (uint64_t(width) * height >= bb::kSampledStatisticsPixels)
            expect_every_symbol_coded(one, 2);
        else
            EXPECT_LT(ac, kEveryAcSymbol) << width;
    }
}

// A stride of 0 is the caller's mistake.
TEST(JpegSampledStatistics, AStrideOfZeroIsRefused) {
    const bb::JpegMeta meta = bbtest::planes_meta(3, 2, 2);
    const bb::JpegLayout layout = bb::jpeg_layout(64, 64, meta);
    EXPECT_THROW(bb::JpegPlaneWriter(layout, meta, 75, true, nullptr, false, 1, 0), std::logic_error);
}
