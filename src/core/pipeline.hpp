// The whole job of bytea_blur: recognise, check limits, decode, blur, re-encode in the
// input's own format. This is the core's single entry point for the SQL function.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "errors.hpp"
#include "image.hpp"

namespace bb {

struct BlurOptions {
    double sigma = 5.0;
    int quality = 75;                // JPEG and lossy WebP quality 1-100; ignored for PNG
    uint64_t max_pixels = 100000000; // larger images are refused from their header
    InterruptPoll poll = nullptr;
    int threads = 1;              // threads one call may use (bytea_blur.threads): 1 or 2
    std::optional<Format> output; // the format to write; none: the input's own
};

// Throws Error(InvalidParameter) unless 0 <= sigma <= 1000 and 1 <= quality <= 100.
void validate_options(const BlurOptions &options);

// The checks every job makes before it decodes a pixel: the options, the format from the
// bytes, the pixel limit from the header, what the format's line refuses. Returns the header
// and sets decode from options.
struct DecodeOptions;
struct ImageInfo;
ImageInfo checked_input(const uint8_t *data, size_t size, const BlurOptions &options, DecodeOptions *decode);

// JPEG planes are decoded at 1/jpeg_decode_scale(sigma) of their size (1, 2, 4 or 8): the
// coarsest at which the blur keeps its detail.
int jpeg_decode_scale(double sigma);

// Returns the blurred image encoded like the input (JPEG in, JPEG out; PNG in, PNG out; WebP
// in, WebP out, lossless as lossless and lossy as lossy), or in options.output when that is
// another format. Then (see the writers in formats.cpp) the ICC profile is kept; the EXIF
// orientation stays a tag in a JPEG and is applied to the pixels for PNG and WebP; JPEG is
// written at quality (YCbCr, 4:2:0 from sigma 2), WebP lossy at quality, PNG at the input's
// bit depth; grey becomes RGB for WebP, 16 bits become 8 for JPEG and WebP. Refused with
// Error(Unsupported): alpha to JPEG, and a CMYK or YCCK JPEG to another format.
Buffer blur_image(const uint8_t *data, size_t size, const BlurOptions &options);

} // namespace bb
