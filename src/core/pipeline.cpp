#include "pipeline.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "codecs.hpp"
#include "gaussian.hpp"
#include "probe.hpp"

namespace bb {

namespace {

std::string format_double(double value) {
    std::ostringstream out;
    out.precision(10);
    out << value;
    return out.str();
}

} // namespace

void validate_options(const BlurOptions &options) {
    if (!std::isfinite(options.sigma) || options.sigma < 0.0 || options.sigma > kMaxSigma)
        throw Error(ErrorKind::InvalidParameter, "sigma must be between 0 and 1000",
                    "sigma is the standard deviation of the Gaussian in pixels; got " +
                        format_double(options.sigma) + ".");
    if (options.quality < 1 || options.quality > 100)
        throw Error(ErrorKind::InvalidParameter, "quality must be between 1 and 100",
                    "quality is the JPEG quality; got " + std::to_string(options.quality) + ".");
}

std::vector<uint8_t> blur_image(const uint8_t *data, size_t size, const BlurOptions &options) {
    validate_options(options);
    const ImageInfo info = probe(data, size);
    const uint64_t pixels = uint64_t(info.width) * info.height;
    if (pixels > options.max_pixels)
        throw Error(ErrorKind::TooLarge, "image too large",
                    "The image is " + std::to_string(info.width) + "x" + std::to_string(info.height) + " (" +
                        std::to_string(pixels) + " pixels); bytea_blur.max_pixels allows " +
                        std::to_string(options.max_pixels) + ".");
    check_supported(info);

    DecodeOptions decode;
    decode.max_pixels = options.max_pixels;
    decode.poll = options.poll;
    if (info.format == Format::Jpeg) {
        JpegMeta meta;
        Image image = decode_jpeg(data, size, decode, &meta);
        gaussian_blur(image, options.sigma, options.poll);
        return encode_jpeg(image, meta, options.quality, options.poll);
    }
    PngMeta meta;
    Image image = decode_png(data, size, decode, &meta);
    gaussian_blur(image, options.sigma, options.poll);
    return encode_png(image, meta, options.poll);
}

} // namespace bb
