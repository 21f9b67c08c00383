#include "planes.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace bb {
namespace {

[[noreturn]] void interrupted() {
    throw Error(ErrorKind::Interrupted, "image processing was interrupted");
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define BB_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define BB_MULTIVERSION
#endif

// Source coordinates of the destination samples when n_src samples are stretched over n_dst,
// pixel centres aligned: left neighbour, right neighbour and the right one's weight.
struct Taps {
    std::vector<uint32_t> left, right;
    std::vector<float> weight;
};

Taps taps(uint32_t n_src, uint32_t n_dst, double scale) {
    Taps t;
    t.left.resize(n_dst);
    t.right.resize(n_dst);
    t.weight.resize(n_dst);
    for (uint32_t i = 0; i < n_dst; i++) {
        double x = (double(i) + 0.5) * scale - 0.5;
        x = std::min(std::max(x, 0.0), double(n_src - 1));
        const uint32_t i0 = uint32_t(x);
        t.left[i] = i0;
        t.right[i] = std::min(i0 + 1, n_src - 1);
        t.weight[i] = float(x - double(i0));
    }
    return t;
}

BB_MULTIVERSION
void interpolate_row(const float *src, const uint32_t *left, const uint32_t *right, const float *weight, float *out,
                     uint32_t n) {
    for (uint32_t x = 0; x < n; x++)
        out[x] = src[left[x]] + weight[x] * (src[right[x]] - src[left[x]]);
}

// Eight floats in one vector register; the helpers are always inlined, so the ABI of passing
// such vectors, which GCC warns about, never applies.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Vec8 __attribute__((vector_size(32)));
typedef int32_t Int8 __attribute__((vector_size(32)));
typedef uint8_t Byte8 __attribute__((vector_size(8)));

// out = round(a + w * (b - a)), clamped to 0-255.
BB_MULTIVERSION
void blend_to_u8(const float *a, const float *b, float w, uint8_t *out, uint32_t n) {
    uint32_t x = 0;
    const Vec8 zero = {}, top = zero + 255.0f;
    for (; x + 8 <= n; x += 8) {
        Vec8 va, vb;
        std::memcpy(&va, a + x, sizeof va);
        std::memcpy(&vb, b + x, sizeof vb);
        Vec8 v = va + w * (vb - va) + 0.5f;
        v = v < zero ? zero : v;
        v = v > top ? top : v;
        const Byte8 bytes = __builtin_convertvector(__builtin_convertvector(v, Int8), Byte8);
        std::memcpy(out + x, &bytes, sizeof bytes);
    }
    for (; x < n; x++) {
        const float v = a[x] + w * (b[x] - a[x]) + 0.5f;
        out[x] = uint8_t(std::min(std::max(v, 0.0f), 255.0f));
    }
}

} // namespace

void resample_to_u8(const Plane &src, double ratio_x, double ratio_y, uint32_t width, uint32_t height, uint8_t *dst,
                    size_t stride, uint32_t padded_width, uint32_t padded_height, InterruptPoll poll) {
    if (src.width == width && src.height == height && ratio_x == 1.0 && ratio_y == 1.0) { // nothing to interpolate
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
    const Taps tx = taps(src.width, width, ratio_x);
    const Taps ty = taps(src.height, height, ratio_y);
    std::vector<float> row0(width), row1(width);
    auto horizontal = [&](uint32_t y, std::vector<float> &out) {
        interpolate_row(src.row(y), tx.left.data(), tx.right.data(), tx.weight.data(), out.data(), width);
    };
    uint32_t have0 = UINT32_MAX, have1 = UINT32_MAX;
    for (uint32_t y = 0; y < height; y++) {
        if ((y & 7) == 0 && poll && poll())
            interrupted();
        const uint32_t i0 = ty.left[y], i1 = ty.right[y];
        if (have0 != i0) {
            if (have1 == i0) {
                std::swap(row0, row1);
                std::swap(have0, have1);
            } else {
                horizontal(i0, row0);
                have0 = i0;
            }
        }
        if (have1 != i1) {
            horizontal(i1, row1);
            have1 = i1;
        }
        uint8_t *out = dst + stride * y;
        blend_to_u8(row0.data(), row1.data(), ty.weight[y], out, width);
        std::memset(out + width, out[width - 1], padded_width - width);
    }
    for (uint32_t y = height; y < padded_height; y++)
        std::memcpy(dst + stride * y, dst + stride * (height - 1), padded_width);
}

} // namespace bb
