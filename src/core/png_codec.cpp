// libpng glue. Each libpng call runs inside one of the run_* functions below, which hold the
// setjmp, own no C++ object and report failure through a status.
#include "codecs.hpp"

#include "deflate_join.hpp"
#include "fixed_blur.hpp"
#include "gaussian.hpp"

#include "png_inflate.hpp"
#include "probe.hpp"
#include "worker_thread.hpp"

#include <algorithm>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include <libdeflate.h>
#include <png.h>
#include <zlib.h>

namespace bb {
namespace {

enum class Status { Ok, Failed, Interrupted };

constexpr size_t kMessageSize = 256;
constexpr png_alloc_size_t kMaxChunkBytes = 16u << 20; // ICC profiles are far smaller

struct PngErrorContext {
    char message[kMessageSize];
    bool out_of_memory;
};

void on_png_error(png_structp png, png_const_charp message) {
    auto *ctx = static_cast<PngErrorContext *>(png_get_error_ptr(png));
    std::strncpy(ctx->message, message ? message : "unknown error", kMessageSize - 1);
    ctx->message[kMessageSize - 1] = '\0';
    if (message && std::strstr(message, "memory"))
        ctx->out_of_memory = true;
    png_longjmp(png, 1);
}

// Warnings (an ancillary chunk with a bad CRC, an unknown profile) leave a usable image.
void on_png_warning(png_structp, png_const_charp) {}

constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

// ---- decoding ----------------------------------------------------------------------------

struct ReadJob {
    png_structp png;
    png_infop info;
    PngErrorContext err;
    const uint8_t *data;
    size_t size;
    size_t pos;
    // after run_read_info
    png_uint_32 width, height;
    int bit_depth, color_type, channels, passes;
    PngLayout layout; // the file's own, before libpng's transformations
    // set by the caller between the phases
    uint8_t *pixels;
    size_t row_bytes;
    InterruptPoll poll;
};

void read_from_memory(png_structp png, png_bytep out, size_t length) {
    auto *job = static_cast<ReadJob *>(png_get_io_ptr(png));
    if (length > job->size - job->pos)
        png_error(png, "unexpected end of data (the file is truncated)");
    std::memcpy(out, job->data + job->pos, length);
    job->pos += length;
}

Status run_read_info(ReadJob *volatile job) {
    if (setjmp(png_jmpbuf(job->png)))
        return Status::Failed;
    png_structp png = job->png;
    png_infop info = job->info;
    png_set_read_fn(png, job, read_from_memory);
    // Dimensions are bounded by bytea_blur.max_pixels, checked after this phase; ancillary
    // chunks by a cap, so that a chunk declaring gigabytes is refused, not allocated.
    png_set_user_limits(png, 0x7fffffffu, 0x7fffffffu);
    png_set_chunk_malloc_max(png, kMaxChunkBytes);
#ifdef PNG_IGNORE_ADLER32
    // Every IDAT chunk's CRC still covers the compressed bytes; zlib's second checksum over the
    // inflated ones costs a tenth of the decode and catches nothing the CRC does not.
    png_set_option(png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
    png_read_info(png, info);
    job->color_type = png_get_color_type(png, info);
    const int depth = png_get_bit_depth(png, info);
    job->layout.width = png_get_image_width(png, info);
    job->layout.height = png_get_image_height(png, info);
    job->layout.bit_depth = depth;
    job->layout.color_type = job->color_type;
    job->layout.interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    job->layout.has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    if (job->color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (job->color_type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (depth == 16 && kLittleEndian)
        png_set_swap(png);
    job->passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    job->width = png_get_image_width(png, info);
    job->height = png_get_image_height(png, info);
    job->bit_depth = png_get_bit_depth(png, info);
    job->channels = png_get_channels(png, info);
    return Status::Ok;
}

Status run_read_pixels(ReadJob *volatile job) {
    if (setjmp(png_jmpbuf(job->png)))
        return Status::Failed;
    for (int pass = 0; pass < job->passes; pass++) {
        for (png_uint_32 y = 0; y < job->height; y++) {
            if ((y & 15) == 0 && job->poll && job->poll())
                return Status::Interrupted;
            png_read_row(job->png, job->pixels + job->row_bytes * y, nullptr);
        }
    }
    png_read_end(job->png, nullptr);
    return Status::Ok;
}

struct ReadGuard {
    ReadJob *job;
    ~ReadGuard() { png_destroy_read_struct(&job->png, &job->info, nullptr); }
};

void read_metadata(png_structp png, png_infop info, PngMeta *meta) {
    png_charp name = nullptr;
    int compression = 0;
    png_bytep profile = nullptr;
    png_uint_32 profile_size = 0;
    if (png_get_iCCP(png, info, &name, &compression, &profile, &profile_size) && profile && profile_size) {
        meta->has_iccp = true;
        meta->iccp_name = name ? name : "ICC profile";
        meta->iccp.assign(profile, profile + profile_size);
    }
    int intent = 0;
    if (png_get_sRGB(png, info, &intent))
        meta->srgb_intent = intent;
    png_fixed_point gamma = 0;
    if (png_get_gAMA_fixed(png, info, &gamma)) {
        meta->has_gama = true;
        meta->gama = gamma;
    }
    png_fixed_point c[8];
    if (png_get_cHRM_fixed(png, info, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7])) {
        meta->has_chrm = true;
        std::memcpy(meta->chrm, c, sizeof c);
    }
    png_uint_32 rx = 0, ry = 0;
    int unit = 0;
    if (png_get_pHYs(png, info, &rx, &ry, &unit)) {
        meta->has_phys = true;
        meta->phys_x = rx;
        meta->phys_y = ry;
        meta->phys_unit = unit;
    }
}

// ---- encoding ----------------------------------------------------------------------------

struct WriteJob {
    png_structp png;
    png_infop info;
    PngErrorContext err;
    const Image *image;
    const PngMeta *meta;
    InterruptPoll poll;
    uint8_t *out; // malloc'd, grown by doubling
    size_t out_size;
    size_t out_capacity;
};

void write_to_memory(png_structp png, png_bytep data, size_t length) {
    auto *job = static_cast<WriteJob *>(png_get_io_ptr(png));
    if (length > job->out_capacity - job->out_size) {
        size_t capacity = job->out_capacity ? job->out_capacity : 65536;
        while (capacity - job->out_size < length)
            capacity *= 2;
        auto *grown = static_cast<uint8_t *>(std::realloc(job->out, capacity));
        if (!grown) {
            job->err.out_of_memory = true;
            png_error(png, "out of memory");
        }
        job->out = grown;
        job->out_capacity = capacity;
    }
    std::memcpy(job->out + job->out_size, data, length);
    job->out_size += length;
}

void flush_memory(png_structp) {}

// Whether libpng writes this ICC profile: the checks png_write_iCCP makes with png_error (at
// least 132 bytes, the header's length the profile's own, a length a multiple of 4 from
// version 4 on). libpng 1.6.39 (Debian 12) refused a profile that failed them already in
// png_set_iCCP, as a benign error, and wrote the PNG without it; 1.6.48 (Debian 13) accepts it
// there and fails the whole write. Such a profile (from a JPEG or WebP being converted) is
// left out, as before, on both.
bool icc_fits_iccp(const std::vector<uint8_t> &icc) noexcept {
    if (icc.size() < 132 || icc.size() > 0xffffffffu)
        return false;
    const uint32_t declared = (uint32_t(icc[0]) << 24) | (uint32_t(icc[1]) << 16) | (uint32_t(icc[2]) << 8) | icc[3];
    return declared == icc.size() && (icc[8] <= 3 || icc.size() % 4 == 0);
}

// Sets up the encoder and writes the signature, IHDR and the ancillary chunks. Called only
// from the run_* functions below, inside their setjmp.
void write_header(WriteJob *job) {
    png_structp png = job->png;
    png_infop info = job->info;
    const Image &image = *job->image;
    const PngMeta &meta = *job->meta;
    static const int kColorTypes[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGB_ALPHA};
    png_set_write_fn(png, job, write_to_memory, flush_memory);
    png_set_benign_errors(png, 1);
    // For libpng's own compressor (large images, see encode_png): blurred images are smooth, so
    // one fixed filter with zlib's fastest level compresses them well; libpng's defaults (level
    // 6, adaptive filters) took 6 times as long for 0.58 times the bytes on a 2.5 MP photo. Up,
    // as filter_in_place writes 16-bit images (these are over kPngInMemoryBytes of scanlines).
    png_set_compression_level(png, 1);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
    // zlib's hash table at memLevel 5 (8K entries, not 64K) stays in the processor's cache:
    // 10-24 % faster across 0.3 to 18 MP blurred photos for 0.5 % more bytes
    // (measured with the encoder alone, memLevel 1 to 9 side by side).
    png_set_compression_mem_level(png, 8);
    // Run-length matches only (Z_RLE): on Up-filtered blurred photos the residues repeat in
    // runs, not in distant strings; 12 % fewer bytes and 10 % faster than the default strategy
    // on a 1920x1280 and a 5120x2880 photo (zlib level 1, Python's zlib on the same scanlines).
    png_set_compression_strategy(png, Z_RLE);
    png_set_IHDR(png, info, image.width, image.height, image.depth, kColorTypes[image.channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (meta.has_iccp && icc_fits_iccp(meta.iccp))
        png_set_iCCP(png, info, meta.iccp_name.c_str(), PNG_COMPRESSION_TYPE_BASE, meta.iccp.data(),
                     static_cast<png_uint_32>(meta.iccp.size()));
    else if (meta.srgb_intent >= 0)
        png_set_sRGB(png, info, meta.srgb_intent);
    if (meta.has_gama)
        png_set_gAMA_fixed(png, info, meta.gama);
    if (meta.has_chrm)
        png_set_cHRM_fixed(png, info, meta.chrm[0], meta.chrm[1], meta.chrm[2], meta.chrm[3], meta.chrm[4],
                           meta.chrm[5], meta.chrm[6], meta.chrm[7]);
    if (meta.has_phys)
        png_set_pHYs(png, info, meta.phys_x, meta.phys_y, meta.phys_unit);
    png_write_info(png, info);
}

Status run_write_header(WriteJob *volatile job) {
    if (setjmp(png_jmpbuf(job->png)))
        return Status::Failed;
    write_header(job);
    return Status::Ok;
}

// libpng's own row-by-row compression: header, rows, IEND.
Status run_write_rows(WriteJob *volatile job) {
    if (setjmp(png_jmpbuf(job->png)))
        return Status::Failed;
    write_header(job);
    png_structp png = job->png;
    const Image &image = *job->image;
    if (image.depth == 16 && kLittleEndian)
        png_set_swap(png);
    for (uint32_t y = 0; y < image.height; y++) {
        if ((y & 15) == 0 && job->poll && job->poll())
            return Status::Interrupted;
        png_write_row(png, image.row(y));
    }
    png_write_end(png, nullptr);
    return Status::Ok;
}

struct WriteGuard {
    WriteJob *job;
    ~WriteGuard() {
        png_destroy_write_struct(&job->png, &job->info);
        std::free(job->out);
    }
};

[[noreturn]] void throw_png_error(const PngErrorContext &err, bool decoding) {
    if (err.out_of_memory)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libpng could not allocate its working memory.");
    throw Error(ErrorKind::InvalidData, decoding ? "corrupt PNG data" : "could not encode PNG",
                std::string("libpng: ") + err.message + ".");
}

[[noreturn]] void throw_no_memory() {
    throw Error(ErrorKind::OutOfMemory, "out of memory", "libpng could not allocate its state.");
}

uint32_t be32(const uint8_t *p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

struct CompressorDeleter {
    void operator()(libdeflate_compressor *c) const noexcept { libdeflate_free_compressor(c); }
};
using Compressor = std::unique_ptr<libdeflate_compressor, CompressorDeleter>;

Compressor fastest_compressor() {
    Compressor compressor(libdeflate_alloc_compressor(1));
    if (!compressor)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libdeflate could not allocate its compressor.");
    return compressor;
}

} // namespace

// PNG's Sub or Up filter for an 8-bit image, whichever compresses smaller on a sample of its
// rows: kPngTrialBands bands spread over the image, each of kPngTrialRows rows or
// kPngTrialBandBytes, whichever is more (all of it when it is short; a band must be long
// enough for deflate's matches to show), filtered both ways and compressed as the encoder compresses (libdeflate's
// fastest level). A blurred photo whose detail runs across (a sky, water, a horizon) compresses best with Sub, most
// others with Up. On the benchmark's photos as 1920x1280 PNGs at sigma 5 (SciPy's blur), the sample chose the smaller
// of the two on all nine: Flow 622 KB with Up against 706 with Sub, FallenLeaf 1459 against 1565, EveningGlow 1537 with
// Sub against 1605. The sum of the residues' absolute values, which this replaced, chose Sub on Flow and FallenLeaf:
// their Sub residues are smaller, but Up's repeat from row to row, which deflate's matches find. The other filters
// (Average, Paeth, a choice per row by the least sum) came to no fewer bytes than the better of these two (Flow: 650
// and 653 KB) and took up to 30 times as long. The sample costs about a twentieth of the compression. 16-bit images
// keep Up (zlib's run-length matches suit it, compress_scanlines).
int choose_png_filter(const Image &image) {
    if (image.depth != 8 || image.height < 2)
        return kPngFilterUp;
    const size_t row_bytes = image.row_bytes(), bpp = size_t(image.channels);
    // the whole image when it is short, else bands spread from the top to the bottom
    const uint32_t rows_per_band =
        uint32_t(std::max<size_t>(kPngTrialRows, (kPngTrialBandBytes + row_bytes - 1) / row_bytes));
    const bool whole = uint64_t(image.height) <= uint64_t(kPngTrialBands) * rows_per_band;
    const uint32_t bands = whole ? 1 : kPngTrialBands, band_rows = whole ? image.height : rows_per_band;
    const size_t size = size_t(bands) * band_rows * row_bytes;
    std::unique_ptr<uint8_t[]> sub(new uint8_t[size]), up(new uint8_t[size]);
    size_t at = 0;
    for (uint32_t b = 0; b < bands; b++) {
        const uint32_t first = uint32_t(uint64_t(image.height - band_rows) * b / std::max(bands - 1, 1u));
        for (uint32_t y = first; y < first + band_rows; y++, at += row_bytes) {
            const uint8_t *row = image.row(y), *above = y > 0 ? image.row(y - 1) : nullptr;
            for (size_t i = 0; i < row_bytes; i++) {
                sub[at + i] = uint8_t(row[i] - (i >= bpp ? row[i - bpp] : 0));
                up[at + i] = uint8_t(row[i] - (above ? above[i] : 0));
            }
        }
    }
    const Compressor compressor = fastest_compressor();
    const size_t bound = libdeflate_deflate_compress_bound(compressor.get(), size);
    std::unique_ptr<uint8_t[]> out(new uint8_t[bound]);
    const size_t sub_bytes = libdeflate_deflate_compress(compressor.get(), sub.get(), size, out.get(), bound);
    const size_t up_bytes = libdeflate_deflate_compress(compressor.get(), up.get(), size, out.get(), bound);
    return sub_bytes < up_bytes ? kPngFilterSub : kPngFilterUp;
}

namespace {

// Turns an image laid out as PNG scanlines (row_prefix 1) into filtered scanlines, in place,
// with the filter choose_png_filter picks: 16-bit samples big-endian, the filter-type byte
// first; Up takes each byte less the byte above it, rows from the bottom up so that each still
// reads an unfiltered row above; Sub each byte less the byte one pixel to its left, from the
// right end of the row.
void filter_in_place(Image &image, InterruptPoll poll) {
    const size_t row_bytes = image.row_bytes();
    const int filter = choose_png_filter(image);
    if (image.depth == 16 && kLittleEndian)
        for (uint32_t y = 0; y < image.height; y++) {
            poll_every_rows(y, poll);
            uint8_t *row = image.row(y);
            for (size_t i = 0; i + 1 < row_bytes; i += 2)
                std::swap(row[i], row[i + 1]);
        }
    const size_t bpp = size_t(image.channels) * (image.depth == 16 ? 2 : 1);
    for (uint32_t y = image.height; y-- > 0;) {
        poll_every_rows(y, poll);
        uint8_t *row = image.row(y);
        row[-1] = uint8_t(filter);
        if (filter == kPngFilterSub) {
            for (size_t i = row_bytes; i-- > bpp;)
                row[i] = uint8_t(row[i] - row[i - bpp]);
            continue;
        }
        if (y == 0)
            break; // the first row filters against zeros: unchanged
        const uint8_t *above = image.row(y - 1);
        for (size_t i = 0; i < row_bytes; i++)
            row[i] = uint8_t(row[i] - above[i]);
    }
}

void put_be32(uint8_t *p, uint32_t v) noexcept {
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}

struct ZlibStream {
    z_stream z{};
    bool open = false;
    ~ZlibStream() {
        if (open)
            deflateEnd(&z);
    }
};

const uint8_t kZlibHeader[2] = {0x78, 0x01}; // deflate, 32 KiB window, fastest level

// How many raw deflate pieces the 8-bit scanlines are compressed in, and the length of each
// (the last may be shorter): pieces of up to kDeflatePieceBytes; with two threads, from
// kParallelDeflateBytes up, an even number of them, which the two threads compress in pairs.
struct DeflatePieces {
    size_t count = 1, length = 0;
};
DeflatePieces deflate_pieces(size_t size, int threads) {
    DeflatePieces pieces;
    pieces.count = std::max<size_t>(1, (size + kDeflatePieceBytes - 1) / kDeflatePieceBytes);
    if (threads > 1 && size >= kParallelDeflateBytes)
        pieces.count += pieces.count % 2;
    pieces.length = (size + pieces.count - 1) / pieces.count;
    return pieces;
}

// 8-bit scanlines on two threads: the pieces (deflate_pieces) two at a time, the first
// compressed by a worker straight into the output, the second by this thread into a buffer of
// its own, then joined after the first. A check for interrupts between two pairs and while
// waiting for the worker, which is joined first (one piece, at most kDeflatePieceBytes). The
// output differs from one thread's by where the pieces are cut; the scanlines it holds do not.
size_t compress_in_pairs(const uint8_t *scanlines, size_t size, uint8_t *dst, size_t capacity, InterruptPoll poll) {
    const DeflatePieces pieces = deflate_pieces(size, 2);
    const Compressor worker_compressor = fastest_compressor(), own_compressor = fastest_compressor();
    Buffer own_piece(libdeflate_deflate_compress_bound(nullptr, pieces.length));
    std::memcpy(dst, kZlibHeader, sizeof kZlibHeader);
    DeflateJoiner joiner(dst + sizeof kZlibHeader);
    for (size_t at = 0; at < size;) {
        if (poll && poll())
            throw_interrupted();
        const size_t first = std::min(pieces.length, size - at), second = std::min(pieces.length, size - at - first);
        const size_t used = sizeof kZlibHeader + joiner.bytes();
        if (used + 2 * 5 + 4 > capacity) // room for two empty stored blocks and the checksum
            return 0;
        uint8_t *const out = joiner.next();
        size_t n1 = 0, n2 = 0;
        const auto compress_first = [&] {
            n1 = libdeflate_deflate_compress(worker_compressor.get(), scanlines + at, first, out,
                                             capacity - used - 2 * 5 - 4);
        };
        if (second > 0)
            run_beside(
                compress_first,
                [&] {
                    n2 = libdeflate_deflate_compress(own_compressor.get(), scanlines + at + first, second,
                                                     own_piece.data(), own_piece.size());
                },
                poll);
        else
            compress_first();
        if (n1 == 0 || (second > 0 && n2 == 0))
            return 0;
        at += first + second;
        joiner.append(out, n1, second == 0 && at == size);
        if (second > 0) {
            if (sizeof kZlibHeader + joiner.bytes() + n2 + 5 + 4 > capacity)
                return 0;
            joiner.append(own_piece.data(), n2, at == size);
        }
    }
    const size_t n = sizeof kZlibHeader + joiner.bytes();
    put_be32(dst + n, libdeflate_adler32(1, scanlines, size));
    return n + 4;
}

// Compresses the filtered scanlines into dst (capacity bytes) as one zlib stream; returns its
// size. libdeflate compresses blurred 8-bit photos about twice as fast as zlib at its fastest,
// 15 % smaller (2.5 MP: 25-33 ms for 1.09 MB, zlib 46-69 ms for 1.28 MB, side by side), but in
// one call that cannot be interrupted (3.4 ms a MiB here): 8-bit scanlines of up to
// kDeflatePieceBytes go in one call, longer ones in pieces of that size with a check between
// two, joined into one stream (deflate_join.hpp: walking each piece but the last costs 5-10 %
// of the compression). 16-bit samples compress slowest in libdeflate (126 ms for 14.1 MiB, in
// one call) and faster in zlib at level 1 with run-length matches only (Z_RLE: 107 ms, 2 %
// more bytes), in pieces of kZlibPieceBytes with a check between two.
size_t compress_scanlines(const uint8_t *scanlines, size_t size, int depth, uint8_t *dst, size_t capacity,
                          InterruptPoll poll, int threads) {
    if (depth <= 8 && threads > 1 && size >= kParallelDeflateBytes)
        return compress_in_pairs(scanlines, size, dst, capacity, poll);
    if (depth <= 8) {
        const Compressor compressor = fastest_compressor();
        if (size <= kDeflatePieceBytes)
            return libdeflate_zlib_compress(compressor.get(), scanlines, size, dst, capacity);
        // Each piece is compressed straight into the output, where the joiner takes it over,
        // rather than into a scratch buffer of a piece's bound and copied. The short piece
        // comes first, so that the last, which is not walked, is a whole one.
        std::memcpy(dst, kZlibHeader, sizeof kZlibHeader);
        DeflateJoiner joiner(dst + sizeof kZlibHeader);
        uint32_t adler = 1;
        const size_t pieces = (size + kDeflatePieceBytes - 1) / kDeflatePieceBytes;
        for (size_t at = 0, length = size - (pieces - 1) * kDeflatePieceBytes; at < size;
             at += length, length = kDeflatePieceBytes) {
            if (poll && poll())
                throw_interrupted();
            const size_t used = sizeof kZlibHeader + joiner.bytes();
            if (used + 5 + 4 > capacity) // room for an empty stored block and the checksum
                return 0;
            const size_t n = libdeflate_deflate_compress(compressor.get(), scanlines + at, length, joiner.next(),
                                                         capacity - used - 5 - 4);
            if (n == 0)
                return 0;
            joiner.append(joiner.next(), n, at + length == size);
            adler = libdeflate_adler32(adler, scanlines + at, length);
        }
        const size_t n = sizeof kZlibHeader + joiner.bytes();
        put_be32(dst + n, adler);
        return n + 4;
    }
    ZlibStream stream;
    // memLevel 8, zlib's default: at 5 its buffer of 2048 symbols per block made 16-bit images
    // 2.7 times slower
    const int ok = deflateInit2(&stream.z, 1, Z_DEFLATED, 15, 8, Z_RLE);
    if (ok == Z_MEM_ERROR)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "zlib could not allocate its compressor.");
    if (ok != Z_OK)
        throw Error(ErrorKind::InvalidData, "could not encode PNG", "zlib refused its parameters.");
    stream.open = true;
    stream.z.next_out = dst;
    stream.z.avail_out = uInt(std::min<size_t>(capacity, UINT32_MAX));
    for (size_t at = 0;;) {
        if (poll && poll())
            throw_interrupted();
        const size_t length = std::min(kZlibPieceBytes, size - at);
        stream.z.next_in = const_cast<Bytef *>(scanlines + at);
        stream.z.avail_in = uInt(length);
        at += length;
        const int flush = at == size ? Z_FINISH : Z_NO_FLUSH;
        const int status = deflate(&stream.z, flush);
        if (flush == Z_FINISH) {
            if (status != Z_STREAM_END)
                return 0;
            return stream.z.total_out;
        }
        if (status != Z_OK || stream.z.avail_in != 0)
            return 0;
    }
}

// Writes the PNG: the header libpng wrote, then the filtered scanlines compressed into one
// IDAT chunk, then IEND, all in one buffer the caller takes over.
Buffer finish_with_idat(const uint8_t *header, size_t header_size, const uint8_t *scanlines, size_t size, int depth,
                        InterruptPoll poll, int threads) {
    static const uint8_t kIend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    // room for the worst of the compressors: zlib's bound holds for memLevel 8 and up; joined
    // libdeflate pieces add 5 bytes each. One thread's pieces are up to kDeflatePieceBytes
    // long, two threads' pieces.length (no longer): either way no piece's bound exceeds that of
    // min(size, kDeflatePieceBytes) bytes.
    const size_t pieces = deflate_pieces(size, threads).count;
    const size_t piece_bound = libdeflate_deflate_compress_bound(nullptr, std::min(size, kDeflatePieceBytes));
    const size_t bound = std::max<size_t>(compressBound(uLong(size)), pieces * (piece_bound + 5) + 6);
    Buffer out(header_size + 8 + bound + 4 + sizeof kIend);
    std::memcpy(out.data(), header, header_size);
    uint8_t *chunk = out.data() + header_size;
    const size_t n = compress_scanlines(scanlines, size, depth, chunk + 8, bound, poll, threads);
    if (n == 0 || n > 0x7fffffffu)
        throw Error(ErrorKind::InvalidData, "could not encode PNG", "The compressor's output did not fit its bound.");
    if (poll && poll())
        throw_interrupted();
    put_be32(chunk, uint32_t(n));
    static const uint8_t kIdat[4] = {'I', 'D', 'A', 'T'};
    std::memcpy(chunk + 4, kIdat, sizeof kIdat);
    put_be32(chunk + 8 + n, libdeflate_crc32(0, chunk + 4, n + 4)); // over the type and the data
    std::memcpy(chunk + 12 + n, kIend, sizeof kIend);
    out.shrink(header_size + 12 + n + sizeof kIend);
    return out;
}

// Encodes image. With scanlines (the same pixels laid out with row_prefix 1, possibly image
// itself), they are filtered in place and compressed in one call; without, libpng and zlib
// compress image row by row.
Buffer encode(const Image &image, const PngMeta &meta, InterruptPoll poll, Image *scanlines, int threads) {
    WriteJob job{};
    job.image = &image;
    job.meta = &meta;
    job.poll = poll;
    WriteGuard guard{&job};
    job.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &job.err, on_png_error, on_png_warning);
    if (!job.png)
        throw_no_memory();
    job.info = png_create_info_struct(job.png);
    if (!job.info)
        throw_no_memory();
    if (scanlines) {
        if (run_write_header(&job) != Status::Ok)
            throw_png_error(job.err, false);
        filter_in_place(*scanlines, poll);
        return finish_with_idat(job.out, job.out_size, scanlines->pixels.data(), scanlines->pixels.size(), image.depth,
                                poll, threads);
    }
    const Status status = run_write_rows(&job);
    if (status == Status::Interrupted)
        throw_interrupted();
    if (status != Status::Ok)
        throw_png_error(job.err, false);
    Buffer out;
    out.adopt(job.out, job.out_size);
    job.out = nullptr;
    return out;
}

// Walks the chunk list before libpng sees it: every chunk must fit in the data and the list
// must end with IEND. libpng would otherwise allocate (and clear) a buffer of whatever size a
// lying chunk header declares before noticing that the data ends.
void check_chunk_layout(const uint8_t *data, size_t size) {
    size_t pos = 8;
    while (pos + 8 <= size) {
        const uint32_t length = be32(data + pos);
        char type[5] = {};
        for (int i = 0; i < 4; i++) {
            const uint8_t c = data[pos + 4 + size_t(i)];
            type[i] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? char(c) : '?';
        }
        if (length > 0x7fffffffu || size - pos - 8 < size_t(length) + 4)
            throw Error(ErrorKind::InvalidData, "corrupt PNG data",
                        std::string("The ") + type + " chunk at offset " + std::to_string(pos) + " declares " +
                            std::to_string(length) + " bytes, but only " + std::to_string(size - pos - 8) +
                            " remain (the file is truncated or the chunk length is wrong).");
        if (std::memcmp(data + pos + 4, "IEND", 4) == 0)
            return;
        pos += size_t(length) + 12;
    }
    throw Error(ErrorKind::InvalidData, "corrupt PNG data",
                "The data ends before the IEND chunk (the file is truncated).");
}

// decode_png, and with sigma > 0 the blur too: *blurred says whether it was done.
Image decode_png_and_blur(const uint8_t *data, size_t size, const DecodeOptions &options, PngMeta *meta, double sigma,
                          bool *blurred) {
    check_chunk_layout(data, size);
    ReadJob job{};
    job.data = data;
    job.size = size;
    job.poll = options.poll;
    ReadGuard guard{&job};
    job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job.err, on_png_error, on_png_warning);
    if (!job.png)
        throw_no_memory();
    job.info = png_create_info_struct(job.png);
    if (!job.info)
        throw_no_memory();

    if (run_read_info(&job) != Status::Ok)
        throw_png_error(job.err, true);
    if (job.width == 0 || job.height == 0)
        throw Error(ErrorKind::InvalidData, "invalid image dimensions", "The PNG declares an empty image.");
    check_pixel_limit(job.width, job.height, options.max_pixels);
    read_metadata(job.png, job.info, meta);

    Image image;
    image.width = job.width;
    image.height = job.height;
    image.channels = job.channels;
    image.depth = job.bit_depth;
    if (image.channels == 2 || image.channels == 4)
        image.alpha_channel = image.channels - 1;
    // 16-bit samples one byte after a row start would be misaligned: those rows keep no prefix.
    image.row_prefix = image.depth == 8 ? options.png_row_prefix : 0;
    image.allocate();
    // Plain PNGs: one libdeflate call and our own unfiltering; libpng for the rest, and for any
    // file the fast path finds fault with, so that its verdict stays libpng's.
    if (png_fast_path_applies(job.layout)) {
        const bool pipelined = sigma > 0 && options.threads > 1 &&
                               choose_blur_method(image, sigma, fixed_blur_vectorised()) == BlurMethod::FixedPoint;
        if (pipelined ? inflate_and_blur(data, size, image, sigma, options.poll)
                      : inflate_png_pixels(data, size, image, options.poll)) {
            *blurred = pipelined;
            return image;
        }
    }
    job.pixels = image.row(0);
    job.row_bytes = image.stride();

    const Status status = run_read_pixels(&job);
    if (status == Status::Interrupted)
        throw_interrupted();
    if (status != Status::Ok)
        throw_png_error(job.err, true);
    return image;
}

} // namespace

Image decode_png(const uint8_t *data, size_t size, const DecodeOptions &options, PngMeta *meta) {
    bool blurred = false;
    return decode_png_and_blur(data, size, options, meta, 0.0, &blurred);
}

Image decode_png_blurred(const uint8_t *data, size_t size, const DecodeOptions &options, double sigma, PngMeta *meta) {
    bool blurred = false;
    Image image = decode_png_and_blur(data, size, options, meta, sigma, &blurred);
    if (!blurred)
        gaussian_blur(image, sigma, options.poll);
    return image;
}

Buffer encode_png(const Image &image, const PngMeta &meta, InterruptPoll poll, size_t in_memory_bytes, int threads) {
    if ((image.row_bytes() + 1) * image.height > in_memory_bytes)
        return encode(image, meta, poll, nullptr, 1);
    Image scanlines = image.same_kind(image.width, image.height, 1);
    for (uint32_t y = 0; y < image.height; y++)
        std::memcpy(scanlines.row(y), image.row(y), image.row_bytes());
    return encode(image, meta, poll, &scanlines, threads);
}

Buffer encode_png_in_place(Image &image, const PngMeta &meta, InterruptPoll poll, size_t in_memory_bytes, int threads) {
    if (image.row_prefix != 1 || image.stride() * image.height > in_memory_bytes)
        return encode_png(image, meta, poll, in_memory_bytes, threads);
    return encode(image, meta, poll, &image, threads);
}

} // namespace bb
