// Decoded pixels and the metadata that travels with them from decoder to encoder.
// Samples are interleaved, rows tightly packed; 16-bit samples are in native byte order.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "errors.hpp"
#include "large_memory.hpp"

namespace bb {

enum class Format { Jpeg, Png, Webp, Avif };

// A byte buffer, from malloc or, from kLargeMemoryBytes up, from allocate_large (zeroed; see
// large_memory.hpp); allocation failure is an ErrorKind::OutOfMemory, not a crash. Encoders
// hand their output over in one, without a copy.
class Buffer {
  public:
    Buffer() = default;
    explicit Buffer(size_t size) { reset(size); }

    void reset(size_t size) {
        const bool large = size >= kLargeMemoryBytes;
        void *memory = !size ? nullptr : large ? allocate_large(size) : std::malloc(size);
        if (size && !memory)
            throw Error(ErrorKind::OutOfMemory, "out of memory",
                        "Failed on request of size " + std::to_string(size) + " bytes.");
        data_ = Memory(static_cast<uint8_t *>(memory), Free{large ? size : 0});
        size_ = size;
    }
    // Takes over size bytes that malloc or realloc returned.
    void adopt(uint8_t *data, size_t size) noexcept {
        data_ = Memory(data, Free{0});
        size_ = data ? size : 0;
    }
    // Forgets all but the first size bytes (the memory stays allocated).
    void shrink(size_t size) noexcept {
        if (size < size_)
            size_ = size;
    }
    uint8_t *data() noexcept { return data_.get(); }
    const uint8_t *data() const noexcept { return data_.get(); }
    size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    const uint8_t *begin() const noexcept { return data_.get(); }
    const uint8_t *end() const noexcept { return data_.get() + size_; }

  private:
    struct Free {
        size_t large; // the size given to allocate_large; 0: from malloc
        void operator()(uint8_t *p) const noexcept {
            if (large)
                free_large(p, large);
            else
                std::free(p);
        }
    };
    using Memory = std::unique_ptr<uint8_t, Free>;
    Memory data_{nullptr, Free{0}};
    size_t size_ = 0;
};

// Half-open [x0, x1) x [y0, y1) in samples; empty when x0 >= x1 or y0 >= y1.
struct Rect {
    uint32_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    bool empty() const noexcept { return x0 >= x1 || y0 >= y1; }
};

struct Image {
    uint32_t width = 0;
    uint32_t height = 0;
    int channels = 0;       // samples per pixel, 1 to 4
    int depth = 8;          // bits per sample: 8 or 16
    int alpha_channel = -1; // index of the alpha sample, or -1 when there is none
    // Bytes before each row: 1 lays the pixels out as PNG scanlines, with room for each row's
    // filter-type byte, so that a PNG encoder can filter and compress them in place.
    size_t row_prefix = 0;
    Buffer pixels;

    size_t bytes_per_sample() const noexcept { return depth > 8 ? 2 : 1; }
    size_t row_bytes() const noexcept { return size_t(width) * size_t(channels) * bytes_per_sample(); }
    size_t stride() const noexcept { return row_bytes() + row_prefix; }

    // Allocates the pixel buffer for the dimensions already set.
    void allocate() { pixels.reset(stride() * height); }
    uint8_t *row(uint32_t y) noexcept { return pixels.data() + stride() * y + row_prefix; }
    const uint8_t *row(uint32_t y) const noexcept { return pixels.data() + stride() * y + row_prefix; }

    // A new image of this one's kind (channels, depth, alpha), width x height with the row
    // prefix asked for, allocated: a window cut from it, a copy with a margin around it.
    Image same_kind(uint32_t w, uint32_t h, size_t prefix = 0) const {
        Image out;
        out.width = w;
        out.height = h;
        out.channels = channels;
        out.depth = depth;
        out.alpha_channel = alpha_channel;
        out.row_prefix = prefix;
        out.allocate();
        return out;
    }
};

// What a JPEG encoder needs to write a file like the one decoded.
struct JpegMeta {
    int color_space = 0; // libjpeg J_COLOR_SPACE of the file (kept through the blur)
    int components = 0;
    int h_samp[4] = {1, 1, 1, 1};
    int v_samp[4] = {1, 1, 1, 1};
    std::vector<uint8_t> icc; // ICC profile, reassembled from APP2 chunks
    int orientation = 0;      // EXIF orientation 1-8, 0 when absent
    bool has_jfif = false;
    uint8_t density_unit = 0;
    uint16_t x_density = 1;
    uint16_t y_density = 1;
};

// What a WebP encoder needs to write a file like the one decoded: lossless or lossy, and the
// metadata the policy keeps (the ICC profile; of EXIF, the orientation alone).
struct WebpMeta {
    bool lossless = false;
    std::vector<uint8_t> icc;
    int orientation = 0; // EXIF orientation 1-8, 0 when absent
    // The picture to write is blurred all over (not a redaction's few boxes): its lossy
    // encoding is chosen for that (webp_codec.cpp: encoder_config).
    bool whole_blur = false;
};

// What an AVIF encoder needs to write a file like the one decoded: the sample depth and chroma
// sampling, the colour description (CICP; the ICC profile when there is one) and the
// properties that change how the image displays (irot, imir, pasp, clap as libavif holds
// them, kept only where transform_flags says so). The defaults describe an sRGB picture
// written from RGB pixels at 4:2:0 (a blur leaves no chroma detail 4:2:0 loses).
struct AvifMeta {
    int depth = 0;                // 8, 10 or 12; 0: 8 for 8-bit pixels, 12 for 16-bit ones
    int yuv_format = 3;           // avifPixelFormat: 1 4:4:4, 2 4:2:2, 3 4:2:0, 4 monochrome
    int yuv_range = 1;            // avifRange: 1 full
    uint16_t color_primaries = 1; // BT.709 (sRGB's)
    uint16_t transfer = 13;       // sRGB
    uint16_t matrix = 6;          // BT.601
    std::vector<uint8_t> icc;
    uint32_t transform_flags = 0;
    uint8_t irot = 0, imir = 0;
    uint32_t pasp[2] = {};
    uint32_t clap[8] = {};
};

// The PNG ancillary chunks that change how the image displays.
struct PngMeta {
    bool has_iccp = false;
    std::string iccp_name;
    std::vector<uint8_t> iccp;
    int srgb_intent = -1; // -1 when there is no sRGB chunk
    bool has_gama = false;
    int32_t gama = 0; // png_fixed_point
    bool has_chrm = false;
    int32_t chrm[8] = {}; // white x, y, red x, y, green x, y, blue x, y (png_fixed_point)
    bool has_phys = false;
    uint32_t phys_x = 0, phys_y = 0;
    int phys_unit = 0;
};

} // namespace bb
