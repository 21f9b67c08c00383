#include "probe.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include <webp/decode.h>

#include "codecs.hpp"
#include "formats.hpp"

namespace bb {
namespace {

const uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
constexpr uint32_t kPngMaxDimension = 0x7fffffffu; // PNG_UINT_31_MAX

inline uint32_t be32(const uint8_t *p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
inline uint16_t be16(const uint8_t *p) {
    return uint16_t((p[0] << 8) | p[1]);
}

[[noreturn]] void invalid(const std::string &message, const std::string &detail) {
    throw Error(ErrorKind::InvalidData, message, detail);
}

std::string hex_prefix(const uint8_t *data, size_t size) {
    std::string out;
    char buf[4];
    for (size_t i = 0; i < size && i < 8; i++) {
        std::snprintf(buf, sizeof buf, i ? " %02X" : "%02X", data[i]);
        out += buf;
    }
    return out;
}

// Names formats we recognise but do not read, so that the user is told the real reason.
const char *other_format(const uint8_t *d, size_t n) {
    if (n >= 6 && (!std::memcmp(d, "GIF87a", 6) || !std::memcmp(d, "GIF89a", 6)))
        return "GIF";
    if (n >= 4 && (!std::memcmp(d, "II*\0", 4) || !std::memcmp(d, "MM\0*", 4)))
        return "TIFF";
    if (n >= 12 && !std::memcmp(d + 4, "ftyp", 4)) {
        if (!std::memcmp(d + 8, "heic", 4) || !std::memcmp(d + 8, "heix", 4) || !std::memcmp(d + 8, "mif1", 4))
            return "HEIF";
    }
    if (n >= 14 && d[0] == 'B' && d[1] == 'M')
        return "BMP";
    if (n >= 12 && !std::memcmp(d, "\0\0\0\x0cjP  ", 8))
        return "JPEG 2000";
    if (n >= 2 && d[0] == 0xff && d[1] == 0x0a)
        return "JPEG XL";
    return nullptr;
}

} // namespace

bool is_jpeg(const uint8_t *d, size_t n) {
    return n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff;
}

bool is_png(const uint8_t *d, size_t n) {
    return n >= 8 && !std::memcmp(d, kPngSignature, 8);
}

ImageInfo probe_jpeg(const uint8_t *d, size_t n) {
    ImageInfo info;
    info.format = Format::Jpeg;
    size_t pos = 2; // past SOI
    for (;;) {
        // Markers may be preceded by any number of 0xFF fill bytes.
        if (pos >= n)
            invalid("truncated JPEG header", "The data ends before the frame header (SOF marker).");
        if (d[pos] != 0xff)
            invalid("corrupt JPEG header", "Expected a marker at offset " + std::to_string(pos) + ", found byte " +
                                               hex_prefix(d + pos, 1) + ".");
        while (pos < n && d[pos] == 0xff)
            pos++;
        if (pos >= n)
            invalid("truncated JPEG header", "The data ends before the frame header (SOF marker).");
        const uint8_t marker = d[pos++];
        if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
            continue; // TEM, RSTn: no length
        if (marker == 0xd8)
            invalid("corrupt JPEG header", "A second start-of-image marker precedes the frame header.");
        if (marker == 0xd9)
            invalid("corrupt JPEG header", "The image ends before any frame header (SOF marker).");
        if (marker == 0xda)
            invalid("corrupt JPEG header", "Scan data begins before the frame header (SOF marker).");
        if (pos + 2 > n)
            invalid("truncated JPEG header", "The data ends inside a marker segment.");
        const uint16_t length = be16(d + pos);
        if (length < 2)
            invalid("corrupt JPEG header", "A marker segment declares a length below 2.");
        const bool is_sof = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
        if (!is_sof) {
            pos += length;
            continue;
        }
        if (pos + length > n || length < 8)
            invalid("truncated JPEG header", "The data ends inside the frame header (SOF marker).");
        const uint8_t *sof = d + pos + 2;
        info.jpeg_sof = marker - 0xc0;
        info.bit_depth = sof[0];
        info.height = be16(sof + 1);
        info.width = be16(sof + 3);
        info.channels = sof[5];
        if (info.channels == 0 || length < 8 + 3 * info.channels)
            invalid("corrupt JPEG header", "The frame header declares " + std::to_string(info.channels) +
                                               " components in a segment of " + std::to_string(length) + " bytes.");
        break;
    }
    if (info.width == 0 || info.height == 0)
        invalid("invalid image dimensions", "The JPEG frame header declares " + std::to_string(info.width) + "x" +
                                                std::to_string(info.height) + " pixels; both must be at least 1.");
    return info;
}

ImageInfo probe_png(const uint8_t *d, size_t n) {
    ImageInfo info;
    info.format = Format::Png;
    if (n < 33)
        invalid("truncated PNG header", "The data ends before the end of the IHDR chunk.");
    if (be32(d + 8) != 13 || std::memcmp(d + 12, "IHDR", 4) != 0)
        invalid("corrupt PNG header", "The first chunk is not a 13-byte IHDR chunk.");
    const uint8_t *ihdr = d + 16;
    info.width = be32(ihdr);
    info.height = be32(ihdr + 4);
    info.bit_depth = ihdr[8];
    info.png_color_type = ihdr[9];
    info.png_interlaced = ihdr[12] != 0;
    if (info.width == 0 || info.height == 0)
        invalid("invalid image dimensions", "The PNG header declares " + std::to_string(info.width) + "x" +
                                                std::to_string(info.height) + " pixels; both must be at least 1.");
    if (info.width > kPngMaxDimension || info.height > kPngMaxDimension)
        invalid("invalid image dimensions", "The PNG header declares a dimension above 2^31-1.");
    const int depth = info.bit_depth;
    bool valid_depth = false;
    switch (info.png_color_type) {
    case 0:
        info.channels = 1;
        valid_depth = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
        break;
    case 2:
        info.channels = 3;
        valid_depth = depth == 8 || depth == 16;
        break;
    case 3:
        info.channels = 3;
        valid_depth = depth == 1 || depth == 2 || depth == 4 || depth == 8;
        break;
    case 4:
        info.channels = 2;
        valid_depth = depth == 8 || depth == 16;
        break;
    case 6:
        info.channels = 4;
        valid_depth = depth == 8 || depth == 16;
        break;
    default:
        invalid("corrupt PNG header",
                "The IHDR chunk declares colour type " + std::to_string(info.png_color_type) + ".");
    }
    if (!valid_depth)
        invalid("corrupt PNG header", "The IHDR chunk declares bit depth " + std::to_string(depth) +
                                          " for colour type " + std::to_string(info.png_color_type) + ".");
    if (ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1)
        invalid("corrupt PNG header", "The IHDR chunk declares an unknown compression, filter or interlace method.");

    // A tRNS chunk before the image data turns into an alpha channel; look for it without
    // reading any compressed data.
    if (info.png_color_type == 0 || info.png_color_type == 2 || info.png_color_type == 3) {
        size_t pos = 33;
        while (pos + 8 <= n) {
            const uint32_t length = be32(d + pos);
            const uint8_t *type = d + pos + 4;
            if (!std::memcmp(type, "IDAT", 4) || !std::memcmp(type, "IEND", 4) || length > 0x7fffffffu)
                break;
            if (!std::memcmp(type, "tRNS", 4)) {
                info.channels += 1;
                break;
            }
            pos += size_t(length) + 12;
        }
    }
    return info;
}

bool is_webp(const uint8_t *d, size_t n) {
    return n >= 12 && !std::memcmp(d, "RIFF", 4) && !std::memcmp(d + 8, "WEBP", 4);
}

// libwebp's own header parser (the RIFF container, VP8X's canvas, VP8's frame header, VP8L's
// signature): it reads headers only, and checks every size against n.
ImageInfo probe_webp(const uint8_t *d, size_t n) {
    WebPBitstreamFeatures features;
    const VP8StatusCode status = WebPGetFeatures(d, n, &features);
    if (status == VP8_STATUS_NOT_ENOUGH_DATA)
        invalid("truncated WebP header", "The data ends before the WebP image's dimensions.");
    if (status != VP8_STATUS_OK)
        invalid("invalid WebP header", "The RIFF container or the image's header is malformed.");
    if (features.width <= 0 || features.height <= 0)
        invalid("invalid WebP header", "The image has a width or height of zero.");
    ImageInfo info;
    info.format = Format::Webp;
    info.width = uint32_t(features.width);
    info.height = uint32_t(features.height);
    info.channels = features.has_alpha ? 4 : 3;
    info.bit_depth = 8;
    info.webp_lossless = features.format == 2;
    info.webp_animated = features.has_animation != 0;
    return info;
}

// An ISO BMFF file whose ftyp box names the brand avif or avis, as major or compatible brand
// (the test libavif's avifPeekCompatibleFileType makes).
bool is_avif(const uint8_t *d, size_t n) {
    if (n < 16 || std::memcmp(d + 4, "ftyp", 4) != 0)
        return false;
    const size_t box = std::min<size_t>(be32(d), n);
    if (box < 16)
        return false;
    for (size_t pos = 8; pos + 4 <= box; pos += pos == 8 ? 8 : 4) // major brand, version, compatible brands
        if (!std::memcmp(d + pos, "avif", 4) || !std::memcmp(d + pos, "avis", 4))
            return true;
    return false;
}

// libavif parses the container (every box checked against n) without decoding the AV1 data.
ImageInfo probe_avif(const uint8_t *d, size_t n) {
    const AvifHeader header = read_avif_header(d, n);
    if (header.width == 0 || header.height == 0)
        invalid("invalid AVIF header", "The image has a width or height of zero.");
    ImageInfo info;
    info.format = Format::Avif;
    info.width = header.width;
    info.height = header.height;
    info.channels = header.channels;
    info.bit_depth = header.depth;
    info.avif_frames = header.frames;
    return info;
}

void check_jpeg(const ImageInfo &info) {
    const int sof = info.jpeg_sof;
    if (sof == 3 || sof == 7 || sof == 11 || sof == 15)
        throw Error(ErrorKind::Unsupported, "lossless JPEG is not supported",
                    "The image uses the lossless JPEG process (SOF" + std::to_string(sof) + ").");
    if (sof == 5 || sof == 6 || sof == 13 || sof == 14)
        throw Error(ErrorKind::Unsupported, "hierarchical JPEG is not supported",
                    "The image uses the hierarchical JPEG process (SOF" + std::to_string(sof) + ").");
    if (info.bit_depth != 8)
        throw Error(ErrorKind::Unsupported, std::to_string(info.bit_depth) + "-bit JPEG is not supported",
                    "Only JPEG images with 8-bit samples can be processed.");
    if (info.channels != 1 && info.channels != 3 && info.channels != 4)
        throw Error(ErrorKind::Unsupported,
                    "JPEG with " + std::to_string(info.channels) + " components is not supported",
                    "Only greyscale (1), YCbCr or RGB (3) and CMYK or YCCK (4) JPEG images can be processed.");
}

void check_avif(const ImageInfo &info) {
    if (info.avif_frames > 1)
        throw Error(ErrorKind::Unsupported, "AVIF image sequences are not supported",
                    "The file holds a sequence of " + std::to_string(info.avif_frames) +
                        " images; only still AVIF images can be blurred.");
}

ImageInfo probe(const uint8_t *data, size_t size) {
    if (size == 0)
        invalid("empty image data", "The value has no bytes.");
    for (const FormatEntry &entry : format_table())
        if (entry.recognises(data, size))
            return entry.probe(data, size);
    if (const char *other = other_format(data, size))
        throw Error(ErrorKind::Unsupported, std::string(other) + " images are not supported",
                    "Only " + format_list(&FormatEntry::title, " and ") + " images can be processed.");
    invalid("unrecognised image format", "The data starts with bytes " + hex_prefix(data, size) + ", which begin no " +
                                             format_list(&FormatEntry::title, " or ") + " file.");
}

void check_supported(const ImageInfo &info) {
    const FormatEntry &entry = format_entry(info.format);
    if (entry.check)
        entry.check(info);
}

void check_pixel_limit(uint64_t width, uint64_t height, uint64_t max_pixels) {
    const uint64_t pixels = width * height;
    if (pixels > max_pixels)
        throw Error(ErrorKind::TooLarge, "image too large",
                    "The image is " + std::to_string(width) + "x" + std::to_string(height) + " (" +
                        std::to_string(pixels) + " pixels); bytea_blur.max_pixels allows " +
                        std::to_string(max_pixels) + ".");
}

const char *format_name(Format f) noexcept {
    return format_entry(f).name;
}
const char *mime_type(Format f) noexcept {
    return format_entry(f).mime;
}

Format parse_format_name(const std::string &name) {
    std::string lower;
    for (const char c : name)
        lower += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    for (const FormatEntry &entry : format_table())
        if (lower == entry.name || (entry.alias && lower == entry.alias))
            return entry.format;
    std::string aliases;
    for (const FormatEntry &entry : format_table())
        if (entry.alias)
            aliases += std::string(aliases.empty() ? "" : ", ") + entry.alias;
    throw Error(ErrorKind::InvalidParameter, "unknown output format \"" + name.substr(0, 64) + "\"",
                "format is one of " + format_list(&FormatEntry::name, ", ") + " (or " + aliases +
                    "), or NULL for the input's own format.");
}

} // namespace bb
