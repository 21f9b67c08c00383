// Recognises an image from its bytes and reads its dimensions from the headers alone, without
// decoding any pixel. Used by bytea_image_info and, before any pixel memory is allocated, by
// the blur pipeline to enforce the pixel limit.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

#include "image.hpp"

namespace bb {

struct ImageInfo {
    Format format = Format::Jpeg;
    uint32_t width = 0;
    uint32_t height = 0;
    int channels = 0;  // colour and alpha channels once decoded (a PNG tRNS chunk adds alpha)
    int bit_depth = 0; // bits per sample as the file stores them
    // JPEG only
    int jpeg_sof = 0; // the frame marker's low nibble: 0 baseline, 1 extended, 2 progressive...
    // PNG only
    int png_color_type = -1;
    bool png_interlaced = false;
    // WebP only
    bool webp_lossless = false;
    bool webp_animated = false;
    // AVIF only
    uint32_t avif_frames = 1;
};

// Throws Error(InvalidData) for empty, unrecognised or malformed headers, and for a width or
// height of zero; Error(Unsupported) for a recognised format we do not read (GIF, TIFF...).
ImageInfo probe(const uint8_t *data, size_t size);

// Throws Error(Unsupported) when the blur pipeline cannot process an image with this header.
void check_supported(const ImageInfo &info);

// Throws Error(TooLarge) when width x height exceeds max_pixels (bytea_blur.max_pixels).
void check_pixel_limit(uint64_t width, uint64_t height, uint64_t max_pixels);

const char *format_name(Format f) noexcept;
const char *mime_type(Format f) noexcept;

// The format a name given in SQL means: a format_name ("jpeg", "png", "webp", "avif") or "jpg", in any
// case. Throws Error(InvalidParameter) for any other name.
Format parse_format_name(const std::string &name);

} // namespace bb
