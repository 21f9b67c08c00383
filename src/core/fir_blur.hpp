// The Gaussian as a float FIR filter: SciPy's kernel itself, applied separably, with a cost per
// sample that grows with sigma (2 * radius + 1 taps per pass). Exact to float rounding, so it
// serves every sample type, and it streams: StreamingBlur holds only the rows its vertical
// kernel reaches, which lets the JPEG path blur planes between decoder and encoder.
#pragma once
#include "no_postgres.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "errors.hpp"
#include "kernel.hpp"
#include "pixel_rows.hpp"
#include "row_ring.hpp"

namespace bb {

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
    uint32_t width_, height_;
    int channels_;
    size_t samples_; // per row
    std::vector<float> kx_, ky_;
    long rx_, ry_;
    bool whole_; // the vertical kernel is taller than the plane: every row is kept
    RowRing<float> ring_;
    uint32_t pushed_ = 0;
    uint32_t oldest_needed_ = 0; // rows above this one will not be read again
    std::vector<float> padded_;
    std::vector<const float *> left_, right_;
};

// Blurs the rows in place with the float FIR, any depth, alpha premultiplied. Polls once per row.
void fir_blur(const PixelRows &rows, double sigma, InterruptPoll poll);

} // namespace bb
