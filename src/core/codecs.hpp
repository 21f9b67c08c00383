// JPEG (libjpeg-turbo) and PNG (libpng) decoders and encoders. Both libraries report fatal
// errors by longjmp; every setjmp lives in a C-style function whose frame owns no C++ object,
// and a jump becomes an Error thrown only after that frame has returned.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "errors.hpp"
#include "gaussian.hpp"
#include "image.hpp"

namespace bb {

struct DecodeOptions {
    uint64_t max_pixels = 100000000; // refuse larger images before allocating pixels
    InterruptPoll poll = nullptr;
};

// Decodes an 8-bit JPEG in its own colour space (grey, YCbCr, RGB, CMYK or YCCK), without
// colour conversion; chroma planes are upsampled to full size. The blur itself uses the planar
// functions below; these interleaved ones are the reference the unit tests check the planar
// path against, and the way they write test JPEGs in any colour space.
Image decode_jpeg(const uint8_t *data, size_t size, const DecodeOptions &options, JpegMeta *meta);
std::vector<uint8_t> encode_jpeg(const Image &image, const JpegMeta &meta, int quality, InterruptPoll poll);

// A JPEG's component planes as libjpeg decodes them in raw mode: no colour conversion and no
// chroma upsampling, each plane at its own resolution, all scaled by 1/scale_denom (libjpeg's
// DCT scaling: 1, 2, 4 or 8, which skips most of the IDCT work for a smaller result). Each
// plane is then averaged down in blocks of m x m samples as it streams out of the decoder,
// with m chosen so that sigma stays about working_sigma plane samples: the full-size plane is
// never held in memory.
struct JpegPlanes {
    uint32_t width = 0, height = 0; // the image's full size
    std::vector<Plane> planes;
    // Image pixels per decoded sample along each axis (8 for luma at scale 1/8, 2 for 4:2:0
    // chroma at scale 1): decoded sample j covers image pixels [j * step, (j + 1) * step).
    std::vector<double> step_x, step_y;
    std::vector<uint32_t> block; // m: each plane sample averages m x m decoded samples
};
JpegPlanes decode_jpeg_planes(const uint8_t *data, size_t size, const DecodeOptions &options, int scale_denom,
                              double sigma, double working_sigma, JpegMeta *meta);

// Where each component of a JPEG of this size and sampling lives at full resolution, and the
// block-padded buffer the encoder reads it from.
struct JpegLayout {
    uint32_t width = 0, height = 0;
    int components = 0;
    uint32_t comp_width[4] = {}, comp_height[4] = {};     // samples that belong to the image
    uint32_t padded_width[4] = {}, padded_height[4] = {}; // whole MCUs
};
JpegLayout jpeg_layout(uint32_t width, uint32_t height, const JpegMeta &meta);

// Encodes component planes laid out as jpeg_layout says (planes[c] has padded_width[c] columns
// and padded_height[c] rows), in the file's colour space and sampling, without conversion.
std::vector<uint8_t> encode_jpeg_planes(const JpegLayout &layout, const uint8_t *const *planes, const JpegMeta &meta,
                                        int quality, InterruptPoll poll);

// Decodes any PNG to 8- or 16-bit grey, grey+alpha, RGB or RGBA: palettes expand to RGB(A),
// 1/2/4-bit grey to 8 bits, tRNS to an alpha channel; interlaced images are read whole.
Image decode_png(const uint8_t *data, size_t size, const DecodeOptions &options, PngMeta *meta);
std::vector<uint8_t> encode_png(const Image &image, const PngMeta &meta, InterruptPoll poll);

} // namespace bb
