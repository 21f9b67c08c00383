// The fast path of PNG decoding: the pixels of a plain PNG (8 or 16 bits, grey, grey+alpha,
// RGB or RGBA, not interlaced, no palette, no tRNS) inflated and unfiltered here. libpng
// inflates with zlib row by row: on a 1920x1280 RGB photo its whole decode took 3 times as long
// as libdeflate's inflate alone. Up to kPngFastInflateBytes of scanlines are inflated in one
// libdeflate call; larger images by zlib in batches of whole rows, each unfiltered while it is
// in cache (no libdeflate call can be interrupted). Anything unusual sends the caller back to
// libpng, which then decodes (or refuses) the file exactly as before; this path adds no way to
// accept a file libpng refuses, nor one to refuse a file libpng accepts.
#include "png_inflate.hpp"

#include "fixed_blur.hpp"
#include "worker_thread.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>

#include <libdeflate.h>
#include <zlib.h>

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
    if (n < Bpp)
        return;
    for (size_t i = 0; i < Bpp; i++)
        row[i] = uint8_t(row[i] + prev[i]); // paeth(0, b, 0) is b
    for (size_t i = Bpp; i < n; i += Bpp)
        for (size_t k = 0; k < Bpp; k++)
            row[i + k] = uint8_t(row[i + k] + paeth(row[i + k - Bpp], prev[i + k], prev[i + k - Bpp]));
}

// Sub with the pixel size a constant: the running pixel stays in registers rather than being
// read back from the byte just stored (a store-to-load wait on every byte).
template <size_t Bpp> void unsub(uint8_t *row, size_t n) noexcept {
    if (n < Bpp)
        return;
    uint8_t left[Bpp];
    for (size_t k = 0; k < Bpp; k++)
        left[k] = row[k];
    for (size_t i = Bpp; i + Bpp <= n; i += Bpp)
        for (size_t k = 0; k < Bpp; k++)
            row[i + k] = left[k] = uint8_t(row[i + k] + left[k]);
}

bool unsub_fixed(uint8_t *row, size_t n, size_t bpp) noexcept {
    switch (bpp) {
    case 1: unsub<1>(row, n); return true;
    case 2: unsub<2>(row, n); return true;
    case 3: unsub<3>(row, n); return true;
    case 4: unsub<4>(row, n); return true;
    case 6: unsub<6>(row, n); return true;
    case 8: unsub<8>(row, n); return true;
    default: return false;
    }
}

// Up, 16 bytes at a time (GCC's -O2 leaves a plain loop of bytes unvectorised).
void unup(uint8_t *__restrict row, const uint8_t *__restrict prev, size_t n) noexcept {
    typedef uint8_t Bytes16 __attribute__((vector_size(16)));
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        Bytes16 a, b;
        std::memcpy(&a, row + i, 16);
        std::memcpy(&b, prev + i, 16);
        a += b;
        std::memcpy(row + i, &a, 16);
    }
    for (; i < n; i++)
        row[i] = uint8_t(row[i] + prev[i]);
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
// row and prev never overlap (restrict: at -O2 GCC vectorises Up only so).
bool unfilter_row(uint8_t type, uint8_t *__restrict row, const uint8_t *__restrict prev, size_t n,
                  size_t bpp) noexcept {
    switch (type) {
    case 0: return true;
    case 1: return unsub_fixed(row, n, bpp);
    case 2:
        if (prev)
            unup(row, prev, n);
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
        return unsub_fixed(row, n, bpp); // paeth(a, 0, 0) is a: Sub
    default: return false;
    }
}

constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

// Undoes the filters of count scanlines at lines (each a filter byte and row_bytes of data);
// prev is the unfiltered row before the first (nullptr at the top). False for an unknown
// filter type.
bool unfilter_rows(uint8_t *lines, size_t count, size_t row_bytes, const uint8_t *prev, size_t bpp) noexcept {
    for (size_t i = 0; i < count; i++) {
        uint8_t *line = lines + (row_bytes + 1) * i;
        if (!unfilter_row(line[0], line + 1, prev, row_bytes, bpp))
            return false;
        prev = line + 1;
    }
    return true;
}

// Copies count unfiltered scanlines into the image's rows from y on, in the image's own
// layout: 16-bit samples in the machine's byte order.
void store_rows(const uint8_t *lines, uint32_t y, size_t count, Image &image) noexcept {
    const size_t row_bytes = image.row_bytes();
    for (size_t i = 0; i < count; i++) {
        const uint8_t *src = lines + (row_bytes + 1) * i + 1;
        uint8_t *dst = image.row(uint32_t(y + i));
        if (image.depth == 16 && kLittleEndian) {
            for (size_t k = 0; k + 1 < row_bytes; k += 2) {
                const uint8_t hi = src[k], lo = src[k + 1];
                dst[k] = lo;
                dst[k + 1] = hi;
            }
        } else {
            std::memcpy(dst, src, row_bytes);
        }
    }
}

struct InflateStream {
    z_stream z{};
    bool open = false;
    ~InflateStream() {
        if (open)
            inflateEnd(&z);
    }
};

// Inflates exactly n bytes into out; sets ended when the stream ends.
// False on corrupt or missing data, or when the stream ends before n bytes.
bool inflate_exactly(z_stream &z, uint8_t *out, size_t n, bool &ended) noexcept {
    if (n > UINT_MAX)
        return false;
    z.next_out = out;
    z.avail_out = uInt(n);
    while (z.avail_out > 0) {
        const int status = inflate(&z, Z_NO_FLUSH);
        if (status == Z_STREAM_END) {
            ended = true;
            break;
        }
        if (status != Z_OK)
            return false;
    }
    return z.avail_out == 0;
}

// The scanlines of an image too large for one libdeflate call: zlib inflates batch_bytes of
// them at a time (whole rows), straight into the image when its rows are laid out as
// scanlines, else into a batch buffer; each batch is unfiltered while it is in cache.
bool inflate_in_batches(const uint8_t *in, size_t in_size, Image &image, InterruptPoll poll, size_t batch_bytes,
                        RowGate *gate) {
    if (in_size > UINT_MAX)
        return false;
    InflateStream stream;
    if (inflateInit(&stream.z) != Z_OK)
        return false;
    stream.open = true;
    // Like libpng, which leaves the data's integrity to the chunk CRCs (checked): computing
    // zlib's Adler-32 took 12 ms of the 300 of an 18 MP photo.
    inflateValidate(&stream.z, 0);
    stream.z.next_in = const_cast<Bytef *>(in);
    stream.z.avail_in = uInt(in_size);
    const size_t row_bytes = image.row_bytes(), scanline = row_bytes + 1;
    const size_t bpp = size_t(image.channels) * image.bytes_per_sample();
    const bool in_place = image.row_prefix == 1;
    const size_t rows_per_batch = std::max<size_t>(1, batch_bytes / scanline);
    std::unique_ptr<uint8_t[]> batch, last_row; // last_row: the batch's last row, unfiltered
    if (!in_place) {
        batch.reset(new (std::nothrow) uint8_t[rows_per_batch * scanline]);
        last_row.reset(new (std::nothrow) uint8_t[row_bytes]);
        if (!batch || !last_row)
            return false;
    }
    bool ended = false;
    for (uint32_t y = 0; y < image.height;) {
        if (poll && poll())
            throw_interrupted();
        const size_t n = std::min<size_t>(rows_per_batch, image.height - y);
        uint8_t *lines = in_place ? image.pixels.data() + scanline * y : batch.get();
        const uint8_t *prev = y == 0 ? nullptr : in_place ? lines - row_bytes : last_row.get();
        if (ended || !inflate_exactly(stream.z, lines, n * scanline, ended) ||
            !unfilter_rows(lines, n, row_bytes, prev, bpp))
            return false;
        if (!in_place) {
            store_rows(lines, y, n, image);
            std::memcpy(last_row.get(), lines + scanline * (n - 1) + 1, row_bytes);
        }
        y += uint32_t(n);
        if (gate)
            gate->publish(y);
    }
    if (ended)
        return true;
    // The stream must end right after the image, not a byte more.
    uint8_t extra;
    stream.z.next_out = &extra;
    stream.z.avail_out = 1;
    return inflate(&stream.z, Z_NO_FLUSH) == Z_STREAM_END && stream.z.avail_out == 1;
}

} // namespace

bool png_fast_path_applies(const PngLayout &layout, size_t max_bytes) noexcept {
    const bool plain_type =
        layout.color_type == 0 || layout.color_type == 2 || layout.color_type == 4 || layout.color_type == 6;
    const size_t channels = layout.color_type == 2 ? 3 : layout.color_type == 6 ? 4 : layout.color_type == 4 ? 2 : 1;
    const size_t row_bytes = size_t(layout.width) * channels * (layout.bit_depth == 16 ? 2 : 1);
    return plain_type && !layout.interlaced && !layout.has_trns && (layout.bit_depth == 8 || layout.bit_depth == 16) &&
           layout.width > 0 && layout.height > 0 && (row_bytes + 1) <= max_bytes / layout.height;
}

bool inflate_png_pixels(const uint8_t *data, size_t size, Image &image, InterruptPoll poll, size_t one_call_bytes,
                        size_t batch_bytes, RowGate *gate) {
    std::unique_ptr<uint8_t[]> joined;
    const auto stream = idat_stream(data, size, joined);
    if (!stream.first)
        return false;
    const size_t row_bytes = image.row_bytes();
    const size_t scanline = row_bytes + 1;
    const size_t total = scanline * image.height;
    if (total > one_call_bytes)
        return inflate_in_batches(stream.first, stream.second, image, poll, batch_bytes, gate);
    // Decompress straight into the image when its rows already sit one filter byte apart.
    Buffer separate;
    uint8_t *out = nullptr;
    if (image.row_prefix == 1) {
        out = image.pixels.data();
    } else {
        try {
            separate.reset(total);
        } catch (const Error &) {
            return false; // libpng needs no such buffer
        }
        out = separate.data();
    }
    std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> d(libdeflate_alloc_decompressor());
    if (!d)
        return false;
    size_t produced = 0;
    if (libdeflate_zlib_decompress(d.get(), stream.first, stream.second, out, total, &produced) != LIBDEFLATE_SUCCESS ||
        produced != total)
        return false;
    const size_t bpp = size_t(image.channels) * image.bytes_per_sample();
    for (uint32_t y = 0; y < image.height; y += 64) {
        if (poll && poll())
            throw_interrupted();
        const size_t n = std::min<size_t>(64, image.height - y);
        uint8_t *lines = out + scanline * y;
        if (!unfilter_rows(lines, n, row_bytes, y ? lines - row_bytes : nullptr, bpp))
            return false;
        if (image.row_prefix != 1)
            store_rows(lines, y, n, image);
        if (gate)
            gate->publish(uint32_t(y + n));
    }
    return true;
}

bool inflate_and_blur(const uint8_t *data, size_t size, Image &image, double sigma, InterruptPoll poll,
                      size_t one_call_bytes, size_t batch_bytes) {
    RowGate gate;
    return run_pipelined(
        gate,
        [&] {
            fixed_blur_u8(image.row(0), image.stride(), image.width, image.height, image.channels, sigma, nullptr,
                          fixed_blur_kernels(), &gate);
        },
        [&] { return inflate_png_pixels(data, size, image, poll, one_call_bytes, batch_bytes, &gate); }, poll);
}

} // namespace bb
