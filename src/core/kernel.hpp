// The Gaussian as SciPy defines it for ndimage.gaussian_filter(mode='reflect', truncate=4.0):
// its sampled kernel and its reflected borders. Every blur method of the core (fir_blur,
// fixed_blur, recursive_blur) is measured against this definition.
#pragma once
#include "no_postgres.hpp"

#include <vector>

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

// Copies a row of width pixels of channels samples each to middle[0 .. width * channels), with
// `before` pixels reflected about its first edge before it and `after` about its last after it,
// converting every sample to D: the padded row a horizontal pass reads its shifted taps from.
template <typename S, typename D>
void pad_reflected(const S *row, D *middle, long width, long channels, long before, long after) noexcept {
    for (long i = 0; i < width * channels; i++)
        middle[i] = D(row[i]);
    for (long x = 1; x <= before; x++) {
        const S *from = row + reflect_index(-x, width) * channels;
        for (long c = 0; c < channels; c++)
            middle[-x * channels + c] = D(from[c]);
    }
    for (long x = 1; x <= after; x++) {
        const S *from = row + reflect_index(width + x - 1, width) * channels;
        for (long c = 0; c < channels; c++)
            middle[(width + x - 1) * channels + c] = D(from[c]);
    }
}

// The same with radius pixels on each side.
template <typename S, typename D>
void pad_reflected(const S *row, D *middle, long width, long channels, long radius) noexcept {
    pad_reflected(row, middle, width, channels, radius, radius);
}

} // namespace bb
