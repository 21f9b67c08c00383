#include "planes.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace bb {
namespace {

[[noreturn]] void interrupted() { throw Error(ErrorKind::Interrupted, "image processing was interrupted"); }

// Source coordinate of destination sample i when n_src samples are stretched over n_dst, with
// pixel centres aligned; split into the left neighbour and the weight of the right one.
struct Tap {
    uint32_t i0, i1;
    float w1;
};

std::vector<Tap> taps(uint32_t n_src, uint32_t n_dst) {
    std::vector<Tap> out(n_dst);
    const double scale = double(n_src) / double(n_dst);
    for (uint32_t i = 0; i < n_dst; i++) {
        double x = (double(i) + 0.5) * scale - 0.5;
        x = std::min(std::max(x, 0.0), double(n_src - 1));
        const uint32_t i0 = uint32_t(x);
        const uint32_t i1 = std::min(i0 + 1, n_src - 1);
        out[i] = Tap{i0, i1, float(x - double(i0))};
    }
    return out;
}

} // namespace

Plane box_downsample(const Plane &src, uint32_t m, InterruptPoll poll) {
    Plane out;
    out.resize((src.width + m - 1) / m, (src.height + m - 1) / m);
    std::vector<float> sums(out.width);
    for (uint32_t by = 0; by < out.height; by++) {
        if (poll && poll())
            interrupted();
        std::fill(sums.begin(), sums.end(), 0.0f);
        const uint32_t y0 = by * m, y1 = std::min(src.height, y0 + m);
        for (uint32_t y = y0; y < y1; y++) {
            const float *row = src.row(y);
            for (uint32_t x = 0; x < src.width; x++)
                sums[x / m] += row[x];
        }
        float *dst = out.row(by);
        for (uint32_t bx = 0; bx < out.width; bx++) {
            const uint32_t x0 = bx * m, x1 = std::min(src.width, x0 + m);
            dst[bx] = sums[bx] / float((x1 - x0) * (y1 - y0));
        }
    }
    return out;
}

void resample_to_u8(const Plane &src, uint32_t width, uint32_t height, uint8_t *dst, size_t stride,
                    uint32_t padded_width, uint32_t padded_height, InterruptPoll poll) {
    if (src.width == width && src.height == height) { // nothing to interpolate
        for (uint32_t y = 0; y < height; y++) {
            if ((y & 7) == 0 && poll && poll())
                interrupted();
            const float *s = src.row(y);
            uint8_t *out = dst + stride * y;
            for (uint32_t x = 0; x < width; x++)
                out[x] = uint8_t(std::min(std::max(s[x] + 0.5f, 0.0f), 255.0f));
            std::memset(out + width, out[width - 1], padded_width - width);
        }
        for (uint32_t y = height; y < padded_height; y++)
            std::memcpy(dst + stride * y, dst + stride * (height - 1), padded_width);
        return;
    }
    const std::vector<Tap> tx = taps(src.width, width);
    const std::vector<Tap> ty = taps(src.height, height);
    std::vector<float> row0(width), row1(width);
    auto horizontal = [&](uint32_t y, std::vector<float> &out) {
        const float *s = src.row(y);
        for (uint32_t x = 0; x < width; x++)
            out[x] = s[tx[x].i0] + tx[x].w1 * (s[tx[x].i1] - s[tx[x].i0]);
    };
    uint32_t have0 = UINT32_MAX, have1 = UINT32_MAX;
    for (uint32_t y = 0; y < height; y++) {
        if ((y & 7) == 0 && poll && poll())
            interrupted();
        const Tap t = ty[y];
        if (have0 != t.i0) {
            if (have1 == t.i0) {
                std::swap(row0, row1);
                std::swap(have0, have1);
            } else {
                horizontal(t.i0, row0);
                have0 = t.i0;
            }
        }
        if (have1 != t.i1) {
            horizontal(t.i1, row1);
            have1 = t.i1;
        }
        uint8_t *out = dst + stride * y;
        for (uint32_t x = 0; x < width; x++) {
            const float v = row0[x] + t.w1 * (row1[x] - row0[x]) + 0.5f;
            out[x] = uint8_t(std::min(std::max(v, 0.0f), 255.0f));
        }
        std::memset(out + width, out[width - 1], padded_width - width);
    }
    for (uint32_t y = height; y < padded_height; y++)
        std::memcpy(dst + stride * y, dst + stride * (height - 1), padded_width);
}

} // namespace bb
