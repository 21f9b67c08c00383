#include "gaussian.hpp"

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

} // namespace bb
