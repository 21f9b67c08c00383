#include <gtest/gtest.h>

#include <cmath>

#include "gaussian.hpp"
#include "helpers.hpp"

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
