// Luma's answer to the chroma's quantisation error (chroma_error.hpp): the block errors against
// the DCT's definition, the correction against the errors upsampled as a viewer upsamples, and
// the RGB error of files written with and without it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "chroma_error.hpp"
#include "codecs.hpp"
#include "helpers.hpp"

namespace {

constexpr int kN = bb::kChromaErrorFrequencies;

double basis(int u, double x) {
    return (u == 0 ? std::sqrt(0.125) : 0.5) * std::cos((2 * x + 1) * u * M_PI / 16);
}

// The chrominance table libjpeg writes at quality 75 (jpeg_set_quality, as the writer sets it).
std::vector<uint16_t> chroma_table_75() {
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr err{};
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_compress(&cinfo);
    cinfo.in_color_space = JCS_YCbCr;
    cinfo.input_components = 3;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 75, TRUE);
    const JQUANT_TBL *table = cinfo.quant_tbl_ptrs[cinfo.comp_info[1].quant_tbl_no];
    std::vector<uint16_t> q(table->quantval, table->quantval + 64);
    jpeg_destroy_compress(&cinfo);
    return q;
}

// A smooth pattern with strong colour, and noise: levels 0-255.
std::vector<uint8_t> plane(uint32_t width, uint32_t height, int seed) {
    std::mt19937 rng{uint32_t(seed)};
    std::uniform_real_distribution<double> noise(-6, 6);
    std::vector<uint8_t> p(size_t(width) * height);
    for (uint32_t y = 0; y < height; y++)
        for (uint32_t x = 0; x < width; x++) {
            const double v = 128 +
                             90 * std::sin(x * 0.11 * (seed + 1) + y * 0.07) * std::cos(y * 0.05 * seed + x * 0.02) +
                             noise(rng);
            p[size_t(y) * width + x] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
        }
    return p;
}

TEST(ChromaError, BlockErrorIsTheDctsRoundingError) {
    const std::vector<uint16_t> q = chroma_table_75();
    const std::vector<uint8_t> p = plane(64, 16, 3);
    int compared = 0;
    for (uint32_t by = 0; by < 16; by += 8)
        for (uint32_t bx = 0; bx < 64; bx += 8) {
            float error[kN][kN];
            bb::block_quantisation_error(p.data() + by * 64 + bx, 64, q.data(), error);
            for (int v = 0; v < kN; v++)
                for (int u = 0; u < kN; u++) {
                    double f = 0;
                    for (int y = 0; y < 8; y++)
                        for (int x = 0; x < 8; x++)
                            f += (p[(by + uint32_t(y)) * 64 + bx + uint32_t(x)] - 128.0) * basis(u, x) * basis(v, y);
                    const double step = q[size_t(v * 8 + u)], units = f / step;
                    if (std::abs(std::abs(units - std::trunc(units)) - 0.5) < 1e-3)
                        continue; // a half step: float and double may round it apart
                    const double expected = std::round(units) * step - f;
                    EXPECT_NEAR(error[v][u], expected, 1e-3) << bx << "," << by << " (" << u << "," << v << ")";
                    compared++;
                }
        }
    EXPECT_GT(compared, 240);
}

// The correction as chroma_error.hpp defines it, in double: each block's error in the kept
// frequencies, back to its samples, upsampled within the block, weighted and negated.
std::vector<double> expected_correction(const std::vector<uint8_t> &cb, const std::vector<uint8_t> &cr, uint32_t width,
                                        uint32_t rows, const std::vector<uint16_t> &q, int fx, int fy) {
    const uint32_t luma_width = width * uint32_t(fx);
    std::vector<double> out(size_t(luma_width) * rows * uint32_t(fy), 0.0);
    auto up = [](const double *b, int j, int f, int k) { // sample k of f from sample j of 8
        if (f != 2)
            return b[j];
        const int other = k == 0 ? std::max(j - 1, 0) : std::min(j + 1, 7);
        return 0.75 * b[j] + 0.25 * b[other];
    };
    for (int c = 0; c < 2; c++) {
        const std::vector<uint8_t> &p = c == 0 ? cb : cr;
        const double weight = c == 0 ? bb::kCbToRgbMean : bb::kCrToRgbMean;
        for (uint32_t by = 0; by < rows; by += 8)
            for (uint32_t bx = 0; bx < width; bx += 8) {
                float error[kN][kN];
                bb::block_quantisation_error(p.data() + by * width + bx, width, q.data(), error);
                double e[8][8] = {};
                for (int y = 0; y < 8; y++)
                    for (int x = 0; x < 8; x++)
                        for (int v = 0; v < kN; v++)
                            for (int u = 0; u < kN; u++)
                                e[y][x] += error[v][u] * basis(u, x) * basis(v, y);
                for (int y = 0; y < 8 * fy; y++)
                    for (int x = 0; x < 8 * fx; x++) {
                        // vertical, then horizontal, as separable upsampling does
                        double across[8];
                        for (int i = 0; i < 8; i++) {
                            double column[8];
                            for (int j = 0; j < 8; j++)
                                column[j] = e[j][i];
                            across[i] = up(column, y / fy, fy, y % fy);
                        }
                        out[(by * uint32_t(fy) + uint32_t(y)) * luma_width + bx * uint32_t(fx) + uint32_t(x)] -=
                            weight * up(across, x / fx, fx, x % fx);
                    }
            }
    }
    return out;
}

TEST(ChromaError, CorrectionIsTheWeightedErrorUpsampled) {
    const std::vector<uint16_t> q = chroma_table_75();
    const uint32_t width = 48, rows = 16;
    const std::vector<uint8_t> cb = plane(width, rows, 1), cr = plane(width, rows, 2);
    const int factors[][2] = {{1, 1}, {2, 2}, {2, 1}, {1, 2}, {4, 1}, {4, 2}};
    for (const auto &f : factors) {
        const int fx = f[0], fy = f[1];
        ASSERT_TRUE(bb::ChromaErrorCorrection::supports(fx, fy));
        const bb::ChromaErrorCorrection correction(q.data(), q.data(), fx, fy);
        const uint32_t luma_width = width * uint32_t(fx), luma_rows = rows * uint32_t(fy);
        const size_t stride = luma_width + 8; // set: the first luma_width of each row
        std::vector<float> out(stride * luma_rows, 1e9f);
        correction.correct(cb.data(), cr.data(), width, rows, width, out.data(), stride);
        const std::vector<double> expected = expected_correction(cb, cr, width, rows, q, fx, fy);
        double largest = 0;
        for (uint32_t y = 0; y < luma_rows; y++)
            for (uint32_t x = 0; x < luma_width; x++) {
                const double e = expected[size_t(y) * luma_width + x];
                ASSERT_NEAR(out[y * stride + x], e, 2e-4) << fx << "x" << fy << " at " << x << "," << y;
                largest = std::max(largest, std::abs(e));
            }
        EXPECT_EQ(out[stride - 1], 1e9f) << "beyond the width, nothing is written";
        EXPECT_GT(largest, 0.5) << "the pattern's chroma should leave an error to correct";
    }
    EXPECT_FALSE(bb::ChromaErrorCorrection::supports(3, 1));
    EXPECT_FALSE(bb::ChromaErrorCorrection::supports(2, 0));
}

// A 4:2:0 file written from planes by JpegPlaneWriter, as stream_planes feeds it: the chroma
// rows of each step first, then luma, with the writer's correction added before rounding
// (or not at all).
struct Planes {
    uint32_t width, height;
    std::vector<double> y, cb, cr; // full resolution
};

std::vector<uint8_t> write_planes(const Planes &p, bool correct, int quality) {
    bb::JpegMeta meta;
    meta.color_space = JCS_YCbCr;
    meta.components = 3;
    meta.h_samp[0] = meta.v_samp[0] = 2;
    const bb::JpegLayout layout = bb::jpeg_layout(p.width, p.height, meta);
    bb::JpegPlaneWriter writer(layout, meta, quality, true);
    auto level = [](double v) { return uint8_t(std::clamp(std::lround(v), 0L, 255L)); };
    for (uint32_t step = 0; !writer.done(); step++) {
        for (int c = 1; c < 3; c++) { // chroma: 2x2 means of the full-resolution plane
            const std::vector<double> &full = c == 1 ? p.cb : p.cr;
            for (uint32_t r = 0; r < writer.rows_per_step(c); r++) {
                const uint32_t cy = std::min(step * writer.rows_per_step(c) + r, layout.comp_height[c] - 1);
                for (uint32_t cx = 0; cx < layout.padded_width[c]; cx++) {
                    const uint32_t x = std::min(cx, layout.comp_width[c] - 1);
                    double sum = 0;
                    for (uint32_t dy = 0; dy < 2; dy++)
                        for (uint32_t dx = 0; dx < 2; dx++)
                            sum +=
                                full[std::min(2 * cy + dy, p.height - 1) * p.width + std::min(2 * x + dx, p.width - 1)];
                    writer.row(c, r)[cx] = level(sum / 4);
                }
            }
        }
        const float *const *correction = correct ? writer.first_component_correction() : nullptr;
        EXPECT_EQ(correct, correction != nullptr);
        for (uint32_t r = 0; r < writer.rows_per_step(0); r++) {
            const uint32_t y = std::min(step * writer.rows_per_step(0) + r, p.height - 1);
            for (uint32_t x = 0; x < layout.padded_width[0]; x++) {
                const double add = correction ? correction[r][x] : 0.0;
                writer.row(0, r)[x] = level(p.y[y * p.width + std::min(x, p.width - 1)] + add);
            }
        }
        writer.write();
    }
    return bbtest::bytes_of(writer.finish());
}

// Mean squared error of the decoded file against the planes' own RGB (JFIF's conversion).
double rgb_error(const Planes &p, const std::vector<uint8_t> &jpeg) {
    const std::vector<uint8_t> rgb = bbtest::libjpeg_pixels(jpeg, JCS_RGB);
    double sum = 0;
    for (size_t i = 0; i < p.y.size(); i++) {
        const double y = p.y[i], cb = p.cb[i] - 128, cr = p.cr[i] - 128;
        const double truth[3] = {y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb};
        for (int c = 0; c < 3; c++) {
            const double d = rgb[3 * i + size_t(c)] - std::clamp(truth[c], 0.0, 255.0);
            sum += d * d;
        }
    }
    return sum / double(3 * p.y.size());
}

// A blurred-looking picture: smooth luma and strongly coloured smooth chroma.
Planes smooth_colour(uint32_t width, uint32_t height) {
    Planes p{width, height, {}, {}, {}};
    for (uint32_t y = 0; y < height; y++)
        for (uint32_t x = 0; x < width; x++) {
            p.y.push_back(120 + 60 * std::sin(x * 0.031 + y * 0.017));
            p.cb.push_back(128 + 70 * std::sin(x * 0.043 - y * 0.029) * std::cos(y * 0.021));
            p.cr.push_back(128 + 50 * std::cos(x * 0.027 + y * 0.039));
        }
    return p;
}

TEST(ChromaError, CorrectedLumaLowersTheRgbError) {
    const Planes p = smooth_colour(203, 131); // odd sizes: padding in both directions
    // Only the chroma's share of the error shrinks (luma's quantisation and every plane's
    // rounding stay), so the whole shrinks by a few percent, least at quality 90, where luma's
    // share is larger: the thresholds below (4 % and 2 %) hold with a margin (the test prints
    // the errors on failure).
    const struct {
        int quality;
        double most;
    } cases[] = {{50, 0.96}, {75, 0.96}, {90, 0.98}};
    for (const auto &c : cases) {
        const int quality = c.quality;
        const std::vector<uint8_t> plain = write_planes(p, false, quality), corrected = write_planes(p, true, quality);
        const double before = rgb_error(p, plain), after = rgb_error(p, corrected);
        EXPECT_LT(after, c.most * before) << "quality " << quality << ": " << before << " -> " << after;
        // what it costs in bytes: a few percent at most
        EXPECT_LT(double(corrected.size()), 1.05 * double(plain.size())) << "quality " << quality;
    }
}

TEST(ChromaError, GreyPicturesAreUnchanged) {
    Planes p = smooth_colour(96, 80);
    std::fill(p.cb.begin(), p.cb.end(), 128.0);
    std::fill(p.cr.begin(), p.cr.end(), 128.0);
    EXPECT_EQ(write_planes(p, false, 75), write_planes(p, true, 75));
}

} // namespace
