#include "pipeline.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "formats.hpp"
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

// A blur written in another format than its input's. Where the input's line blurs as planes
// and the target's takes them (a YCbCr or grey JPEG to WebP), they stream from one to the
// other as a JPEG's do to its own encoder. Else the input's reader decodes it whole to grey,
// RGB or either with alpha (a JPEG's YCbCr converted by libjpeg), with the metadata that
// travels (the ICC profile, the EXIF orientation); it is blurred, and the target's writer
// converts it to what the target takes and encodes it (formats.hpp).
Buffer blur_to_format(const uint8_t *data, size_t size, const ImageInfo &info, Format target,
                      const BlurOptions &options, const DecodeOptions &decode) {
    const FormatEntry &from = format_entry(info.format), &to = format_entry(target);
    if (from.check_conversion)
        from.check_conversion(info, target);
    if (!to.writes_alpha && info.channels % 2 == 0) {
        throw Error(ErrorKind::Unsupported, std::string(to.title) + " has no alpha channel",
                    std::string("This ") + from.name + " image has alpha; blur it to " +
                        format_list(&FormatEntry::name, " or ", [](const FormatEntry &e) { return e.writes_alpha; }) +
                        ", which keep alpha.");
    }
    Buffer out;
    if (from.blur_planes && to.plane_writer &&
        from.blur_planes(data, size, info, options, decode, to.plane_writer, &out))
        return out;
    Pixels pixels = from.read(data, size, decode);
    gaussian_blur(pixels.image, options.sigma, options.poll);
    return to.write(pixels, options);
}

} // namespace

void validate_options(const BlurOptions &options) {
    if (!std::isfinite(options.sigma) || options.sigma < 0.0 || options.sigma > kMaxSigma)
        throw Error(ErrorKind::InvalidParameter, "sigma must be between 0 and 1000",
                    "sigma is the standard deviation of the Gaussian in pixels; got " + format_double(options.sigma) +
                        ".");
    if (options.quality < 1 || options.quality > 100)
        throw Error(ErrorKind::InvalidParameter, "quality must be between 1 and 100",
                    "quality is the JPEG quality; got " + std::to_string(options.quality) + ".");
}

ImageInfo checked_input(const uint8_t *data, size_t size, const BlurOptions &options, DecodeOptions *decode) {
    validate_options(options);
    const ImageInfo info = probe(data, size);
    check_pixel_limit(info.width, info.height, options.max_pixels);
    check_supported(info);
    decode->max_pixels = options.max_pixels;
    decode->poll = options.poll;
    decode->threads = options.threads;
    return info;
}

Buffer blur_image(const uint8_t *data, size_t size, const BlurOptions &options) {
    DecodeOptions decode;
    const ImageInfo info = checked_input(data, size, options, &decode);
    if (options.output && *options.output != info.format)
        return blur_to_format(data, size, info, *options.output, options, decode);
    return format_entry(info.format).blur(data, size, info, options, decode);
}

} // namespace bb
