#include "gaussian.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace bb {

std::vector<float> gaussian_kernel(double sigma) {
    if (!(sigma >= 0.0) || sigma > kMaxSigma)
        throw Error(ErrorKind::InvalidParameter, "invalid sigma", "sigma must be between 0 and 1000.");
    if (sigma == 0.0)
        return {1.0f};
    const int radius = static_cast<int>(kTruncate * sigma + 0.5);
    std::vector<double> w(2 * size_t(radius) + 1);
    double sum = 0.0;
    for (int x = -radius; x <= radius; x++) {
        const double v = std::exp(-0.5 * double(x) * double(x) / (sigma * sigma));
        w[size_t(x + radius)] = v;
        sum += v;
    }
    std::vector<float> out(w.size());
    for (size_t i = 0; i < w.size(); i++)
        out[i] = static_cast<float>(w[i] / sum);
    return out;
}

namespace {

[[noreturn]] void interrupted() { throw Error(ErrorKind::Interrupted, "image processing was interrupted"); }

// Converts one source row to float samples, premultiplying colour by alpha.
template <typename T>
void load_row(const T *src, float *dst, size_t width, int channels, int alpha, float max_value) {
    const size_t n = width * size_t(channels);
    if (alpha < 0) {
        for (size_t i = 0; i < n; i++)
            dst[i] = float(src[i]);
        return;
    }
    const float scale = 1.0f / max_value;
    for (size_t x = 0; x < width; x++) {
        const T *s = src + x * channels;
        float *d = dst + x * channels;
        const float a = float(s[alpha]) * scale;
        for (int c = 0; c < channels; c++)
            d[c] = c == alpha ? float(s[c]) : float(s[c]) * a;
    }
}

// Rounds, un-premultiplies and clamps one blurred row back into the image.
template <typename T>
void store_row(const float *src, T *dst, size_t width, int channels, int alpha, float max_value) {
    const size_t n = width * size_t(channels);
    if (alpha < 0) {
        for (size_t i = 0; i < n; i++) {
            const float v = std::min(std::max(src[i] + 0.5f, 0.0f), max_value);
            dst[i] = static_cast<T>(v);
        }
        return;
    }
    for (size_t x = 0; x < width; x++) {
        const float *s = src + x * channels;
        T *d = dst + x * channels;
        const float a = std::min(std::max(s[alpha], 0.0f), max_value);
        // Below a hundredth of a level the colour is noise; such pixels are transparent anyway.
        const float inv = a > 0.01f ? max_value / a : 0.0f;
        for (int c = 0; c < channels; c++) {
            const float v = c == alpha ? a : s[c] * inv;
            d[c] = static_cast<T>(std::min(std::max(v + 0.5f, 0.0f), max_value));
        }
    }
}

// One horizontal pass: dst[x] = sum_k w[k] * row[reflect(x + k - r)] for every channel.
void filter_row(const float *row, float *padded, float *dst, size_t width, int channels,
                const std::vector<float> &kernel) {
    const long radius = long(kernel.size() / 2);
    const long w = long(width);
    const size_t C = size_t(channels);
    for (long x = -radius; x < w + radius; x++) {
        const float *s = row + size_t(reflect_index(x, w)) * C;
        std::memcpy(padded + size_t(x + radius) * C, s, C * sizeof(float));
    }
    const size_t n = width * C;
    const float *center = padded + size_t(radius) * C;
    const float w0 = kernel[size_t(radius)];
    for (size_t i = 0; i < n; i++)
        dst[i] = w0 * center[i];
    for (long k = 1; k <= radius; k++) {
        const float wk = kernel[size_t(radius + k)];
        const float *left = center - size_t(k) * C;
        const float *right = center + size_t(k) * C;
        for (size_t i = 0; i < n; i++)
            dst[i] += wk * (left[i] + right[i]);
    }
}

template <typename T>
void blur_typed(Image &image, const std::vector<float> &kernel, InterruptPoll poll) {
    const size_t width = image.width;
    const long height = long(image.height);
    const int channels = image.channels;
    const int alpha = image.alpha_channel;
    const float max_value = image.depth > 8 ? 65535.0f : 255.0f;
    const long radius = long(kernel.size() / 2);
    const size_t n = width * size_t(channels);

    // Horizontally filtered rows wait in a ring of 2r+1 rows (or the whole image, if smaller)
    // until the vertical pass has used them; each output row is written back in place.
    const long ring_rows = std::min(height, 2 * radius + 1);
    std::vector<float> ring(size_t(ring_rows) * n);
    std::vector<float> loaded(n);
    std::vector<float> padded((width + 2 * size_t(radius)) * size_t(channels));
    std::vector<float> out(n);
    auto ring_row = [&](long source_row) { return ring.data() + size_t(source_row % ring_rows) * n; };

    long next = 0; // next source row to filter horizontally
    for (long y = 0; y < height; y++) {
        // One row costs O(width * radius): poll once per row so that a cancel is prompt at any sigma.
        if (poll && poll())
            interrupted();
        const long last = std::min(height - 1, y + radius);
        for (; next <= last; next++) {
            if (poll && poll())
                interrupted();
            load_row(reinterpret_cast<const T *>(image.row(uint32_t(next))), loaded.data(), width, channels, alpha,
                     max_value);
            filter_row(loaded.data(), padded.data(), ring_row(next), width, channels, kernel);
        }
        const float *center = ring_row(y);
        const float w0 = kernel[size_t(radius)];
        for (size_t i = 0; i < n; i++)
            out[i] = w0 * center[i];
        for (long k = 1; k <= radius; k++) {
            const float wk = kernel[size_t(radius + k)];
            const float *up = ring_row(reflect_index(y - k, height));
            const float *down = ring_row(reflect_index(y + k, height));
            for (size_t i = 0; i < n; i++)
                out[i] += wk * (up[i] + down[i]);
        }
        store_row(out.data(), reinterpret_cast<T *>(image.row(uint32_t(y))), width, channels, alpha, max_value);
    }
}

} // namespace

void gaussian_blur(Image &image, double sigma, InterruptPoll poll) {
    const std::vector<float> kernel = gaussian_kernel(sigma);
    if (kernel.size() <= 1 || image.width == 0 || image.height == 0)
        return;
    if (image.depth > 8)
        blur_typed<uint16_t>(image, kernel, poll);
    else
        blur_typed<uint8_t>(image, kernel, poll);
}

} // namespace bb
