// Turning decoded pixels into what another format's encoder takes, for a blur written in a
// format other than its input's: fewer bits, grey to colour, EXIF orientation applied to the
// pixels, a crop. Each returns a new image or changes one in place; none keeps a PNG row prefix.
#pragma once
#include "no_postgres.hpp"

#include "errors.hpp"
#include "image.hpp"

namespace bb {

// 16-bit samples to 8, rounded (v * 255 / 65535); 8-bit images are left as they are.
void to_8bit(Image &image, InterruptPoll poll);

// Grey to RGB and grey+alpha to RGBA, 8-bit; colour images are left as they are.
void grey_to_rgb(Image &image, InterruptPoll poll);

// The pixels inside rect (within the image) alone, in place.
void crop(Image &image, const Rect &rect, InterruptPoll poll);

// The image as a viewer shows it under EXIF orientation 1-8 (2-8 flip and turn it; 5-8 swap
// its width and height); 0 and 1 leave it as it is.
void apply_orientation(Image &image, int orientation, InterruptPoll poll);

// Which stored axes apply_orientation shows in reverse order under EXIF orientation 1-8: the
// columns (the displayed picture reads stored x from the right: 2, 3, 7, 8) and the rows
// (stored y from the bottom: 3, 4, 6, 7).
struct ReversedAxes {
    bool x = false, y = false;
};
ReversedAxes reversed_axes(int orientation) noexcept;

} // namespace bb
