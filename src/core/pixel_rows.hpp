// The pixels a whole-image blur works on, in place, and the conversions at its two ends:
// samples to float with colour premultiplied by alpha, and back, rounded, un-premultiplied
// and clamped. Shared by the float FIR (fir_blur) and the recursive blur (recursive_blur).
#pragma once
#include "no_postgres.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "image.hpp"

namespace bb {

struct PixelRows {
    uint8_t *base = nullptr; // first sample of the first row
    size_t stride = 0;       // bytes from one row to the next
    uint32_t width = 0, height = 0;
    int channels = 1;
    int alpha = -1; // index of the alpha sample, or -1
    int depth = 8;  // 8 or 16 bits per sample

    static PixelRows of(Image &image) noexcept {
        PixelRows v;
        v.base = image.row(0);
        v.stride = image.stride();
        v.width = image.width;
        v.height = image.height;
        v.channels = image.channels;
        v.alpha = image.alpha_channel;
        v.depth = image.depth;
        return v;
    }
    template <typename T> T *row(uint32_t y) const noexcept { return reinterpret_cast<T *>(base + stride * y); }
    size_t samples() const noexcept { return size_t(width) * size_t(channels); }
    float max_value() const noexcept { return depth > 8 ? 65535.0f : 255.0f; }
};

// Converts pixels [from, to) of one row to D samples (float or double), premultiplying colour
// by alpha when the image has one.
template <typename T, typename D>
void load_pixels(const T *src, D *dst, size_t from, size_t to, int channels, int alpha, D max_value) noexcept {
    const size_t C = size_t(channels);
    if (alpha < 0) {
        for (size_t i = from * C; i < to * C; i++)
            dst[i - from * C] = D(src[i]);
        return;
    }
    const D scale = D(1) / max_value;
    for (size_t x = from; x < to; x++) {
        const T *s = src + x * C;
        D *d = dst + (x - from) * C;
        const D a = D(s[alpha]) * scale;
        for (size_t c = 0; c < C; c++)
            d[c] = int(c) == alpha ? D(s[c]) : D(s[c]) * a;
    }
}

// Rounds, un-premultiplies and clamps a blurred row of width pixels back into the image.
template <typename D, typename T>
void store_pixels(const D *src, T *dst, size_t width, int channels, int alpha, D max_value) noexcept {
    const size_t n = width * size_t(channels);
    if (alpha < 0) {
        for (size_t i = 0; i < n; i++)
            dst[i] = static_cast<T>(std::min(std::max(src[i] + D(0.5), D(0)), max_value));
        return;
    }
    for (size_t x = 0; x < width; x++) {
        const D *s = src + x * size_t(channels);
        T *d = dst + x * size_t(channels);
        const D a = std::min(std::max(s[alpha], D(0)), max_value);
        // Below a hundredth of a level the colour is noise; such pixels are transparent anyway.
        const D inv = a > D(0.01) ? max_value / a : D(0);
        for (int c = 0; c < channels; c++) {
            const D v = c == alpha ? a : s[c] * inv;
            d[c] = static_cast<T>(std::min(std::max(v + D(0.5), D(0)), max_value));
        }
    }
}

} // namespace bb
