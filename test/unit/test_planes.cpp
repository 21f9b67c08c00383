#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "helpers.hpp"
#include "planes.hpp"

namespace {

// Blurs a width x height plane through a StreamingBlur, pushing `ahead` rows beyond what each
// read needs (a decoder hands over rows in batches).
std::vector<float> stream_blur(const std::vector<float> &in, uint32_t w, uint32_t h, double sx, double sy,
                               uint32_t ahead) {
    bb::StreamingBlur blur(w, h, 1, sx, sy);
    std::vector<float> out(in.size());
    for (uint32_t y = 0; y < h; y++) {
        const uint32_t target = std::min(h, blur.rows_needed(y) + ahead);
        while (blur.pushed() < target)
            blur.push(in.data() + size_t(w) * blur.pushed());
        blur.read(y, out.data() + size_t(w) * y);
    }
    return out;
}

std::vector<float> pattern(uint32_t w, uint32_t h) {
    std::vector<float> p(size_t(w) * h);
    for (size_t i = 0; i < p.size(); i++)
        p[i] = float((i * 37) % 251);
    return p;
}

bb::PlaneGeometry geometry(uint32_t in_w, uint32_t in_h, uint32_t m, uint32_t out_w, uint32_t out_h, uint32_t padded,
                           double ratio_x = 1.0, double ratio_y = 1.0) {
    bb::PlaneGeometry g;
    g.in_width = in_w;
    g.in_height = in_h;
    g.block = m;
    g.ratio_x = ratio_x;
    g.ratio_y = ratio_y;
    g.out_width = out_w;
    g.out_height = out_h;
    g.padded_width = padded;
    return g;
}

} // namespace

TEST(StreamingBlur, DifferentSigmasPerAxisKeepMass) {
    std::vector<float> in(31 * 31, 0.0f);
    in[15 * 31 + 15] = 1000.0f;
    const std::vector<float> out = stream_blur(in, 31, 31, 3.0, 1.0, 0);
    // an impulse spreads wider along x than along y, and keeps its mass
    EXPECT_GT(out[15 * 31 + 18], out[18 * 31 + 15]);
    double sum = 0;
    for (float v : out)
        sum += v;
    EXPECT_NEAR(sum, 1000.0, 0.01);
}

TEST(StreamingBlur, SameResultHoweverFarAheadRowsArePushed) {
    // The ring grows when a producer runs ahead; the result must not depend on it.
    const std::vector<float> in = pattern(37, 90);
    const std::vector<float> lockstep = stream_blur(in, 37, 90, 2.0, 4.0, 0);
    for (uint32_t ahead : {1u, 7u, 40u, 90u}) {
        const std::vector<float> out = stream_blur(in, 37, 90, 2.0, 4.0, ahead);
        ASSERT_EQ(out, lockstep) << ahead;
    }
}

TEST(StreamingBlur, KernelTallerThanThePlaneReflectsRepeatedly) {
    // sigma 10 on 5 rows: every row is kept, reflection repeats as in SciPy; a constant stays.
    std::vector<float> in(8 * 5, 42.0f);
    const std::vector<float> out = stream_blur(in, 8, 5, 10.0, 10.0, 0);
    for (float v : out)
        EXPECT_NEAR(v, 42.0f, 1e-3f);
}

TEST(StreamingBlur, RefusesRowsOutOfOrder) {
    bb::StreamingBlur blur(4, 40, 1, 1.0, 1.0); // vertical radius 4
    std::vector<float> row(4, 1.0f), out(4);
    EXPECT_THROW(blur.read(0, out.data()), std::logic_error); // rows 0-4 not pushed yet
    for (int i = 0; i < 40; i++)
        blur.push(row.data());
    EXPECT_THROW(blur.push(row.data()), std::logic_error); // more rows than the plane has
    blur.read(30, out.data());
    EXPECT_THROW(blur.read(10, out.data()), std::logic_error); // its rows are gone
}

TEST(PlaneStream, SameSizeRoundsAndPads) {
    bb::PlaneStream stream(geometry(6, 4, 1, 6, 4, 8));
    uint8_t rows[4][6];
    for (uint32_t y = 0; y < 4; y++)
        for (uint32_t x = 0; x < 6; x++)
            rows[y][x] = uint8_t(10 * x + y);
    std::vector<uint8_t> out(8);
    for (uint32_t y = 0; y < 4; y++) {
        EXPECT_FALSE(stream.ready(y));
        stream.push(rows[y]);
        ASSERT_TRUE(stream.ready(y));
        stream.write(y, out.data());
        for (uint32_t x = 0; x < 6; x++)
            EXPECT_EQ(out[x], rows[y][x]);
        EXPECT_EQ(out[7], out[5]); // padding repeats the last column
    }
}

TEST(PlaneStream, TheSplinesTapsKeepMassAndPlaceAndAddAThirdOfASample) {
    // Each output's four weights add up to 1 and are centred on its point (the cubic B-spline
    // reproduces straight lines); they are 1/6, 2/3, 1/6 on a sample; their second moment about
    // the point, averaged over the phases, is the variance plane_sigma takes off the Gaussian.
    for (double ratio : {0.5, 0.25, 1.0 / 3.0, 1.5, 2.0}) {
        const uint32_t n_src = 40, n_dst = uint32_t(n_src / ratio);
        const bb::Taps t = bb::interpolation_taps(n_src, n_dst, ratio);
        double second = 0.0;
        uint32_t inside = 0;
        for (uint32_t i = 0; i < n_dst; i++) {
            const double x = (i + 0.5) * ratio - 0.5;
            if (x < 1.0 || x > n_src - 3.0) // the ends reflect
                continue;
            double sum = 0.0, mean = 0.0, moment = 0.0;
            for (int k = 0; k < bb::kSplineTaps; k++) {
                sum += t.weight[k][i];
                mean += t.weight[k][i] * t.index[k][i];
                moment += t.weight[k][i] * (t.index[k][i] - x) * (t.index[k][i] - x);
            }
            EXPECT_NEAR(sum, 1.0, 1e-6) << ratio << " " << i;
            EXPECT_NEAR(mean, x, 1e-5) << ratio << " " << i;
            second += moment;
            inside++;
        }
        ASSERT_GT(inside, 10u);
        EXPECT_NEAR(second / inside, bb::reconstruction_variance(ratio), 0.02 + 1.0 / 6.0 * (ratio > 1.0)) << ratio;
    }
    float w[bb::kSplineTaps];
    bb::spline_weights(0.0, w);
    EXPECT_FLOAT_EQ(w[0], 1.0f / 6.0f);
    EXPECT_FLOAT_EQ(w[1], 2.0f / 3.0f);
    EXPECT_FLOAT_EQ(w[2], 1.0f / 6.0f);
    EXPECT_FLOAT_EQ(w[3], 0.0f);
    // ratio 1: the sample itself, no spline
    const bb::Taps same = bb::interpolation_taps(5, 5, 1.0);
    EXPECT_EQ(bb::reconstruction_variance(1.0), 0.0);
    for (uint32_t i = 0; i < 5; i++) {
        EXPECT_EQ(same.index[1][i], i);
        EXPECT_EQ(same.weight[1][i], 1.0f);
    }
    // Small sources reflect into themselves: one sample spreads evenly, two never leave.
    const bb::Taps one = bb::interpolation_taps(1, 4, 0.25);
    for (int k = 0; k < bb::kSplineTaps; k++)
        for (uint32_t i = 0; i < 4; i++)
            EXPECT_EQ(one.index[k][i], 0u);
    const bb::Taps two = bb::interpolation_taps(2, 8, 0.25);
    for (int k = 0; k < bb::kSplineTaps; k++)
        for (uint32_t i = 0; i < 8; i++)
            EXPECT_LT(two.index[k][i], 2u);
}

TEST(PlaneStream, UpsamplingKeepsARampStraight) {
    // A ramp stays a ramp inside (the spline reproduces straight lines), 2x and 4x up with
    // aligned pixel centres, in both directions; the ends reflect, and bend towards the end sample.
    for (uint32_t f : {2u, 4u}) {
        const uint32_t n = 24;
        bb::PlaneStream stream(geometry(n, n, 1, n * f, n * f, n * f + 3, 1.0 / f, 1.0 / f));
        std::vector<uint8_t> row(n), out(n * f + 3);
        uint32_t written = 0;
        for (uint32_t y = 0; y < n; y++) {
            for (uint32_t x = 0; x < n; x++)
                row[x] = uint8_t(20 + 4 * x + 3 * y);
            stream.push(row.data());
            for (; written < n * f && stream.ready(written); written++) {
                stream.write(written, out.data());
                const double sy = (written + 0.5) / f - 0.5;
                for (uint32_t x = 0; x < n * f; x++) {
                    const double sx = (x + 0.5) / f - 0.5;
                    if (sx < 1.0 || sx > n - 2.0 || sy < 1.0 || sy > n - 2.0)
                        continue;
                    EXPECT_NEAR(out[x], 20 + 4 * sx + 3 * sy, 0.5 + 1e-3) << f << " " << x << " " << written;
                }
                const double x0 = 0.5 / f - 0.5; // the first output, left of sample 0
                if (sy >= 1.0 && sy <= n - 2.0) {
                    EXPECT_GE(out[0], 20 + 3 * sy + 4 * x0 - 0.5) << f;
                }
            }
        }
        EXPECT_EQ(written, n * f);
    }
}

TEST(PlaneStream, AveragesBlocksAsRowsArrive) {
    // 41 x 23 in blocks of 4: 11 x 6 averages, the last column and row of blocks partial.
    // Column x holds x, so block bx averages 4 bx + 1.5 (the last, columns 40 only, 40).
    bb::PlaneStream stream(geometry(41, 23, 4, 11, 6, 16));
    std::vector<uint8_t> row(41), out(16);
    for (uint32_t x = 0; x < 41; x++)
        row[x] = uint8_t(x);
    uint32_t written = 0;
    for (uint32_t y = 0; y < 23; y++) {
        stream.push(row.data());
        for (; written < 6 && stream.ready(written); written++) {
            stream.write(written, out.data());
            for (uint32_t bx = 0; bx < 10; bx++)
                EXPECT_EQ(out[bx], uint8_t(std::lround(4 * bx + 1.5 + 0.001))) << bx;
            EXPECT_EQ(out[10], 40);
            EXPECT_EQ(out[15], 40);
        }
    }
    EXPECT_EQ(written, 6u);
}

TEST(PlaneStream, WritesInTheSinksCodesRoundedOnce) {
    // VP8's limited-range luma (WebpPlaneWriter): the map is applied before the blur, whose
    // weights add up to 1, so a flat plane comes out as round(scale * v + offset) exactly, and
    // a blurred and interpolated one within a rounding of the unmapped output mapped.
    const float scale = 219.0f / 255.0f, offset = 16.0f;
    for (uint32_t v : {0u, 1u, 77u, 128u, 254u, 255u}) {
        bb::PlaneGeometry g = geometry(9, 3, 1, 9, 3, 16);
        g.scale = scale;
        g.offset = offset;
        bb::PlaneStream stream(g);
        const std::vector<uint8_t> row(9, uint8_t(v));
        std::vector<uint8_t> out(16);
        for (uint32_t y = 0; y < 3; y++) {
            stream.push(row.data());
            stream.write(y, out.data());
            for (uint32_t x = 0; x < 16; x++)
                EXPECT_EQ(out[x], uint8_t(std::lround(scale * float(v) + offset))) << v;
        }
    }
    bb::PlaneGeometry plain = geometry(41, 23, 4, 21, 12, 24, 0.5, 0.5);
    plain.sigma_x = plain.sigma_y = 1.25;
    bb::PlaneGeometry mapped = plain;
    mapped.scale = 224.0f / 255.0f;
    mapped.offset = 128.0f - 128.0f * mapped.scale;
    bb::PlaneStream a(plain), b(mapped);
    std::vector<uint8_t> row(41), out_a(24), out_b(24);
    uint32_t written = 0;
    for (uint32_t y = 0; y < 23; y++) {
        for (uint32_t x = 0; x < 41; x++)
            row[x] = uint8_t((x * 13 + y * 29) % 256);
        a.push(row.data());
        b.push(row.data());
        for (; written < 12 && a.ready(written); written++) {
            ASSERT_TRUE(b.ready(written));
            a.write(written, out_a.data());
            b.write(written, out_b.data());
            for (uint32_t x = 0; x < 24; x++)
                EXPECT_LE(std::abs(mapped.scale * out_a[x] + mapped.offset - out_b[x]), 1.0f) << x << "," << written;
        }
    }
    EXPECT_EQ(written, 12u);
}

TEST(JpegPlanes, ReaderScalesAndWriterRoundTrips) {
    const bb::Image original = bbtest::make_image(40, 24, 3);
    const auto jpeg = bbtest::jpeg_of(original, JCS_YCbCr, 95);
    for (int scale : {1, 2, 4, 8}) {
        bb::JpegMeta meta;
        bb::JpegPlaneReader reader(jpeg.data(), jpeg.size(), bb::DecodeOptions(), scale, &meta);
        ASSERT_EQ(reader.components(), 3);
        EXPECT_EQ(reader.width(), 40u);
        EXPECT_EQ(reader.plane_width(0), (40u + unsigned(scale) - 1) / unsigned(scale));
        EXPECT_EQ(reader.plane_height(0), (24u + unsigned(scale) - 1) / unsigned(scale));
        uint32_t rows = 0;
        while (reader.next())
            rows += reader.row_count(0);
        EXPECT_EQ(rows, reader.plane_height(0));
    }
    // scale 1: planes copied row by row into the writer, decoded again: close to the original
    bb::JpegMeta meta;
    bb::JpegPlaneReader reader(jpeg.data(), jpeg.size(), bb::DecodeOptions(), 1, &meta);
    const bb::JpegLayout layout = bb::jpeg_layout(reader.width(), reader.height(), meta);
    std::vector<std::vector<uint8_t>> planes(3);
    while (reader.next())
        for (int c = 0; c < 3; c++)
            for (uint32_t r = 0; r < reader.row_count(c); r++)
                planes[size_t(c)].insert(planes[size_t(c)].end(), reader.row(c, r),
                                         reader.row(c, r) + reader.plane_width(c));
    bb::JpegPlaneWriter writer(layout, meta, 95);
    for (uint32_t step = 0; !writer.done(); step++) {
        for (int c = 0; c < 3; c++) {
            for (uint32_t r = 0; r < writer.rows_per_step(c); r++) {
                const uint32_t y = std::min(step * writer.rows_per_step(c) + r, layout.comp_height[c] - 1);
                uint8_t *dst = writer.row(c, r);
                std::memcpy(dst, planes[size_t(c)].data() + size_t(y) * layout.comp_width[c], layout.comp_width[c]);
                std::memset(dst + layout.comp_width[c], dst[layout.comp_width[c] - 1],
                            layout.padded_width[c] - layout.comp_width[c]);
            }
        }
        writer.write();
    }
    EXPECT_THROW(writer.write(), std::logic_error);
    const auto again = writer.finish();
    bb::JpegMeta meta2;
    const bb::Image a = bb::decode_jpeg(jpeg.data(), jpeg.size(), bb::DecodeOptions(), &meta);
    const bb::Image b = bb::decode_jpeg(again.data(), again.size(), bb::DecodeOptions(), &meta2);
    EXPECT_EQ(meta2.h_samp[0], meta.h_samp[0]);
    double diff = 0;
    for (size_t i = 0; i < a.pixels.size(); i++)
        diff += std::fabs(double(a.pixels.data()[i]) - double(b.pixels.data()[i]));
    EXPECT_LT(diff / double(a.pixels.size()), 2.0);
}
