#include "pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "codecs.hpp"
#include "gaussian.hpp"
#include "planes.hpp"
#include "probe.hpp"

namespace bb {

namespace {

std::string format_double(double value) {
    std::ostringstream out;
    out.precision(10);
    out << value;
    return out.str();
}

// A plane is blurred at a resolution where its sigma is at least this many pixels: below it
// the Gaussian still has detail to keep; above it the finer samples only cost time.
constexpr double kWorkingSigma = 2.0;

// JPEG: blur each component plane in the file's own colour space and sampling. Each plane is
// averaged down in blocks until its sigma is about kWorkingSigma pixels (libjpeg's DCT
// scaling does the first factor of 8 for large sigmas, almost for free), blurred there with
// its own sigma per axis, and brought back to its full size by bilinear interpolation for the
// encoder. The cost per pixel no longer grows with sigma.
std::vector<uint8_t> blur_jpeg(const uint8_t *data, size_t size, const BlurOptions &options,
                               const DecodeOptions &decode) {
    const double sigma = options.sigma;
    // Scaled decoding at 1/2 and 1/4 measured no faster than a full decode with libjpeg-turbo
    // 2.1; 1/8 needs only the DC coefficients.
    const int scale = sigma >= 8 * 2 * kWorkingSigma ? 8 : 1;
    JpegMeta meta;
    JpegPlanes decoded = decode_jpeg_planes(data, size, decode, scale, sigma, kWorkingSigma, &meta);
    const JpegLayout layout = jpeg_layout(decoded.width, decoded.height, meta);
    std::vector<Buffer> planes(decoded.planes.size());
    std::vector<const uint8_t *> pointers(decoded.planes.size());
    int max_h = 1, max_v = 1;
    for (int c = 0; c < meta.components; c++) {
        max_h = std::max(max_h, meta.h_samp[c]);
        max_v = std::max(max_v, meta.v_samp[c]);
    }
    for (size_t c = 0; c < decoded.planes.size(); c++) {
        Plane work = std::move(decoded.planes[c]);
        const double m = decoded.block[c];
        // sigma in this plane's own samples, along each axis (chroma may be subsampled), less
        // what the block averaging already blurred
        const double box_variance = (m * m - 1.0) / 12.0;
        const double sx = std::sqrt(std::max(std::pow(sigma / decoded.step_x[c], 2) - box_variance, 0.0)) / m;
        const double sy = std::sqrt(std::max(std::pow(sigma / decoded.step_y[c], 2) - box_variance, 0.0)) / m;
        gaussian_blur_plane(work, sx, sy, options.poll);
        // plane samples per sample of the component at full size
        const double ratio_x = double(max_h) / meta.h_samp[c] / (decoded.step_x[c] * m);
        const double ratio_y = double(max_v) / meta.v_samp[c] / (decoded.step_y[c] * m);
        planes[c].reset(size_t(layout.padded_width[c]) * layout.padded_height[c]);
        resample_to_u8(work, ratio_x, ratio_y, layout.comp_width[c], layout.comp_height[c], planes[c].data(),
                       layout.padded_width[c], layout.padded_width[c], layout.padded_height[c], options.poll);
        pointers[c] = planes[c].data();
    }
    return encode_jpeg_planes(layout, pointers.data(), meta, options.quality, options.poll);
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

std::vector<uint8_t> blur_image(const uint8_t *data, size_t size, const BlurOptions &options) {
    validate_options(options);
    const ImageInfo info = probe(data, size);
    check_pixel_limit(info.width, info.height, options.max_pixels);
    check_supported(info);

    DecodeOptions decode;
    decode.max_pixels = options.max_pixels;
    decode.poll = options.poll;
    if (info.format == Format::Jpeg)
        return blur_jpeg(data, size, options, decode);
    PngMeta meta;
    Image image = decode_png(data, size, decode, &meta);
    gaussian_blur(image, options.sigma, options.poll);
    return encode_png(image, meta, options.poll);
}

} // namespace bb
