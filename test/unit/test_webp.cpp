// WebP (libwebp): still images lossy and lossless, alpha, the metadata policy (ICC kept, EXIF
// cut to its orientation, XMP dropped), the limits read from the header, animations blurred
// frame by frame (times, loop count, the frames' limit), every truncation an error, a cancel;
// the import of pixels in strips.
#include <gtest/gtest.h>

#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "codecs.hpp"
#include "exif.hpp"
#include "formats.hpp"
#include "gaussian.hpp"
#include "helpers.hpp"
#include "pipeline.hpp"
#include "probe.hpp"
#include "regions.hpp"
#include "webp_convert.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

// A WebP of img (8-bit RGB or RGBA) through libwebp's simple API.
Bytes webp_of(const bb::Image &img, bool lossless, float quality = 90) {
    uint8_t *out = nullptr;
    const int stride = int(img.stride());
    size_t n;
    if (img.channels == 4)
        n = lossless ? WebPEncodeLosslessRGBA(img.row(0), int(img.width), int(img.height), stride, &out)
                     : WebPEncodeRGBA(img.row(0), int(img.width), int(img.height), stride, quality, &out);
    else
        n = lossless ? WebPEncodeLosslessRGB(img.row(0), int(img.width), int(img.height), stride, &out)
                     : WebPEncodeRGB(img.row(0), int(img.width), int(img.height), stride, quality, &out);
    Bytes bytes(out, out + n);
    WebPFree(out);
    return bytes;
}

// file with the given chunks set (ICCP, EXIF, XMP ) by libwebp's muxer.
Bytes with_chunks(const Bytes &file, const std::vector<std::pair<std::string, Bytes>> &chunks) {
    const WebPData in = {file.data(), file.size()};
    WebPMux *mux = WebPMuxCreate(&in, 1);
    for (const auto &c : chunks) {
        const WebPData d = {c.second.data(), c.second.size()};
        EXPECT_EQ(WebPMuxSetChunk(mux, c.first.c_str(), &d, 1), WEBP_MUX_OK);
    }
    WebPData out;
    WebPDataInit(&out);
    EXPECT_EQ(WebPMuxAssemble(mux, &out), WEBP_MUX_OK);
    Bytes bytes(out.bytes, out.bytes + out.size);
    WebPDataClear(&out);
    WebPMuxDelete(mux);
    return bytes;
}

// The payload of a chunk of file, empty when absent.
Bytes chunk(const Bytes &file, const char *fourcc) {
    const WebPData in = {file.data(), file.size()};
    WebPDemuxer *demux = WebPDemux(&in);
    Bytes out;
    WebPChunkIterator it;
    if (demux && WebPDemuxGetChunk(demux, fourcc, 1, &it)) {
        out.assign(it.chunk.bytes, it.chunk.bytes + it.chunk.size);
        WebPDemuxReleaseChunkIterator(&it);
    }
    WebPDemuxDelete(demux);
    return out;
}

// A big-endian TIFF structure with IFD0 holding the orientation and a second tag (a camera
// make), as a camera writes more than the orientation.
Bytes exif_tiff(int orientation) {
    Bytes t = {'M',  'M',  0, 42, 0, 0, 0, 8, 0,   2, // header, IFD0 at 8, 2 entries
               0x01, 0x0f, 0, 2,  0, 0, 0, 4, 'C', 'a',
               'm',  0, // Make, ASCII, "Cam"
               0x01, 0x12, 0, 3,  0, 0, 0, 1, 0,   uint8_t(orientation),
               0,    0, // orientation
               0,    0,    0, 0};
    return t;
}

bb::Image decode(const Bytes &file, bb::WebpMeta *meta = nullptr, bb::DecodeOptions options = {}) {
    return bb::decode_webp(file.data(), file.size(), options, meta);
}

bb::Buffer blur(const Bytes &file, double sigma, int quality = 75) {
    bb::BlurOptions options;
    options.sigma = sigma;
    options.quality = quality;
    return bb::blur_image(file.data(), file.size(), options);
}

Bytes bytes_of(const bb::Buffer &b) {
    return Bytes(b.begin(), b.end());
}

} // namespace

TEST(Webp, LosslessDecodesExactlyWithAndWithoutAlpha) {
    for (const int channels : {3, 4}) {
        const bb::Image img = bbtest::make_image(37, 21, channels, 8, channels == 4 ? 3 : -1);
        const Bytes file = webp_of(img, true);
        const bb::ImageInfo info = bb::probe(file.data(), file.size());
        EXPECT_EQ(info.format, bb::Format::Webp);
        EXPECT_STREQ(bb::format_name(info.format), "webp");
        EXPECT_STREQ(bb::mime_type(info.format), "image/webp");
        EXPECT_EQ(info.width, 37u);
        EXPECT_EQ(info.height, 21u);
        EXPECT_EQ(info.channels, channels);
        EXPECT_EQ(info.bit_depth, 8);
        EXPECT_TRUE(info.webp_lossless);
        bb::WebpMeta meta;
        const bb::Image out = decode(file, &meta);
        EXPECT_TRUE(meta.lossless);
        ASSERT_EQ(out.channels, channels);
        EXPECT_EQ(out.alpha_channel, channels == 4 ? 3 : -1);
        for (uint32_t y = 0; y < img.height; y++)
            ASSERT_EQ(std::memcmp(out.row(y), img.row(y), img.row_bytes()), 0) << channels << " row " << y;
    }
}

TEST(Webp, LosslessInLosslessOutExactlyTheBlur) {
    for (const int channels : {3, 4}) {
        const bb::Image img = bbtest::make_image(64, 40, channels, 8, channels == 4 ? 3 : -1);
        const Bytes file = webp_of(img, true);
        const Bytes out = bytes_of(blur(file, 2.0));
        const bb::ImageInfo info = bb::probe(out.data(), out.size());
        EXPECT_EQ(info.format, bb::Format::Webp);
        EXPECT_TRUE(info.webp_lossless);
        EXPECT_EQ(info.channels, channels);
        bb::Image want = decode(file);
        bb::gaussian_blur(want, 2.0, nullptr);
        const bb::Image got = decode(out);
        for (uint32_t y = 0; y < want.height; y++)
            for (size_t i = 0; i < want.row_bytes(); i++) {
                // fully transparent pixels may carry any colour (libwebp's exact = 0)
                if (channels == 4 && want.row(y)[i - i % 4 + 3] == 0)
                    continue;
                ASSERT_EQ(got.row(y)[i], want.row(y)[i]) << channels << " at " << y << "," << i;
            }
    }
}

TEST(Webp, LossyInLossyOutAtQuality) {
    const bb::Image img = bbtest::make_image(96, 64, 3);
    const Bytes file = webp_of(img, false, 90);
    EXPECT_FALSE(bb::probe(file.data(), file.size()).webp_lossless);
    const Bytes low = bytes_of(blur(file, 1.0, 20)), high = bytes_of(blur(file, 1.0, 95));
    for (const Bytes *out : {&low, &high}) {
        const bb::ImageInfo info = bb::probe(out->data(), out->size());
        EXPECT_EQ(info.format, bb::Format::Webp);
        EXPECT_FALSE(info.webp_lossless);
        EXPECT_EQ(info.width, 96u);
        EXPECT_EQ(info.height, 64u);
    }
    EXPECT_LT(low.size(), high.size());
}

TEST(Webp, KeepsTheIccProfileAndTheOrientationAlone) {
    const Bytes icc(300, 0x5a);
    const Bytes xmp = {'<', 'x', '/', '>'};
    const Bytes file = with_chunks(webp_of(bbtest::make_image(20, 10, 3), true),
                                   {{"ICCP", icc}, {"EXIF", exif_tiff(6)}, {"XMP ", xmp}});
    bb::WebpMeta meta;
    decode(file, &meta);
    EXPECT_EQ(meta.icc, icc);
    EXPECT_EQ(meta.orientation, 6);
    const Bytes out = bytes_of(blur(file, 1.0));
    EXPECT_EQ(chunk(out, "ICCP"), icc);
    const Bytes exif = chunk(out, "EXIF");
    const bb::ExifOrientation minimal(6);
    EXPECT_EQ(exif, Bytes(minimal.bytes + 6, minimal.bytes + sizeof minimal.bytes)); // the orientation alone
    EXPECT_TRUE(chunk(out, "XMP ").empty());
    // and a file without metadata gets none
    const Bytes plain = bytes_of(blur(webp_of(bbtest::make_image(20, 10, 3), false), 1.0));
    EXPECT_TRUE(chunk(plain, "ICCP").empty());
    EXPECT_TRUE(chunk(plain, "EXIF").empty());
}

namespace {

// Blurring file cut short at any length is Error(InvalidData).
void expect_every_truncation_invalid(const Bytes &file, double sigma) {
    for (size_t n = 0; n < file.size(); n++) {
        try {
            blur(Bytes(file.begin(), file.begin() + long(n)), sigma);
            ADD_FAILURE() << "a truncation to " << n << " of " << file.size() << " bytes was accepted";
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::InvalidData) << n << ": " << e.what();
        }
    }
}

} // namespace

TEST(Webp, EveryTruncationIsAnError) {
    // lossy with alpha and an ICC profile: VP8X, ICCP, ALPH and VP8 chunks
    expect_every_truncation_invalid(
        with_chunks(webp_of(bbtest::make_image(24, 16, 4, 8, 3), false, 80), {{"ICCP", Bytes(40, 1)}}), 1.0);
}

TEST(Webp, ChunkSizesPastTheEndAreErrors) {
    Bytes file = webp_of(bbtest::make_image(24, 16, 3), true);
    // the first chunk (VP8L) declares more bytes than the file has
    file[16] = 0xff;
    file[17] = 0xff;
    file[18] = 0x0f;
    EXPECT_THROW(blur(file, 1.0), bb::Error);
    // the RIFF size likewise
    Bytes riff = webp_of(bbtest::make_image(24, 16, 3), true);
    riff[4] = 0xff;
    riff[5] = 0xff;
    riff[6] = 0xff;
    riff[7] = 0x0f;
    EXPECT_THROW(blur(riff, 1.0), bb::Error);
}

TEST(Webp, AHugeDeclaredImageIsRefusedFromItsHeader) {
    // a 1x1 lossless file whose VP8L header is made to declare 16384 x 16384
    Bytes file = webp_of(bbtest::make_image(1, 1, 3), true);
    ASSERT_EQ(file[20], 0x2f); // VP8L signature, then 14 bits of width - 1 and of height - 1
    const uint32_t bits = 16383u | (16383u << 14) | (uint32_t(file[24] >> 4) << 28);
    file[21] = uint8_t(bits);
    file[22] = uint8_t(bits >> 8);
    file[23] = uint8_t(bits >> 16);
    file[24] = uint8_t(bits >> 24);
    const bb::ImageInfo info = bb::probe(file.data(), file.size());
    EXPECT_EQ(info.width, 16384u);
    EXPECT_EQ(info.height, 16384u);
    try {
        blur(file, 1.0); // 268 megapixels against the default 100
        ADD_FAILURE() << "accepted";
    } catch (const bb::Error &e) {
        EXPECT_EQ(e.kind(), bb::ErrorKind::TooLarge) << e.what();
    }
}

// An animation of three lossless 16x16 frames (1, 2 and 3 tenths of a second, played three
// times; the encoder stores frames 2 and 3 as changed rectangles blended onto the canvas).
Bytes animation_of(std::vector<bb::Image> *frames) {
    WebPAnimEncoderOptions options;
    EXPECT_TRUE(WebPAnimEncoderOptionsInit(&options));
    options.anim_params.loop_count = 3;
    WebPAnimEncoder *encoder = WebPAnimEncoderNew(16, 16, &options);
    EXPECT_NE(encoder, nullptr);
    WebPConfig config;
    WebPConfigInit(&config);
    config.lossless = 1;
    const int starts[4] = {0, 100, 300, 600};
    for (int f = 0; f < 3; f++) {
        bb::Image img = bbtest::make_image(16, 16, 4, 8, 3);
        for (uint32_t y = 0; y < 16; y++)
            for (uint32_t x = 0; x < 16; x++) {
                uint8_t *p = img.row(y) + 4 * x;
                p[3] = 255;
                if (x >= uint32_t(4 * f) && x < uint32_t(4 * f + 6) && y < 8) // a square that moves
                    p[0] = p[1] = p[2] = uint8_t(40 * f);
            }
        WebPPicture pic;
        WebPPictureInit(&pic);
        pic.use_argb = 1;
        pic.width = 16;
        pic.height = 16;
        EXPECT_TRUE(WebPPictureImportRGBA(&pic, img.row(0), int(img.stride())));
        EXPECT_TRUE(WebPAnimEncoderAdd(encoder, &pic, starts[f], &config));
        WebPPictureFree(&pic);
        frames->push_back(std::move(img));
    }
    WebPAnimEncoderAdd(encoder, nullptr, starts[3], nullptr);
    WebPData anim;
    WebPDataInit(&anim);
    EXPECT_TRUE(WebPAnimEncoderAssemble(encoder, &anim));
    WebPAnimEncoderDelete(encoder);
    const Bytes file(anim.bytes, anim.bytes + anim.size);
    WebPDataClear(&anim);
    return file;
}

TEST(Webp, AnimationsAreBlurredFrameByFrame) {
    std::vector<bb::Image> frames;
    const Bytes file = animation_of(&frames);
    EXPECT_TRUE(bb::probe(file.data(), file.size()).webp_animated);
    const Bytes out = bbtest::bytes_of(blur(file, 2.0));

    WebPAnimDecoderOptions options;
    ASSERT_TRUE(WebPAnimDecoderOptionsInit(&options));
    options.color_mode = MODE_RGBA;
    const WebPData data = {out.data(), out.size()};
    WebPAnimDecoder *decoder = WebPAnimDecoderNew(&data, &options);
    ASSERT_NE(decoder, nullptr);
    WebPAnimInfo info;
    ASSERT_TRUE(WebPAnimDecoderGetInfo(decoder, &info));
    EXPECT_EQ(info.canvas_width, 16u);
    EXPECT_EQ(info.frame_count, 3u);
    EXPECT_EQ(info.loop_count, 3u);
    const int ends[3] = {100, 300, 600};
    for (int f = 0; WebPAnimDecoderHasMoreFrames(decoder); f++) {
        ASSERT_LT(f, 3);
        uint8_t *canvas = nullptr;
        int end = 0;
        ASSERT_TRUE(WebPAnimDecoderGetNext(decoder, &canvas, &end));
        EXPECT_EQ(end, ends[f]);
        bb::Image want = bbtest::make_image(16, 16, 4, 8, 3);
        std::memcpy(want.pixels.data(), frames[size_t(f)].pixels.data(), want.pixels.size());
        bb::gaussian_blur(want, 2.0, nullptr);
        EXPECT_EQ(std::memcmp(canvas, want.pixels.data(), want.pixels.size()), 0) << "frame " << f;
    }
    WebPAnimDecoderDelete(decoder);
    // the still decoder refuses it, naming what takes it
    EXPECT_THROW(bb::decode_webp(file.data(), file.size(), bb::DecodeOptions(), nullptr), bb::Error);
}

TEST(Webp, AnAnimationsLimitCountsEveryFrameAndACancelStopsIt) {
    std::vector<bb::Image> frames;
    const Bytes file = animation_of(&frames);
    bb::BlurOptions options;
    options.sigma = 2.0;
    options.max_pixels = 16 * 16 * 3 - 1; // each frame fits, the three do not
    try {
        bb::blur_image(file.data(), file.size(), options);
        ADD_FAILURE() << "accepted";
    } catch (const bb::Error &e) {
        EXPECT_EQ(e.kind(), bb::ErrorKind::TooLarge) << e.what();
    }
    options.max_pixels = 16 * 16 * 3;
    EXPECT_NO_THROW(bb::blur_image(file.data(), file.size(), options));
    options.poll = [] { return true; };
    try {
        bb::blur_image(file.data(), file.size(), options);
        ADD_FAILURE() << "not interrupted";
    } catch (const bb::Error &e) {
        EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
    }
    // a frame cut off: every truncation inside the frames is an error, never a crash
    for (size_t n = 12; n < file.size(); n += 7) {
        const Bytes cut(file.begin(), file.begin() + std::ptrdiff_t(n));
        options.poll = nullptr;
        EXPECT_THROW(bb::blur_image(cut.data(), cut.size(), options), bb::Error) << n;
    }
}

TEST(Webp, ACancelStopsTheDecodeAndTheEncode) {
    const bb::Image img = bbtest::make_image(300, 200, 3);
    for (const bool lossless : {true, false}) {
        const Bytes file = webp_of(img, lossless);
        bb::DecodeOptions options;
        options.poll = [] { return true; };
        try {
            decode(file, nullptr, options);
            ADD_FAILURE() << "the decode was not stopped";
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
        }
        bb::WebpMeta meta;
        meta.lossless = lossless;
        try {
            bb::encode_webp(img, meta, 75, [] { return true; });
            ADD_FAILURE() << "the encode was not stopped";
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
        }
    }
}

// A lossy WebP without alpha is blurred in its own planes (VP8's Y, U and V: blur_webp_planes),
// never as RGB pixels. Its picture must be what the pixels' way gives (the RGB decode blurred
// and encoded again): as close to the blur of the decoded pixels, the same colours, at odd and
// tiny sizes and from sigma 0.6 to 40; a picture under 8 sigma on a side goes the pixels' way.
TEST(WebpPlanes, ALossyWebpIsBlurredInItsPlanesAsItsPixelsWouldBe) {
    struct Case {
        uint32_t w, h;
        double sigma;
        bool planes; // whether the planes' blur holds (planes_hold)
    };
    const Case cases[] = {{96, 64, 0.6, true}, {61, 37, 2.0, true},  {250, 133, 12, true}, {640, 360, 5, true},
                          {641, 361, 5, true}, {640, 360, 40, true}, {333, 250, 12, true}, {1, 1, 5, false},
                          {2, 3, 0.6, true},   {33, 250, 12, false}, {97, 64, 3, true}};
    for (const Case &c : cases) {
        const Bytes file = webp_of(bbtest::make_image(c.w, c.h, 3), false, 92);
        const bb::ImageInfo info = bb::probe(file.data(), file.size());
        bb::BlurOptions options;
        options.sigma = c.sigma;
        options.quality = 95;
        bb::Buffer by_planes;
        const std::string what = std::to_string(c.w) + "x" + std::to_string(c.h) + " sigma " + std::to_string(c.sigma);
        ASSERT_EQ(bb::blur_webp_planes(file.data(), file.size(), info, options, bb::DecodeOptions(), &by_planes),
                  c.planes)
            << what;
        const Bytes out = bytes_of(blur(file, c.sigma, 95));
        if (c.planes) { // the format's blur takes that way
            EXPECT_EQ(out, bytes_of(by_planes)) << what;
        }
        bb::WebpMeta meta;
        bb::Image want = decode(file, &meta);
        bb::gaussian_blur(want, c.sigma, nullptr);
        meta.whole_blur = true;
        const bb::Image by_pixels = decode(bytes_of(bb::encode_webp(want, meta, 95, nullptr)));
        const bb::Image got = decode(out);
        ASSERT_EQ(got.width, c.w) << what;
        ASSERT_EQ(got.height, c.h) << what;
        ASSERT_EQ(got.channels, 3) << what;
        EXPECT_GT(bbtest::psnr(got, want), std::min(38.0, bbtest::psnr(by_pixels, want) - 1.5)) << what;
        const std::vector<double> got_means = bbtest::channel_means(got), want_means = bbtest::channel_means(want);
        for (size_t ch = 0; ch < 3; ch++)
            EXPECT_NEAR(got_means[ch], want_means[ch], 1.5) << what << " channel " << ch;
    }
}

// What the planes cannot hold goes the pixels' way: a lossless file (lossless out), alpha, an
// animation; so does a redaction's few boxes.
TEST(WebpPlanes, LosslessAlphaAndAnimationsGoThePixelsWay) {
    std::vector<bb::Image> frames;
    const Bytes files[] = {webp_of(bbtest::make_image(64, 48, 3), true),
                           webp_of(bbtest::make_image(64, 48, 4, 8, 3), false), animation_of(&frames)};
    for (const Bytes &file : files) {
        const bb::ImageInfo info = bb::probe(file.data(), file.size());
        bb::BlurOptions options;
        options.sigma = 1.0;
        bb::Buffer out;
        EXPECT_FALSE(bb::blur_webp_planes(file.data(), file.size(), info, options, bb::DecodeOptions(), &out));
        EXPECT_EQ(out.size(), 0u);
    }
}

// The metadata policy holds on the planes' way: the ICC profile kept, EXIF cut to the
// orientation, which stays a tag (the planes are not turned: the file keeps its stored size,
// odd sides included), XMP dropped.
TEST(WebpPlanes, KeepsTheProfileAndTheOrientationTag) {
    const Bytes icc(300, 0x5a);
    const Bytes xmp = {'<', 'x', '/', '>'};
    for (const auto &size : {std::pair<uint32_t, uint32_t>{90, 50}, {67, 45}}) {
        const Bytes file = with_chunks(webp_of(bbtest::make_image(size.first, size.second, 3), false),
                                       {{"ICCP", icc}, {"EXIF", exif_tiff(6)}, {"XMP ", xmp}});
        const bb::ImageInfo info = bb::probe(file.data(), file.size());
        bb::BlurOptions options;
        options.sigma = 3.0;
        bb::Buffer planes;
        ASSERT_TRUE(bb::blur_webp_planes(file.data(), file.size(), info, options, bb::DecodeOptions(), &planes));
        const Bytes out = bytes_of(planes);
        EXPECT_EQ(chunk(out, "ICCP"), icc);
        const bb::ExifOrientation minimal(6);
        EXPECT_EQ(chunk(out, "EXIF"), Bytes(minimal.bytes + 6, minimal.bytes + sizeof minimal.bytes));
        EXPECT_TRUE(chunk(out, "XMP ").empty());
        const bb::ImageInfo got = bb::probe(out.data(), out.size());
        EXPECT_EQ(got.width, size.first);
        EXPECT_EQ(got.height, size.second);
        EXPECT_FALSE(got.webp_lossless);
    }
}

// Every truncation of a lossy file is an error on the planes' way too, and a cancel at each of
// its polls stops it (or it asked fewer times); threads 2 writes the same file.
TEST(WebpPlanes, TruncationsCancelsAndThreads) {
    // no alpha: the planes' way
    expect_every_truncation_invalid(
        with_chunks(webp_of(bbtest::make_image(48, 40, 3), false, 80), {{"ICCP", Bytes(40, 1)}}), 3.0);
    const Bytes file = webp_of(bbtest::make_image(400, 300, 3), false, 90);
    bb::BlurOptions options;
    options.sigma = 5.0;
    const Bytes one = bytes_of(bb::blur_image(file.data(), file.size(), options));
    options.threads = 2;
    EXPECT_EQ(bytes_of(bb::blur_image(file.data(), file.size(), options)), one);
    options.threads = 1;
    options.poll = bbtest::PollCounter::poll;
    bbtest::PollCounter::reset(); // counting, no stop
    EXPECT_EQ(bytes_of(bb::blur_image(file.data(), file.size(), options)), one);
    EXPECT_GE(bbtest::expect_stops_at_every_poll([&] { bb::blur_image(file.data(), file.size(), options); }), 5);
}

namespace {

// Whether the VP8 bitstream of a lossy still file has segmentation on: the third bit of its
// first partition, after the colour space and clamping bits (RFC 6386, 9.2 and 9.3), read with
// the boolean decoder at probability one half.
bool vp8_segmentation(const Bytes &file) {
    size_t at = 12;
    while (at + 8 <= file.size() && std::memcmp(file.data() + at, "VP8 ", 4) != 0)
        at += 8 + ((size_t(file[at + 4]) | size_t(file[at + 5]) << 8 | size_t(file[at + 6]) << 16 |
                    size_t(file[at + 7]) << 24) +
                   1) /
                      2 * 2;
    EXPECT_LT(at + 8 + 12, file.size()) << "no VP8 chunk";
    const uint8_t *p = file.data() + at + 8 + 10; // after the frame tag, start code and size
    uint32_t value = uint32_t(p[0]) << 8 | p[1], range = 255;
    int bits = 0;
    size_t next = 2;
    const auto read_bit = [&] {
        const uint32_t split = 1 + (((range - 1) * 128) >> 8), big = split << 8;
        const bool bit = value >= big;
        if (bit) {
            range -= split;
            value -= big;
        } else {
            range = split;
        }
        while (range < 128) {
            value <<= 1;
            range <<= 1;
            if (++bits == 8) {
                bits = 0;
                value |= p[next++];
            }
        }
        return bit;
    };
    read_bit(); // colour space
    read_bit(); // clamping
    return read_bit();
}

} // namespace

// A lossy picture blurred all over is written with one segment (one quantiser: encoder_config),
// from a WebP's planes, from pixels and from a JPEG's planes; a redaction, mostly the input's
// sharp picture, keeps libwebp's segments.
TEST(WebpPlanes, AWholeBlurIsOneSegmentARedactionIsNot) {
    const bb::Image src = bbtest::make_image(400, 300, 3);
    const Bytes lossy = webp_of(src, false, 90);
    EXPECT_TRUE(vp8_segmentation(lossy)); // libwebp's default for the photo-like input
    bb::BlurOptions options;
    options.sigma = 5.0;
    EXPECT_FALSE(vp8_segmentation(bytes_of(bb::blur_image(lossy.data(), lossy.size(), options))));
    const Bytes inputs[] = {bbtest::png_of(src), bbtest::jpeg_of(src, JCS_YCbCr)};
    options.output = bb::Format::Webp;
    for (const Bytes &input : inputs)
        EXPECT_FALSE(vp8_segmentation(bytes_of(bb::blur_image(input.data(), input.size(), options))));
    options.output.reset();
    const std::vector<bb::Box> boxes = {{10, 10, 60, 40}};
    EXPECT_TRUE(vp8_segmentation(bytes_of(bb::blur_regions(lossy.data(), lossy.size(), boxes, options))));
}

namespace {

// A cancel during libwebp's lossless encoder, whose progress steps are hundreds of ms apart on a
// large picture, is answered within the 5 ms the waiting thread polls at; the encode left
// running ends at its next step, and the next encode works.
TEST(Webp, ACancelDuringALongEncoderStepIsAnsweredAtOnce) {
    const bb::Image big = bbtest::make_image(1400, 1000, 4, 8, 3);
    bb::WebpMeta lossless;
    lossless.lossless = true;
    const auto start = std::chrono::steady_clock::now();
    bb::encode_webp(big, lossless, 75, nullptr);
    const auto encode_time = std::chrono::steady_clock::now() - start;
    ASSERT_GT(encode_time, std::chrono::milliseconds(150)) << "too fast to show a cancel inside it";

    const auto late = bbtest::least_cancel_delay([&] {
        EXPECT_EQ(bbtest::kind_of([&] { bb::encode_webp(big, lossless, 75, bbtest::DeadlinePoll::poll); }),
                  bb::ErrorKind::Interrupted);
    });
    EXPECT_LT(late, std::chrono::milliseconds(50))
        << "encode alone takes " << std::chrono::duration<double, std::milli>(encode_time).count() << " ms";
    const bb::Buffer again = bb::encode_webp(bbtest::make_image(16, 16, 3), bb::WebpMeta(), 75, nullptr);
    EXPECT_GT(again.size(), 0u);
}

} // namespace

namespace {

// A picture for libwebp's encoder, freed with it.
struct TestPicture {
    WebPPicture p;
    TestPicture(const bb::Image &img, bool lossless) {
        WebPPictureInit(&p);
        p.use_argb = lossless ? 1 : 0;
        p.width = int(img.width);
        p.height = int(img.height);
    }
    ~TestPicture() { WebPPictureFree(&p); }
};

::testing::AssertionResult same_rows(const uint8_t *a, int a_stride, const uint8_t *b, int b_stride, uint32_t rows,
                                     size_t bytes, const char *plane) {
    if (!a || !b)
        return a == b ? ::testing::AssertionSuccess()
                      : ::testing::AssertionFailure() << "plane " << plane << " is missing from one";
    for (uint32_t r = 0; r < rows; r++)
        if (std::memcmp(a + size_t(r) * a_stride, b + size_t(r) * b_stride, bytes) != 0)
            return ::testing::AssertionFailure() << "plane " << plane << " differs in row " << r;
    return ::testing::AssertionSuccess();
}

// Strips of 64 rows give the picture one WebPPictureImportRGB(A) call gives, plane for plane:
// lossy (YUV 4:2:0, alpha) and lossless (ARGB), at sizes that end inside a strip and on odd
// rows and columns, opaque, transparent throughout, and transparent in one strip only (the
// others then have no alpha plane of their own).
TEST(WebpStrips, ImportMatchesOneCall) {
    for (const bool lossless : {false, true})
        for (const int kind : {3, 4, 40, 41}) // RGB; RGBA opaque; transparent everywhere; in one strip
            for (const auto &size : {std::pair<uint32_t, uint32_t>{131, 203}, {64, 128}, {7, 1}, {300, 67}}) {
                const int channels = kind == 3 ? 3 : 4;
                bb::Image img = bbtest::make_image(size.first, size.second, channels, 8, channels == 4 ? 3 : -1);
                if (channels == 4)
                    for (uint32_t y = 0; y < img.height; y++)
                        for (uint32_t x = 0; x < img.width; x++) {
                            uint8_t &alpha = img.row(y)[size_t(x) * 4 + 3];
                            const bool see_through = kind == 40 || (kind == 41 && y == img.height - 1 && x == 0);
                            if (!see_through)
                                alpha = 0xff;
                            else if (alpha == 0xff)
                                alpha = 0x80;
                        }
                const std::string what = std::string(lossless ? "lossless, " : "lossy, ") + "kind " +
                                         std::to_string(kind) + ", " + std::to_string(size.first) + "x" +
                                         std::to_string(size.second);
                TestPicture whole(img, lossless), strips(img, lossless);
                const int stride = int(img.stride());
                ASSERT_TRUE(channels == 4 ? WebPPictureImportRGBA(&whole.p, img.row(0), stride)
                                          : WebPPictureImportRGB(&whole.p, img.row(0), stride))
                    << what;
                ASSERT_TRUE(bb::import_in_strips(strips.p, img, nullptr)) << what;
                const uint32_t h = img.height, w = img.width;
                if (lossless) {
                    EXPECT_TRUE(same_rows(reinterpret_cast<const uint8_t *>(whole.p.argb), whole.p.argb_stride * 4,
                                          reinterpret_cast<const uint8_t *>(strips.p.argb), strips.p.argb_stride * 4, h,
                                          size_t(w) * 4, "ARGB"))
                        << what;
                    continue;
                }
                EXPECT_EQ(whole.p.colorspace, strips.p.colorspace) << what;
                EXPECT_TRUE(same_rows(whole.p.y, whole.p.y_stride, strips.p.y, strips.p.y_stride, h, w, "Y")) << what;
                EXPECT_TRUE(same_rows(whole.p.u, whole.p.uv_stride, strips.p.u, strips.p.uv_stride, (h + 1) / 2,
                                      (w + 1) / 2, "U"))
                    << what;
                EXPECT_TRUE(same_rows(whole.p.v, whole.p.uv_stride, strips.p.v, strips.p.uv_stride, (h + 1) / 2,
                                      (w + 1) / 2, "V"))
                    << what;
                EXPECT_TRUE(same_rows(whole.p.a, whole.p.a_stride, strips.p.a, strips.p.a_stride, h, w, "A")) << what;
            }
}

// The import asks poll after every strip (and every 64 rows of its look for transparency), so a
// cancel is seen within one strip's work, and stops it there.
TEST(WebpStrips, PollsAfterEveryStripAndStopsWhenToldTo) {
    const bb::Image img = bbtest::make_image(2400, 1600, 3);
    for (const bool lossless : {false, true}) {
        TestPicture counted(img, lossless);
        bbtest::PollCounter::reset();
        ASSERT_TRUE(bb::import_in_strips(counted.p, img, bbtest::PollCounter::poll));
        EXPECT_EQ(bbtest::PollCounter::calls, int(1600 / bb::kPollRows));
        TestPicture stopped(img, lossless);
        bbtest::PollCounter::reset(3);
        try {
            bb::import_in_strips(stopped.p, img, bbtest::PollCounter::poll);
            ADD_FAILURE() << "not stopped";
        } catch (const bb::Error &e) {
            EXPECT_EQ(e.kind(), bb::ErrorKind::Interrupted);
        }
        EXPECT_EQ(bbtest::PollCounter::calls, 3);
    }
}

} // namespace
