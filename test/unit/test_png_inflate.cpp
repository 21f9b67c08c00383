// The fast PNG path (png_inflate.cpp): every filter type and layout decodes to the exact
// pixels, and every file it finds fault with gets libpng's own verdict.
#include <gtest/gtest.h>

#include <libdeflate.h>

#include <functional>
#include <string>

#include "helpers.hpp"
#include "png_inflate.hpp"

namespace {

void put32(std::vector<uint8_t> &out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(uint8_t(v >> shift));
}

void chunk(std::vector<uint8_t> &out, const char *type, const std::vector<uint8_t> &data, bool good_crc = true) {
    put32(out, uint32_t(data.size()));
    const size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    const uint32_t crc = libdeflate_crc32(0, out.data() + start, data.size() + 4);
    put32(out, good_crc ? crc : crc ^ 1u);
}

uint8_t paeth(int a, int b, int c) {
    const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
    return uint8_t(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

// The image's scanlines (big-endian samples), each filtered with filter_of(y).
std::vector<uint8_t> scanlines(const bb::Image &img, const std::function<int(uint32_t)> &filter_of) {
    const size_t n = img.row_bytes(), bpp = size_t(img.channels) * img.bytes_per_sample();
    std::vector<uint8_t> raw(n * img.height), out;
    for (uint32_t y = 0; y < img.height; y++) {
        const uint8_t *src = img.row(y);
        for (size_t i = 0; i < n; i++)
            raw[y * n + i] = img.depth == 16 ? src[i ^ 1] : src[i]; // to big-endian
    }
    for (uint32_t y = 0; y < img.height; y++) {
        const int type = filter_of(y);
        out.push_back(uint8_t(type));
        const uint8_t *row = &raw[y * n];
        const uint8_t *prev = y ? &raw[(y - 1) * n] : nullptr;
        for (size_t i = 0; i < n; i++) {
            const int a = i >= bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0, c = prev && i >= bpp ? prev[i - bpp] : 0;
            const int predictor = type == 1   ? a
                                  : type == 2 ? b
                                  : type == 3 ? (a + b) / 2
                                  : type == 4 ? paeth(a, b, c)
                                              : 0;
            out.push_back(uint8_t(row[i] - predictor));
        }
    }
    return out;
}

struct PngParts {
    int filter = -1;                  // one type for every row; -1: rows cycle through 0-4
    int idat_chunks = 1;              // the zlib stream split over this many IDAT chunks
    bool bad_idat_crc = false;        // the last IDAT's CRC off by one bit
    bool bad_adler = false;           // zlib's Adler-32 off by one bit
    bool chunk_between = false;       // an ancillary chunk between two IDAT chunks
    int bad_filter_row = -1;          // this row's filter type set to 5
    size_t truncate_stream = 0;       // bytes cut from the end of the zlib stream
    const char *after_idat = nullptr; // a chunk of this type after the image data
};

std::vector<uint8_t> make_png(const bb::Image &img, const PngParts &parts = PngParts()) {
    static const uint8_t kColorType[5] = {0, 0, 4, 2, 6};
    std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, ihdr;
    put32(ihdr, img.width);
    put32(ihdr, img.height);
    ihdr.insert(ihdr.end(), {uint8_t(img.depth), kColorType[img.channels], 0, 0, 0});
    chunk(out, "IHDR", ihdr);
    auto lines = scanlines(img, [&](uint32_t y) { return parts.filter >= 0 ? parts.filter : int(y % 5); });
    if (parts.bad_filter_row >= 0)
        lines[size_t(parts.bad_filter_row) * (img.row_bytes() + 1)] = 5;
    libdeflate_compressor *c = libdeflate_alloc_compressor(6);
    std::vector<uint8_t> z(libdeflate_zlib_compress_bound(c, lines.size()));
    z.resize(libdeflate_zlib_compress(c, lines.data(), lines.size(), z.data(), z.size()));
    libdeflate_free_compressor(c);
    if (parts.bad_adler)
        z.back() ^= 1;
    z.resize(z.size() - parts.truncate_stream);
    const size_t piece = (z.size() + size_t(parts.idat_chunks) - 1) / size_t(parts.idat_chunks);
    for (int i = 0; i < parts.idat_chunks; i++) {
        const size_t from = std::min(z.size(), size_t(i) * piece), to = std::min(z.size(), from + piece);
        chunk(out, "IDAT", std::vector<uint8_t>(z.begin() + long(from), z.begin() + long(to)),
              !(parts.bad_idat_crc && i == parts.idat_chunks - 1));
        if (parts.chunk_between && i == 0)
            chunk(out, "tEXt", {'a', 0, 'b'});
    }
    if (parts.after_idat)
        chunk(out, parts.after_idat, {1, 2, 3});
    chunk(out, "IEND", {});
    return out;
}

bb::Image decode(const std::vector<uint8_t> &png, size_t row_prefix = 0, bb::InterruptPoll poll = nullptr) {
    bb::DecodeOptions options;
    options.png_row_prefix = row_prefix;
    options.poll = poll;
    bb::PngMeta meta;
    return bb::decode_png(png.data(), png.size(), options, &meta);
}

void expect_same_pixels(const bb::Image &a, const bb::Image &b, const std::string &what) {
    ASSERT_EQ(a.row_bytes(), b.row_bytes()) << what;
    ASSERT_EQ(a.height, b.height) << what;
    for (uint32_t y = 0; y < a.height; y++)
        ASSERT_EQ(0, std::memcmp(a.row(y), b.row(y), a.row_bytes())) << what << ", row " << y;
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
