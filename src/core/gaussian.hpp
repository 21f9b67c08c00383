// Separable Gaussian blur with SciPy's semantics: ndimage.gaussian_filter(mode='reflect',
// truncate=4.0) applied to each channel, alpha premultiplied.
#pragma once
#include "no_postgres.hpp"

#include <cstdint>
#include <memory>
#include <vector>

#include "errors.hpp"
#include "image.hpp"

namespace bb {

constexpr double kMaxSigma = 1000.0;
constexpr double kTruncate = 4.0;

// SciPy's kernel: radius int(4 * sigma + 0.5), weights exp(-x^2 / 2 sigma^2) summing to 1.
std::vector<float> gaussian_kernel(double sigma);

// Maps any integer index onto [0, n) by reflection about the edges (d c b a | a b c d),
// repeating as SciPy does when the kernel is wider than the image.
inline long reflect_index(long i, long n) noexcept {
    if (i >= 0 && i < n)
        return i;
    const long period = 2 * n;
    long m = i % period;
    if (m < 0)
        m += period;
    return m < n ? m : period - 1 - m;
}

// Blurs the image in place. Colour is blurred premultiplied by alpha when the image has an
// alpha channel, so that colour under transparent pixels does not bleed into visible ones.
// sigma 0 (or a sigma whose kernel has one tap) leaves the pixels unchanged.
void gaussian_blur(Image &image, double sigma, InterruptPoll poll);

// One channel of float samples, rows tightly packed. Its memory is not initialised.
struct Plane {
    uint32_t width = 0;
    uint32_t height = 0;
    std::unique_ptr<float[]> samples;

    void resize(uint32_t w, uint32_t h) {
        width = w;
        height = h;
        samples.reset(new float[size_t(w) * h]);
    }
    float *data() noexcept { return samples.get(); }
    float *row(uint32_t y) noexcept { return samples.get() + size_t(width) * y; }
    const float *row(uint32_t y) const noexcept { return samples.get() + size_t(width) * y; }
};

// The same blur on a float plane, with its own sigma along each axis (a chroma plane
// subsampled 2:1 horizontally only needs half the horizontal sigma).
void gaussian_blur_plane(Plane &plane, double sigma_x, double sigma_y, InterruptPoll poll);

} // namespace bb
