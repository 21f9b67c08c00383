#include <gtest/gtest.h>

#include <cmath>

#include "fixed_blur.hpp"
#include "fir_blur.hpp"
#include "helpers.hpp"

namespace {

// The float blur of the same samples, rounded and clamped like the 8-bit store.
std::vector<uint8_t> float_blur(const bb::Image &img, double sigma) {
    const size_t n = img.row_bytes();
    bb::StreamingBlur blur(img.width, img.height, img.channels, sigma, sigma);
    std::vector<float> row(n);
    std::vector<uint8_t> out(n * img.height);
    for (uint32_t y = 0; y < img.height; y++) {
        while (blur.pushed() < blur.rows_needed(y)) {
            const uint8_t *src = img.row(blur.pushed());
            for (size_t i = 0; i < n; i++)
                row[i] = src[i];
            blur.push(row.data());
        }
        blur.read(y, row.data());
        for (size_t i = 0; i < n; i++)
            out[n * y + i] = uint8_t(std::min(std::max(row[i] + 0.5f, 0.0f), 255.0f));
    }
    return out;
}

std::vector<uint8_t> fixed_blur(const bb::Image &img, double sigma, bb::FixedKernels kernels) {
    bb::Image copy = bbtest::make_image(img.width, img.height, img.channels);
    std::memcpy(copy.pixels.data(), img.pixels.data(), img.pixels.size());
    bb::fixed_blur_u8(copy.pixels.data(), copy.row_bytes(), copy.width, copy.height, copy.channels, sigma, nullptr,
                      kernels);
    return std::vector<uint8_t>(copy.pixels.data(), copy.pixels.data() + copy.pixels.size());
}

const double kSigmas[] = {0.3, 0.8, 1.0, 2.5, 5.0, 7.3, 10.0};

} // namespace

TEST(FixedBlur, SupportsSigmasUpToTen) {
    EXPECT_FALSE(bb::fixed_blur_supported(0.0));
    EXPECT_TRUE(bb::fixed_blur_supported(0.3));
    EXPECT_TRUE(bb::fixed_blur_supported(10.0));
    EXPECT_FALSE(bb::fixed_blur_supported(10.01));
}

TEST(FixedBlur, WithinOneOfTheFloatBlur) {
    // Odd sizes: rows that are not a whole number of vectors, images shorter than the kernel.
    for (uint32_t w : {1u, 7u, 33u, 130u})
        for (uint32_t h : {1u, 4u, 61u})
            for (int channels : {1, 3})
                for (double sigma : kSigmas) {
                    const bb::Image img = bbtest::make_image(w, h, channels);
                    const std::vector<uint8_t> want = float_blur(img, sigma);
                    const std::vector<uint8_t> got = fixed_blur(img, sigma, bb::FixedKernels::Scalar);
                    int worst = 0;
                    for (size_t i = 0; i < want.size(); i++)
                        worst = std::max(worst, std::abs(int(want[i]) - int(got[i])));
                    EXPECT_LE(worst, 1) << w << "x" << h << "x" << channels << " sigma " << sigma;
                }
}

// Each kind of kernel this processor has, AVX2 and AVX-512 alike.
std::vector<bb::FixedKernels> all_kernels() {
    std::vector<bb::FixedKernels> kinds = {bb::FixedKernels::Scalar};
    if (bb::fixed_blur_kernels() >= bb::FixedKernels::Avx2)
        kinds.push_back(bb::FixedKernels::Avx2);
    if (bb::fixed_blur_kernels() >= bb::FixedKernels::Avx512)
        kinds.push_back(bb::FixedKernels::Avx512);
    return kinds;
}

TEST(FixedBlur, VectorisedKernelsAreBitIdenticalToTheScalarOnes) {
    if (!bb::fixed_blur_vectorised())
        GTEST_SKIP() << "this processor has no AVX2";
    // widths below, at and past each vector's 16 and 32 samples, with scalar tails
    for (uint32_t w : {5u, 16u, 17u, 32u, 33u, 100u, 301u})
        for (int channels : {1, 3})
            for (double sigma : kSigmas) {
                const bb::Image img = bbtest::make_image(w, 45, channels);
                const auto want = fixed_blur(img, sigma, bb::FixedKernels::Scalar);
                for (bb::FixedKernels kernels : all_kernels())
                    EXPECT_EQ(fixed_blur(img, sigma, kernels), want)
                        << w << "x45x" << channels << " sigma " << sigma << " kernels " << int(kernels);
            }
}

TEST(FixedBlur, ExtremesStayInRange) {
    // All 255: the Q15 weights sum to exactly 32768, so nothing overflows or rounds to 254.
    bb::Image white = bbtest::make_image(40, 40, 3);
    std::memset(white.pixels.data(), 255, white.pixels.size());
    for (double sigma : kSigmas)
        for (bb::FixedKernels kernels : all_kernels())
            for (uint8_t v : fixed_blur(white, sigma, kernels))
                ASSERT_EQ(v, 255) << sigma;
}

TEST(FixedBlur, Interrupts) {
    bb::Image img = bbtest::make_image(64, 64, 3);
    try {
        bb::fixed_blur_u8(
            img.pixels.data(), img.row_bytes(), img.width, img.height, img.channels, 5.0, [] { return true; },
            bb::fixed_blur_kernels());
        FAIL() << "not interrupted";
    } catch (const bb::Error &e) {
        EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
    }
}
