// The steps of an AVIF decode and encode that run on the calling thread and are long enough to
// need their own polls: libavif's conversions between the AV1 codec's YUV(A) planes and RGB(A).
#pragma once
#include "no_postgres.hpp"

#include "errors.hpp"
#include "image.hpp"

#include <avif/avif.h>

namespace bb {

// Fills out's YUV planes (and its alpha plane when alpha) from source, whose size and depth
// match out's, through libavif's avifImageRGBToYUV, in strips of kPollRows rows with a poll
// between strips; throws Error(Interrupted) when poll says stop, Error(OutOfMemory) or
// Error(InvalidParameter) when libavif fails. The result is the one a single call over the whole
// picture gives (test_avif.cpp checks it for every format and depth).
void rgb_to_yuv_in_strips(avifImage &out, const Image &source, bool alpha, InterruptPoll poll);

// Fills image (allocated: decoded's size, RGB or RGBA at 8 or 16 bits) from decoded's planes
// through libavif's avifImageYUVToRGB with bilinear chroma upsampling, in strips of
// kPollRows rows with a poll between strips; throws Error(Interrupted) when poll says stop
// and returns libavif's failure, if any. The result is the one a single call gives.
avifResult yuv_to_rgb_in_strips(const avifImage &decoded, Image &image, bool alpha, InterruptPoll poll);

} // namespace bb
