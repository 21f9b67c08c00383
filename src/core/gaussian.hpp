// Separable Gaussian blur with SciPy's semantics: ndimage.gaussian_filter(mode='reflect',
// truncate=4.0) applied to each channel, alpha premultiplied.
#pragma once
#include "no_postgres.hpp"

#include <algorithm>
#include <cstdint>
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

// Copies a row of width pixels of channels samples each to middle[0 .. width * channels), with
// radius pixels reflected about each edge before and after it, converting every sample to D:
// the padded row a horizontal pass reads its shifted taps from.
template <typename S, typename D>
void pad_reflected(const S *row, D *middle, long width, long channels, long radius) noexcept {
    for (long i = 0; i < width * channels; i++)
        middle[i] = D(row[i]);
    for (long x = 1; x <= radius; x++) {
        const S *before = row + reflect_index(-x, width) * channels;
        const S *after = row + reflect_index(width + x - 1, width) * channels;
        for (long c = 0; c < channels; c++) {
            middle[-x * channels + c] = D(before[c]);
            middle[(width + x - 1) * channels + c] = D(after[c]);
        }
    }
}

// Blurs the image in place. Colour is blurred premultiplied by alpha when the image has an
// alpha channel, so that colour under transparent pixels does not bleed into visible ones.
// sigma 0 (or a sigma whose kernel has one tap) leaves the pixels unchanged.
void gaussian_blur(Image &image, double sigma, InterruptPoll poll);

// A separable blur that streams: rows of interleaved float samples go in one at a time and are
// filtered horizontally into a ring; a blurred row can be read as soon as the rows its vertical
// kernel reaches are in. Only about 2 * radius + 1 rows are held, however tall the plane, so a
// decoder can feed it and an encoder drain it without the whole image in memory. Each axis has
// its own sigma (a chroma plane subsampled 2:1 horizontally needs half the horizontal sigma).
class StreamingBlur {
  public:
    StreamingBlur(uint32_t width, uint32_t height, int channels, double sigma_x, double sigma_y);

    uint32_t width() const noexcept { return width_; }
    uint32_t height() const noexcept { return height_; }
    uint32_t pushed() const noexcept { return pushed_; }
    // How many rows must have been pushed before row y can be read.
    uint32_t rows_needed(uint32_t y) const noexcept {
        return whole_ ? height_ : std::min<uint32_t>(height_, y + uint32_t(ry_) + 1);
    }

    // Filters the next row (width * channels samples) horizontally into the ring.
    void push(const float *row);
    // Writes blurred row y (width * channels samples) to out. Rows are read in non-decreasing
    // order, each once rows_needed(y) rows are in.
    void read(uint32_t y, float *out);

  private:
    float *slot(uint32_t row) noexcept { return ring_base_ + size_t(row % ring_rows_) * stride_; }
    // Rows start on 64-byte boundaries, so that the vertical pass never loads across cache lines.
    void allocate_ring(std::vector<float> &ring, float *&base, uint32_t rows) const;
    void grow();

    uint32_t width_, height_;
    int channels_;
    size_t samples_; // per row
    size_t stride_;  // samples_ rounded up to a whole cache line
    std::vector<float> kx_, ky_;
    long rx_, ry_;
    bool whole_; // the vertical kernel is taller than the plane: every row is kept
    std::vector<float> ring_;
    float *ring_base_;
    uint32_t ring_rows_;
    uint32_t pushed_ = 0;
    uint32_t oldest_needed_ = 0; // rows above this one will not be read again
    std::vector<float> padded_;
    std::vector<const float *> left_, right_;
};

} // namespace bb
