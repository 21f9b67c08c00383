// The formats the core reads and writes, one line each in one table (formats.cpp), as libvips'
// foreign/ loaders and Pillow's plugins are: how a file is recognised, how its header is read,
// what the pipeline refuses, how it is blurred in its own format, and how its pixels are read
// and written when the blur is served in another format. probe.cpp, pipeline.cpp and the SQL
// glue name no format; they go through this table. A new format is a reader, a writer and a
// line in it.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "codecs.hpp"
#include "errors.hpp"
#include "image.hpp"
#include "pipeline.hpp"
#include "probe.hpp"
#include "regions.hpp"

namespace bb {

// Pixels on their way from one format to another: grey, grey+alpha, RGB or RGBA at 8 or 16
// bits, and the metadata the policy lets travel (the ICC profile, the EXIF orientation).
struct Pixels {
    Image image;
    std::vector<uint8_t> icc;
    int orientation = 0; // 1-8; 0 when the file has none
};

struct FormatEntry {
    Format format;
    // Whether write keeps an alpha channel (without it, an image with alpha is refused).
    bool writes_alpha;
    const char *name;  // bytea_image_info's format and the blur's format argument
    const char *alias; // another name the format argument takes, or null
    const char *mime;  // bytea_image_info's mime_type and the view's img_content_type
    const char *title; // the format's name in messages
    // Whether data starts like a file of this format.
    bool (*recognises)(const uint8_t *data, size_t size);
    // The header alone, no pixel decoded; Error(InvalidData) when malformed or truncated.
    ImageInfo (*probe)(const uint8_t *data, size_t size);
    // Error(Unsupported) for what the blur cannot take (a lossless JPEG...); null: everything.
    void (*check)(const ImageInfo &info);
    // The blur written in the file's own format, with everything the format keeps.
    Buffer (*blur)(const uint8_t *data, size_t size, const ImageInfo &info, const BlurOptions &options,
                   const DecodeOptions &decode);
    // Error(Unsupported) for what cannot go to target (an animation...); null: everything.
    void (*check_conversion)(const ImageInfo &info, Format target);
    // The pixels and the metadata that travel, for another format's writer.
    Pixels (*read)(const uint8_t *data, size_t size, const DecodeOptions &decode);
    // Another format's blurred pixels written in this one: converted to what it takes (8 bits,
    // RGB), the orientation kept as a tag or applied to the pixels.
    Buffer (*write)(Pixels &pixels, const BlurOptions &options);
    // The blur inside boxes (displayed coordinates, regions.hpp), written in the file's own
    // format with everything its blur keeps; every pixel outside them as it was (a lossy
    // format's up to its encoder; a JPEG's blocks that no box touches, exactly).
    Buffer (*blur_regions)(const uint8_t *data, size_t size, const ImageInfo &info, const std::vector<Box> &boxes,
                           const BlurOptions &options, const DecodeOptions &decode);
    // A shorter way between formats, as libvips' loaders that shrink on load are: a reader that
    // blurs its file as planes (blur_planes: false, before any pixel is decoded, where this
    // file cannot go that way, and read, the blur and write then run) into a writer that takes
    // them (plane_writer). Null where a format has none.
    bool (*blur_planes)(const uint8_t *data, size_t size, const ImageInfo &info, const BlurOptions &options,
                        const DecodeOptions &decode, PlaneWriterMaker make_writer, Buffer *out);
    PlaneWriterMaker plane_writer;
};

// Every entry, in the order probe tries them.
struct FormatTable {
    const FormatEntry *begin() const noexcept;
    const FormatEntry *end() const noexcept;
};
FormatTable format_table() noexcept;
const FormatEntry &format_entry(Format format) noexcept;

// The entries' label (&FormatEntry::name or ::title) in table order, those include picks (all
// when null), joined for a message: "JPEG, PNG, WebP and AVIF" with last_joint " and ".
std::string format_list(const char *FormatEntry::*label, const char *last_joint,
                        bool (*include)(const FormatEntry &) = nullptr);

// The formats' own functions, that the table's lines name.
// probe.cpp
bool is_jpeg(const uint8_t *data, size_t size);
bool is_png(const uint8_t *data, size_t size);
bool is_webp(const uint8_t *data, size_t size);
bool is_avif(const uint8_t *data, size_t size);
ImageInfo probe_jpeg(const uint8_t *data, size_t size);
ImageInfo probe_png(const uint8_t *data, size_t size);
ImageInfo probe_webp(const uint8_t *data, size_t size);
ImageInfo probe_avif(const uint8_t *data, size_t size);
void check_jpeg(const ImageInfo &info);
void check_avif(const ImageInfo &info);
// jpeg_blur.cpp: a JPEG's planes blurred as they stream from the decoder to the encoder, or to
// another format's plane writer (FormatEntry::blur_planes).
Buffer blur_jpeg(const uint8_t *data, size_t size, const ImageInfo &info, const BlurOptions &options,
                 const DecodeOptions &decode);
bool blur_jpeg_planes(const uint8_t *data, size_t size, const ImageInfo &info, const BlurOptions &options,
                      const DecodeOptions &decode, PlaneWriterMaker make_writer, Buffer *out);
// webp_codec.cpp: a still lossy WebP without alpha blurred in its own planes (VP8's Y, U and V,
// stream_planes) into a lossy WebP at quality, its ICC profile and EXIF orientation tag kept:
// no RGB pixels, no conversion either way. False, before any pixel is decoded, for a file that
// goes the pixels' way: lossless, with alpha, animated, or too small for the planes' blur
// (plane_blur.hpp: planes_hold).
bool blur_webp_planes(const uint8_t *data, size_t size, const ImageInfo &info, const BlurOptions &options,
                      const DecodeOptions &decode, Buffer *out);

} // namespace bb
