// The interleaved JPEG codec: whole images of pixels in, whole images out. The blur itself
// streams component planes (jpeg_reader.cpp, jpeg_writer.cpp); this is the reference path the
// unit tests and the fixtures use, on the same libjpeg phases.
#include "codecs.hpp"
#include "jpeg_reader.hpp"
#include "jpeg_writer.hpp"

namespace bb {

using namespace jpeg;

Image decode_jpeg(const uint8_t *data, size_t size, const DecodeOptions &options, JpegMeta *meta) {
    DecodeJob job{};
    init_decode_job(job, data, size, options.poll);
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

Buffer encode_jpeg(const Image &image, const JpegMeta &meta, int quality, InterruptPoll poll) {
    EncodeJob job{};
    job.image = &image;
    const ExifOrientation exif(meta.orientation);
    EncodeGuard guard{&job};
    prepare_encode_job(job, meta, quality, poll, exif);
    const Status status = run_encode(&job);
    if (status == Status::Interrupted)
        throw_interrupted();
    if (status != Status::Ok)
        throw_jpeg_error(job.err, false);
    return take_output(job.dest);
}

} // namespace bb
