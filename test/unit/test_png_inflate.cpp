// The fast PNG path (png_inflate.cpp): every filter type and layout decodes to the exact
// pixels, and every file it finds fault with gets libpng's own verdict.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "helpers.hpp"
#include "png_files.hpp"
#include "png_inflate.hpp"

using bbtest::expect_same_pixels;
using bbtest::make_png;
using bbtest::PngParts;

namespace {

bb::Image decode(const std::vector<uint8_t> &png, size_t row_prefix = 0, bb::InterruptPoll poll = nullptr) {
    bb::DecodeOptions options;
    options.png_row_prefix = row_prefix;
    options.poll = poll;
    bb::PngMeta meta;
    return bb::decode_png(png.data(), png.size(), options, &meta);
}

// The error decode_png raises for png, as "kind: message / detail".
std::string error_of(const std::vector<uint8_t> &png) {
    try {
        decode(png);
        return "no error";
    } catch (const bb::Error &e) {
        return std::to_string(int(e.kind())) + ": " + e.what() + " / " + e.detail();
    }
}

} // namespace

TEST(PngInflate, EveryFilterTypeAndLayoutDecodesExactly) {
    for (int channels : {1, 2, 3, 4})
        for (int depth : {8, 16})
            for (int filter : {-1, 0, 1, 2, 3, 4})
                for (uint32_t width : {1u, 2u, 37u})
                    for (size_t prefix : {size_t(0), size_t(1)}) {
                        const int alpha = channels == 2 || channels == 4 ? channels - 1 : -1;
                        const bb::Image original = bbtest::make_image(width, 9, channels, depth, alpha);
                        PngParts parts;
                        parts.filter = filter;
                        const bb::Image decoded = decode(make_png(original, parts), prefix);
                        EXPECT_EQ(decoded.row_prefix, depth == 8 ? prefix : 0u);
                        expect_same_pixels(decoded, original,
                                           std::to_string(channels) + " channels, depth " + std::to_string(depth) +
                                               ", filter " + std::to_string(filter) + ", width " +
                                               std::to_string(width));
                    }
}

TEST(PngInflate, ImageDataSplitOverManyChunks) {
    const bb::Image original = bbtest::make_image(64, 40, 3);
    for (int chunks : {2, 7, 50}) {
        PngParts parts;
        parts.idat_chunks = chunks;
        expect_same_pixels(decode(make_png(original, parts)), original, std::to_string(chunks) + " IDAT chunks");
    }
}

TEST(PngInflate, TakesOnlyPlainLayoutsOfBoundedSize) {
    bb::PngLayout plain;
    plain.width = 100;
    plain.height = 100;
    plain.bit_depth = 8;
    plain.color_type = 2;
    EXPECT_TRUE(bb::png_fast_path_applies(plain));
    for (int color_type : {0, 4, 6})
        EXPECT_TRUE(bb::png_fast_path_applies(bb::PngLayout{100, 100, 16, color_type, false, false}));
    EXPECT_FALSE(bb::png_fast_path_applies(bb::PngLayout{100, 100, 8, 3, false, false})) << "palette";
    EXPECT_FALSE(bb::png_fast_path_applies(bb::PngLayout{100, 100, 4, 0, false, false})) << "4-bit grey";
    EXPECT_FALSE(bb::png_fast_path_applies(bb::PngLayout{100, 100, 8, 2, true, false})) << "Adam7";
    EXPECT_FALSE(bb::png_fast_path_applies(bb::PngLayout{100, 100, 8, 2, false, true})) << "tRNS";
    EXPECT_FALSE(bb::png_fast_path_applies(bb::PngLayout{0, 100, 8, 2, false, false})) << "no columns";
    EXPECT_FALSE(bb::png_fast_path_applies(bb::PngLayout{100, 0, 8, 2, false, false})) << "no rows";
    // 100 rows of 301 bytes with their filter bytes: 30100 bytes
    EXPECT_TRUE(bb::png_fast_path_applies(plain, 30100));
    EXPECT_FALSE(bb::png_fast_path_applies(plain, 30099));
}

TEST(PngInflate, FaultsGetLibpngsOwnVerdict) {
    const bb::Image original = bbtest::make_image(40, 30, 3);
    const auto fault = [&](const std::function<void(PngParts &)> &set) {
        PngParts parts;
        set(parts);
        return make_png(original, parts);
    };
    // libpng 1.6.39 (Debian 12) ignores zlib's Adler-32 as asked (PNG_IGNORE_ADLER32: the chunk
    // CRCs cover the data) and gives the same pixels; 1.6.48 (Debian 13) checks it all the same
    // and refuses the file with its own message.
    try {
        expect_same_pixels(decode(fault([](PngParts &p) { p.bad_adler = true; })), original, "bad Adler-32");
    } catch (const bb::Error &e) {
        EXPECT_EQ(std::string(e.what()) + " / " + e.detail(), "corrupt PNG data / libpng: IDAT: incorrect data check.");
    }
    // an ancillary chunk after the image data is skipped by both
    expect_same_pixels(decode(fault([](PngParts &p) { p.after_idat = "tEXt"; })), original, "tEXt after IDAT");
    // the rest are errors, each with libpng's message
    EXPECT_EQ(error_of(fault([](PngParts &p) { p.bad_idat_crc = true; })),
              "0: corrupt PNG data / libpng: IDAT: CRC error.");
    EXPECT_EQ(error_of(fault([](PngParts &p) { p.bad_filter_row = 7; })),
              "0: corrupt PNG data / libpng: bad adaptive filter value.");
    EXPECT_EQ(error_of(fault([](PngParts &p) { p.truncate_stream = 40; })),
              "0: corrupt PNG data / libpng: Not enough image data.");
    // an unknown critical chunk after the image data: the fast path leaves the file to
    // libpng, which reads the pixels and stops there
    expect_same_pixels(decode(fault([](PngParts &p) { p.after_idat = "QQQQ"; })), original, "QQQQ after IDAT");
    // IDAT chunks split by another chunk: libpng reads the image data up to the split
    const std::string split = error_of(fault([](PngParts &p) {
        p.idat_chunks = 3;
        p.chunk_between = true;
    }));
    EXPECT_NE(split, "no error");
}

TEST(PngInflate, ChecksForInterrupts) {
    const bb::Image original = bbtest::make_image(200, 200, 3);
    const auto png = make_png(original);
    EXPECT_THROW(decode(png, 0, [] { return true; }), bb::Error);
    try {
        decode(png, 0, [] { return true; });
    } catch (const bb::Error &e) {
        EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
    }
}

namespace {

// inflate_png_pixels on an image laid out as decode_png lays it out, with zlib's batches
// forced (one_call_bytes 0) of batch_bytes each.
bool inflate_batched(const std::vector<uint8_t> &png, const bb::Image &like, size_t prefix, size_t batch_bytes,
                     bb::Image &out, bb::InterruptPoll poll = nullptr) {
    out = bb::Image();
    out.width = like.width;
    out.height = like.height;
    out.channels = like.channels;
    out.depth = like.depth;
    out.alpha_channel = like.alpha_channel;
    out.row_prefix = like.depth == 8 ? prefix : 0;
    out.allocate();
    return bb::inflate_png_pixels(png.data(), png.size(), out, poll, 0, batch_bytes);
}

} // namespace

// Images too large for one libdeflate call go through zlib in batches of whole rows: from one
// row a batch to all of them, in place and through the batch buffer, every filter and layout.
TEST(PngInflate, BatchesDecodeExactly) {
    for (int channels : {1, 3, 4})
        for (int depth : {8, 16})
            for (int filter : {-1, 1, 2, 3, 4})
                for (size_t batch_bytes : {size_t(1), size_t(500), size_t(1) << 20})
                    for (size_t prefix : {size_t(0), size_t(1)}) {
                        const int alpha = channels == 4 ? 3 : -1;
                        const bb::Image original = bbtest::make_image(37, 23, channels, depth, alpha);
                        PngParts parts;
                        parts.filter = filter;
                        parts.idat_chunks = 3;
                        bb::Image decoded;
                        ASSERT_TRUE(inflate_batched(make_png(original, parts), original, prefix, batch_bytes, decoded));
                        expect_same_pixels(decoded, original,
                                           std::to_string(channels) + " channels, depth " + std::to_string(depth) +
                                               ", filter " + std::to_string(filter) + ", batch " +
                                               std::to_string(batch_bytes));
                    }
}

// What the batches refuse goes back to libpng (FaultsGetLibpngsOwnVerdict has its verdicts);
// a wrong Adler-32 they ignore, as libpng does.
TEST(PngInflate, BatchesRefuseWhatTheOneCallRefuses) {
    const bb::Image original = bbtest::make_image(40, 30, 3);
    const auto batched = [&](const PngParts &parts) {
        bb::Image out;
        const bool ok = inflate_batched(make_png(original, parts), original, 1, 400, out);
        if (ok)
            expect_same_pixels(out, original, "accepted");
        return ok;
    };
    PngParts parts;
    EXPECT_TRUE(batched(parts));
    parts.bad_adler = true;
    EXPECT_TRUE(batched(parts)) << "Adler-32 left to the CRCs";
    parts = PngParts();
    parts.bad_idat_crc = true;
    EXPECT_FALSE(batched(parts)) << "CRC";
    parts = PngParts();
    parts.bad_filter_row = 17;
    EXPECT_FALSE(batched(parts)) << "filter type 5";
    for (size_t cut : {1, 4, 5, 40, 400}) {
        parts = PngParts();
        parts.truncate_stream = cut;
        EXPECT_FALSE(batched(parts)) << cut << " bytes cut";
    }
    // a stream with more scanlines than the image: one row fewer declared in the header
    bb::Image shorter = bbtest::make_image(original.width, original.height - 1, 3);
    bb::Image out;
    EXPECT_FALSE(inflate_batched(make_png(original), shorter, 1, 400, out)) << "data past the image";
}

TEST(PngInflate, BatchesCheckForInterruptsBetweenThemselves) {
    const bb::Image original = bbtest::make_image(50, 40, 3);
    const auto png = make_png(original);
    static int polls, stop_at;
    for (stop_at = 1;; stop_at++) {
        polls = 0;
        bb::Image out;
        try {
            const bool ok = inflate_batched(png, original, 1, 151 * 4, out, [] { return ++polls == stop_at; });
            EXPECT_TRUE(ok);
            EXPECT_EQ(polls, 10) << "a check before each of 10 batches of 4 rows";
            break;
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
        }
    }
    EXPECT_EQ(stop_at, 11);
}
