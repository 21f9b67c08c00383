// JPEG (libjpeg-turbo) and PNG (libpng) decoders and encoders. Both libraries report fatal
// errors by longjmp; every setjmp lives in a C-style function whose frame owns no C++ object,
// and a jump becomes an Error thrown only after that frame has returned.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "errors.hpp"
#include "image.hpp"

namespace bb {

struct DecodeOptions {
    uint64_t max_pixels = 100000000; // refuse larger images before allocating pixels
    InterruptPoll poll = nullptr;
};

// Decodes an 8-bit JPEG in its own colour space (grey, YCbCr, RGB, CMYK or YCCK), without
// colour conversion; chroma planes are upsampled to full size.
Image decode_jpeg(const uint8_t *data, size_t size, const DecodeOptions &options, JpegMeta *meta);
std::vector<uint8_t> encode_jpeg(const Image &image, const JpegMeta &meta, int quality, InterruptPoll poll);

// Decodes any PNG to 8- or 16-bit grey, grey+alpha, RGB or RGBA: palettes expand to RGB(A),
// 1/2/4-bit grey to 8 bits, tRNS to an alpha channel; interlaced images are read whole.
Image decode_png(const uint8_t *data, size_t size, const DecodeOptions &options, PngMeta *meta);
std::vector<uint8_t> encode_png(const Image &image, const PngMeta &meta, InterruptPoll poll);

} // namespace bb
