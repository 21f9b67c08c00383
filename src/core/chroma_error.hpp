// A JPEG's chroma quantisation error, answered in luma. A viewer shows R, G and B, each a sum
// of Y and the chroma components (JFIF: R = Y + 1.402 Cr, G = Y - 0.344136 Cb - 0.714136 Cr,
// B = Y + 1.772 Cb). An error e in Cb reaches the three of them as (0, -0.344136, 1.772) e: its
// mean over them, 0.475955 e, can be taken off Y before Y is encoded, leaving each channel only
// the error's spread about that mean. Per sample of chroma error that takes 21 % off its squared
// error in RGB (Cr's: 6 %), and Y's own quantisation error is unchanged in expectation: the
// correction is smooth, and survives it.
//
// So the encoder quantises each iMCU row of chroma first, as libjpeg will (same table, the
// DCT's lowest 4 x 4 frequencies: above them a blur at kChroma420Sigma or more leaves less
// than quantisation steps can hold, and an error left out only lowers the gain, as the
// frequencies are orthogonal), and adds -(0.475955 e_Cb + 0.229288 e_Cr), brought to luma's
// grid as a viewer's upsampling brings them, to that row's luma before it is rounded.
// Measured by test/bench/run --bytes (sigma 5, quality 75, RGB PSNR against SciPy's blur): the
// OneStandsOut photo went 44.7 -> 45.0 dB (45.016) in 258 -> 256 KB (262544 bytes; sharp's
// 290816), Path 46.1 -> 46.4 dB in 154 -> 151 KB; the README's JPEG table has every photo.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>

namespace bb {

// The mean over R, G and B of a unit error in Cb, in Cr (JFIF's conversion).
constexpr float kCbToRgbMean = float((1.772 - 0.344136) / 3.0);
constexpr float kCrToRgbMean = float((1.402 - 0.714136) / 3.0);
// Frequencies kept along each axis.
constexpr int kChromaErrorFrequencies = 4;

// The error quantisation leaves in an 8 x 8 block of samples (rows stride bytes apart, levels
// 0-255) in its lowest kChromaErrorFrequencies^2 frequencies, as JPEG's DCT defines them: the
// step times the nearest whole number of steps (halves away from zero, as libjpeg rounds),
// less the coefficient. quant is libjpeg's JQUANT_TBL quantval (natural order); error[v][u].
void block_quantisation_error(const uint8_t *samples, size_t stride, const uint16_t quant[64],
                              float error[kChromaErrorFrequencies][kChromaErrorFrequencies]);

// Luma's correction for one iMCU row, from its Cb and Cr rows (the same sampling).
class ChromaErrorCorrection {
  public:
    // factor_x, factor_y: luma samples per chroma sample, 1, 2 or 4 (supports()).
    ChromaErrorCorrection(const uint16_t quant_cb[64], const uint16_t quant_cr[64], int factor_x, int factor_y);
    static bool supports(int factor_x, int factor_y) noexcept;

    // Sets rows * factor_y rows of correction (each correction_stride floats from the last,
    // width * factor_x of them set) to minus the two errors' weighted sum (kCbToRgbMean,
    // kCrToRgbMean), upsampled as a viewer upsamples chroma: by 2 as libjpeg's "fancy"
    // upsampling (which Pillow and the browsers use: 3/4 of the nearer sample, 1/4 of the
    // farther), by 4 replicated. Each block's error is upsampled on its own, its edge samples
    // repeated where the viewer reads a neighbour's (a quarter weight, on 2 luma columns and rows
    // in 16). cb and cr: rows chroma rows of width samples, each chroma_stride bytes from the
    // last; rows and width multiples of 8.
    void correct(const uint8_t *cb, const uint8_t *cr, size_t chroma_stride, uint32_t rows, uint32_t width,
                 float *correction, size_t correction_stride) const;

  private:
    // Cb's and Cr's steps, and their inverses, for the kept frequencies: [component][v][u].
    float step_[2][kChromaErrorFrequencies][kChromaErrorFrequencies];
    float inverse_[2][kChromaErrorFrequencies][kChromaErrorFrequencies];
    int fx_, fy_;
    // The basis functions upsampled to luma's grid: across[u][x] (8 fx_ samples) and
    // down[v][y] (8 fy_), for the frequencies kept.
    float across_[kChromaErrorFrequencies][32];
    float down_[kChromaErrorFrequencies][32];
};

} // namespace bb
