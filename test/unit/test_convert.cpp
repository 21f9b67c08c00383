// A blur written in another format than its input's (BlurOptions::output): the conversions
// (bit depth, grey to colour, EXIF orientation applied to pixels, against a reference made of
// mirror and quarter turns), what each target gets, what is refused, and a cancel.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "codecs.hpp"
#include "convert.hpp"
#include "gaussian.hpp"
#include "helpers.hpp"
#include "pipeline.hpp"
#include "probe.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

// A small image whose every sample differs: channel c of (x, y) is 100 y + 10 x + c.
bb::Image numbered(uint32_t width, uint32_t height, int channels) {
    bb::Image img;
    img.width = width;
    img.height = height;
    img.channels = channels;
    img.allocate();
    for (uint32_t y = 0; y < height; y++)
        for (uint32_t x = 0; x < width; x++)
            for (int c = 0; c < channels; c++)
                img.row(y)[x * uint32_t(channels) + uint32_t(c)] = uint8_t(100 * y + 10 * x + uint32_t(c));
    return img;
}

// Reference transforms on (width, height, samples), one channel.
struct Grid {
    uint32_t w, h;
    std::vector<uint8_t> v;
    uint8_t at(uint32_t x, uint32_t y) const { return v[y * w + x]; }
};
Grid mirror(const Grid &g) { // left to right
    Grid out{g.w, g.h, g.v};
    for (uint32_t y = 0; y < g.h; y++)
        for (uint32_t x = 0; x < g.w; x++)
            out.v[y * g.w + x] = g.at(g.w - 1 - x, y);
    return out;
}
Grid turn(const Grid &g) { // a quarter turn clockwise
    Grid out{g.h, g.w, std::vector<uint8_t>(g.v.size())};
    for (uint32_t y = 0; y < out.h; y++)
        for (uint32_t x = 0; x < out.w; x++)
            out.v[y * out.w + x] = g.at(y, g.h - 1 - x);
    return out;
}
Grid turns(Grid g, int n) {
    while (n-- > 0)
        g = turn(g);
    return g;
}
// How a viewer shows a stored image under each EXIF orientation (the TIFF/EXIF definitions:
// 2 mirrored, 3 turned half, 4 mirrored upside down, 5 mirrored and turned three quarters,
// 6 turned a quarter clockwise, 7 mirrored and turned a quarter, 8 turned three quarters).
Grid shown(const Grid &g, int orientation) {
    switch (orientation) {
    case 2: return mirror(g);
    case 3: return turns(g, 2);
    case 4: return turns(mirror(g), 2);
    case 5: return turns(mirror(g), 3);
    case 6: return turn(g);
    case 7: return turn(mirror(g));
    case 8: return turns(g, 3);
    default: return g;
    }
}

using bbtest::psnr;

bb::BlurOptions to(bb::Format format, double sigma = 3.0, int quality = 90) {
    bb::BlurOptions options;
    options.sigma = sigma;
    options.quality = quality;
    options.output = format;
    return options;
}

bb::Image decoded(const bb::Buffer &out, bb::Format expected) {
    const Bytes bytes = bbtest::bytes_of(out);
    EXPECT_EQ(bb::probe(bytes.data(), bytes.size()).format, expected);
    bb::DecodeOptions decode;
    decode.jpeg_to_rgb = true;
    if (expected == bb::Format::Png) {
        bb::PngMeta meta;
        return bb::decode_png(bytes.data(), bytes.size(), decode, &meta);
    }
    if (expected == bb::Format::Webp) {
        bb::WebpMeta meta;
        return bb::decode_webp(bytes.data(), bytes.size(), decode, &meta);
    }
    bb::JpegMeta meta;
    return bb::decode_jpeg(bytes.data(), bytes.size(), decode, &meta);
}

TEST(Convert, OrientationAsAViewerShowsIt) {
    const bb::Image stored = numbered(5, 3, 2);
    for (int orientation = 0; orientation <= 8; orientation++) {
        bb::Image img = numbered(5, 3, 2);
        bb::apply_orientation(img, orientation, nullptr);
        for (int c = 0; c < 2; c++) {
            Grid g{5, 3, {}};
            for (uint32_t y = 0; y < 3; y++)
                for (uint32_t x = 0; x < 5; x++)
                    g.v.push_back(stored.row(y)[x * 2 + uint32_t(c)]);
            const Grid want = shown(g, orientation);
            ASSERT_EQ(img.width, want.w) << "orientation " << orientation;
            ASSERT_EQ(img.height, want.h);
            for (uint32_t y = 0; y < want.h; y++)
                for (uint32_t x = 0; x < want.w; x++)
                    EXPECT_EQ(img.row(y)[x * 2 + uint32_t(c)], want.at(x, y))
                        << "orientation " << orientation << " at " << x << "," << y;
        }
    }
}

TEST(Convert, SixteenBitsToEightRounded) {
    bb::Image img = bbtest::make_image(4, 1, 1, 16);
    const uint16_t values[4] = {0, 128, 32896, 65535}; // 128/257 rounds to 0, 32896 = 128 * 257
    std::memcpy(img.row(0), values, sizeof values);
    bb::to_8bit(img, nullptr);
    EXPECT_EQ(img.depth, 8);
    EXPECT_EQ(img.row(0)[0], 0);
    EXPECT_EQ(img.row(0)[1], 0);
    EXPECT_EQ(img.row(0)[2], 128);
    EXPECT_EQ(img.row(0)[3], 255);
}

TEST(Convert, GreyAndAlphaToRgba) {
    bb::Image img = numbered(3, 2, 2);
    img.alpha_channel = 1;
    bb::grey_to_rgb(img, nullptr);
    ASSERT_EQ(img.channels, 4);
    EXPECT_EQ(img.alpha_channel, 3);
    for (uint32_t y = 0; y < 2; y++)
        for (uint32_t x = 0; x < 3; x++) {
            const uint8_t *p = img.row(y) + 4 * x;
            EXPECT_EQ(p[0], 100 * y + 10 * x);
            EXPECT_EQ(p[1], p[0]);
            EXPECT_EQ(p[2], p[0]);
            EXPECT_EQ(p[3], 100 * y + 10 * x + 1);
        }
}

TEST(Convert, FormatNames) {
    EXPECT_EQ(bb::parse_format_name("jpeg"), bb::Format::Jpeg);
    EXPECT_EQ(bb::parse_format_name("JPG"), bb::Format::Jpeg);
    EXPECT_EQ(bb::parse_format_name("Png"), bb::Format::Png);
    EXPECT_EQ(bb::parse_format_name("webp"), bb::Format::Webp);
    EXPECT_EQ(bb::parse_format_name("AVIF"), bb::Format::Avif);
    for (const char *bad : {"", "gif", "heic", "jpeg ", "image/png"}) {
        try {
            bb::parse_format_name(bad);
            ADD_FAILURE() << bad;
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::InvalidParameter) << bad;
        }
    }
}

// JPEG to PNG is lossless after the blur: the PNG holds exactly the blur of the pixels libjpeg
// decodes in RGB, the EXIF orientation applied.
TEST(Convert, JpegToPngIsTheBlurOfTheDecodedPixels) {
    const bb::Image src = bbtest::make_image(61, 37, 3);
    bb::JpegMeta meta;
    meta.color_space = JCS_YCbCr;
    meta.components = 3;
    meta.orientation = 6;
    const Bytes jpeg = bbtest::bytes_of(bb::encode_jpeg(src, meta, 92, nullptr));
    bb::DecodeOptions decode;
    decode.jpeg_to_rgb = true;
    bb::JpegMeta read;
    bb::Image want = bb::decode_jpeg(jpeg.data(), jpeg.size(), decode, &read);
    ASSERT_EQ(read.orientation, 6);
    bb::gaussian_blur(want, 3.0, nullptr);
    bb::apply_orientation(want, 6, nullptr);

    const bb::Image got = decoded(bb::blur_image(jpeg.data(), jpeg.size(), to(bb::Format::Png)), bb::Format::Png);
    ASSERT_EQ(got.width, 37u);
    ASSERT_EQ(got.height, 61u);
    EXPECT_EQ(psnr(got, want), 99.0);
}

// PNG to JPEG and to WebP: lossy at quality, close to the blur; grey stays grey in JPEG and
// becomes RGB in WebP; 16 bits become 8.
TEST(Convert, PngToLossyFormatsAtQuality) {
    for (int channels : {1, 3}) {
        for (int depth : {8, 16}) {
            const bb::Image src = bbtest::make_image(96, 64, channels, depth);
            const Bytes png = bbtest::png_of(src);
            bb::DecodeOptions decode;
            bb::PngMeta meta;
            bb::Image want = bb::decode_png(png.data(), png.size(), decode, &meta);
            bb::gaussian_blur(want, 3.0, nullptr);
            bb::to_8bit(want, nullptr);
            const bb::Image jpeg =
                decoded(bb::blur_image(png.data(), png.size(), to(bb::Format::Jpeg, 3.0, 95)), bb::Format::Jpeg);
            EXPECT_EQ(jpeg.channels, channels);
            EXPECT_GT(psnr(jpeg, want), 40.0) << channels << " channels, " << depth << " bits";
            bb::grey_to_rgb(want, nullptr);
            const bb::Image webp =
                decoded(bb::blur_image(png.data(), png.size(), to(bb::Format::Webp, 3.0, 95)), bb::Format::Webp);
            EXPECT_EQ(webp.channels, 3);
            EXPECT_GT(psnr(webp, want), 38.0) << channels << " channels, " << depth << " bits";
        }
    }
}

// JPEG to WebP streams the JPEG's planes into the WebP encoder (FormatEntry::blur_planes and
// plane_writer): no RGB pixels at full size. Its picture must be what the way through pixels
// gives (the RGB decode blurred and imported by libwebp) at every sampling, grey, odd and tiny
// sizes and a range of sigmas: as close to the blur of the decoded pixels, the same colours.
TEST(Convert, JpegToWebpThroughPlanesIsThePixelsWay) {
    struct Case {
        uint32_t w, h;
        int h_samp, v_samp;
        bool grey;
        double sigma;
    };
    // (a picture under 8 sigma on a side, the last three, goes the pixels' way: planes_hold)
    const Case cases[] = {{61, 37, 2, 2, false, 3.0}, {61, 37, 2, 1, false, 3.0},  {61, 37, 1, 1, false, 3.0},
                          {61, 37, 1, 1, true, 3.0},  {250, 133, 2, 2, false, 12}, {640, 360, 1, 1, false, 40},
                          {97, 64, 2, 2, false, 0.6}, {640, 360, 2, 2, false, 5},  {1, 1, 2, 2, false, 5},
                          {2, 3, 1, 1, true, 5},      {33, 250, 2, 2, false, 12}};
    for (const Case &c : cases) {
        bbtest::JpegFileOptions o;
        o.quality = 92;
        o.h = c.h_samp;
        o.v = c.v_samp;
        o.grey = c.grey;
        const Bytes jpeg = bbtest::jpeg_file(bbtest::make_image(c.w, c.h, 3), o);
        bb::DecodeOptions decode;
        decode.jpeg_to_rgb = true;
        bb::JpegMeta read;
        bb::Image want = bb::decode_jpeg(jpeg.data(), jpeg.size(), decode, &read);
        bb::gaussian_blur(want, c.sigma, nullptr);
        bb::grey_to_rgb(want, nullptr);
        const bb::Image by_pixels = decoded(bb::encode_webp(want, bb::WebpMeta(), 95, nullptr), bb::Format::Webp);
        const bb::Image by_planes =
            decoded(bb::blur_image(jpeg.data(), jpeg.size(), to(bb::Format::Webp, c.sigma, 95)), bb::Format::Webp);
        const std::string what = std::to_string(c.w) + "x" + std::to_string(c.h) + " " +
                                 (c.grey ? "grey" : std::to_string(c.h_samp) + "x" + std::to_string(c.v_samp)) +
                                 " sigma " + std::to_string(c.sigma);
        ASSERT_EQ(by_planes.width, c.w) << what;
        ASSERT_EQ(by_planes.height, c.h) << what;
        ASSERT_EQ(by_planes.channels, 3) << what;
        EXPECT_GT(psnr(by_planes, want), std::min(38.0, psnr(by_pixels, want) - 1.5)) << what;
        const std::vector<double> got = bbtest::channel_means(by_planes), ref = bbtest::channel_means(want);
        for (size_t ch = 0; ch < 3; ch++)
            EXPECT_NEAR(got[ch], ref[ch], 1.5) << what << " channel " << ch;
        if (c.grey) { // grey stays grey: neutral chroma
            for (size_t i = 0; i + 2 < by_planes.pixels.size(); i += 3)
                ASSERT_LE(std::abs(int(by_planes.pixels.data()[i]) - int(by_planes.pixels.data()[i + 2])), 2) << what;
        }
    }
}

// The orientation is applied to the planes as the pixels' way applies it: each orientation's
// file shows as the upright one's output turned and mirrored (two lossy encodes of the same
// picture), with the colours of the blur of the decoded pixels, also where an axis the
// orientation reverses is odd (the pixels' way: webp_plane_writer); the ICC profile travels.
// A JPEG stored as RGB (no YCbCr planes to hand over) takes the pixels' way.
TEST(Convert, JpegToWebpThroughPlanesKeepsOrientationAndProfile) {
    for (const auto &size : {std::pair<uint32_t, uint32_t>{90, 50}, {67, 45}}) {
        // colours inside the gamut: a decoded YCbCr sample clipped to RGB would make the blur
        // of the planes and that of the pixels differ for a reason other than the orientation
        bb::Image src = bbtest::make_image(size.first, size.second, 3);
        for (size_t i = 0; i < src.pixels.size(); i++)
            src.pixels.data()[i] = uint8_t(64 + src.pixels.data()[i] / 2);
        const auto jpeg_of = [&](int orientation) {
            bb::JpegMeta meta;
            meta.color_space = JCS_YCbCr;
            meta.components = 3;
            meta.h_samp[0] = meta.v_samp[0] = 2;
            meta.orientation = orientation;
            meta.icc = {1, 2, 3, 4, 5, 6, 7, 8};
            return bbtest::bytes_of(bb::encode_jpeg(src, meta, 92, nullptr));
        };
        const auto blurred = [&](int orientation, bb::WebpMeta *webp_meta) {
            const Bytes jpeg = jpeg_of(orientation);
            const Bytes out = bbtest::bytes_of(bb::blur_image(jpeg.data(), jpeg.size(), to(bb::Format::Webp, 3.0, 95)));
            return bb::decode_webp(out.data(), out.size(), bb::DecodeOptions(), webp_meta);
        };
        bb::WebpMeta upright_meta;
        blurred(1, &upright_meta);
        EXPECT_EQ(upright_meta.icc, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
        for (int orientation = 2; orientation <= 8; orientation++) {
            const std::string what = std::to_string(size.first) + "x" + std::to_string(size.second) + " orientation " +
                                     std::to_string(orientation);
            bb::WebpMeta webp_meta;
            const bb::Image got = blurred(orientation, &webp_meta);
            EXPECT_EQ(webp_meta.icc, upright_meta.icc);
            EXPECT_EQ(webp_meta.orientation, 0) << "applied, not a tag";
            bb::WebpMeta again;
            bb::Image want = blurred(1, &again); // Image is move-only: the upright output once more
            bb::apply_orientation(want, orientation, nullptr);
            ASSERT_EQ(got.width, want.width) << what;
            ASSERT_EQ(got.height, want.height) << what;
            EXPECT_GT(psnr(got, want), 38.0) << what;
            const Bytes jpeg = jpeg_of(orientation);
            bb::DecodeOptions decode;
            decode.jpeg_to_rgb = true;
            bb::JpegMeta read;
            bb::Image pixels = bb::decode_jpeg(jpeg.data(), jpeg.size(), decode, &read);
            bb::gaussian_blur(pixels, 3.0, nullptr);
            const std::vector<double> got_means = bbtest::channel_means(got),
                                      want_means = bbtest::channel_means(pixels);
            for (size_t ch = 0; ch < 3; ch++)
                EXPECT_NEAR(got_means[ch], want_means[ch], 1.0) << what << " channel " << ch;
        }
    }
    const bb::Image src = bbtest::make_image(90, 50, 3);
    bbtest::JpegFileOptions o;
    o.rgb = true;
    const Bytes rgb = bbtest::jpeg_file(src, o);
    bb::DecodeOptions decode;
    decode.jpeg_to_rgb = true;
    bb::JpegMeta read;
    bb::Image want = bb::decode_jpeg(rgb.data(), rgb.size(), decode, &read);
    ASSERT_EQ(read.color_space, JCS_RGB);
    bb::gaussian_blur(want, 3.0, nullptr);
    EXPECT_GT(
        psnr(decoded(bb::blur_image(rgb.data(), rgb.size(), to(bb::Format::Webp, 3.0, 95)), bb::Format::Webp), want),
        38.0);
}

// threads 2 lets libwebp run its second thread: the same file as one thread writes, from
// pixels (a PNG) and from planes (a JPEG), lossy and lossless.
TEST(Convert, WebpWithLibwebpsThreadIsTheSameFile) {
    const bb::Image src = bbtest::make_image(700, 500, 3);
    const Bytes inputs[] = {bbtest::jpeg_of(src, JCS_YCbCr), bbtest::png_of(src)};
    for (const Bytes &input : inputs) {
        bb::BlurOptions one = to(bb::Format::Webp, 2.0, 80), two = one;
        two.threads = 2;
        EXPECT_EQ(bbtest::bytes_of(bb::blur_image(input.data(), input.size(), one)),
                  bbtest::bytes_of(bb::blur_image(input.data(), input.size(), two)));
    }
    bb::WebpMeta lossless;
    lossless.lossless = true;
    EXPECT_EQ(bbtest::bytes_of(bb::encode_webp(src, lossless, 75, nullptr, 1)),
              bbtest::bytes_of(bb::encode_webp(src, lossless, 75, nullptr, 2)));
}

// A cancel at each of a plane conversion's polls stops it (or it asked fewer times).
TEST(Convert, JpegToWebpThroughPlanesStopsAtEveryPoll) {
    const Bytes jpeg = bbtest::jpeg_of(bbtest::make_image(300, 200, 3), JCS_YCbCr);
    bb::BlurOptions options = to(bb::Format::Webp, 5.0, 75);
    options.poll = bbtest::PollCounter::poll;
    EXPECT_GE(bbtest::expect_stops_at_every_poll([&] { bb::blur_image(jpeg.data(), jpeg.size(), options); }), 3);
}

TEST(Convert, RefusedCombinations) {
    const Bytes rgba = bbtest::png_of(bbtest::make_image(20, 10, 4, 8, 3));
    const Bytes cmyk = bbtest::jpeg_of(bbtest::make_image(20, 10, 4), JCS_CMYK);
    const struct {
        const Bytes *data;
        bb::Format target;
    } cases[] = {{&rgba, bb::Format::Jpeg}, {&cmyk, bb::Format::Png}, {&cmyk, bb::Format::Webp}};
    for (const auto &c : cases) {
        try {
            bb::blur_image(c.data->data(), c.data->size(), to(c.target));
            ADD_FAILURE() << "no error";
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::Unsupported) << e.what();
        }
    }
    // the same format is no conversion: CMYK to JPEG and RGBA to PNG blur as before
    EXPECT_NO_THROW(bb::blur_image(cmyk.data(), cmyk.size(), to(bb::Format::Jpeg)));
    EXPECT_NO_THROW(bb::blur_image(rgba.data(), rgba.size(), to(bb::Format::Png)));
}

TEST(Convert, CancelStopsAConversion) {
    const Bytes jpeg = bbtest::jpeg_of(bbtest::make_image(300, 200, 3), JCS_YCbCr);
    for (bb::Format target : {bb::Format::Png, bb::Format::Webp}) {
        bb::BlurOptions options = to(target);
        options.poll = [] { return true; };
        try {
            bb::blur_image(jpeg.data(), jpeg.size(), options);
            ADD_FAILURE() << "not interrupted";
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
        }
    }
}

} // namespace
