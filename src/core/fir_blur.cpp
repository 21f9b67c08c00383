#include "fir_blur.hpp"

#include <cstring>
#include <stdexcept>

#include "multiversion.hpp"

namespace bb {

namespace {

// On x86-64 the hot loop is compiled for AVX-512, for AVX2+FMA and for the baseline, and
// picked at load time (multiversion.hpp).
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
BB_CLONES_AVX512
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

// Row y needs rows y - r to y + r; a decoder may push a few rows ahead of what is read.
uint32_t ring_slots(uint32_t height, long radius, bool whole) {
    return whole ? std::max<uint32_t>(height, 1) : std::min<uint32_t>(height, uint32_t(2 * radius + 1 + 16));
}

} // namespace

StreamingBlur::StreamingBlur(uint32_t width, uint32_t height, int channels, double sigma_x, double sigma_y)
    : width_(width), height_(height), channels_(channels), samples_(size_t(width) * size_t(channels)),
      kx_(gaussian_kernel(sigma_x)), ky_(gaussian_kernel(sigma_y)), rx_(long(kx_.size() / 2)),
      ry_(long(ky_.size() / 2)), whole_(ry_ >= long(height)), ring_(samples_, ring_slots(height, ry_, whole_)) {
    padded_.resize((size_t(width) + 2 * size_t(rx_)) * size_t(channels));
    left_.resize(size_t(std::max(rx_, ry_)) + 1);
    right_.resize(left_.size());
}

void StreamingBlur::push(const float *row) {
    if (pushed_ >= height_)
        throw std::logic_error("StreamingBlur: more rows pushed than the plane has");
    if (pushed_ - oldest_needed_ >= ring_.slots())
        ring_.grow(oldest_needed_, pushed_);
    filter_row(row, padded_.data(), ring_.slot(pushed_), width_, channels_, kx_.data() + rx_, rx_, left_, right_);
    pushed_++;
}

void StreamingBlur::read(uint32_t y, float *out) {
    if (y >= height_ || pushed_ < rows_needed(y) || (!whole_ && long(y) + ry_ < long(oldest_needed_)))
        throw std::logic_error("StreamingBlur: a row read before its rows were pushed, or after they were dropped");
    const long h = long(height_);
    for (long k = 1; k <= ry_; k++) {
        left_[size_t(k)] = ring_.slot(uint32_t(reflect_index(long(y) - k, h)));
        right_[size_t(k)] = ring_.slot(uint32_t(reflect_index(long(y) + k, h)));
    }
    symmetric_taps(out, ring_.slot(y), left_.data(), right_.data(), ky_.data() + ry_, ry_, samples_);
    if (!whole_)
        oldest_needed_ = uint32_t(std::max(long(oldest_needed_), long(y) - ry_));
}

void fir_blur(const PixelRows &v, double sigma, InterruptPoll poll) {
    const size_t n = v.samples();
    const float max_value = v.max_value();
    StreamingBlur blur(v.width, v.height, v.channels, sigma, sigma);
    std::vector<float> row(n);
    auto load = [&](uint32_t y) {
        if (v.depth > 8)
            load_pixels(v.row<uint16_t>(y), row.data(), 0, v.width, v.channels, v.alpha, max_value);
        else
            load_pixels(v.row<uint8_t>(y), row.data(), 0, v.width, v.channels, v.alpha, max_value);
    };
    // Each output row is written back in place once the rows below it that its kernel reaches
    // have been read into the blur. One row costs O(width * radius): poll once per row so that
    // a cancel is prompt at any sigma.
    for (uint32_t y = 0; y < v.height; y++) {
        if (poll && poll())
            throw_interrupted();
        while (blur.pushed() < blur.rows_needed(y)) {
            if (poll && poll())
                throw_interrupted();
            load(blur.pushed());
            blur.push(row.data());
        }
        blur.read(y, row.data());
        if (v.depth > 8)
            store_pixels(row.data(), v.row<uint16_t>(y), v.width, v.channels, v.alpha, max_value);
        else
            store_pixels(row.data(), v.row<uint8_t>(y), v.width, v.channels, v.alpha, max_value);
    }
}

} // namespace bb
