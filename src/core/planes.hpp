// One component plane (a JPEG's, a lossy WebP's), blurred on its way from the decoder to the
// encoder. Decoded rows are averaged in blocks of m x m samples as they arrive, blurred at that
// reduced resolution, and brought back to the component's full size by bilinear interpolation,
// one output row at a time. A Gaussian of sigma s leaves almost nothing above 1/(2 pi s) cycles
// per sample, so the reduced plane loses nothing the blur would keep, and the cost per pixel no
// longer grows with sigma. Only a few dozen rows are held at any time.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "errors.hpp"
#include "fir_blur.hpp"

namespace bb {

struct PlaneGeometry {
    uint32_t in_width = 0, in_height = 0;   // decoded samples that belong to the image
    uint32_t block = 1;                     // m: each blurred sample averages m x m decoded ones
    double sigma_x = 0.0, sigma_y = 0.0;    // the blur, in block-averaged samples
    double ratio_x = 1.0, ratio_y = 1.0;    // block-averaged samples per output sample
    uint32_t out_width = 0, out_height = 0; // output samples that belong to the image
    uint32_t padded_width = 0;              // output row length: the last column repeats
    // The output's codes for the decoded samples, scale * v + offset: the blur and the
    // interpolation are linear with weights that add up to 1, so the map is applied to the
    // averaged samples and the output is rounded once (a sink's SampleMap, codecs.hpp).
    float scale = 1.0f, offset = 0.0f;
};

// Source coordinates of the destination samples when n_src samples are stretched over n_dst,
// pixel centres aligned (destination i reads source (i + 0.5) * ratio - 0.5, clamped): left
// neighbour, right neighbour and the right one's weight.
struct Taps {
    std::vector<uint32_t> left, right;
    std::vector<float> weight;
};
Taps interpolation_taps(uint32_t n_src, uint32_t n_dst, double ratio);

class PlaneStream {
  public:
    explicit PlaneStream(const PlaneGeometry &geometry);

    // The next decoded row, in_width samples; in_height rows in all.
    void push(const uint8_t *row);
    uint32_t pushed() const noexcept { return pushed_; }
    // Whether output row y (< out_height) can be written from the rows pushed so far.
    bool ready(uint32_t y) const noexcept;
    // Writes output row y: padded_width samples, rounded and clamped to 0-255. Rows are written
    // in increasing order, each once ready(y).
    void write(uint32_t y, uint8_t *out);

  private:
    void push_mapped(); // averaged_, in the output's codes, to the blur
    void blurred_row(uint32_t i, std::vector<float> &out);

    PlaneGeometry g_;
    uint32_t reduced_width_, reduced_height_;
    StreamingBlur blur_;
    std::vector<uint32_t> sums_;  // column sums of the current block row
    std::vector<float> averaged_; // one row of block averages
    uint32_t pushed_ = 0;
    bool identity_; // the blurred plane has the output's size: no interpolation
    Taps tx_, ty_;
    uint32_t factor_x_ = 0;                    // 2 or 4 when each blurred sample spans that many output samples
    std::vector<float> blurred_, row0_, row1_; // row0_ and row1_ interpolated horizontally
    uint32_t have0_ = UINT32_MAX, have1_ = UINT32_MAX;
};

} // namespace bb
