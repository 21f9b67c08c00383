// Resampling of float planes, for blurring at a reduced resolution: a Gaussian of sigma s
// leaves almost nothing above 1/(2 pi s) cycles per pixel, so a plane can be blurred at 1/m of
// its size (with sigma s/m) and brought back by interpolation, at a cost that no longer grows
// with sigma.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>

#include "errors.hpp"
#include "gaussian.hpp"

namespace bb {

// Bilinear resampling of src to width x height 8-bit samples, rounded and clamped to 0-255.
// ratio_x and ratio_y are source samples per destination sample; centres are aligned:
// destination x reads source (x + 0.5) * ratio_x - 0.5 (clamped to the plane). Columns up to
// padded_width and rows up to padded_height repeat the last column and row (a JPEG encoder
// reads whole blocks).
void resample_to_u8(const Plane &src, double ratio_x, double ratio_y, uint32_t width, uint32_t height, uint8_t *dst,
                    size_t stride, uint32_t padded_width, uint32_t padded_height, InterruptPoll poll);

} // namespace bb
