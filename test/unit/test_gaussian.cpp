#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "fixed_blur.hpp"
#include "gaussian.hpp"
#include "helpers.hpp"
#include "kernel.hpp"

namespace {

// Double-precision reference of the blur: the separable kernel applied in 2-D, reflecting
// borders, exactly as scipy.ndimage.gaussian_filter(mode='reflect', truncate=4.0).
double reference(const bb::Image &img, uint32_t x, uint32_t y, int c, const std::vector<float> &k32) {
    const long r = long(k32.size() / 2);
    double sum = 0.0;
    for (long i = -r; i <= r; i++) {
        const long yy = bb::reflect_index(long(y) + i, long(img.height));
        for (long j = -r; j <= r; j++) {
            const long xx = bb::reflect_index(long(x) + j, long(img.width));
            sum += double(k32[size_t(i + r)]) * double(k32[size_t(j + r)]) *
                   bbtest::sample(img, uint32_t(xx), uint32_t(yy), c);
        }
    }
    return sum;
}

double max_error(const bb::Image &before, const bb::Image &after, double sigma) {
    const auto kernel = bb::gaussian_kernel(sigma);
    double worst = 0.0;
    for (uint32_t y = 0; y < before.height; y++)
        for (uint32_t x = 0; x < before.width; x++)
            for (int c = 0; c < before.channels; c++)
                worst = std::max(
                    worst, std::fabs(std::round(reference(before, x, y, c, kernel)) - bbtest::sample(after, x, y, c)));
    return worst;
}

bb::Image copy_of(const bb::Image &img) {
    bb::Image out;
    out.width = img.width;
    out.height = img.height;
    out.channels = img.channels;
    out.depth = img.depth;
    out.alpha_channel = img.alpha_channel;
    out.allocate();
    std::memcpy(out.pixels.data(), img.pixels.data(), img.pixels.size());
    return out;
}

} // namespace

TEST(Kernel, MatchesScipy) {
    const auto k = bb::gaussian_kernel(5.0);
    ASSERT_EQ(k.size(), 41u); // radius int(4 * 5 + 0.5) = 20
    double sum = 0.0;
    for (float w : k)
        sum += w;
    EXPECT_NEAR(sum, 1.0, 1e-6);
    for (size_t i = 0; i < k.size(); i++)
        EXPECT_FLOAT_EQ(k[i], k[k.size() - 1 - i]);
    EXPECT_EQ(bb::gaussian_kernel(1.0).size(), 9u);
    EXPECT_EQ(bb::gaussian_kernel(0.1).size(), 1u); // int(0.4 + 0.5) = 0
    EXPECT_EQ(bb::gaussian_kernel(0.0).size(), 1u);
    EXPECT_THROW(bb::gaussian_kernel(-1.0), bb::Error);
    EXPECT_THROW(bb::gaussian_kernel(NAN), bb::Error);
}

TEST(Reflect, MirrorsAboutTheEdges) {
    // d c b a | a b c d | d c b a
    EXPECT_EQ(bb::reflect_index(-1, 4), 0);
    EXPECT_EQ(bb::reflect_index(-4, 4), 3);
    EXPECT_EQ(bb::reflect_index(4, 4), 3);
    EXPECT_EQ(bb::reflect_index(7, 4), 0);
    EXPECT_EQ(bb::reflect_index(8, 4), 0);
    EXPECT_EQ(bb::reflect_index(-5, 4), 3);
    EXPECT_EQ(bb::reflect_index(-9, 4), 0);
    for (long i = -50; i < 50; i++)
        EXPECT_EQ(bb::reflect_index(i, 1), 0);
}

TEST(Blur, MatchesDoublePrecisionReferenceWithinOne) {
    for (double sigma : {0.5, 1.0, 2.5, 5.0, 10.0}) {
        for (int channels : {1, 3}) {
            const bb::Image before = bbtest::make_image(37, 23, channels);
            bb::Image after = copy_of(before);
            bb::gaussian_blur(after, sigma, nullptr);
            EXPECT_LE(max_error(before, after, sigma), 1.0) << "sigma " << sigma << " channels " << channels;
        }
    }
}

TEST(Blur, KernelWiderThanTheImageReflectsRepeatedly) {
    const bb::Image before = bbtest::make_image(7, 3, 3);
    bb::Image after = copy_of(before);
    bb::gaussian_blur(after, 20.0, nullptr);
    EXPECT_LE(max_error(before, after, 20.0), 2.0);
}

TEST(Blur, SixteenBitIsBlurredInSixteenBits) {
    const bb::Image before = bbtest::make_image(19, 11, 1, 16);
    bb::Image after = copy_of(before);
    bb::gaussian_blur(after, 2.0, nullptr);
    EXPECT_LE(max_error(before, after, 2.0), 1.0);
}

TEST(Blur, SigmaZeroAndOnePixelLeaveTheImage) {
    const bb::Image before = bbtest::make_image(9, 9, 4, 8, 3);
    bb::Image after = copy_of(before);
    bb::gaussian_blur(after, 0.0, nullptr);
    EXPECT_EQ(0, std::memcmp(before.pixels.data(), after.pixels.data(), before.pixels.size()));
    bb::Image pixel = bbtest::make_image(1, 1, 3);
    const uint8_t original[3] = {pixel.pixels.data()[0], pixel.pixels.data()[1], pixel.pixels.data()[2]};
    bb::gaussian_blur(pixel, 50.0, nullptr);
    EXPECT_EQ(0, std::memcmp(original, pixel.pixels.data(), 3));
}

TEST(Blur, ConstantImageStaysConstant) {
    bb::Image img = bbtest::make_image(23, 5, 3);
    std::memset(img.pixels.data(), 77, img.pixels.size());
    bb::gaussian_blur(img, 7.0, nullptr);
    for (size_t i = 0; i < img.pixels.size(); i++)
        ASSERT_EQ(img.pixels.data()[i], 77) << i;
}

TEST(Blur, TransparentColourDoesNotBleed) {
    // Left half: red, fully transparent. Right half: opaque blue.
    bb::Image img = bbtest::make_image(40, 10, 4, 8, 3);
    for (uint32_t y = 0; y < 10; y++)
        for (uint32_t x = 0; x < 40; x++) {
            uint8_t *p = img.row(y) + x * 4;
            if (x < 20) {
                p[0] = 255, p[1] = 0, p[2] = 0, p[3] = 0;
            } else {
                p[0] = 0, p[1] = 0, p[2] = 255, p[3] = 255;
            }
        }
    bb::gaussian_blur(img, 3.0, nullptr);
    for (uint32_t y = 0; y < 10; y++)
        for (uint32_t x = 0; x < 40; x++) {
            const uint8_t *p = img.row(y) + x * 4;
            if (p[3] > 0) {
                EXPECT_EQ(p[0], 0) << x;
                EXPECT_EQ(p[2], 255) << x;
            }
        }
    // the alpha channel itself is blurred: it ramps across the edge
    EXPECT_GT(img.row(0)[19 * 4 + 3], 0);
    EXPECT_LT(img.row(0)[20 * 4 + 3], 255);
}

TEST(Blur, StopsWhenInterrupted) {
    bb::Image img = bbtest::make_image(64, 64, 3);
    try {
        bb::gaussian_blur(img, 3.0, [] { return true; });
        FAIL() << "not interrupted";
    } catch (const bb::Error &e) {
        EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
    }
}

namespace {

// An image of depth 8 or 16 whose samples follow f(x, y, c) in levels of 255.
template <class F> bb::Image image_at_depth(uint32_t width, uint32_t height, int channels, int depth, F f) {
    bb::Image img;
    img.width = width;
    img.height = height;
    img.channels = channels;
    img.depth = depth;
    img.allocate();
    for (uint32_t y = 0; y < height; y++)
        for (uint32_t x = 0; x < width; x++)
            for (int c = 0; c < channels; c++) {
                const size_t i = size_t(x) * size_t(channels) + size_t(c);
                const double v = f(x, y, c);
                if (depth > 8)
                    reinterpret_cast<uint16_t *>(img.row(y))[i] = uint16_t(v * 257);
                else
                    img.row(y)[i] = uint8_t(v);
            }
    return img;
}

// The pixels of img inside r, as their own image.
bb::Image cut_of(const bb::Image &img, const bb::Rect &r) {
    return image_at_depth(r.x1 - r.x0, r.y1 - r.y0, img.channels, img.depth, [&](uint32_t x, uint32_t y, int c) {
        const double v = bbtest::sample(img, r.x0 + x, r.y0 + y, c);
        return img.depth > 8 ? v / 257 : v;
    });
}

} // namespace

// A picture shown through a window (an AVIF's clean aperture): inside it, the blur of the window
// alone, by each method; outside it, the window's reflection blurred, with no seam at its edges.
// The padding around the window is black and would bleed in otherwise.
TEST(Blur, ShowingAWindowBlursItAlone) {
    const bb::Rect shown{13, 6, 53, 36}; // padding 13, 11, 6 and 12 wide: less than sigma 3's radius
    const struct {
        int depth;
        double sigma;
        bb::BlurMethod method; // the one gaussian_blur chooses
        double most;           // levels (of the depth's own scale) apart from the window blurred alone
    } cases[] = {{8, 3.0, bb::BlurMethod::FixedPoint, 0},
                 {16, 3.0, bb::BlurMethod::FloatFir, 0},
                 {8, 12.0, bb::BlurMethod::Recursive, 1},
                 {8, 70.0, bb::BlurMethod::Recursive, 1}}; // a kernel wider than kShowingMargin
    for (const auto &c : cases) {
        SCOPED_TRACE(testing::Message() << "depth " << c.depth << ", sigma " << c.sigma);
        const bb::Image picture = image_at_depth(64, 48, 3, c.depth, [&](uint32_t x, uint32_t y, int ch) {
            const bool inside = x >= shown.x0 && x < shown.x1 && y >= shown.y0 && y < shown.y1;
            return inside ? 60 + int((x * 5 + y * 3 + uint32_t(ch) * 17) % 150) : 0;
        });
        if (c.method == bb::BlurMethod::FixedPoint && !bb::fixed_blur_vectorised())
            continue; // this processor's choice is the float FIR, the second case
        ASSERT_EQ(c.method, bb::choose_blur_method(picture, c.sigma, bb::fixed_blur_vectorised()));
        bb::Image alone = cut_of(picture, shown);
        bb::gaussian_blur(alone, c.sigma, nullptr);
        bb::Image out = copy_of(picture);
        bb::gaussian_blur_showing(out, shown, c.sigma, nullptr);
        double worst = 0;
        for (uint32_t y = shown.y0; y < shown.y1; y++)
            for (uint32_t x = shown.x0; x < shown.x1; x++)
                for (int ch = 0; ch < 3; ch++)
                    worst = std::max(worst, std::fabs(bbtest::sample(out, x, y, ch) -
                                                      bbtest::sample(alone, x - shown.x0, y - shown.y0, ch)));
        EXPECT_LE(worst, c.most);
        // Across the window's left and right edges, no larger a step than between any two
        // neighbours inside: no seam.
        double inside_step = 0, edge_step = 0;
        for (uint32_t y = 0; y < out.height; y++)
            for (uint32_t x = 1; x < out.width; x++) {
                const double d = std::fabs(bbtest::sample(out, x, y, 0) - bbtest::sample(out, x - 1, y, 0));
                double &step = x == shown.x0 || x == shown.x1 ? edge_step : inside_step;
                step = std::max(step, d);
            }
        EXPECT_LE(edge_step, inside_step) << "a seam at the window's edge";
        const double level = c.depth > 8 ? 257 : 1;
        EXPECT_GT(bbtest::sample(out, 2, 2, 0), 40 * level) << "the padding takes the window's colours";
    }
}

TEST(Blur, ShowingTheWholePictureIsTheBlur) {
    const bb::Image picture = bbtest::image_of(
        31, 17, 3, [](uint32_t x, uint32_t y, int c) { return int((x * 7 + y * 11 + uint32_t(c) * 5) % 256); });
    bb::Image a = copy_of(picture), b = copy_of(picture);
    bb::gaussian_blur(a, 2.5, nullptr);
    bb::gaussian_blur_showing(b, bb::Rect{0, 0, 31, 17}, 2.5, nullptr);
    EXPECT_EQ(0, std::memcmp(a.pixels.data(), b.pixels.data(), a.pixels.size()));
    EXPECT_THROW(bb::gaussian_blur_showing(b, bb::Rect{0, 0, 32, 17}, 2.5, nullptr), std::logic_error);
    EXPECT_THROW(bb::gaussian_blur_showing(b, bb::Rect{5, 5, 5, 9}, 2.5, nullptr), std::logic_error);
}

// A row padded as a horizontal pass reads it: each pixel of the margins is the reflected one
// (SciPy's d c b a | a b c d, again and again where a margin is wider than the row), margins
// of different widths on each side, every sample converted.
TEST(Blur, PaddedRowsReflectAboutEachEdge) {
    for (const long width : {1L, 2L, 5L, 9L})
        for (const long before : {0L, 1L, 4L, 13L})
            for (const long after : {0L, 3L, 11L}) {
                const long channels = 3;
                std::vector<uint8_t> row(size_t(width * channels));
                for (size_t i = 0; i < row.size(); i++)
                    row[i] = uint8_t(i * 7 + 1);
                std::vector<float> padded(size_t((before + width + after) * channels), -1.0f);
                bb::pad_reflected(row.data(), padded.data() + before * channels, width, channels, before, after);
                for (long x = -before; x < width + after; x++)
                    for (long c = 0; c < channels; c++)
                        ASSERT_EQ(padded[size_t((x + before) * channels + c)],
                                  float(row[size_t(bb::reflect_index(x, width) * channels + c)]))
                            << "width " << width << ", " << before << " before, " << after << " after, at " << x;
            }
}
