// The step of a WebP encode that runs on the calling thread and is long enough to need its own
// polls: libwebp's import of RGB(A) pixels into the picture its encoder takes (YUV 4:2:0 and
// alpha planes for the lossy encoder, packed ARGB for the lossless one).
#pragma once
#include "no_postgres.hpp"

#include "errors.hpp"
#include "image.hpp"

#include <webp/encode.h>

namespace bb {

// Fills picture (initialised, with its width, height and use_argb set; no pixels yet) from
// image (8-bit RGB or RGBA of that size) as WebPPictureImportRGB or WebPPictureImportRGBA would
// in one call, but kPollRows rows at a time with a poll between strips: each strip is imported
// into a picture of its own and its planes copied in. Throws Error(Interrupted) when poll says
// stop; returns false when libwebp could not allocate. test_webp.cpp checks the result against
// one call, plane for plane.
bool import_in_strips(WebPPicture &picture, const Image &image, InterruptPoll poll);

} // namespace bb
