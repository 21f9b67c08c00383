// The fast path of PNG decoding: the pixels of a plain PNG (8 or 16 bits, grey, grey+alpha,
// RGB or RGBA, not interlaced, no palette, no tRNS) inflated in one libdeflate call and
// unfiltered here. libpng inflates with zlib row by row: on a 1920x1280 RGB photo its whole
// decode took 3 times as long as libdeflate's inflate alone. Anything unusual sends the caller
// back to libpng, which then decodes (or refuses) the file exactly as before; this path adds
// no way to accept a file libpng refuses, nor one to refuse a file libpng accepts.
#include "png_inflate.hpp"

#include <cstring>
#include <memory>

#include <libdeflate.h>

namespace bb {
namespace {

uint32_t be32(const uint8_t *p) noexcept {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

struct DecompressorDeleter {
    void operator()(libdeflate_decompressor *d) const noexcept { libdeflate_free_decompressor(d); }
};

// The IDAT chunks: consecutive (as the PNG format requires), each with a good CRC. Returns
// their data whole: the single chunk's own bytes, or a copy of all of them into joined.
// Empty when anything is off.
std::pair<const uint8_t *, size_t> idat_stream(const uint8_t *data, size_t size, std::unique_ptr<uint8_t[]> &joined) {
    size_t pos = 8, first = 0, count = 0, total = 0;
    bool ended = false;
    while (pos + 12 <= size) {
        const size_t length = be32(data + pos);
        if (length > size - pos - 12)
            return {nullptr, 0};
        const bool idat = std::memcmp(data + pos + 4, "IDAT", 4) == 0;
        if (idat) {
            if (ended)
                return {nullptr, 0}; // IDAT chunks split by another chunk
            if (libdeflate_crc32(0, data + pos + 4, length + 4) != be32(data + pos + 8 + length))
                return {nullptr, 0};
            if (count++ == 0)
                first = pos;
            total += length;
        } else if (count > 0) {
            ended = true;
            // After the image data libpng reads the rest: it refuses an unknown critical chunk
            // and a bad CRC on IEND. Those files go to libpng, to be refused as before.
            const bool critical = data[pos + 4] >= 'A' && data[pos + 4] <= 'Z';
            const bool iend = std::memcmp(data + pos + 4, "IEND", 4) == 0;
            if (critical && (!iend || libdeflate_crc32(0, data + pos + 4, length + 4) != be32(data + pos + 8 + length)))
                return {nullptr, 0};
        }
        if (std::memcmp(data + pos + 4, "IEND", 4) == 0)
            break;
        pos += length + 12;
    }
    if (count == 0 || total == 0)
        return {nullptr, 0};
    if (count == 1)
        return {data + first + 8, total};
    joined.reset(new (std::nothrow) uint8_t[total]);
    if (!joined)
        return {nullptr, 0};
    size_t at = 0;
    for (pos = first; at < total;) {
        const size_t length = be32(data + pos);
        std::memcpy(joined.get() + at, data + pos + 8, length);
        at += length;
        pos += length + 12;
    }
    return {joined.get(), total};
}

inline int abs_int(int x) noexcept {
    const int sign = -int(x < 0); // all ones when negative
    return (x ^ sign) - sign;
}

// PNG's Paeth predictor, without branches: on photos its choices are as good as random, and
// mispredicted branches tripled the cost of unfiltering.
inline uint8_t paeth(int a, int b, int c) noexcept {
    const int pa = abs_int(b - c), pb = abs_int(a - c), pc = abs_int(a + b - c - c);
    const int use_c = -int(pb > pc);
    const int bc = (b & ~use_c) | (c & use_c);
    const int not_a = -int((pa > pb) | (pa > pc));
    return uint8_t((a & ~not_a) | (bc & not_a));
}

// Paeth with the pixel size a constant: the compiler interleaves the samples of a pixel, whose
// chains do not depend on one another.
template <size_t Bpp> void unpaeth(uint8_t *row, const uint8_t *prev, size_t n) noexcept {
    for (size_t i = 0; i < Bpp; i++)
        row[i] = uint8_t(row[i] + prev[i]); // paeth(0, b, 0) is b
    for (size_t i = Bpp; i < n; i += Bpp)
        for (size_t k = 0; k < Bpp; k++)
            row[i + k] = uint8_t(row[i + k] + paeth(row[i + k - Bpp], prev[i + k], prev[i + k - Bpp]));
}

// The pixel sizes of the plain types: 1-4 samples of 1 or 2 bytes.
bool unpaeth_fixed(uint8_t *row, const uint8_t *prev, size_t n, size_t bpp) noexcept {
    switch (bpp) {
    case 1: unpaeth<1>(row, prev, n); return true;
    case 2: unpaeth<2>(row, prev, n); return true;
    case 3: unpaeth<3>(row, prev, n); return true;
    case 4: unpaeth<4>(row, prev, n); return true;
    case 6: unpaeth<6>(row, prev, n); return true;
    case 8: unpaeth<8>(row, prev, n); return true;
    default: return false;
    }
}

// Undoes one row's filter in place. prev is the previous unfiltered row (nullptr for the
// first row, which filters against zeros); bpp the bytes of one pixel. False for an unknown
// filter type.
bool unfilter_row(uint8_t type, uint8_t *row, const uint8_t *prev, size_t n, size_t bpp) noexcept {
    switch (type) {
    case 0: return true;
    case 1:
        for (size_t i = bpp; i < n; i++)
            row[i] = uint8_t(row[i] + row[i - bpp]);
        return true;
    case 2:
        if (prev)
            for (size_t i = 0; i < n; i++)
                row[i] = uint8_t(row[i] + prev[i]);
        return true;
    case 3:
        if (prev) {
            for (size_t i = 0; i < bpp; i++)
                row[i] = uint8_t(row[i] + (prev[i] >> 1));
            for (size_t i = bpp; i < n; i++)
                row[i] = uint8_t(row[i] + ((unsigned(row[i - bpp]) + prev[i]) >> 1));
        } else {
            for (size_t i = bpp; i < n; i++)
                row[i] = uint8_t(row[i] + (row[i - bpp] >> 1));
        }
        return true;
    case 4:
        if (prev)
            return unpaeth_fixed(row, prev, n, bpp);
        for (size_t i = bpp; i < n; i++) // paeth(a, 0, 0) is a: Sub
            row[i] = uint8_t(row[i] + row[i - bpp]);
        return true;
    default: return false;
    }
}

constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

} // namespace

bool png_fast_path_applies(const PngLayout &layout, size_t max_bytes) noexcept {
    const bool plain_type =
        layout.color_type == 0 || layout.color_type == 2 || layout.color_type == 4 || layout.color_type == 6;
    const size_t channels = layout.color_type == 2 ? 3 : layout.color_type == 6 ? 4 : layout.color_type == 4 ? 2 : 1;
    const size_t row_bytes = size_t(layout.width) * channels * (layout.bit_depth == 16 ? 2 : 1);
    return plain_type && !layout.interlaced && !layout.has_trns && (layout.bit_depth == 8 || layout.bit_depth == 16) &&
           layout.height > 0 && (row_bytes + 1) <= max_bytes / layout.height;
}

bool inflate_png_pixels(const uint8_t *data, size_t size, Image &image, InterruptPoll poll) {
    std::unique_ptr<uint8_t[]> joined;
    const auto stream = idat_stream(data, size, joined);
    if (!stream.first)
        return false;
    const size_t row_bytes = image.row_bytes();
    const size_t scanline = row_bytes + 1;
    const size_t total = scanline * image.height;
    // Decompress straight into the image when its rows already sit one filter byte apart.
    std::unique_ptr<uint8_t[]> separate;
    uint8_t *out = nullptr;
    if (image.row_prefix == 1) {
        out = image.pixels.data();
    } else {
        separate.reset(new (std::nothrow) uint8_t[total]);
        if (!separate)
            return false;
        out = separate.get();
    }
    std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> d(libdeflate_alloc_decompressor());
    if (!d)
        return false;
    size_t produced = 0;
    if (libdeflate_zlib_decompress(d.get(), stream.first, stream.second, out, total, &produced) != LIBDEFLATE_SUCCESS ||
        produced != total)
        return false;
    if (poll && poll())
        throw_interrupted();
    const size_t bpp = size_t(image.channels) * image.bytes_per_sample();
    const uint8_t *prev = nullptr;
    for (uint32_t y = 0; y < image.height; y++) {
        if ((y & 63) == 0 && poll && poll())
            throw_interrupted();
        uint8_t *line = out + scanline * y;
        if (!unfilter_row(line[0], line + 1, prev, row_bytes, bpp))
            return false;
        prev = line + 1;
    }
    // Into the image's own layout: 16-bit samples in the machine's byte order.
    if (image.depth == 16 && kLittleEndian) {
        for (uint32_t y = 0; y < image.height; y++) {
            const uint8_t *src = out + scanline * y + 1;
            uint8_t *dst = image.row(y);
            for (size_t i = 0; i + 1 < row_bytes; i += 2) {
                const uint8_t hi = src[i], lo = src[i + 1];
                dst[i] = lo;
                dst[i + 1] = hi;
            }
        }
    } else if (image.row_prefix != 1) {
        for (uint32_t y = 0; y < image.height; y++)
            std::memcpy(image.row(y), out + scanline * y + 1, row_bytes);
    }
    return true;
}

} // namespace bb
