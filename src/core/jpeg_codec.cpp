// The interleaved JPEG codec: whole images of pixels in, whole images out. The blur itself
// streams component planes (jpeg_reader.cpp, jpeg_writer.cpp); this is the reference path the
// unit tests and the fixtures use, on the same libjpeg phases, and the writer of a JPEG blurred
// from another format.
#include "codecs.hpp"

#include <algorithm>
#include <stdexcept>

#include "jpeg_reader.hpp"
#include "jpeg_writer.hpp"

namespace bb {

using namespace jpeg;

Image decode_jpeg(const uint8_t *data, size_t size, const DecodeOptions &options, JpegMeta *meta) {
    DecodeJob job{};
    init_decode_job(job, data, size, options.poll);
    job.to_rgb = options.jpeg_to_rgb;
    DecodeGuard guard{&job};
    read_header(job, options, meta);

    const jpeg_decompress_struct &ci = job.cinfo;
    Image image;
    image.width = ci.output_width;
    image.height = ci.output_height;
    image.channels = ci.output_components;
    image.depth = 8;
    image.allocate();
    job.pixels = image.row(0);
    job.row_bytes = image.stride();

    check_decode(run_read_pixels(&job), job);
    return image;
}

Buffer encode_jpeg(const Image &image, const JpegMeta &meta, int quality, InterruptPoll poll, bool optimize) {
    EncodeJob job{};
    job.image = &image;
    const ExifOrientation exif(meta.orientation);
    EncodeGuard guard{&job};
    prepare_encode_job(job, meta, quality, poll, exif);
    job.optimize = optimize;
    check_encode(run_encode(&job), job);
    return take_output(job.dest);
}

Buffer encode_jpeg_from_pixels(Image &image, const std::vector<uint8_t> &icc, int orientation, int quality,
                               double sigma, InterruptPoll poll) {
    if (image.depth != 8 || image.row_prefix || (image.channels != 1 && image.channels != 3))
        throw std::logic_error("encode_jpeg_from_pixels: 8-bit grey or RGB pixels expected");
    JpegMeta input;
    input.components = image.channels;
    input.color_space = image.channels == 3 ? JCS_YCbCr : JCS_GRAYSCALE;
    input.icc = icc;
    input.orientation = orientation;
    if (image.channels == 3) {
        // JFIF's conversion, rounded (libjpeg's own, in floating point).
        for (uint32_t y = 0; y < image.height; y++) {
            uint8_t *p = image.row(y);
            for (uint32_t x = 0; x < image.width; x++, p += 3) {
                const double r = p[0], g = p[1], b = p[2];
                const double yy = 0.299 * r + 0.587 * g + 0.114 * b;
                const double cb = -0.168735892 * r - 0.331264108 * g + 0.5 * b + 128.0;
                const double cr = 0.5 * r - 0.418687589 * g - 0.081312411 * b + 128.0;
                p[0] = uint8_t(std::min(255.0, std::max(0.0, yy + 0.5)));
                p[1] = uint8_t(std::min(255.0, std::max(0.0, cb + 0.5)));
                p[2] = uint8_t(std::min(255.0, std::max(0.0, cr + 0.5)));
            }
            poll_every_rows(y, poll);
        }
    }
    const JpegEncoding encoding = jpeg_encoding_for(input, image.width, image.height, sigma);
    return encode_jpeg(image, encoding.meta, quality, poll, encoding.optimize);
}

} // namespace bb
