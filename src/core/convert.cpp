#include "convert.hpp"

#include <cstring>
#include <stdexcept>
#include <utility>

namespace bb {
namespace {

Image like(const Image &image, uint32_t width, uint32_t height, int channels, int depth) {
    Image out;
    out.width = width;
    out.height = height;
    out.channels = channels;
    out.depth = depth;
    out.alpha_channel = image.alpha_channel < 0 ? -1 : channels - 1;
    out.allocate();
    return out;
}

} // namespace

void to_8bit(Image &image, InterruptPoll poll) {
    if (image.depth == 8)
        return;
    Image out = like(image, image.width, image.height, image.channels, 8);
    const size_t samples = size_t(image.width) * size_t(image.channels);
    for (uint32_t y = 0; y < image.height; y++) {
        const uint8_t *in = image.row(y);
        uint8_t *o = out.row(y);
        for (size_t i = 0; i < samples; i++) {
            uint16_t v;
            std::memcpy(&v, in + 2 * i, 2);
            o[i] = uint8_t((uint32_t(v) * 255 + 32767) / 65535);
        }
        poll_every_rows(y, poll);
    }
    image = std::move(out);
}

void grey_to_rgb(Image &image, InterruptPoll poll) {
    if (image.channels > 2)
        return;
    if (image.depth != 8)
        throw std::logic_error("grey_to_rgb: 8-bit samples expected");
    const bool alpha = image.channels == 2;
    Image out = like(image, image.width, image.height, alpha ? 4 : 3, 8);
    for (uint32_t y = 0; y < image.height; y++) {
        const uint8_t *in = image.row(y);
        uint8_t *o = out.row(y);
        for (uint32_t x = 0; x < image.width; x++) {
            o[0] = o[1] = o[2] = in[0];
            if (alpha)
                o[3] = in[1];
            in += image.channels;
            o += out.channels;
        }
        poll_every_rows(y, poll);
    }
    image = std::move(out);
}

void crop(Image &image, const Rect &rect, InterruptPoll poll) {
    if (rect.x0 == 0 && rect.y0 == 0 && rect.x1 == image.width && rect.y1 == image.height)
        return;
    const size_t bpp = size_t(image.channels) * image.bytes_per_sample();
    const size_t from_stride = image.stride();
    uint8_t *const base = image.pixels.data() + image.row_prefix;
    image.width = rect.x1 - rect.x0;
    image.height = rect.y1 - rect.y0;
    // Each row moves to an earlier place (or stays): row y starts at or after where it goes.
    for (uint32_t y = 0; y < image.height; y++) {
        std::memmove(image.row(y), base + (rect.y0 + y) * from_stride + rect.x0 * bpp, image.row_bytes());
        poll_every_rows(y, poll);
    }
    image.pixels.shrink(image.stride() * image.height);
}

void apply_orientation(Image &image, int orientation, InterruptPoll poll) {
    if (orientation < 2 || orientation > 8)
        return;
    const uint32_t w = image.width, h = image.height;
    const bool swap = orientation >= 5;
    Image out = like(image, swap ? h : w, swap ? w : h, image.channels, image.depth);
    const size_t bpp = size_t(image.channels) * image.bytes_per_sample();
    for (uint32_t y = 0; y < out.height; y++) {
        uint8_t *o = out.row(y);
        for (uint32_t x = 0; x < out.width; x++, o += bpp) {
            uint32_t sx = x, sy = y; // the stored pixel that shows at (x, y)
            switch (orientation) {
            case 2: sx = w - 1 - x; break;
            case 3: sx = w - 1 - x, sy = h - 1 - y; break;
            case 4: sy = h - 1 - y; break;
            case 5: sx = y, sy = x; break;
            case 6: sx = y, sy = h - 1 - x; break;
            case 7: sx = w - 1 - y, sy = h - 1 - x; break;
            default: sx = w - 1 - y, sy = x; break; // 8
            }
            std::memcpy(o, image.row(sy) + sx * bpp, bpp);
        }
        poll_every_rows(y, poll);
    }
    image = std::move(out);
}

ReversedAxes reversed_axes(int orientation) noexcept {
    ReversedAxes r;
    r.x = orientation == 2 || orientation == 3 || orientation == 7 || orientation == 8;
    r.y = orientation == 3 || orientation == 4 || orientation == 6 || orientation == 7;
    return r;
}

} // namespace bb
