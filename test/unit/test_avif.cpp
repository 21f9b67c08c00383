// AVIF (libavif): still images at 8, 10 and 12 bits, every chroma sampling and monochrome, with
// and without alpha; the blur keeps depth, sampling and alpha; the metadata policy (ICC, irot,
// imir kept; EXIF and XMP dropped); the limit read from the container; sequences refused;
// every truncation an error; a cancel; the RGB-to-YUV conversion in strips.
#include <gtest/gtest.h>

#include <avif/avif.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "avif_convert.hpp"
#include "codecs.hpp"
#include "convert.hpp"
#include "gaussian.hpp"
#include "helpers.hpp"
#include "png_files.hpp"
#include "pipeline.hpp"
#include "probe.hpp"
#include "regions.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

using bbtest::psnr;

bb::AvifMeta meta_of(int depth, int yuv_format) {
    bb::AvifMeta meta;
    meta.depth = depth;
    meta.yuv_format = yuv_format;
    return meta;
}

// A smooth test picture (AV1 at a good quality keeps it within a few levels).
bb::Image smooth(uint32_t w, uint32_t h, int channels, int depth) {
    bb::Image img = bbtest::make_image(w, h, channels, depth, channels % 2 == 0 ? channels - 1 : -1);
    gaussian_blur(img, 2.0, nullptr);
    return img;
}

Bytes avif_of(const bb::Image &img, const bb::AvifMeta &meta, int quality = 90) {
    return bbtest::bytes_of(bb::encode_avif(img, meta, quality, 1, nullptr));
}

bb::Image decode(const Bytes &file, bb::AvifMeta *meta = nullptr) {
    return bb::decode_avif(file.data(), file.size(), bb::DecodeOptions(), meta);
}

using bbtest::kind_of;

// An 8-bit RGB image as libavif's own 4:2:0 avifImage (for files written by libavif directly);
// null if libavif refuses it.
avifImage *libavif_image(const bb::Image &img) {
    avifImage *image = avifImageCreate(img.width, img.height, 8, AVIF_PIXEL_FORMAT_YUV420);
    avifRGBImage rgb;
    avifRGBImageSetDefaults(&rgb, image);
    rgb.format = AVIF_RGB_FORMAT_RGB;
    rgb.pixels = const_cast<uint8_t *>(img.row(0));
    rgb.rowBytes = uint32_t(img.stride());
    if (avifImageRGBToYUV(image, &rgb) != AVIF_RESULT_OK) {
        avifImageDestroy(image);
        return nullptr;
    }
    return image;
}

const int kFormats[] = {AVIF_PIXEL_FORMAT_YUV444, AVIF_PIXEL_FORMAT_YUV422, AVIF_PIXEL_FORMAT_YUV420,
                        AVIF_PIXEL_FORMAT_YUV400};

TEST(Avif, EveryDepthAndSamplingRoundTripsAndIsReportedByTheProbe) {
    for (const int depth : {8, 10, 12})
        for (const int format : kFormats)
            for (const bool alpha : {false, true}) {
                const bool grey = format == AVIF_PIXEL_FORMAT_YUV400;
                const int channels = (grey ? 1 : 3) + (alpha ? 1 : 0);
                const std::string what =
                    std::to_string(depth) + " bits, format " + std::to_string(format) + (alpha ? ", alpha" : "");
                const bb::Image img = smooth(48, 32, channels, depth == 8 ? 8 : 16);
                const Bytes file = avif_of(img, meta_of(depth, format), 95);
                const bb::ImageInfo info = bb::probe(file.data(), file.size());
                EXPECT_EQ(info.format, bb::Format::Avif) << what;
                EXPECT_EQ(info.width, 48u) << what;
                EXPECT_EQ(info.height, 32u) << what;
                EXPECT_EQ(info.channels, channels) << what;
                EXPECT_EQ(info.bit_depth, depth) << what;
                bb::AvifMeta meta;
                const bb::Image back = decode(file, &meta);
                EXPECT_EQ(back.channels, channels) << what;
                EXPECT_EQ(back.depth, depth == 8 ? 8 : 16) << what;
                EXPECT_EQ(back.alpha_channel, alpha ? channels - 1 : -1) << what;
                EXPECT_EQ(meta.depth, depth) << what;
                EXPECT_EQ(meta.yuv_format, format) << what;
                EXPECT_GT(psnr(back, img), 34.0) << what;
            }
}

TEST(Avif, TheBlurKeepsDepthSamplingAndAlphaAndIsTheBlurOfTheDecodedInput) {
    for (const int depth : {8, 10, 12})
        for (const int format : kFormats)
            for (const bool alpha : {false, true}) {
                const bool grey = format == AVIF_PIXEL_FORMAT_YUV400;
                const int channels = (grey ? 1 : 3) + (alpha ? 1 : 0);
                const std::string what =
                    std::to_string(depth) + " bits, format " + std::to_string(format) + (alpha ? ", alpha" : "");
                const Bytes file =
                    avif_of(bbtest::make_image(64, 40, channels, depth == 8 ? 8 : 16, alpha ? channels - 1 : -1),
                            meta_of(depth, format), 90);
                bb::BlurOptions options;
                options.sigma = 3.0;
                options.quality = 90;
                const bb::Buffer out = bb::blur_image(file.data(), file.size(), options);
                const Bytes blurred(out.begin(), out.end());
                bb::AvifMeta meta;
                const bb::Image got = decode(blurred, &meta);
                EXPECT_EQ(meta.depth, depth) << what;
                EXPECT_EQ(meta.yuv_format, format) << what;
                EXPECT_EQ(got.channels, channels) << what;
                bb::Image want = decode(file);
                gaussian_blur(want, 3.0, nullptr);
                EXPECT_GT(psnr(got, want), 40.0) << what;
            }
}

TEST(Avif, KeepsIccIrotAndImirAndDropsExifAndXmp) {
    // A file written by libavif itself, with every kind of metadata.
    avifImage *image = libavif_image(smooth(40, 24, 3, 8));
    ASSERT_NE(image, nullptr);
    const Bytes icc(300, 7), exif = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0}, xmp = {'<', 'x', '/', '>'};
    (void)avifImageSetProfileICC(image, icc.data(), icc.size()); // void in 0.11, a result from 1.0
    (void)avifImageSetMetadataExif(image, exif.data(), exif.size());
    (void)avifImageSetMetadataXMP(image, xmp.data(), xmp.size());
    image->transformFlags = AVIF_TRANSFORM_IROT | AVIF_TRANSFORM_IMIR;
    image->irot.angle = 3;
    std::memset(&image->imir, 1, 1); // left and right exchanged ("mode" in 0.11, "axis" in 1.x)
    avifEncoder *encoder = avifEncoderCreate();
    encoder->speed = AVIF_SPEED_FASTEST;
    avifRWData written = AVIF_DATA_EMPTY;
    ASSERT_EQ(avifEncoderWrite(encoder, image, &written), AVIF_RESULT_OK);
    const Bytes file(written.data, written.data + written.size);
    avifRWDataFree(&written);
    avifEncoderDestroy(encoder);
    avifImageDestroy(image);

    const bb::Buffer out = bb::blur_image(file.data(), file.size(), bb::BlurOptions());
    avifDecoder *decoder = avifDecoderCreate();
    avifImage *result = avifImageCreateEmpty();
    ASSERT_EQ(avifDecoderReadMemory(decoder, result, out.data(), out.size()), AVIF_RESULT_OK);
    EXPECT_EQ(Bytes(result->icc.data, result->icc.data + result->icc.size), icc);
    EXPECT_EQ(result->exif.size, 0u);
    EXPECT_EQ(result->xmp.size, 0u);
    EXPECT_EQ(result->transformFlags & (AVIF_TRANSFORM_IROT | AVIF_TRANSFORM_IMIR),
              uint32_t(AVIF_TRANSFORM_IROT | AVIF_TRANSFORM_IMIR));
    EXPECT_EQ(result->irot.angle, 3);
    uint8_t mirror = 0;
    std::memcpy(&mirror, &result->imir, 1);
    EXPECT_EQ(mirror, 1);
    avifImageDestroy(result);
    avifDecoderDestroy(decoder);

    // As EXIF would say it: turned 90 degrees clockwise then mirrored left-right: transpose.
    bb::AvifMeta meta;
    meta.transform_flags = AVIF_TRANSFORM_IROT | AVIF_TRANSFORM_IMIR;
    meta.irot = 3;
    meta.imir = 1;
    EXPECT_EQ(bb::avif_orientation(meta), 5);
}

TEST(Avif, OrientationsMatchExif) {
    bb::AvifMeta meta;
    EXPECT_EQ(bb::avif_orientation(meta), 1);
    meta.transform_flags = AVIF_TRANSFORM_IROT;
    const int turned[4] = {1, 8, 3, 6}; // anticlockwise 0, 90, 180, 270
    for (uint8_t a = 0; a < 4; a++) {
        meta.irot = a;
        EXPECT_EQ(bb::avif_orientation(meta), turned[a]);
    }
    meta.transform_flags = AVIF_TRANSFORM_IMIR;
    meta.imir = 0; // top and bottom exchanged
    EXPECT_EQ(bb::avif_orientation(meta), 4);
    meta.imir = 1;
    EXPECT_EQ(bb::avif_orientation(meta), 2);
    meta.transform_flags |= AVIF_TRANSFORM_IROT;
    meta.irot = 1; // 90 anticlockwise, then left-right: transverse
    EXPECT_EQ(bb::avif_orientation(meta), 7);
}

// meta with a clap that shows the stored pixels in r of a picture stored width x height
// (ISO/IEC 14496-12 12.1.4.1): horizOff = x0 + w / 2 - width / 2, in halves.
bb::AvifMeta with_clap(bb::AvifMeta meta, uint32_t width, uint32_t height, const bb::Rect &r) {
    const uint32_t w = r.x1 - r.x0, h = r.y1 - r.y0;
    const uint32_t horiz = uint32_t(int32_t(2 * r.x0 + w) - int32_t(width)),
                   vert = uint32_t(int32_t(2 * r.y0 + h) - int32_t(height));
    const uint32_t clap[8] = {w, 1, h, 1, horiz, 2, vert, 2};
    std::memcpy(meta.clap, clap, sizeof clap);
    meta.transform_flags |= AVIF_TRANSFORM_CLAP;
    return meta;
}

::testing::AssertionResult same_rect(const bb::Rect &a, const bb::Rect &b) {
    if (a.x0 == b.x0 && a.y0 == b.y0 && a.x1 == b.x1 && a.y1 == b.y1)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "[" << a.x0 << ", " << a.x1 << ") x [" << a.y0 << ", " << a.y1
                                         << ") is not [" << b.x0 << ", " << b.x1 << ") x [" << b.y0 << ", " << b.y1
                                         << ")";
}

TEST(Avif, TheCleanApertureIsPlacedAsTheStandardSays) {
    const bb::Rect whole{0, 0, 64, 48};
    bb::AvifMeta meta;
    EXPECT_TRUE(same_rect(bb::avif_clean_aperture(meta, 64, 48), whole)) << "no clap";
    // Centred: offsets 0 put the aperture's centre on the picture's.
    const uint32_t centred[8] = {40, 1, 30, 1, 0, 1, 0, 1};
    std::memcpy(meta.clap, centred, sizeof centred);
    EXPECT_TRUE(same_rect(bb::avif_clean_aperture(meta, 64, 48), whole)) << "a clap the flags do not hold";
    meta.transform_flags = AVIF_TRANSFORM_CLAP;
    EXPECT_TRUE(same_rect(bb::avif_clean_aperture(meta, 64, 48), bb::Rect{12, 9, 52, 39}));
    // Offsets of whole pixels and of halves, either sign; fractions with other denominators.
    const struct {
        uint32_t clap[8];
        bb::Rect rect;
    } placed[] = {
        {{40, 1, 30, 1, uint32_t(-3), 1, 9, 1}, {9, 18, 49, 48}},
        {{80, 2, 60, 2, 12, 1, uint32_t(-9), 1}, {24, 0, 64, 30}},
        {{41, 1, 31, 1, 1, 2, uint32_t(-1), 2}, {12, 8, 53, 39}},
        {{64, 1, 48, 1, 0, 7, 0, 3}, whole},
        {{1, 1, 1, 1, uint32_t(-63), 2, 47, 2}, {0, 47, 1, 48}},
    };
    for (const auto &p : placed) {
        std::memcpy(meta.clap, p.clap, sizeof p.clap);
        EXPECT_TRUE(same_rect(bb::avif_clean_aperture(meta, 64, 48), p.rect)) << p.clap[0] << "/" << p.clap[1];
    }
    // with_clap, the tests' own placing, round trips at every corner and odd size.
    for (const bb::Rect &r :
         {bb::Rect{0, 0, 1, 1}, bb::Rect{63, 47, 64, 48}, bb::Rect{7, 5, 20, 6}, bb::Rect{1, 2, 64, 47}, whole})
        EXPECT_TRUE(same_rect(bb::avif_clean_aperture(with_clap(bb::AvifMeta(), 64, 48, r), 64, 48), r));
    // Not a rectangle of whole pixels inside the picture: the whole picture.
    const uint32_t refused[][8] = {{81, 2, 30, 1, 0, 1, 0, 1},                      // a width of 40.5
                                   {41, 1, 30, 1, 0, 1, 0, 1},                      // a first column of 11.5
                                   {40, 1, 30, 1, 13, 1, 0, 1},                     // past the right edge
                                   {40, 1, 30, 1, uint32_t(-13), 1, 0, 1},          // before the left edge
                                   {40, 0, 30, 1, 0, 1, 0, 1},                      // a zero denominator
                                   {40, 1, 30, 1, 0, 0x80000000u, 0, 1},            // a negative one
                                   {0, 1, 30, 1, 0, 1, 0, 1},                       // empty
                                   {0xffffffffu, 1, 0xffffffffu, 1, 0, 1, 0, 1},    // larger than any picture
                                   {40, 1, 30, 1, 0x7fffffffu, 1, 0x7fffffffu, 1},  // far off
                                   {40, 1, 30, 1, 0x80000000u, 1, 0x80000000u, 1}}; // far off the other way
    for (const auto &clap : refused) {
        std::memcpy(meta.clap, clap, sizeof clap);
        EXPECT_TRUE(same_rect(bb::avif_clean_aperture(meta, 64, 48), whole)) << clap[0] << "/" << clap[1];
    }
}

// A picture of one-pixel stripes in every direction: a blur takes its detail away.
bb::Image stripes(uint32_t w, uint32_t h) {
    return bbtest::image_of(w, h, 3,
                            [](uint32_t x, uint32_t y, int c) { return ((x + y + uint32_t(c)) & 1) ? 220 : 30; });
}

// The mean absolute second difference along rows of channel 0 inside r.
double detail(const bb::Image &img, const bb::Rect &r) {
    double sum = 0;
    size_t n = 0;
    for (uint32_t y = r.y0; y < r.y1; y++)
        for (uint32_t x = r.x0 + 1; x + 1 < r.x1; x++, n++) {
            const uint8_t *row = img.row(y);
            sum += std::abs(int(row[(x - 1) * 3]) - 2 * int(row[x * 3]) + int(row[(x + 1) * 3]));
        }
    return n ? sum / double(n) : 0.0;
}

// A clean aperture is what a viewer shows. Into another format, the output is the aperture
// alone (turned by irot): the blur of the decoded picture cut to it. AVIF to AVIF keeps the
// whole stored picture and the clap. A redaction's boxes are placed on the aperture.
TEST(Avif, AConversionShowsTheCleanApertureAndARedactionsBoxesAreInIt) {
    const bb::Rect aperture{20, 16, 60, 46};
    bb::AvifMeta meta = with_clap(meta_of(8, AVIF_PIXEL_FORMAT_YUV444), 64, 48, aperture);
    meta.transform_flags |= AVIF_TRANSFORM_IROT;
    meta.irot = 1; // 90 degrees anticlockwise: EXIF 8
    const Bytes file = avif_of(stripes(64, 48), meta, 100);
    bb::AvifMeta decoded_meta;
    const bb::Image decoded = decode(file, &decoded_meta);
    ASSERT_EQ(decoded.width, 64u);
    EXPECT_TRUE(same_rect(bb::avif_clean_aperture(decoded_meta, 64, 48), aperture)) << "libavif keeps the clap";

    // Into PNG: the aperture cut by hand from the decoded picture, blurred, turned upright.
    bb::Image cut = bbtest::make_image(40, 30, 3);
    for (uint32_t y = 0; y < 30; y++)
        std::memcpy(cut.row(y), decoded.row(y + 16) + 20 * 3, 40 * 3);
    gaussian_blur(cut, 2.0, nullptr);
    bb::apply_orientation(cut, 8, nullptr);
    bb::BlurOptions options;
    options.sigma = 2.0;
    options.output = bb::Format::Png;
    const Bytes png = bbtest::bytes_of(bb::blur_image(file.data(), file.size(), options));
    const bb::Image shown = bb::decode_png(png.data(), png.size(), bb::DecodeOptions(), nullptr);
    ASSERT_EQ(shown.width, 30u);
    ASSERT_EQ(shown.height, 40u);
    bbtest::expect_same_pixels(shown, cut, "the aperture blurred, turned");

    // AVIF to AVIF: the whole stored picture and the clap.
    options.output.reset();
    const Bytes same = bbtest::bytes_of(bb::blur_image(file.data(), file.size(), options));
    bb::AvifMeta same_meta;
    EXPECT_EQ(decode(same, &same_meta).width, 64u);
    EXPECT_TRUE(same_rect(bb::avif_clean_aperture(same_meta, 64, 48), aperture));

    // A box at the top left of what a viewer shows (the aperture turned anticlockwise) is the
    // aperture's top right in the stored picture; the stored picture's own top left, outside
    // the aperture, keeps its stripes.
    const std::vector<bb::Box> boxes = {{0, 0, 8, 8}};
    const Bytes redacted = bbtest::bytes_of(bb::blur_regions(file.data(), file.size(), boxes, options));
    const bb::Image after = decode(redacted);
    const bb::Rect inside{52 + 2, 16 + 2, 60 - 2, 24 - 2}, stored_corner{2, 2, 6, 6};
    EXPECT_LT(detail(after, inside), 0.25 * detail(decoded, inside));
    EXPECT_GT(detail(after, stored_corner), 0.9 * detail(decoded, stored_corner));
}

// AVIF to AVIF with a clap: what a viewer that applies it shows is the aperture's own blur (a
// flat grey aperture stays flat up to its edges, though the padding around it is black), and
// what Chromium shows, ignoring the clap, is the aperture's reflection around it, blurred: the
// padding next to the aperture takes its grey, with no seam.
TEST(Avif, AWholeBlurKeepsThePaddingOutOfTheAperture) {
    const bb::Rect aperture{12, 8, 52, 40};
    const bb::AvifMeta meta = with_clap(meta_of(8, AVIF_PIXEL_FORMAT_YUV444), 64, 48, aperture);
    const bb::Image picture = bbtest::image_of(64, 48, 3, [&](uint32_t x, uint32_t y, int) {
        return x >= aperture.x0 && x < aperture.x1 && y >= aperture.y0 && y < aperture.y1 ? 128 : 0;
    });
    const Bytes file = avif_of(picture, meta, 100);
    bb::BlurOptions options;
    options.sigma = 3.0;
    options.quality = 100;
    bb::AvifMeta out_meta;
    const bb::Image out = decode(bbtest::bytes_of(bb::blur_image(file.data(), file.size(), options)), &out_meta);
    ASSERT_EQ(out.width, 64u);
    EXPECT_TRUE(same_rect(bb::avif_clean_aperture(out_meta, 64, 48), aperture)) << "the clap is kept";
    int worst_inside = 0, worst_outside = 0;
    for (uint32_t y = 0; y < out.height; y++)
        for (uint32_t x = 0; x < out.width; x++) {
            const bool inside = x >= aperture.x0 && x < aperture.x1 && y >= aperture.y0 && y < aperture.y1;
            int &worst = inside ? worst_inside : worst_outside;
            worst = std::max(worst, std::abs(int(out.row(y)[x * 3]) - 128));
        }
    EXPECT_LE(worst_inside, 3) << "the padding bled into the aperture";
    EXPECT_LE(worst_outside, 3) << "the padding is not the aperture's reflection";
}

TEST(Avif, TheLimitIsCheckedFromTheContainer) {
    const Bytes file = avif_of(smooth(64, 64, 3, 8), meta_of(8, AVIF_PIXEL_FORMAT_YUV420));
    bb::DecodeOptions options;
    options.max_pixels = 64 * 64 - 1;
    EXPECT_EQ(kind_of([&] { bb::decode_avif(file.data(), file.size(), options, nullptr); }), bb::ErrorKind::TooLarge);
    bb::BlurOptions blur;
    blur.max_pixels = 64 * 64 - 1;
    EXPECT_EQ(kind_of([&] { bb::blur_image(file.data(), file.size(), blur); }), bb::ErrorKind::TooLarge);
    blur.max_pixels = 64 * 64;
    EXPECT_NO_THROW(bb::blur_image(file.data(), file.size(), blur));
}

TEST(Avif, EveryTruncationIsAnError) {
    const Bytes file = avif_of(smooth(32, 24, 4, 8), meta_of(8, AVIF_PIXEL_FORMAT_YUV420));
    for (size_t n = 0; n < file.size(); n++) {
        const bb::ErrorKind kind = kind_of([&] { bb::blur_image(file.data(), n, bb::BlurOptions()); });
        EXPECT_EQ(kind, bb::ErrorKind::InvalidData) << n << " of " << file.size() << " bytes";
    }
}

TEST(Avif, SequencesAreRefusedButDescribed) {
    avifImage *image = libavif_image(smooth(16, 16, 3, 8));
    ASSERT_NE(image, nullptr);
    avifEncoder *encoder = avifEncoderCreate();
    encoder->speed = AVIF_SPEED_FASTEST;
    encoder->timescale = 10;
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(avifEncoderAddImage(encoder, image, 1, AVIF_ADD_IMAGE_FLAG_NONE), AVIF_RESULT_OK);
    avifRWData written = AVIF_DATA_EMPTY;
    ASSERT_EQ(avifEncoderFinish(encoder, &written), AVIF_RESULT_OK);
    const Bytes file(written.data, written.data + written.size);
    avifRWDataFree(&written);
    avifEncoderDestroy(encoder);
    avifImageDestroy(image);

    const bb::ImageInfo info = bb::probe(file.data(), file.size());
    EXPECT_EQ(info.format, bb::Format::Avif);
    EXPECT_EQ(info.avif_frames, 3u);
    EXPECT_EQ(kind_of([&] { bb::blur_image(file.data(), file.size(), bb::BlurOptions()); }),
              bb::ErrorKind::Unsupported);
}

TEST(Avif, ACancelStopsDecodeAndEncode) {
    const Bytes file = avif_of(smooth(64, 64, 3, 8), meta_of(8, AVIF_PIXEL_FORMAT_YUV420));
    bb::DecodeOptions options;
    options.poll = [] { return true; };
    EXPECT_EQ(kind_of([&] { bb::decode_avif(file.data(), file.size(), options, nullptr); }),
              bb::ErrorKind::Interrupted);
    EXPECT_EQ(kind_of([&] { bb::encode_avif(smooth(64, 64, 3, 8), bb::AvifMeta(), 75, 1, [] { return true; }); }),
              bb::ErrorKind::Interrupted);
}

// A cancel during the AV1 encoder itself (no hook inside it) is answered within the 5 ms the
// waiting thread polls at, not when the encoder finishes; the next encode waits for the one
// left running, and works.
TEST(Avif, ACancelDuringTheAv1EncoderIsAnsweredAtOnce) {
    const bb::Image big = bbtest::make_image(1600, 1200, 3);
    const auto start = std::chrono::steady_clock::now();
    const bb::Buffer whole = bb::encode_avif(big, bb::AvifMeta(), 75, 1, nullptr);
    const auto encode_time = std::chrono::steady_clock::now() - start;
    ASSERT_GT(encode_time, std::chrono::milliseconds(150)) << "too fast to show a cancel inside it";

    const auto late = bbtest::least_cancel_delay([&] {
        EXPECT_EQ(kind_of([&] { bb::encode_avif(big, bb::AvifMeta(), 75, 1, bbtest::DeadlinePoll::poll); }),
                  bb::ErrorKind::Interrupted);
    });
    EXPECT_LT(late, std::chrono::milliseconds(50))
        << "encode alone takes " << std::chrono::duration<double, std::milli>(encode_time).count() << " ms";
    // The next AV1 step waits for the abandoned one, then runs.
    const Bytes file = avif_of(smooth(32, 32, 3, 8), meta_of(8, AVIF_PIXEL_FORMAT_YUV420));
    EXPECT_EQ(decode(file).width, 32u);
}

// Whether two avifImages of one size, depth and format hold the same samples in every plane.
::testing::AssertionResult same_planes(const avifImage &a, const avifImage &b) {
    avifPixelFormatInfo info;
    avifGetPixelFormatInfo(a.yuvFormat, &info);
    const size_t bytes = a.depth > 8 ? 2 : 1;
    const int kAlpha = 3; // after AVIF_CHAN_Y, _U and _V (0.11 has no AVIF_CHAN_A)
    for (int c = 0; c <= kAlpha; c++) {
        const bool chroma = c == AVIF_CHAN_U || c == AVIF_CHAN_V;
        if (chroma && info.monochrome)
            continue;
        const uint8_t *pa = c == kAlpha ? a.alphaPlane : a.yuvPlanes[c];
        const uint8_t *pb = c == kAlpha ? b.alphaPlane : b.yuvPlanes[c];
        if (!pa || !pb) {
            if (pa != pb)
                return ::testing::AssertionFailure() << "plane " << c << " is missing from one";
            continue;
        }
        const uint32_t strides_a = c == kAlpha ? a.alphaRowBytes : a.yuvRowBytes[c];
        const uint32_t strides_b = c == kAlpha ? b.alphaRowBytes : b.yuvRowBytes[c];
        const uint32_t w = chroma ? (a.width + info.chromaShiftX) >> info.chromaShiftX : a.width;
        const uint32_t h = chroma ? (a.height + info.chromaShiftY) >> info.chromaShiftY : a.height;
        for (uint32_t y = 0; y < h; y++)
            if (std::memcmp(pa + size_t(y) * strides_a, pb + size_t(y) * strides_b, w * bytes) != 0)
                return ::testing::AssertionFailure() << "plane " << c << " differs in row " << y;
    }
    return ::testing::AssertionSuccess();
}

// One case of the strip tests: a picture's RGB(A) pixels and an empty avifImage of its size.
struct StripCase {
    int depth; // of the AVIF: 8, 10 or 12
    bool alpha;
    bb::Image pixels; // 8- or 16-bit RGB(A)
    std::unique_ptr<avifImage, void (*)(avifImage *)> planes{nullptr, avifImageDestroy};
    std::string what;

    // Zeroed pixels of the same layout, for a conversion from planes.
    bb::Image blank() const {
        bb::Image image =
            bbtest::make_image(pixels.width, pixels.height, pixels.channels, pixels.depth, pixels.alpha_channel);
        std::memset(image.row(0), 0, image.stride() * image.height);
        return image;
    }
    // libavif's RGB image for image, converted to or from planes.
    avifRGBImage rgb_of(bb::Image &image) const {
        avifRGBImage rgb;
        avifRGBImageSetDefaults(&rgb, planes.get());
        rgb.depth = uint32_t(image.depth);
        rgb.format = alpha ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB;
        rgb.chromaUpsampling = AVIF_CHROMA_UPSAMPLING_BEST_QUALITY;
        rgb.pixels = image.row(0);
        rgb.rowBytes = uint32_t(image.stride());
        return rgb;
    }
};

// Runs test on every depth and sampling, with and without alpha, at sizes that end inside a
// strip and on odd rows and columns.
template <typename Test> void for_every_strip_case(Test test) {
    for (const int depth : {8, 10, 12})
        for (const int format : kFormats)
            for (const bool alpha : {false, true})
                for (const auto &size : {std::pair<uint32_t, uint32_t>{131, 203}, {64, 128}, {7, 1}, {300, 67}}) {
                    StripCase c{
                        depth,
                        alpha,
                        bbtest::make_image(size.first, size.second, alpha ? 4 : 3, depth == 8 ? 8 : 16, alpha ? 3 : -1),
                        {avifImageCreate(size.first, size.second, uint32_t(depth), avifPixelFormat(format)),
                         avifImageDestroy},
                        std::to_string(depth) + " bits, format " + std::to_string(format) +
                            (alpha ? ", alpha, " : ", ") + std::to_string(size.first) + "x" +
                            std::to_string(size.second)};
                    test(c);
                }
}

// Strips of 64 rows through views give every plane exactly as one avifImageRGBToYUV call does.
TEST(AvifStrips, EncodeConversionMatchesOneCall) {
    for_every_strip_case([](StripCase &c) {
        avifRGBImage rgb = c.rgb_of(c.pixels);
        ASSERT_EQ(avifImageRGBToYUV(c.planes.get(), &rgb), AVIF_RESULT_OK) << c.what;
        std::unique_ptr<avifImage, void (*)(avifImage *)> strips(
            avifImageCreate(c.pixels.width, c.pixels.height, uint32_t(c.depth), c.planes->yuvFormat), avifImageDestroy);
        bb::rgb_to_yuv_in_strips(*strips, c.pixels, c.alpha, nullptr);
        EXPECT_TRUE(same_planes(*c.planes, *strips)) << c.what;
    });
}

// The same for the decode's conversion, whose bilinear chroma upsampling reads the chroma rows
// beyond a strip's own.
TEST(AvifStrips, DecodeConversionMatchesOneCall) {
    for_every_strip_case([](StripCase &c) {
        bb::rgb_to_yuv_in_strips(*c.planes, c.pixels, c.alpha, nullptr);
        bb::Image whole = c.blank(), strips = c.blank();
        avifRGBImage rgb = c.rgb_of(whole);
        ASSERT_EQ(avifImageYUVToRGB(c.planes.get(), &rgb), AVIF_RESULT_OK) << c.what;
        ASSERT_EQ(bb::yuv_to_rgb_in_strips(*c.planes, strips, c.alpha, nullptr), AVIF_RESULT_OK) << c.what;
        EXPECT_EQ(std::memcmp(whole.row(0), strips.row(0), whole.stride() * whole.height), 0) << c.what;
    });
}

// Both conversions ask poll after every strip, so a cancel is seen within one strip's work (a
// 2400-pixel-wide strip of 64 rows: a few milliseconds), and stops them there.
TEST(AvifStrips, PollsAfterEveryStripAndStopsWhenToldTo) {
    const bb::Image pixels = bbtest::make_image(2400, 1600, 3);
    std::unique_ptr<avifImage, void (*)(avifImage *)> out(avifImageCreate(2400, 1600, 8, AVIF_PIXEL_FORMAT_YUV420),
                                                          avifImageDestroy);
    bbtest::PollCounter::reset();
    bb::rgb_to_yuv_in_strips(*out, pixels, false, bbtest::PollCounter::poll);
    EXPECT_EQ(bbtest::PollCounter::calls, int(1600 / bb::kPollRows));
    bbtest::PollCounter::reset(3);
    EXPECT_EQ(kind_of([&] { bb::rgb_to_yuv_in_strips(*out, pixels, false, bbtest::PollCounter::poll); }),
              bb::ErrorKind::Interrupted);
    EXPECT_EQ(bbtest::PollCounter::calls, 3);

    bb::Image back = bbtest::make_image(2400, 1600, 3);
    bbtest::PollCounter::reset();
    EXPECT_EQ(bb::yuv_to_rgb_in_strips(*out, back, false, bbtest::PollCounter::poll), AVIF_RESULT_OK);
    EXPECT_EQ(bbtest::PollCounter::calls, int(1600 / bb::kPollRows));
    bbtest::PollCounter::reset(3);
    EXPECT_EQ(kind_of([&] { (void)bb::yuv_to_rgb_in_strips(*out, back, false, bbtest::PollCounter::poll); }),
              bb::ErrorKind::Interrupted);
    EXPECT_EQ(bbtest::PollCounter::calls, 3);
}

TEST(Avif, OtherFormatsConvertToAvifAndBack) {
    const bb::Image img = bbtest::make_image(64, 48, 4, 16, 3);
    const Bytes png = bbtest::png_of(img);
    bb::BlurOptions options;
    options.sigma = 2.0;
    options.quality = 90;
    options.output = bb::Format::Avif;
    const bb::Buffer out = bb::blur_image(png.data(), png.size(), options);
    const bb::ImageInfo info = bb::probe(out.data(), out.size());
    EXPECT_EQ(info.format, bb::Format::Avif);
    EXPECT_EQ(info.bit_depth, 12); // 16-bit PNG samples as 12-bit AVIF
    EXPECT_EQ(info.channels, 4);
    bb::Image want = bbtest::make_image(64, 48, 4, 16, 3);
    gaussian_blur(want, 2.0, nullptr);
    EXPECT_GT(psnr(decode(Bytes(out.begin(), out.end())), want), 40.0);

    options.output = bb::Format::Png;
    const bb::Buffer back = bb::blur_image(out.data(), out.size(), options);
    EXPECT_EQ(bb::probe(back.data(), back.size()).format, bb::Format::Png);
}

} // namespace
