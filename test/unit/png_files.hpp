// PNG files written byte by byte for the tests of the PNG decoder (test_png_inflate.cpp,
// test_png_threads.cpp): every filter type, the image data over several IDAT chunks, and the
// faults a decoder must refuse.
#pragma once

#include <gtest/gtest.h>
#include <libdeflate.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "image.hpp"

namespace bbtest {

inline void put32(std::vector<uint8_t> &out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(uint8_t(v >> shift));
}

inline void chunk(std::vector<uint8_t> &out, const char *type, const std::vector<uint8_t> &data, bool good_crc = true) {
    put32(out, uint32_t(data.size()));
    const size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    const uint32_t crc = libdeflate_crc32(0, out.data() + start, data.size() + 4);
    put32(out, good_crc ? crc : crc ^ 1u);
}

inline uint8_t paeth(int a, int b, int c) {
    const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
    return uint8_t(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

// The image's scanlines (big-endian samples), each filtered with filter_of(y).
inline std::vector<uint8_t> scanlines(const bb::Image &img, const std::function<int(uint32_t)> &filter_of) {
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

inline std::vector<uint8_t> make_png(const bb::Image &img, const PngParts &parts = PngParts()) {
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

// The same rows, byte for byte (row prefixes aside).
inline void expect_same_pixels(const bb::Image &a, const bb::Image &b, const std::string &what) {
    ASSERT_EQ(a.row_bytes(), b.row_bytes()) << what;
    ASSERT_EQ(a.height, b.height) << what;
    for (uint32_t y = 0; y < a.height; y++)
        ASSERT_EQ(0, std::memcmp(a.row(y), b.row(y), a.row_bytes())) << what << ", row " << y;
}

} // namespace bbtest
