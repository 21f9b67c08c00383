// The Gaussian blur of a decoded image, with SciPy's semantics:
// ndimage.gaussian_filter(mode='reflect', truncate=4.0) applied to each channel, alpha
// premultiplied. One dispatcher above three methods (kernel.hpp defines the Gaussian they all
// compute):
//   fixed_blur      16-bit fixed-point FIR, 8-bit samples without alpha, sigma up to 10
//   fir_blur        float FIR, any samples; its cost grows with sigma
//   recursive_blur  Deriche's recursive filter in double; its cost does not
// choose_blur_method picks the fastest one that keeps the result within 1 level of SciPy's.
#pragma once
#include "no_postgres.hpp"

#include "errors.hpp"
#include "image.hpp"
#include "kernel.hpp"

namespace bb {

enum class BlurMethod {
    None,       // sigma 0, or a kernel of one tap: the pixels stay as they are
    FixedPoint, // fixed_blur
    FloatFir,   // fir_blur
    Recursive,  // recursive_blur
};

// From this sigma on, the recursive blur is faster than the float FIR; the fixed-point FIR,
// where it applies (up to sigma 10), stays faster (1920x1280 RGBA: float FIR 39 ms at sigma 5,
// 46 at 6, recursive 52-53 at any sigma; RGB: fixed point 23 ms at sigma 10, recursive 28).
constexpr double kRecursiveFromSigma = 7.0;

// The method gaussian_blur uses for these pixels and sigma; vectorised says whether the
// processor runs the fixed-point kernels vectorised (without, they are no faster than floats).
BlurMethod choose_blur_method(const Image &image, double sigma, bool vectorised);

// Blurs the image in place. Colour is blurred premultiplied by alpha when the image has an
// alpha channel, so that colour under transparent pixels does not bleed into visible ones.
void gaussian_blur(Image &image, double sigma, InterruptPoll poll);
// The same with the method given (the unit tests compare the methods).
void gaussian_blur(Image &image, double sigma, InterruptPoll poll, BlurMethod method);

// The widest margin gaussian_blur_showing reflects beyond the kernel's radius' need: exact up to
// sigma 64 (radius 256); wider kernels read, from that far out, a reflection of a reflection of
// shown, which a blur that wide cannot tell apart.
constexpr uint32_t kShowingMargin = 256;

// Blurs a picture of which viewers may show shown alone (an AVIF's clean aperture) or every
// pixel (Chromium ignores the clap). Inside shown it is the blur of shown alone, its edges
// reflected as at the picture's own edges, so no pixel outside (often an encoder's padding)
// bleeds in; outside shown, the pixels become shown's reflection, blurred: a viewer that shows
// them sees the blur go on smoothly, with no seam at shown's edges.
void gaussian_blur_showing(Image &image, const Rect &shown, double sigma, InterruptPoll poll);

} // namespace bb
