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
#include "plane_blur.hpp"

namespace bb {

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
    JpegPlaneWriter writer(layout, encoding.meta, options.quality, encoding.optimize, options.poll, encoding.split,
                           options.threads, encoding.statistics_stride);
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
