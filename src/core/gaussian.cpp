#include "gaussian.hpp"

#include "fixed_blur.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace bb {

std::vector<float> gaussian_kernel(double sigma) {
    if (!(sigma >= 0.0) || sigma > kMaxSigma)
        throw Error(ErrorKind::InvalidParameter, "invalid sigma", "sigma must be between 0 and 1000.");
    if (sigma == 0.0)
        return {1.0f};
    // SciPy's radius is int(truncate * sigma + 0.5): truncation is the definition, not a rounding slip.
    const long radius = static_cast<long>(kTruncate * sigma + 0.5); // NOLINT(bugprone-incorrect-roundings)
    std::vector<double> w(static_cast<size_t>(2 * radius + 1));
    double sum = 0.0;
    for (size_t i = 0; i < w.size(); i++) {
        const double x = double(long(i) - radius);
        w[i] = std::exp(-0.5 * x * x / (sigma * sigma));
        sum += w[i];
    }
    std::vector<float> out(w.size());
    for (size_t i = 0; i < w.size(); i++)
        out[i] = static_cast<float>(w[i] / sum);
    return out;
}

namespace {

// Converts one source row to float samples, premultiplying colour by alpha.
template <typename T> void load_row(const T *src, float *dst, size_t width, int channels, int alpha, float max_value) {
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
template <typename T> void store_row(const float *src, T *dst, size_t width, int channels, int alpha, float max_value) {
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

// On x86-64, the hot loop is compiled three times, for AVX-512, for AVX2+FMA and for the
// baseline, and picked at load time (GCC's function multiversioning). Sanitizer and clang
// builds keep one plain version.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define BB_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BB_MULTIVERSION
#endif

// Sixteen floats: one AVX-512 register, two AVX2 or four SSE registers, as the clone allows.
// The helpers are always inlined, so the ABI of passing such vectors, which GCC warns about,
// never applies.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Vec16 __attribute__((vector_size(64)));

[[gnu::always_inline]] inline Vec16 load16(const float *p) {
    Vec16 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

[[gnu::always_inline]] inline void store16(float *p, Vec16 v) {
    std::memcpy(p, &v, sizeof v);
}

// dst[i] = w[0] * center[i] + sum over k of w[k] * (left[k][i] + right[k][i]): the symmetric
// kernel applied to rows that the caller lines up (shifted copies of one padded row for the
// horizontal pass, rows of the ring for the vertical one). Blocks of 64 samples keep four
// accumulators in registers across all taps.
BB_MULTIVERSION
void symmetric_taps(float *dst, const float *center, const float *const *left, const float *const *right,
                    const float *weights, long radius, size_t n) {
    const float w0 = weights[0];
    size_t i0 = 0;
    for (; i0 + 64 <= n; i0 += 64) {
        Vec16 a0 = w0 * load16(center + i0), a1 = w0 * load16(center + i0 + 16);
        Vec16 a2 = w0 * load16(center + i0 + 32), a3 = w0 * load16(center + i0 + 48);
        for (long k = 1; k <= radius; k++) {
            const float wk = weights[k];
            const float *l = left[k] + i0;
            const float *r = right[k] + i0;
            a0 += wk * (load16(l) + load16(r));
            a1 += wk * (load16(l + 16) + load16(r + 16));
            a2 += wk * (load16(l + 32) + load16(r + 32));
            a3 += wk * (load16(l + 48) + load16(r + 48));
        }
        store16(dst + i0, a0);
        store16(dst + i0 + 16, a1);
        store16(dst + i0 + 32, a2);
        store16(dst + i0 + 48, a3);
    }
    for (; i0 + 16 <= n; i0 += 16) {
        Vec16 a = w0 * load16(center + i0);
        for (long k = 1; k <= radius; k++)
            a += weights[k] * (load16(left[k] + i0) + load16(right[k] + i0));
        store16(dst + i0, a);
    }
    for (; i0 < n; i0++) {
        float acc = w0 * center[i0];
        for (long k = 1; k <= radius; k++)
            acc += weights[k] * (left[k][i0] + right[k][i0]);
        dst[i0] = acc;
    }
}

// One horizontal pass: dst[x] = sum_k w[k] * row[reflect(x + k - r)] for every channel.
void filter_row(const float *row, float *padded, float *dst, size_t width, int channels, const float *weights,
                long radius, std::vector<const float *> &left, std::vector<const float *> &right) {
    const size_t C = size_t(channels);
    float *center = padded + size_t(radius) * C;
    pad_reflected(row, center, long(width), long(channels), radius);
    for (long k = 1; k <= radius; k++) {
        left[size_t(k)] = center - size_t(k) * C;
        right[size_t(k)] = center + size_t(k) * C;
    }
    symmetric_taps(dst, center, left.data(), right.data(), weights, radius, width * C);
}

} // namespace

StreamingBlur::StreamingBlur(uint32_t width, uint32_t height, int channels, double sigma_x, double sigma_y)
    : width_(width), height_(height), channels_(channels), samples_(size_t(width) * size_t(channels)),
      stride_((samples_ + 15) / 16 * 16), kx_(gaussian_kernel(sigma_x)), ky_(gaussian_kernel(sigma_y)),
      rx_(long(kx_.size() / 2)), ry_(long(ky_.size() / 2)), whole_(ry_ >= long(height)) {
    // Row y needs rows y - r to y + r; a decoder may push a few rows ahead of what is read.
    ring_rows_ = whole_ ? std::max<uint32_t>(height, 1) : std::min<uint32_t>(height, uint32_t(2 * ry_ + 1 + 16));
    allocate_ring(ring_, ring_base_, ring_rows_);
    padded_.resize((size_t(width) + 2 * size_t(rx_)) * size_t(channels));
    left_.resize(size_t(std::max(rx_, ry_)) + 1);
    right_.resize(left_.size());
}

void StreamingBlur::allocate_ring(std::vector<float> &ring, float *&base, uint32_t rows) const {
    ring.resize(size_t(rows) * stride_ + 16);
    const auto address = reinterpret_cast<uintptr_t>(ring.data());
    base = ring.data() + ((64 - address % 64) % 64) / sizeof(float);
}

void StreamingBlur::grow() {
    const uint32_t rows = ring_rows_ * 2;
    std::vector<float> ring;
    float *base;
    allocate_ring(ring, base, rows);
    for (uint32_t r = oldest_needed_; r < pushed_; r++)
        std::memcpy(base + size_t(r % rows) * stride_, slot(r), samples_ * sizeof(float));
    ring_.swap(ring);
    ring_base_ = base;
    ring_rows_ = rows;
}

void StreamingBlur::push(const float *row) {
    if (pushed_ >= height_)
        throw std::logic_error("StreamingBlur: more rows pushed than the plane has");
    if (pushed_ - oldest_needed_ >= ring_rows_)
        grow();
    filter_row(row, padded_.data(), slot(pushed_), width_, channels_, kx_.data() + rx_, rx_, left_, right_);
    pushed_++;
}

void StreamingBlur::read(uint32_t y, float *out) {
    if (y >= height_ || pushed_ < rows_needed(y) || (!whole_ && long(y) + ry_ < long(oldest_needed_)))
        throw std::logic_error("StreamingBlur: a row read before its rows were pushed, or after they were dropped");
    const long h = long(height_);
    for (long k = 1; k <= ry_; k++) {
        left_[size_t(k)] = slot(uint32_t(reflect_index(long(y) - k, h)));
        right_[size_t(k)] = slot(uint32_t(reflect_index(long(y) + k, h)));
    }
    symmetric_taps(out, slot(y), left_.data(), right_.data(), ky_.data() + ry_, ry_, samples_);
    if (!whole_)
        oldest_needed_ = uint32_t(std::max(long(oldest_needed_), long(y) - ry_));
}

namespace {

// The samples a blur works on: rows of width * channels samples of type T, stride bytes apart.
struct View {
    uint8_t *base;
    size_t stride;
    size_t width;
    long height;
    int channels;
    int alpha;       // index of the alpha sample, or -1
    float max_value; // 255 or 65535
};

// Each output row is written back in place once the rows below it that its kernel reaches have
// been read into the blur.
template <typename T> void blur_typed(const View &v, double sigma, InterruptPoll poll) {
    const size_t n = v.width * size_t(v.channels);
    auto source = [&](long y) { return reinterpret_cast<T *>(v.base + v.stride * size_t(y)); };
    StreamingBlur blur(uint32_t(v.width), uint32_t(v.height), v.channels, sigma, sigma);
    std::vector<float> row(n);
    for (uint32_t y = 0; y < uint32_t(v.height); y++) {
        // One row costs O(width * radius): poll once per row so that a cancel is prompt at any sigma.
        if (poll && poll())
            throw_interrupted();
        while (blur.pushed() < blur.rows_needed(y)) {
            if (poll && poll())
                throw_interrupted();
            load_row(source(blur.pushed()), row.data(), v.width, v.channels, v.alpha, v.max_value);
            blur.push(row.data());
        }
        blur.read(y, row.data());
        store_row(row.data(), source(y), v.width, v.channels, v.alpha, v.max_value);
    }
}

} // namespace

void gaussian_blur(Image &image, double sigma, InterruptPoll poll) {
    const std::vector<float> kernel = gaussian_kernel(sigma);
    if (kernel.size() <= 1 || image.width == 0 || image.height == 0)
        return;
    const View view{image.row(0),
                    image.stride(),
                    image.width,
                    long(image.height),
                    image.channels,
                    image.alpha_channel,
                    image.depth > 8 ? 65535.0f : 255.0f};
    if (image.depth > 8)
        blur_typed<uint16_t>(view, sigma, poll);
    else if (image.alpha_channel < 0 && fixed_blur_vectorised() && fixed_blur_supported(sigma))
        fixed_blur_u8(image.row(0), image.stride(), image.width, image.height, image.channels, sigma, poll, true);
    else
        blur_typed<uint8_t>(view, sigma, poll);
}

} // namespace bb
