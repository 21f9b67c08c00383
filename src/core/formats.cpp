#include "formats.hpp"

#include <string>
#include <utility>

#include "convert.hpp"
#include "gaussian.hpp"

namespace bb {
namespace {

// ---- JPEG: blurred as planes in its own colour space and sampling (jpeg_blur.cpp); redacted
// in its DCT blocks (jpeg_regions.cpp) ------------------------------------------------------

Buffer blur_jpeg_regions_file(const uint8_t *data, size_t size, const ImageInfo &, const std::vector<Box> &boxes,
                              const BlurOptions &options, const DecodeOptions &decode) {
    return blur_jpeg_regions(data, size, boxes, options, decode);
}

void check_jpeg_conversion(const ImageInfo &info, Format target) {
    if (info.channels == 4)
        throw Error(ErrorKind::Unsupported, "a CMYK JPEG can only be blurred to JPEG",
                    std::string("Converting CMYK or YCCK to ") + format_name(target) +
                        " needs a colour profile; blur it with format NULL or 'jpeg'.");
}

Pixels read_jpeg(const uint8_t *data, size_t size, const DecodeOptions &decode) {
    DecodeOptions to_rgb = decode;
    to_rgb.jpeg_to_rgb = true;
    JpegMeta meta; // a braced list is evaluated in order: the decoder fills meta first
    return Pixels{decode_jpeg(data, size, to_rgb, &meta), std::move(meta.icc), meta.orientation};
}

// The orientation stays a tag: browsers apply a JPEG's.
Buffer write_jpeg(Pixels &pixels, const BlurOptions &options) {
    to_8bit(pixels.image, options.poll);
    return encode_jpeg_from_pixels(pixels.image, pixels.icc, pixels.orientation, options.quality, options.sigma,
                                   options.poll);
}

// ---- PNG: decoded as scanlines, blurred, filtered and compressed in place -----------------

// The blur of the whole image (boxes null) or inside boxes (PNG shows its pixels as stored).
Buffer blur_png_pixels(const uint8_t *data, size_t size, const std::vector<Box> *boxes, const BlurOptions &options,
                       const DecodeOptions &decode) {
    DecodeOptions scanlines = decode;
    scanlines.png_row_prefix = 1;
    PngMeta meta;
    if (!boxes) {
        Image image = decode_png_blurred(data, size, scanlines, options.sigma, &meta);
        return encode_png_in_place(image, meta, options.poll, kPngInMemoryBytes, options.threads);
    }
    Image image = decode_png(data, size, scanlines, &meta);
    blur_rects(image, stored_rects(*boxes, image.width, image.height, 0), options.sigma, options.poll);
    return encode_png_in_place(image, meta, options.poll, kPngInMemoryBytes, options.threads);
}

Buffer blur_png_file(const uint8_t *data, size_t size, const ImageInfo &, const BlurOptions &options,
                     const DecodeOptions &decode) {
    return blur_png_pixels(data, size, nullptr, options, decode);
}

Buffer blur_png_regions(const uint8_t *data, size_t size, const ImageInfo &, const std::vector<Box> &boxes,
                        const BlurOptions &options, const DecodeOptions &decode) {
    return blur_png_pixels(data, size, &boxes, options, decode);
}

Pixels read_png(const uint8_t *data, size_t size, const DecodeOptions &decode) {
    PngMeta meta;
    Pixels pixels;
    pixels.image = decode_png(data, size, decode, &meta);
    if (meta.has_iccp)
        pixels.icc = std::move(meta.iccp);
    return pixels;
}

// PNG's writer keeps no EXIF: the orientation is applied to the pixels.
Buffer write_png(Pixels &pixels, const BlurOptions &options) {
    apply_orientation(pixels.image, pixels.orientation, options.poll);
    PngMeta meta;
    if (!pixels.icc.empty()) {
        meta.has_iccp = true;
        meta.iccp_name = "ICC profile";
        meta.iccp = std::move(pixels.icc);
    }
    return encode_png(pixels.image, meta, options.poll, kPngInMemoryBytes, options.threads);
}

// ---- WebP: a lossy still image blurred in its planes (webp_codec.cpp); the others decoded
// whole, animations frame by frame ----------------------------------------------------------

// The blur of the whole image (boxes null) or inside boxes, of a still image or of every
// frame of an animation as it shows. The limit counts every frame's pixels: a thousand frames
// of a small canvas cost what one image of a thousand times its size does.
Buffer blur_webp_pixels(const uint8_t *data, size_t size, const ImageInfo &info, const std::vector<Box> *boxes,
                        const BlurOptions &options, const DecodeOptions &decode) {
    if (info.webp_animated) {
        WebpAnimation animation = read_webp_animation(data, size);
        animation.meta.whole_blur = !boxes;
        const uint64_t pixels = uint64_t(animation.width) * animation.height;
        if (pixels * animation.frames > options.max_pixels)
            throw Error(ErrorKind::TooLarge, "animation too large",
                        "The animation has " + std::to_string(animation.frames) + " frames of " +
                            std::to_string(animation.width) + "x" + std::to_string(animation.height) + " pixels, " +
                            std::to_string(pixels * animation.frames) + " in all, more than bytea_blur.max_pixels (" +
                            std::to_string(options.max_pixels) + ").");
        std::vector<Rect> rects;
        if (boxes)
            rects = stored_rects(*boxes, animation.width, animation.height, animation.meta.orientation);
        return transform_webp_animation(
            data, size, animation, options.quality,
            [&](Image &frame) {
                if (boxes)
                    blur_rects(frame, rects, options.sigma, options.poll);
                else
                    gaussian_blur(frame, options.sigma, options.poll);
            },
            options.poll);
    }
    Buffer out;
    if (!boxes && blur_webp_planes(data, size, info, options, decode, &out))
        return out;
    WebpMeta meta;
    Image image = decode_webp(data, size, decode, &meta);
    meta.whole_blur = !boxes;
    if (boxes)
        blur_rects(image, stored_rects(*boxes, image.width, image.height, meta.orientation), options.sigma,
                   options.poll);
    else
        gaussian_blur(image, options.sigma, options.poll);
    return encode_webp(image, meta, options.quality, options.poll, options.threads);
}

Buffer blur_webp_file(const uint8_t *data, size_t size, const ImageInfo &info, const BlurOptions &options,
                      const DecodeOptions &decode) {
    return blur_webp_pixels(data, size, info, nullptr, options, decode);
}

Buffer blur_webp_regions(const uint8_t *data, size_t size, const ImageInfo &info, const std::vector<Box> &boxes,
                         const BlurOptions &options, const DecodeOptions &decode) {
    return blur_webp_pixels(data, size, info, &boxes, options, decode);
}

void check_webp_conversion(const ImageInfo &info, Format target) {
    if (info.webp_animated)
        throw Error(ErrorKind::Unsupported, "an animated WebP can only be blurred to WebP",
                    std::string("Its frames cannot be written as one ") + format_name(target) +
                        " image; blur it with format NULL or 'webp'.");
}

Pixels read_webp(const uint8_t *data, size_t size, const DecodeOptions &decode) {
    WebpMeta meta;
    return Pixels{decode_webp(data, size, decode, &meta), std::move(meta.icc), meta.orientation};
}

// Browsers ignore a WebP's EXIF orientation (Chromium shows such a file sideways:
// test_browser.py): it is applied to the pixels, so that a photo shown upright stays upright.
Buffer write_webp(Pixels &pixels, const BlurOptions &options) {
    apply_orientation(pixels.image, pixels.orientation, options.poll);
    to_8bit(pixels.image, options.poll);
    grey_to_rgb(pixels.image, options.poll);
    WebpMeta meta;
    meta.icc = std::move(pixels.icc);
    meta.whole_blur = true;
    return encode_webp(pixels.image, meta, options.quality, options.poll, options.threads);
}

// ---- AVIF: still images, written back at the file's depth, sampling and colour description

// The blur of the whole image (boxes null) or inside boxes, which are placed on the picture a
// viewer shows: the clean aperture (clap), turned by irot and imir. The file keeps all it
// stores: the pixels outside the aperture too, and the clap. A whole blur is the aperture's
// own inside it, as a conversion's (no padding bled in), and its reflection outside, for the
// viewers that show every pixel (gaussian_blur_showing); a box's blur reads the aperture only.
Buffer blur_avif_pixels(const uint8_t *data, size_t size, const std::vector<Box> *boxes, const BlurOptions &options,
                        const DecodeOptions &decode) {
    AvifMeta meta;
    Image image = decode_avif(data, size, decode, &meta);
    const Rect shown = avif_clean_aperture(meta, image.width, image.height);
    if (boxes)
        blur_rects(image, stored_rects(*boxes, shown, avif_orientation(meta)), shown, options.sigma, options.poll);
    else
        gaussian_blur_showing(image, shown, options.sigma, options.poll);
    return encode_avif(image, meta, options.quality, options.threads, options.poll);
}

Buffer blur_avif_file(const uint8_t *data, size_t size, const ImageInfo &, const BlurOptions &options,
                      const DecodeOptions &decode) {
    return blur_avif_pixels(data, size, nullptr, options, decode);
}

Buffer blur_avif_regions(const uint8_t *data, size_t size, const ImageInfo &, const std::vector<Box> &boxes,
                         const BlurOptions &options, const DecodeOptions &decode) {
    return blur_avif_pixels(data, size, &boxes, options, decode);
}

// What a viewer shows, for another format's writer (which keeps no clap): the clean aperture
// alone, cut before the blur so that the pixels outside it (often an encoder's padding) do not
// bleed into its edges; irot and imir travel as the orientation.
Pixels read_avif(const uint8_t *data, size_t size, const DecodeOptions &decode) {
    AvifMeta meta;
    Image image = decode_avif(data, size, decode, &meta);
    crop(image, avif_clean_aperture(meta, image.width, image.height), decode.poll);
    return Pixels{std::move(image), std::move(meta.icc), avif_orientation(meta)};
}

// sRGB at 4:2:0, 8 bits or 12 for 16-bit pixels; the orientation applied to the pixels.
Buffer write_avif(Pixels &pixels, const BlurOptions &options) {
    apply_orientation(pixels.image, pixels.orientation, options.poll);
    AvifMeta meta;
    meta.icc = std::move(pixels.icc);
    return encode_avif(pixels.image, meta, options.quality, options.threads, options.poll);
}

// The table. The order is probe's: each signature excludes the others.
constexpr FormatEntry kFormats[] = {
    {Format::Jpeg, false, "jpeg", "jpg", "image/jpeg", "JPEG", is_jpeg, probe_jpeg, check_jpeg, blur_jpeg,
     check_jpeg_conversion, read_jpeg, write_jpeg, blur_jpeg_regions_file, blur_jpeg_planes, nullptr},
    {Format::Png, true, "png", nullptr, "image/png", "PNG", is_png, probe_png, nullptr, blur_png_file, nullptr,
     read_png, write_png, blur_png_regions, nullptr, nullptr},
    {Format::Webp, true, "webp", nullptr, "image/webp", "WebP", is_webp, probe_webp, nullptr, blur_webp_file,
     check_webp_conversion, read_webp, write_webp, blur_webp_regions, nullptr, webp_plane_writer},
    {Format::Avif, true, "avif", nullptr, "image/avif", "AVIF", is_avif, probe_avif, check_avif, blur_avif_file,
     nullptr, read_avif, write_avif, blur_avif_regions, nullptr, nullptr},
};

} // namespace

const FormatEntry *FormatTable::begin() const noexcept {
    return std::begin(kFormats);
}
const FormatEntry *FormatTable::end() const noexcept {
    return std::end(kFormats);
}

FormatTable format_table() noexcept {
    return FormatTable();
}

const FormatEntry &format_entry(Format format) noexcept {
    for (const FormatEntry &entry : kFormats)
        if (entry.format == format)
            return entry;
    return kFormats[0];
}

std::string format_list(const char *FormatEntry::*label, const char *last_joint, bool (*include)(const FormatEntry &)) {
    std::vector<const char *> labels;
    for (const FormatEntry &entry : kFormats)
        if (!include || include(entry))
            labels.push_back(entry.*label);
    std::string out;
    for (size_t i = 0; i < labels.size(); i++) {
        if (i > 0)
            out += i + 1 == labels.size() ? last_joint : ", ";
        out += labels[i];
    }
    return out;
}

} // namespace bb
