#include "gaussian.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "fir_blur.hpp"
#include "fixed_blur.hpp"
#include "pixel_rows.hpp"
#include "recursive_blur.hpp"

namespace bb {

BlurMethod choose_blur_method(const Image &image, double sigma, bool vectorised) {
    if (gaussian_kernel(sigma).size() <= 1 || image.width == 0 || image.height == 0)
        return BlurMethod::None;
    if (image.depth == 8 && image.alpha_channel < 0 && vectorised && fixed_blur_supported(sigma))
        return BlurMethod::FixedPoint;
    return sigma >= kRecursiveFromSigma ? BlurMethod::Recursive : BlurMethod::FloatFir;
}

void gaussian_blur(Image &image, double sigma, InterruptPoll poll) {
    gaussian_blur(image, sigma, poll, choose_blur_method(image, sigma, fixed_blur_vectorised()));
}

void gaussian_blur(Image &image, double sigma, InterruptPoll poll, BlurMethod method) {
    if (image.width == 0 || image.height == 0)
        return;
    switch (method) {
    case BlurMethod::None: return;
    case BlurMethod::FixedPoint:
        fixed_blur_u8(image.row(0), image.stride(), image.width, image.height, image.channels, sigma, poll,
                      fixed_blur_kernels());
        return;
    case BlurMethod::FloatFir: fir_blur(PixelRows::of(image), sigma, poll); return;
    case BlurMethod::Recursive: recursive_blur(PixelRows::of(image), sigma, poll); return;
    }
}

void gaussian_blur_showing(Image &image, const Rect &shown, double sigma, InterruptPoll poll) {
    if (shown.x0 >= shown.x1 || shown.y0 >= shown.y1 || shown.x1 > image.width || shown.y1 > image.height)
        throw std::logic_error("gaussian_blur_showing: a rectangle outside the image");
    if (shown.x0 == 0 && shown.y0 == 0 && shown.x1 == image.width && shown.y1 == image.height)
        return gaussian_blur(image, sigma, poll);
    // Each side: the pixels outside shown there, and at least the kernel's radius (up to
    // kShowingMargin: wider kernels read the far reflection of a reflection, which a blur that
    // wide does not tell apart), so that inside shown nothing but shown's reflection is read.
    const uint32_t radius = uint32_t(std::min<size_t>(gaussian_kernel(sigma).size() / 2, kShowingMargin));
    const uint32_t left = std::max(shown.x0, radius), top = std::max(shown.y0, radius);
    const uint32_t right = std::max(image.width - shown.x1, radius), bottom = std::max(image.height - shown.y1, radius);
    const uint32_t width = shown.x1 - shown.x0, height = shown.y1 - shown.y0;
    Image extended = image.same_kind(left + width + right, top + height + bottom);
    const size_t bpp = size_t(image.channels) * image.bytes_per_sample();
    for (uint32_t y = 0; y < extended.height; y++) {
        const uint8_t *from =
            image.row(shown.y0 + uint32_t(reflect_index(long(y) - long(top), long(height)))) + size_t(shown.x0) * bpp;
        // each pixel's bytes as its "samples": copied, not converted
        pad_reflected(from, extended.row(y) + size_t(left) * bpp, long(width), long(bpp), long(left), long(right));
        poll_every_rows(y, poll);
    }
    gaussian_blur(extended, sigma, poll);
    const uint32_t x0 = left - shown.x0, y0 = top - shown.y0;
    for (uint32_t y = 0; y < image.height; y++) {
        std::memcpy(image.row(y), extended.row(y0 + y) + size_t(x0) * bpp, image.row_bytes());
        poll_every_rows(y, poll);
    }
}

} // namespace bb
