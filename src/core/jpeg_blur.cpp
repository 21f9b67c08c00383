// A JPEG blurred in its own colour space and sampling: its component planes stream from the
// decoder to the encoder one iMCU row at a time (the format table's JPEG line, formats.cpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>
// jpeglib.h needs size_t and FILE declared first
#include <jpeglib.h>

#include "codecs.hpp"
#include "formats.hpp"
#include "gaussian.hpp"
#include "planes.hpp"

namespace bb {

namespace {

// A plane is blurred at a resolution where its sigma is at least this many pixels: below it
// the Gaussian still has detail to keep; above it the finer samples only cost time. From a
// full-size decode, 1.25: at sigma 5 the real photos of test/bench/run came out at 47-55 dB
// against SciPy in four fifths of the time that 2.0 took (50-60 dB); 1.0 saved little more
// for 45-52 dB (the target: 42). From libjpeg's 1/8-scale decode, 2.0: there the planes are
// small already, and 1.25 fell below 42 dB at sigma 100 on a small image, where the
// reflected borders are most of what is left.
constexpr double kWorkingSigma = 1.25;
constexpr double kWorkingSigmaScaled = 2.0;

// Variance (in image pixels squared, along one axis) of the linear interpolation from samples
// `spacing` pixels apart to the output's samples, `ratio` source samples per output sample,
// centres aligned as interpolation_taps aligns them: an output at fraction t between two
// source samples is their mix (1 - t, t), a blur of variance t (1 - t) spacing^2, averaged
// over the output's phases (11/64 spacing^2 for a factor of 4 up, 1/4 for a factor of 2 down).
double interpolation_variance(double ratio, double spacing) {
    if (ratio == 1.0)
        return 0.0;
    constexpr int kPhases = 256;
    double sum = 0.0;
    for (int i = 0; i < kPhases; i++) {
        const double x = (i + 0.5) * ratio - 0.5;
        const double t = x - std::floor(x);
        sum += t * (1.0 - t);
    }
    return sum / kPhases * spacing * spacing;
}

// Variance, in image pixels squared along one axis, of a viewer's upsampling of chroma
// subsampled by `factor`: libjpeg's default ("fancy") upsampling by 2, which browsers use too,
// is a triangle (3/4 and 1/4 of the two nearest samples): 3/16 of the spacing squared, 0.75;
// other factors are replicated, a box.
double chroma_upsampling_variance(int factor) {
    if (factor == 1)
        return 0.0;
    return factor == 2 ? 0.75 : (double(factor) * factor - 1.0) / 12.0;
}

// The subsampling factor of component c in a file described by meta, along x or y.
int input_factor(const JpegMeta &meta, int c, bool x) {
    int max_samp = 1;
    for (int i = 0; i < meta.components; i++)
        max_samp = std::max(max_samp, x ? meta.h_samp[i] : meta.v_samp[i]);
    return max_samp / (x ? meta.h_samp[c] : meta.v_samp[c]);
}

// The Gaussian's sigma, in the plane's block-averaged samples along one axis, that makes the
// served picture SciPy's blur of the input as a viewer shows it. Besides our own blur, every
// step on the way smooths the plane, and a variance in image pixels squared is subtracted for
// each (Gaussian variances add):
//  - the decoded samples, `step` pixels apart (libjpeg's scaled IDCT, or the input's own
//    chroma subsampling `factor_in`): each stands for step / factor_in of the input's samples,
//    (step^2 - factor_in^2) / 12;
//  - the averaging of m x m decoded samples: (m^2 - 1) / 12 of their spacing squared;
//  - the linear interpolation up (or down) to the output's samples (interpolation_variance);
//  - the viewer's upsampling of the output's chroma (factor_out), less that of the input's
//    (factor_in), which the reference already has.
// Without them a sigma of 5 came out as about 5.4 on libjpeg's 1/4-scale decode: on the
// OneStandsOut photo at quality 75, luma's PSNR against SciPy was 44.8 dB, now 48.8 (the
// benchmark's bytes table, in RGB: 42.9 -> 44.5 dB), at no cost in time.
double plane_sigma(double sigma, double step, int factor_in, uint32_t m, double ratio, int factor_out) {
    const double spacing = step * m; // of the blurred samples, in image pixels
    const double variance = sigma * sigma - (step * step - double(factor_in) * factor_in) / 12.0 -
                            (double(m) * m - 1.0) / 12.0 * step * step - interpolation_variance(ratio, spacing) -
                            chroma_upsampling_variance(factor_out) + chroma_upsampling_variance(factor_in);
    return std::sqrt(std::max(variance, 0.0)) / spacing;
}

} // namespace

int jpeg_decode_scale(double sigma) {
    // 1/8 keeps only the DC coefficients. 1/4 and 1/2 (libjpeg-turbo's reduced IDCTs) where the
    // plane keeps kWorkingSigma: the entropy decoding costs the same, but the IDCT, the planes
    // and our block averaging shrink. At sigma 5 on the 2.5-4 MP photos of test/bench/run: Path
    // 25.2 -> 20.5 ms, ColdRipple 19.4 -> 16.4, FallenLeaf 13.6 -> 11.8, at 45.5-53.7 dB
    // against SciPy (a full decode: 47.2-54.8); 44.6 dB at worst at sigma 31.
    if (sigma >= 8 * 2 * kWorkingSigmaScaled)
        return 8;
    if (sigma >= 4 * kWorkingSigma)
        return 4;
    if (sigma >= 2 * kWorkingSigma)
        return 2;
    return 1;
}

namespace {

// Streams reader's planes, blurred at sigma, into sink's layout (meta: its sampling): each
// plane is averaged down in blocks until its sigma is about kWorkingSigma samples (libjpeg's
// DCT scaling does the first factor of 2, 4 or 8, see jpeg_decode_scale), blurred there with
// its own sigma per axis, and brought to the sink's sampling by bilinear interpolation as the
// sink asks for rows. The cost per pixel no longer grows with sigma, and no whole plane is
// ever held in memory. Then reads the rest of the file, so that a corrupt end is still an
// error, and returns what the sink wrote.
Buffer stream_planes(JpegPlaneReader &reader, const JpegMeta &input, const JpegMeta &meta, double sigma,
                     PlaneSink &sink, InterruptPoll poll) {
    const int scale = jpeg_decode_scale(sigma);
    const double working_sigma = scale == 8 ? kWorkingSigmaScaled : kWorkingSigma;
    const JpegLayout &layout = sink.layout();
    const int components = reader.components();
    int max_h = 1, max_v = 1;
    for (int c = 0; c < components; c++) {
        max_h = std::max(max_h, meta.h_samp[c]);
        max_v = std::max(max_v, meta.v_samp[c]);
    }
    std::vector<PlaneStream> streams;
    streams.reserve(size_t(components));
    for (int c = 0; c < components; c++) {
        const double step_x = reader.step_x(c), step_y = reader.step_y(c);
        const double samples = std::min(sigma / step_x, sigma / step_y);
        const uint32_t m = uint32_t(std::max(1.0, std::floor(samples / working_sigma)));
        PlaneGeometry g;
        g.in_width = reader.plane_width(c);
        g.in_height = reader.plane_height(c);
        g.block = m;
        // blurred samples per sample of the component at full size
        g.ratio_x = double(max_h) / meta.h_samp[c] / (step_x * m);
        g.ratio_y = double(max_v) / meta.v_samp[c] / (step_y * m);
        g.sigma_x = plane_sigma(sigma, step_x, input_factor(input, c, true), m, g.ratio_x, max_h / meta.h_samp[c]);
        g.sigma_y = plane_sigma(sigma, step_y, input_factor(input, c, false), m, g.ratio_y, max_v / meta.v_samp[c]);
        g.out_width = layout.comp_width[c];
        g.out_height = layout.comp_height[c];
        g.padded_width = layout.padded_width[c];
        const SampleMap map = sink.sample_map(c);
        g.scale = map.scale;
        g.offset = map.offset;
        streams.emplace_back(g);
    }
    auto decode_more = [&] {
        if (!reader.next())
            throw std::logic_error("blur_jpeg: the decoder ran out of rows");
        for (int c = 0; c < components; c++)
            for (uint32_t r = 0; r < reader.row_count(c); r++)
                streams[size_t(c)].push(reader.row(c, r));
    };
    for (uint32_t step = 0; !sink.done(); step++) {
        if (poll && poll())
            throw_interrupted();
        for (int c = 0; c < components; c++) {
            PlaneStream &stream = streams[size_t(c)];
            const uint32_t rows = sink.rows_per_step(c);
            for (uint32_t r = 0; r < rows; r++) {
                const uint32_t y = step * rows + r;
                if (y >= layout.comp_height[c]) { // below the image: whole blocks repeat its last row
                    if (r == 0)
                        throw std::logic_error("blur_jpeg: an iMCU row below the image");
                    std::memcpy(sink.row(c, r), sink.row(c, r - 1), layout.padded_width[c]);
                    continue;
                }
                while (!stream.ready(y))
                    decode_more();
                stream.write(y, sink.row(c, r));
            }
        }
        sink.write();
    }
    while (reader.next()) { // the rest of the file, so that a corrupt end is still an error
    }
    return sink.finish();
}

// Whether the planes' blur holds for a picture of this size. Their block-averaged (and scaled)
// samples each stand for a whole block of pixels, and where the kernel reaches across most of
// the picture, the partial blocks at its right and bottom edges weigh as much as whole ones:
// 33 columns blurred at sigma 12 came out 7 levels redder on average than SciPy's blur
// (test_jpeg_encoding.cpp). Below sigma 2.5 nothing is averaged, and from 8 sigma on a side
// the edges are a small part of what the kernel sees (within half a level on average).
bool planes_hold(uint32_t width, uint32_t height, double sigma) {
    return sigma < 2 * kWorkingSigma || double(std::min(width, height)) >= 8 * sigma;
}

// A picture too small for the planes' blur, blurred whole: decoded in its own colour space at
// full size (chroma upsampled), blurred as pixels (gaussian.hpp) and written as blur_jpeg
// writes. It is small along one side at least, and the pixel limit bounds the other.
Buffer blur_jpeg_whole(const uint8_t *data, size_t size, const BlurOptions &options, const DecodeOptions &decode) {
    JpegMeta input;
    Image image = decode_jpeg(data, size, decode, &input);
    gaussian_blur(image, options.sigma, options.poll);
    const JpegEncoding encoding = jpeg_encoding_for(input, image.width, image.height, options.sigma);
    return encode_jpeg(image, encoding.meta, options.quality, options.poll, encoding.optimize);
}

} // namespace

// JPEG: each component plane blurred in the file's own colour space, streaming from the
// decoder to the encoder one iMCU row at a time (stream_planes), resampled to the output's
// sampling (codecs.hpp: jpeg_encoding_for), whatever the input's; a picture too small for
// that, blurred whole.
Buffer blur_jpeg(const uint8_t *data, size_t size, const ImageInfo &info, const BlurOptions &options,
                 const DecodeOptions &decode) {
    if (!planes_hold(info.width, info.height, options.sigma))
        return blur_jpeg_whole(data, size, options, decode);
    JpegMeta input;
    JpegPlaneReader reader(data, size, decode, jpeg_decode_scale(options.sigma), &input);
    const JpegEncoding encoding = jpeg_encoding_for(input, reader.width(), reader.height(), options.sigma);
    const JpegLayout layout = jpeg_layout(reader.width(), reader.height(), encoding.meta);
    JpegPlaneWriter writer(layout, encoding.meta, options.quality, encoding.optimize, options.poll);
    return stream_planes(reader, input, encoding.meta, options.sigma, writer, options.poll);
}

// Another format's writer from the same planes: a YCbCr JPEG's at 4:2:0, a greyscale one's
// single plane. Declines (false, before any pixel is decoded) a JPEG in another colour space,
// and a picture too small for the planes' blur.
bool blur_jpeg_planes(const uint8_t *data, size_t size, const ImageInfo &info, const BlurOptions &options,
                      const DecodeOptions &decode, PlaneWriterMaker make_writer, Buffer *out) {
    if (!planes_hold(info.width, info.height, options.sigma))
        return false;
    JpegMeta input;
    JpegPlaneReader reader(data, size, decode, jpeg_decode_scale(options.sigma), &input);
    PlaneImage image;
    image.width = reader.width();
    image.height = reader.height();
    image.components = input.components;
    if (!((input.components == 3 && input.color_space == JCS_YCbCr) ||
          (input.components == 1 && input.color_space == JCS_GRAYSCALE)))
        return false;
    image.icc = std::move(input.icc);
    image.orientation = input.orientation;
    const std::unique_ptr<PlaneSink> writer = make_writer(image, options);
    if (!writer)
        return false;
    JpegMeta meta = input;
    for (int c = 0; c < meta.components; c++)
        meta.h_samp[c] = meta.v_samp[c] = c == 0 && meta.components == 3 ? 2 : 1;
    *out = stream_planes(reader, input, meta, options.sigma, *writer, options.poll);
    return true;
}

} // namespace bb
