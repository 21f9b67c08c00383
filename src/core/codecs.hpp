// JPEG (libjpeg-turbo), PNG (libpng), WebP (libwebp) and AVIF (libavif) decoders and encoders. libjpeg and
// libpng report fatal errors by longjmp; every setjmp lives in a C-style function whose frame
// owns no C++ object, and a jump becomes an Error thrown only after that frame has returned.
// libwebp and libavif return a status.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "errors.hpp"
#include "image.hpp"

namespace bb {

struct DecodeOptions {
    uint64_t max_pixels = 100000000; // refuse larger images before allocating pixels
    InterruptPoll poll = nullptr;
    size_t png_row_prefix = 0; // decode_png's Image::row_prefix for 8-bit images: 1 to encode in place
    // 2 lets JpegPlaneReader decode a progressive file's scans on two threads, or its rows ahead
    // of the blur, and decode_png_blurred blur a PNG beside its unfiltering
    int threads = 1;
    bool jpeg_to_rgb = false; // decode_jpeg: YCbCr converted to RGB (for another format's encoder)
    // Below this estimated cost (jpeg_scan_split.hpp) a file is not worth a second decoder:
    // about 2 ms of decoding here. The tests lower it to split small files.
    uint64_t split_min_cost = uint64_t(1) << 16;
    // From this many pixels up, with threads 2, a second thread decodes a JPEG's rows ahead of
    // the blur (jpeg_read_ahead.hpp). Below it the gain is a fraction of a millisecond, and two
    // backends blurring at once on two cores lose more to the hand-overs: a 0.3 MP JPEG took
    // 1.3 times as long per image with the second thread, a 4 MP photo as long. The tests
    // lower it.
    uint64_t read_ahead_pixels = 2000000;
};

// Decodes an 8-bit JPEG in its own colour space (grey, YCbCr, RGB, CMYK or YCCK), without
// colour conversion (but YCbCr to RGB with options.jpeg_to_rgb, for a blur written in another
// format); chroma planes are upsampled to full size. The blur itself streams planes
// with the classes below; these interleaved functions are the reference the unit tests check
// the planar path against, and the way they write test JPEGs in any colour space.
Image decode_jpeg(const uint8_t *data, size_t size, const DecodeOptions &options, JpegMeta *meta);
Buffer encode_jpeg(const Image &image, const JpegMeta &meta, int quality, InterruptPoll poll, bool optimize = false);

// Writes 8-bit grey or RGB pixels (decoded from another format) as a JPEG at quality: RGB as
// YCbCr, with the sampling and Huffman tables jpeg_encoding_for gives a YCbCr file of full
// chroma blurred at sigma; the ICC profile and the EXIF orientation (0: none) kept. Converts
// RGB to YCbCr in place.
Buffer encode_jpeg_from_pixels(Image &image, const std::vector<uint8_t> &icc, int orientation, int quality,
                               double sigma, InterruptPoll poll);

// Where decoded component planes come from, a band of rows of each at a time (stream_planes,
// plane_blur.hpp): each component at its own resolution, in the file's own codes.
class PlaneSource {
  public:
    virtual ~PlaneSource() = default;
    virtual int components() const noexcept = 0;
    // Decoded samples of component c that belong to the image.
    virtual uint32_t plane_width(int c) const noexcept = 0;
    virtual uint32_t plane_height(int c) const noexcept = 0;
    // Image pixels per decoded sample along each axis (8 for luma at scale 1/8, 2 for 4:2:0
    // chroma at scale 1): decoded sample j covers image pixels [j * step, (j + 1) * step).
    virtual double step_x(int c) const noexcept = 0;
    virtual double step_y(int c) const noexcept = 0;
    // Decodes the next band of rows; after the last one, checks the rest of the file and
    // returns false. Throws Error on corrupt or truncated data.
    virtual bool next() = 0;
    // The rows of component c that the last next() decoded and that belong to the image.
    virtual uint32_t row_count(int c) const noexcept = 0;
    virtual const uint8_t *row(int c, uint32_t r) const noexcept = 0;
};

// Streams a JPEG's component planes out of libjpeg in raw mode, one iMCU row (8 or 16 sample
// rows) at a time: no colour conversion and no chroma upsampling, each component at its own
// resolution, all scaled by 1/scale_denom (libjpeg's DCT scaling: 1, 2, 4 or 8, which skips
// most of the IDCT work for a smaller result). The header is read, checked against
// options.max_pixels and described in meta by the constructor.
class JpegPlaneReader final : public PlaneSource {
  public:
    JpegPlaneReader(const uint8_t *data, size_t size, const DecodeOptions &options, int scale_denom, JpegMeta *meta);
    ~JpegPlaneReader();
    JpegPlaneReader(const JpegPlaneReader &) = delete;
    JpegPlaneReader &operator=(const JpegPlaneReader &) = delete;

    uint32_t width() const noexcept; // the image's full size
    uint32_t height() const noexcept;
    int components() const noexcept override;
    uint32_t plane_width(int c) const noexcept override;
    uint32_t plane_height(int c) const noexcept override;
    double step_x(int c) const noexcept override;
    double step_y(int c) const noexcept override;
    // Decodes the next iMCU row; after the last one, lets libjpeg check the rest of the file.
    bool next() override;
    uint32_t row_count(int c) const noexcept override;
    const uint8_t *row(int c, uint32_t r) const noexcept override;
    // Whether two decoders read the scans (options.threads 2, a progressive file worth it).
    bool split() const noexcept;
    // Whether a second thread decodes the rows ahead (options.threads 2, not split, large enough).
    bool read_ahead() const noexcept;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// Where each component of a JPEG of this size and sampling lives at full resolution, and the
// block-padded rows the encoder reads it from.
struct JpegLayout {
    uint32_t width = 0, height = 0;
    int components = 0;
    uint32_t comp_width[4] = {}, comp_height[4] = {};     // samples that belong to the image
    uint32_t padded_width[4] = {}, padded_height[4] = {}; // whole MCUs
};
JpegLayout jpeg_layout(uint32_t width, uint32_t height, const JpegMeta &meta);

// How a blurred JPEG is written: the input's colour space, and
//  - chroma: a 3-component YCbCr file blurred at sigma >= kChroma420Sigma is written 4:2:0,
//    whatever its own subsampling. Above half the subsampled chroma's Nyquist frequency
//    (a quarter cycle per pixel) the Gaussian keeps exp(-2 pi^2 sigma^2 / 16) of the signal:
//    0.7 % at sigma 2, nothing 8-bit samples can hold at 5. Below it the file's own subsampling
//    stays (at sigma 1, 29 % of that detail would survive and be lost to 4:2:0).
//  - Huffman tables optimised for the image (libjpeg's optimize_coding) when libjpeg's
//    whole-image coefficient buffer, which that needs, takes at most kOptimizeBufferBytes
//    (128 bytes per 8x8 block: 3 bytes a pixel at 4:2:0, so up to about 22 MP); above it the
//    standard tables, and the streaming encoder's memory. A blurred picture fits the standard
//    tables badly: they are made for sharp ones.
//  - with optimised tables, from kSplitEntropyPixels on, the entropy coding in two parts that
//    a restart marker joins (JpegPlaneWriter), so that a second thread can write one while the
//    calling thread writes the other: the same coefficients, a few bytes more or fewer (the
//    DRI segment and the marker, the padding of the top's last byte, tables counted with the
//    bottom's first DC coded whole: -4 to +27 bytes on the benchmark's eight photos). At any
//    bytea_blur.threads, so that the file is the same bytes at 1 and 2.
//  - with optimised tables, from kSampledStatisticsPixels on, the tables made from the
//    symbols of one iMCU row in kStatisticsRowStride, every symbol given a code
//    (jpeg_statistics.hpp: StatisticsRows): 0.05-0.44 % more bytes on the benchmark's photos,
//    and three quarters of the counting, which ran on the thread that writes, saved.
constexpr double kChroma420Sigma = 2.0;
constexpr size_t kOptimizeBufferBytes = size_t(64) << 20;
constexpr uint64_t kSplitEntropyPixels = uint64_t(1) << 20;
constexpr uint64_t kSampledStatisticsPixels = uint64_t(1) << 20;
constexpr uint32_t kStatisticsRowStride = 4;
struct JpegEncoding {
    JpegMeta meta;                  // the input's, with the sampling to write
    bool optimize = false;          // optimised Huffman tables
    bool split = false;             // with optimize: the entropy coding in two parts where they fit
    uint32_t statistics_stride = 1; // with optimize: the tables from one iMCU row in this many
};
JpegEncoding jpeg_encoding_for(const JpegMeta &input, uint32_t width, uint32_t height, double sigma);
// For measurement (test/bench/redact_core --standard-tables) and the tests: false has
// jpeg_encoding_for choose the standard tables for every size, to tell what the optimised
// ones cost; the coefficients, and so the decoded pixels, are the same either way.
void use_optimised_tables(bool on) noexcept;

// The code a sink writes for a decoded sample v: scale * v + offset.
struct SampleMap {
    float scale = 1.0f, offset = 0.0f;
};
// Where blurred component planes go as they stream, laid out as layout() says: the caller
// fills rows_per_step(c) rows of padded_width[c] samples of each component through row(),
// then calls write(), until done(); finish() returns the file.
class PlaneSink {
  public:
    virtual ~PlaneSink() = default;
    virtual const JpegLayout &layout() const noexcept = 0;
    // The codes component c is written in; by default the decoded samples' own.
    virtual SampleMap sample_map(int) const noexcept { return SampleMap(); }
    virtual uint32_t rows_per_step(int c) const noexcept = 0;
    virtual uint8_t *row(int c, uint32_t r) noexcept = 0;
    virtual bool done() const noexcept = 0;
    // Called once the rows of a step's other components are in, before the first's: null (by
    // default), or rows_per_step(0) rows of padded_width[0] floats that the caller adds to the
    // first component's samples before it rounds them (JpegPlaneWriter: chroma_error.hpp).
    virtual const float *const *first_component_correction() { return nullptr; }
    virtual void write() = 0;
    virtual Buffer finish() = 0;
};

// Encodes component planes laid out as jpeg_layout says, in the file's colour space and
// sampling, without conversion, one iMCU row at a time (PlaneSink). With optimize, libjpeg
// holds the image's coefficients and writes the file in finish(), polling between iMCU rows.
// With split as well, two compressors take the top and the bottom half of the iMCU rows,
// counting their symbols into one set of tables, and their entropy passes (in finish) run on
// two threads when threads is 2; the file is the top's with a DRI of the top's MCUs, then RST0
// and the bottom's entropy-coded data (the bottom's DC predictions start at 0, as after a
// restart). Not where the top's MCUs would be more than a DRI can count (65535), nor with
// fewer than two iMCU rows. With optimize, the tables count the symbols of one iMCU row in
// statistics_stride (both parts' rows by their place in the image), every symbol given a code
// when that is more than 1 (jpeg_statistics.hpp: StatisticsRows). A YCbCr file's luma answers
// its chroma's quantisation error (first_component_correction, chroma_error.hpp).
class JpegPlaneWriter final : public PlaneSink {
  public:
    JpegPlaneWriter(const JpegLayout &layout, const JpegMeta &meta, int quality, bool optimize = false,
                    InterruptPoll poll = nullptr, bool split = false, int threads = 1, uint32_t statistics_stride = 1);
    ~JpegPlaneWriter() override;
    JpegPlaneWriter(const JpegPlaneWriter &) = delete;
    JpegPlaneWriter &operator=(const JpegPlaneWriter &) = delete;

    const JpegLayout &layout() const noexcept override;
    uint32_t rows_per_step(int c) const noexcept override;
    uint8_t *row(int c, uint32_t r) noexcept override;
    bool done() const noexcept override;
    const float *const *first_component_correction() override;
    void write() override;
    Buffer finish() override;
    // Whether the entropy coding is in two parts (split, where they fit).
    bool split() const noexcept;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// The PNG filter (kPngFilterSub or kPngFilterUp) the in-memory encoder uses for image: the one
// that compresses smaller on kPngTrialBands bands of at least kPngTrialRows rows and
// kPngTrialBandBytes each (png_codec.cpp).
constexpr int kPngFilterSub = 1;
constexpr int kPngFilterUp = 2;
constexpr uint32_t kPngTrialBands = 4;
constexpr uint32_t kPngTrialRows = 16;
constexpr size_t kPngTrialBandBytes = 64u << 10;
int choose_png_filter(const Image &image);

// Decodes any PNG to 8- or 16-bit grey, grey+alpha, RGB or RGBA: palettes expand to RGB(A),
// 1/2/4-bit grey to 8 bits, tRNS to an alpha channel; interlaced images are read whole.
Image decode_png(const uint8_t *data, size_t size, const DecodeOptions &options, PngMeta *meta);
// decode_png, then gaussian_blur at sigma: the same pixels. With options.threads > 1, where
// the fixed-point blur applies (8-bit, no alpha) and the fast path decodes the file, the blur
// runs on a second thread a few rows behind the unfiltering instead of after it.
Image decode_png_blurred(const uint8_t *data, size_t size, const DecodeOptions &options, double sigma, PngMeta *meta);
// PNG compression (see compress_scanlines in png_codec.cpp): 8-bit scanlines by libdeflate,
// one call per piece of up to kDeflatePieceBytes (about 41 ms here at most, 3.4 ms a MiB,
// inside the 50 ms between interrupt checks); 16-bit ones by zlib in pieces of
// kZlibPieceBytes (3-9 ms each). A check between two pieces.
constexpr size_t kDeflatePieceBytes = 12u << 20;
constexpr size_t kZlibPieceBytes = 1u << 20;
// With threads 2, 8-bit scanlines of at least kParallelDeflateBytes are compressed in pairs of
// pieces on two threads (compress_in_pairs in png_codec.cpp).
constexpr size_t kParallelDeflateBytes = 1u << 20;
// Images whose PNG scanlines take up to in_memory_bytes are filtered in place and compressed
// into one buffer sized for the worst case; larger ones go through libpng and zlib row by row,
// with no second copy of the image.
constexpr size_t kPngInMemoryBytes = 64u << 20;
Buffer encode_png(const Image &image, const PngMeta &meta, InterruptPoll poll,
                  size_t in_memory_bytes = kPngInMemoryBytes, int threads = 1);
// The same, without a copy when the image is laid out as PNG scanlines (row_prefix 1, as
// decode_png gives with DecodeOptions::png_row_prefix): its rows are filtered in place, so
// its pixels are garbage afterwards.
Buffer encode_png_in_place(Image &image, const PngMeta &meta, InterruptPoll poll,
                           size_t in_memory_bytes = kPngInMemoryBytes, int threads = 1);

// Decodes a still WebP image, lossy or lossless, to 8-bit RGB or RGBA (alpha when the file has
// it), kWebpPieceBytes of the file at a time with options.poll checked between two; the
// header is checked against options.max_pixels before any pixel memory is allocated.
// Animated files are refused (Unsupported): transform_webp_animation takes them.
constexpr size_t kWebpPieceBytes = 16u << 10;
Image decode_webp(const uint8_t *data, size_t size, const DecodeOptions &options, WebpMeta *meta);
// Encodes lossless when meta.lossless, else lossy at quality; poll is checked by libwebp's
// progress hook. Keeps meta.icc and meta.orientation (a minimal EXIF chunk), nothing else.
// threads 2 lets libwebp run its own second thread beside the encode (its thread_level: the
// same file, sooner).
Buffer encode_webp(const Image &image, const WebpMeta &meta, int quality, InterruptPoll poll, int threads = 1);

// A blurred picture that streams to a writer as planes (a JPEG's, blur_jpeg_planes, or a lossy
// WebP's, blur_webp_planes): YCbCr (3 components) or grey (1), and the metadata that travels.
struct PlaneImage {
    uint32_t width = 0, height = 0;
    int components = 3;
    // The planes' codes: JFIF's full range (a JPEG's), or VP8's limited range (a WebP's: Y
    // 16-235, chroma 16-240), which a WebP writer takes as they are.
    bool limited_range = false;
    std::vector<uint8_t> icc;
    int orientation = 0; // EXIF orientation 1-8; 0 when the file has none
    // The orientation written as the output's EXIF tag, the planes as they are stored (a WebP
    // blurred to WebP keeps its tag as write_webp's own format does); else applied to the planes.
    bool orientation_as_tag = false;
};
struct BlurOptions;
// A format's writer from such planes, as PlaneSink: the layout it asks for (its sampling) and
// the options it encodes with (quality, threads, poll); null for a picture it cannot write
// from planes (the pixels' way then runs).
using PlaneWriterMaker = std::unique_ptr<PlaneSink> (*)(const PlaneImage &image, const BlurOptions &options);
// Lossy WebP from planes, without the round trip through RGB pixels: it asks for 4:2:0
// (WebP's own sampling; one plane for grey), maps each full-range sample to VP8's codes (BT.601
// as JFIF's, in the limited range), applies the orientation to the planes as write_webp does
// to pixels (or keeps it as a tag: PlaneImage::orientation_as_tag), and encodes them at quality
// with the ICC profile. Null where the orientation to apply reverses an axis of odd length:
// the last chroma sample of that axis covers one pixel, and turned or mirrored it would stand
// one pixel off the samples it is for.
std::unique_ptr<PlaneSink> webp_plane_writer(const PlaneImage &image, const BlurOptions &options);

// An animated WebP as its container describes it: the canvas, the frames, the loop count
// (0: forever) and background colour, and the metadata the policy keeps (meta.lossless when
// every frame is lossless). Reads the chunks' headers only; throws InvalidData for a malformed
// or truncated container (a frame outside the canvas included).
struct WebpAnimation {
    uint32_t width = 0, height = 0, frames = 0;
    int loop_count = 0;
    uint32_t background = 0;
    WebpMeta meta;
};
WebpAnimation read_webp_animation(const uint8_t *data, size_t size);

// Decodes each frame of an animated WebP as the animation shows it (an 8-bit RGBA canvas: the
// frame's rectangle blended onto what the previous frames' disposal left), hands it to
// transform, and encodes the results as an animation with the same canvas, frame times, loop
// count, background colour and metadata (the encoder finds each frame's changed rectangle and
// blending again): lossless when every input frame was, else lossy at quality. One canvas is
// held at a time besides libwebp's own. poll is checked between frames and by libwebp's
// progress hook.
Buffer transform_webp_animation(const uint8_t *data, size_t size, const WebpAnimation &animation, int quality,
                                const std::function<void(Image &)> &transform, InterruptPoll poll);

// What read_avif_header finds in an AVIF's container, before any AV1 payload is decoded.
struct AvifHeader {
    uint32_t width = 0, height = 0;
    int depth = 0;    // 8, 10 or 12
    int channels = 0; // 1 (monochrome) or 3, plus 1 with alpha
    uint32_t frames = 1;
};
// Throws InvalidData for a malformed or truncated container.
AvifHeader read_avif_header(const uint8_t *data, size_t size);

// Decodes a still AVIF to RGB or RGBA (grey or grey+alpha for monochrome), 8-bit for 8-bit
// files and 16-bit (libavif's scaling) for 10 and 12; the header is checked against
// options.max_pixels before any pixel memory is allocated. Image sequences are refused
// (Unsupported). libavif offers no hook inside the AV1 decoder: options.poll is checked
// before and after it.
Image decode_avif(const uint8_t *data, size_t size, const DecodeOptions &options, AvifMeta *meta);
// Encodes at meta's depth, sampling and colour description (grey pixels as monochrome), at
// the AV1 quantizer libavif 1.x gives quality (avif_quantizer), for colour and alpha alike,
// with libavif's speed kAvifSpeed on up to threads threads; keeps the ICC profile and irot,
// imir, pasp and clap, nothing else. poll is checked before and after the AV1 encoder, which
// offers no hook.
constexpr int kAvifSpeed = 8;
int avif_quantizer(int quality) noexcept;
Buffer encode_avif(const Image &image, const AvifMeta &meta, int quality, int threads, InterruptPoll poll);
// meta's irot and imir as the EXIF orientation (1-8) that shows the image the same way.
int avif_orientation(const AvifMeta &meta) noexcept;
// The stored pixels a viewer shows of an AVIF stored width x height: its clean aperture (meta's
// clap where transform_flags holds one, placed as ISO/IEC 14496-12 12.1.4.1 says: its centre
// at (width - 1) / 2 + horizOff, (height - 1) / 2 + vertOff), before irot and imir turn them.
// The whole picture when there is no clap, or when it is not a rectangle of whole pixels inside
// the picture (libavif's decoder, strict by default, refuses such a file already).
Rect avif_clean_aperture(const AvifMeta &meta, uint32_t width, uint32_t height) noexcept;

} // namespace bb
