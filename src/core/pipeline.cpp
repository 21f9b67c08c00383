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

// Below this sigma (in a plane's own pixels) a plane is blurred at its decoded resolution.
constexpr double kMinWorkingSigma = 2.0;
// Above this one it is first averaged down in blocks, so that the cost stays flat in sigma.
constexpr double kMaxWorkingSigma = 8.0;

// JPEG: blur each component plane in the file's own colour space and sampling. libjpeg's DCT
// scaling decodes at 1/2, 1/4 or 1/8 size when sigma is large enough that the finer detail
// would be blurred away anyway; block averaging takes larger sigmas further down; bilinear
// interpolation brings each plane back to its full size for the encoder.
std::vector<uint8_t> blur_jpeg(const uint8_t *data, size_t size, const BlurOptions &options,
                               const DecodeOptions &decode) {
    const double sigma = options.sigma;
    int scale = 1;
    while (scale < 8 && sigma / (2 * scale) >= kMinWorkingSigma)
        scale *= 2;
    JpegMeta meta;
    JpegPlanes decoded = decode_jpeg_planes(data, size, decode, scale, &meta);
    const JpegLayout layout = jpeg_layout(decoded.width, decoded.height, meta);
    std::vector<Buffer> planes(decoded.planes.size());
    std::vector<const uint8_t *> pointers(decoded.planes.size());
    for (size_t c = 0; c < decoded.planes.size(); c++) {
        Plane work = std::move(decoded.planes[c]);
        // sigma in this plane's own pixels, along each axis (chroma may be subsampled)
        double sx = sigma * work.width / decoded.width;
        double sy = sigma * work.height / decoded.height;
        const double smaller = std::min(sx, sy);
        if (smaller > kMaxWorkingSigma) {
            const uint32_t m = uint32_t(smaller / (kMaxWorkingSigma / 2));
            work = box_downsample(work, m, options.poll);
            const double box_variance = (double(m) * m - 1.0) / 12.0; // the averaging already blurred
            sx = std::sqrt(std::max(sx * sx - box_variance, 0.0)) / m;
            sy = std::sqrt(std::max(sy * sy - box_variance, 0.0)) / m;
        }
        gaussian_blur_plane(work, sx, sy, options.poll);
        planes[c].reset(size_t(layout.padded_width[c]) * layout.padded_height[c]);
        resample_to_u8(work, layout.comp_width[c], layout.comp_height[c], planes[c].data(), layout.padded_width[c],
                       layout.padded_width[c], layout.padded_height[c], options.poll);
        pointers[c] = planes[c].data();
    }
    return encode_jpeg_planes(layout, pointers.data(), meta, options.quality, options.poll);
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
    if (info.format == Format::Jpeg)
        return blur_jpeg(data, size, options, decode);
    PngMeta meta;
    Image image = decode_png(data, size, decode, &meta);
    gaussian_blur(image, options.sigma, options.poll);
    return encode_png(image, meta, options.poll);
}

} // namespace bb
