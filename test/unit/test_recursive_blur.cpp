#include <gtest/gtest.h>

#include <cmath>

#include "gaussian.hpp"
#include "helpers.hpp"
#include "pixel_rows.hpp"
#include "recursive_blur.hpp"

namespace {

// SciPy's kernel in double precision (radius int(4 sigma + 0.5), normalised).
std::vector<double> kernel64(double sigma) {
    const long r = long(4.0 * sigma + 0.5);
    std::vector<double> w(size_t(2 * r + 1));
    double sum = 0.0;
    for (long i = -r; i <= r; i++)
        sum += w[size_t(i + r)] = std::exp(-0.5 * double(i * i) / (sigma * sigma));
    for (double &v : w)
        v /= sum;
    return w;
}

// scipy.ndimage.gaussian_filter1d(mode='reflect') in double precision.
std::vector<double> reference_line(const std::vector<double> &in, double sigma) {
    const std::vector<double> w = kernel64(sigma);
    const long r = long(w.size() / 2), n = long(in.size());
    std::vector<double> out(in.size());
    for (long i = 0; i < n; i++) {
        double acc = 0.0;
        for (long k = -r; k <= r; k++)
            acc += w[size_t(k + r)] * in[size_t(bb::reflect_index(i + k, n))];
        out[size_t(i)] = acc;
    }
    return out;
}

// The separable double-precision reference of a whole image (no alpha), unrounded: each
// channel's rows, then its columns, through reference_line.
std::vector<double> reference_image(const bb::Image &img, double sigma) {
    const size_t W = img.width, H = img.height, C = size_t(img.channels);
    std::vector<double> plane(W * H * C);
    for (size_t i = 0; i < plane.size(); i++)
        plane[i] = bbtest::sample(img, uint32_t(i / C % W), uint32_t(i / C / W), int(i % C));
    // Blurs the n samples from first, step apart, in place.
    auto blur_line = [&](size_t first, size_t n, size_t step) {
        std::vector<double> line(n);
        for (size_t k = 0; k < n; k++)
            line[k] = plane[first + k * step];
        line = reference_line(line, sigma);
        for (size_t k = 0; k < n; k++)
            plane[first + k * step] = line[k];
    };
    for (size_t c = 0; c < C; c++) {
        for (size_t y = 0; y < H; y++)
            blur_line(y * W * C + c, W, C);
        for (size_t x = 0; x < W; x++)
            blur_line(x * C + c, H, W * C);
    }
    return plane;
}

// The largest distance between the blurred samples and the unrounded reference.
double max_distance(const bb::Image &blurred, const std::vector<double> &ref) {
    const size_t C = size_t(blurred.channels);
    double worst = 0.0;
    for (size_t i = 0; i < ref.size(); i++)
        worst = std::max(worst, std::fabs(ref[i] - bbtest::sample(blurred, uint32_t(i / C % blurred.width),
                                                                  uint32_t(i / C / blurred.width), int(i % C))));
    return worst;
}

bb::Image blurred(const bb::Image &img, double sigma, bb::BlurMethod method) {
    bb::Image out = bbtest::make_image(img.width, img.height, img.channels, img.depth, img.alpha_channel);
    std::memcpy(out.pixels.data(), img.pixels.data(), img.pixels.size());
    bb::gaussian_blur(out, sigma, nullptr, method);
    return out;
}

} // namespace

TEST(Recursive, CoefficientsKeepAConstant) {
    for (double sigma : {0.5, 2.0, 7.0, 50.0, 1000.0}) {
        const bb::RecursiveCoefficients k = bb::recursive_coefficients(sigma);
        double gain = 0.0;
        for (const bb::RecursiveSection &s : k.section)
            gain +=
                (s.causal[0] + s.causal[1] + s.anticausal[0] + s.anticausal[1]) / (1.0 + s.feedback[0] + s.feedback[1]);
        EXPECT_NEAR(gain, 1.0, 1e-9) << "sigma " << sigma;
    }
    EXPECT_THROW(bb::recursive_coefficients(0.0), std::invalid_argument);
    EXPECT_THROW(bb::recursive_coefficients(NAN), std::invalid_argument);
}

// Within 1.5e-4 of the signal's range (0.04 of an 8-bit level) of SciPy's result along a line, from sigma 2 to 1000,
// lines shorter than the kernel (repeated reflection) included.
TEST(Recursive, LineMatchesScipyClosely) {
    for (long n : {1L, 3L, 17L, 250L, 1000L}) {
        std::vector<double> in(static_cast<size_t>(n));
        uint32_t seed = 7;
        for (double &v : in) {
            seed = seed * 1103515245u + 12345u;
            v = double((seed >> 16) % 256);
        }
        for (double sigma : {2.0, 5.0, 10.0, 33.3, 100.0, 1000.0}) {
            const std::vector<double> ref = reference_line(in, sigma);
            std::vector<double> out(static_cast<size_t>(n));
            bb::recursive_line(in.data(), out.data(), n, sigma);
            double worst = 0.0;
            for (long i = 0; i < n; i++)
                worst = std::max(worst, std::fabs(out[size_t(i)] - ref[size_t(i)]));
            EXPECT_LE(worst, 255 * 1.5e-4) << "n " << n << " sigma " << sigma;
        }
    }
}

// The 8-bit result is within 0.55 of the unrounded float64 reference (so within 1 of its
// rounding), for every channel count, odd sizes and sigmas from the crossover up.
TEST(Recursive, ImageWithinHalfALevelOfTheReference) {
    for (int channels : {1, 2, 3, 4}) {
        for (double sigma : {2.0, 7.0, 12.5, 40.0, 100.0}) {
            const bb::Image before = bbtest::make_image(53, 37, channels);
            const bb::Image after = blurred(before, sigma, bb::BlurMethod::Recursive);
            EXPECT_LE(max_distance(after, reference_image(before, sigma)), 0.55)
                << "channels " << channels << " sigma " << sigma;
        }
    }
}

// 16-bit samples keep their precision: within 0.02 % of full scale (13 of 65535 levels).
TEST(Recursive, SixteenBitWithinATenThousandthOfFullScale) {
    const bb::Image before = bbtest::make_image(41, 29, 3, 16);
    for (double sigma : {7.0, 30.0}) {
        const bb::Image after = blurred(before, sigma, bb::BlurMethod::Recursive);
        EXPECT_LE(max_distance(after, reference_image(before, sigma)), 65535 * 2e-4) << "sigma " << sigma;
    }
}

// With alpha, colour is blurred premultiplied: the same result as the float FIR within 1.
TEST(Recursive, AlphaAgreesWithTheFloatFir) {
    const bb::Image before = bbtest::make_image(45, 31, 4, 8, 3);
    for (double sigma : {7.0, 20.0}) {
        const bb::Image a = blurred(before, sigma, bb::BlurMethod::Recursive);
        const bb::Image b = blurred(before, sigma, bb::BlurMethod::FloatFir);
        int worst = 0;
        for (size_t i = 0; i < a.pixels.size(); i++)
            worst = std::max(worst, std::abs(int(a.pixels.data()[i]) - int(b.pixels.data()[i])));
        EXPECT_LE(worst, 1) << "sigma " << sigma;
    }
}

TEST(Recursive, ConstantAndTinyImages) {
    bb::Image img = bbtest::make_image(19, 7, 3);
    std::memset(img.pixels.data(), 200, img.pixels.size());
    bb::gaussian_blur(img, 60.0, nullptr, bb::BlurMethod::Recursive);
    for (size_t i = 0; i < img.pixels.size(); i++)
        ASSERT_EQ(img.pixels.data()[i], 200);
    bb::Image pixel = bbtest::make_image(1, 1, 4, 8, 3);
    const std::vector<uint8_t> original(pixel.pixels.data(), pixel.pixels.data() + 4);
    bb::gaussian_blur(pixel, 500.0, nullptr, bb::BlurMethod::Recursive);
    for (size_t i = 0; i < 4; i++)
        EXPECT_NEAR(pixel.pixels.data()[i], original[i], 1);
}

TEST(Recursive, Interrupts) {
    bb::Image img = bbtest::make_image(64, 64, 3);
    EXPECT_THROW(bb::gaussian_blur(
                     img, 20.0, [] { return true; }, bb::BlurMethod::Recursive),
                 bb::Error);
}

TEST(Dispatch, PicksTheFastestAccurateMethod) {
    const bb::Image rgb = bbtest::make_image(8, 8, 3), rgba = bbtest::make_image(8, 8, 4, 8, 3),
                    deep = bbtest::make_image(8, 8, 3, 16), empty = bbtest::make_image(0, 0, 3);
    using M = bb::BlurMethod;
    EXPECT_EQ(bb::choose_blur_method(rgb, 0.0, true), M::None);
    EXPECT_EQ(bb::choose_blur_method(rgb, 0.1, true), M::None); // one tap
    EXPECT_EQ(bb::choose_blur_method(empty, 5.0, true), M::None);
    EXPECT_EQ(bb::choose_blur_method(rgb, 5.0, true), M::FixedPoint);
    EXPECT_EQ(bb::choose_blur_method(rgb, 10.0, true), M::FixedPoint);
    EXPECT_EQ(bb::choose_blur_method(rgb, 10.5, true), M::Recursive);
    EXPECT_EQ(bb::choose_blur_method(rgb, 5.0, false), M::FloatFir);
    EXPECT_EQ(bb::choose_blur_method(rgb, bb::kRecursiveFromSigma, false), M::Recursive);
    EXPECT_EQ(bb::choose_blur_method(rgba, 5.0, true), M::FloatFir);
    EXPECT_EQ(bb::choose_blur_method(rgba, bb::kRecursiveFromSigma, true), M::Recursive);
    EXPECT_EQ(bb::choose_blur_method(deep, 2.0, true), M::FloatFir);
    EXPECT_EQ(bb::choose_blur_method(deep, 100.0, true), M::Recursive);
}

// Every method agrees with every other within 1 level where both apply.
TEST(Dispatch, MethodsAgree) {
    const bb::Image before = bbtest::make_image(61, 43, 3);
    for (double sigma : {2.5, 7.0, 10.0}) {
        const bb::Image fixed = blurred(before, sigma, bb::BlurMethod::FixedPoint);
        const bb::Image fir = blurred(before, sigma, bb::BlurMethod::FloatFir);
        const bb::Image rec = blurred(before, sigma, bb::BlurMethod::Recursive);
        int worst = 0;
        for (size_t i = 0; i < fir.pixels.size(); i++) {
            const int f = fir.pixels.data()[i];
            worst =
                std::max({worst, std::abs(f - int(fixed.pixels.data()[i])), std::abs(f - int(rec.pixels.data()[i]))});
        }
        EXPECT_LE(worst, 1) << "sigma " << sigma;
    }
}
