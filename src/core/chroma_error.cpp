#include "chroma_error.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "multiversion.hpp"

namespace bb {
namespace {

// Vectors of floats and 32-bit integers; the helpers are always inlined, so the ABI of passing
// such vectors, which GCC warns about, never applies.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec4 __attribute__((vector_size(16)));
typedef int32_t Int4 __attribute__((vector_size(16)));

constexpr int kLow = kChromaErrorFrequencies;

// JPEG's DCT basis, orthonormal: b_u(x) = C(u) / 2 cos((2x + 1) u pi / 16), C(0) = 1/sqrt 2.
double basis(int u, double x) {
    const double c = u == 0 ? std::sqrt(0.125) : 0.5;
    return c * std::cos((2.0 * x + 1.0) * u * M_PI / 16.0);
}

struct Forward {
    Vec8 along[kLow]; // b_u(x), x = 0..7
    float at[kLow][8];
};

const Forward &forward() {
    static const Forward f = [] {
        Forward b{};
        for (int u = 0; u < kLow; u++)
            for (int x = 0; x < 8; x++) {
                b.at[u][x] = float(basis(u, x));
                b.along[u][x] = b.at[u][x];
            }
        return b;
    }();
    return f;
}

__attribute__((always_inline)) inline Vec8 load8(const uint8_t *p) {
    // Widened in steps, bytes to 16 and 32 bits: GCC turns a direct conversion of bytes into
    // one extract per byte (as in planes.cpp).
    typedef uint8_t Byte8 __attribute__((vector_size(8)));
    typedef uint16_t Ushort8 __attribute__((vector_size(16)));
    typedef int32_t Int8 __attribute__((vector_size(32)));
    Byte8 bytes;
    std::memcpy(&bytes, p, sizeof bytes);
    return __builtin_convertvector(__builtin_convertvector(__builtin_convertvector(bytes, Ushort8), Int8), Vec8);
}

__attribute__((always_inline)) inline Vec4 low_half(Vec8 v) {
    return __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
}

// The sums of the lanes of a, b, c and d.
__attribute__((always_inline)) inline Vec4 sums4(Vec8 a, Vec8 b, Vec8 c, Vec8 d) {
    const Vec4 la = low_half(a), lb = low_half(b), lc = low_half(c), ld = low_half(d);
    const Vec4 ab = __builtin_shufflevector(la, lb, 0, 4, 1, 5) + __builtin_shufflevector(la, lb, 2, 6, 3, 7);
    const Vec4 cd = __builtin_shufflevector(lc, ld, 0, 4, 1, 5) + __builtin_shufflevector(lc, ld, 2, 6, 3, 7);
    return __builtin_shufflevector(ab, cd, 0, 1, 4, 5) + __builtin_shufflevector(ab, cd, 2, 3, 6, 7);
}

// Nearest whole number, halves away from zero.
__attribute__((always_inline)) inline Vec4 round_away(Vec4 v) {
    const Vec4 half = {0.5f, 0.5f, 0.5f, 0.5f};
    const Vec4 shifted = v < 0.0f ? v - half : v + half;
    return __builtin_convertvector(__builtin_convertvector(shifted, Int4), Vec4);
}

// The lowest kLow x kLow coefficients' quantisation errors, error[v] over u.
__attribute__((always_inline)) inline void quantisation_error(const Forward &b, const uint8_t *samples, size_t stride,
                                                              const Vec4 step[kLow], const Vec4 inverse[kLow],
                                                              Vec4 error[kLow]) {
    Vec8 col[kLow] = {}; // down the columns: sum over y of b_v(y) f(x, y), for each x
#pragma GCC unroll 8
    for (int y = 0; y < 8; y++) {
        const Vec8 row = load8(samples + size_t(y) * stride) - 128.0f;
#pragma GCC unroll 4
        for (int v = 0; v < kLow; v++)
            col[v] += b.at[v][y] * row;
    }
#pragma GCC unroll 4
    for (int v = 0; v < kLow; v++) { // along the rows: F(v, u), each u
        const Vec4 f = sums4(col[v] * b.along[0], col[v] * b.along[1], col[v] * b.along[2], col[v] * b.along[3]);
        error[v] = round_away(f * inverse[v]) * step[v] - f;
    }
}

static_assert(kLow == 4, "sums4 and the vectors over u hold four frequencies");

struct RowArgs {
    const uint8_t *cb, *cr; // the first chroma rows, chroma_stride bytes apart
    size_t chroma_stride;
    uint32_t rows, width;
    float *correction; // the first luma row, correction_stride floats apart
    size_t correction_stride;
    const Vec4 (*step)[kLow], (*inverse)[kLow]; // [2][kLow]: Cb's, Cr's
    const float (*across)[32], (*down)[32];     // [kLow][32]
};

// The correction of one iMCU row, with luma FX x FY samples a chroma sample: per block, the two
// errors' weighted sum (negated), then the upsampled basis functions weighted by it.
template <int FX, int FY> __attribute__((always_inline)) inline void correct_blocks(const RowArgs &a) {
    const Forward &b = forward();
    Vec8 across[kLow][FX];
    for (int u = 0; u < kLow; u++)
        for (int k = 0; k < FX; k++)
            std::memcpy(&across[u][k], a.across[u] + 8 * k, sizeof(Vec8));
    for (uint32_t by = 0; by < a.rows; by += 8) {
        const uint8_t *cb = a.cb + size_t(by) * a.chroma_stride, *cr = a.cr + size_t(by) * a.chroma_stride;
        float *out = a.correction + size_t(by) * FY * a.correction_stride;
        for (uint32_t bx = 0; bx < a.width; bx += 8) {
            Vec4 e_cb[kLow], e_cr[kLow];
            quantisation_error(b, cb + bx, a.chroma_stride, a.step[0], a.inverse[0], e_cb);
            quantisation_error(b, cr + bx, a.chroma_stride, a.step[1], a.inverse[1], e_cr);
            Vec8 g[kLow][FX]; // sum over u of E(v, u) across_u, for each v
#pragma GCC unroll 4
            for (int v = 0; v < kLow; v++) {
                const Vec4 e = -(kCbToRgbMean * e_cb[v] + kCrToRgbMean * e_cr[v]);
                for (int k = 0; k < FX; k++)
                    g[v][k] = e[0] * across[0][k] + e[1] * across[1][k] + e[2] * across[2][k] + e[3] * across[3][k];
            }
            const size_t x0 = size_t(bx) * FX;
#pragma GCC unroll 32
            for (int y = 0; y < 8 * FY; y++)
#pragma GCC unroll 4
                for (int k = 0; k < FX; k++) {
                    const Vec8 s = a.down[0][y] * g[0][k] + a.down[1][y] * g[1][k] + a.down[2][y] * g[2][k] +
                                   a.down[3][y] * g[3][k];
                    std::memcpy(out + size_t(y) * a.correction_stride + x0 + 8 * k, &s, sizeof s);
                }
        }
    }
}

BB_CLONES_AVX2
void correct_row(const RowArgs &a, int fx, int fy) {
    switch (fx * 8 + fy) {
    case 1 * 8 + 1: return correct_blocks<1, 1>(a);
    case 1 * 8 + 2: return correct_blocks<1, 2>(a);
    case 1 * 8 + 4: return correct_blocks<1, 4>(a);
    case 2 * 8 + 1: return correct_blocks<2, 1>(a);
    case 2 * 8 + 2: return correct_blocks<2, 2>(a);
    case 2 * 8 + 4: return correct_blocks<2, 4>(a);
    case 4 * 8 + 1: return correct_blocks<4, 1>(a);
    case 4 * 8 + 2: return correct_blocks<4, 2>(a);
    case 4 * 8 + 4: return correct_blocks<4, 4>(a);
    default: throw std::logic_error("ChromaErrorCorrection: unsupported subsampling");
    }
}

// A basis function of 8 samples brought to 8 f: by 2 as libjpeg's fancy upsampling (the
// block's edge samples repeated), by 1 or 4 replicated.
void upsampled(int u, int f, float *out) {
    double b[8];
    for (int x = 0; x < 8; x++)
        b[x] = basis(u, x);
    for (int j = 0; j < 8; j++) {
        if (f == 2) {
            out[2 * j] = float(0.75 * b[j] + 0.25 * b[j > 0 ? j - 1 : 0]);
            out[2 * j + 1] = float(0.75 * b[j] + 0.25 * b[j < 7 ? j + 1 : 7]);
        } else {
            for (int k = 0; k < f; k++)
                out[f * j + k] = float(b[j]);
        }
    }
}

// A table's steps and their inverses for the kept frequencies, [v][u]; throws on a zero step.
void steps_of(const uint16_t quant[64], Vec4 step[kLow], Vec4 inverse[kLow]) {
    for (int v = 0; v < kLow; v++)
        for (int u = 0; u < kLow; u++) {
            if (quant[v * 8 + u] == 0)
                throw std::logic_error("ChromaErrorCorrection: a zero quantisation step");
            step[v][u] = float(quant[v * 8 + u]);
            inverse[v][u] = 1.0f / step[v][u];
        }
}

} // namespace

void block_quantisation_error(const uint8_t *samples, size_t stride, const uint16_t quant[64],
                              float error[kChromaErrorFrequencies][kChromaErrorFrequencies]) {
    Vec4 step[kLow], inverse[kLow], e[kLow];
    steps_of(quant, step, inverse);
    quantisation_error(forward(), samples, stride, step, inverse, e);
    for (int v = 0; v < kLow; v++)
        for (int u = 0; u < kLow; u++)
            error[v][u] = e[v][u];
}

bool ChromaErrorCorrection::supports(int factor_x, int factor_y) noexcept {
    auto ok = [](int f) { return f == 1 || f == 2 || f == 4; };
    return ok(factor_x) && ok(factor_y);
}

ChromaErrorCorrection::ChromaErrorCorrection(const uint16_t quant_cb[64], const uint16_t quant_cr[64], int factor_x,
                                             int factor_y)
    : fx_(factor_x), fy_(factor_y) {
    if (!supports(factor_x, factor_y))
        throw std::logic_error("ChromaErrorCorrection: unsupported subsampling");
    Vec4 step[2][kLow], inverse[2][kLow];
    steps_of(quant_cb, step[0], inverse[0]);
    steps_of(quant_cr, step[1], inverse[1]);
    static_assert(sizeof step == sizeof step_ && sizeof inverse == sizeof inverse_, "two components' kLow^2 floats");
    std::memcpy(step_, step, sizeof step);
    std::memcpy(inverse_, inverse, sizeof inverse);
    for (int u = 0; u < kLow; u++) {
        upsampled(u, fx_, across_[u]);
        upsampled(u, fy_, down_[u]);
    }
}

void ChromaErrorCorrection::correct(const uint8_t *cb, const uint8_t *cr, size_t chroma_stride, uint32_t rows,
                                    uint32_t width, float *correction, size_t correction_stride) const {
    if (rows == 0 || rows % 8 || width == 0 || width % 8 || chroma_stride < width ||
        correction_stride < size_t(width) * size_t(fx_))
        throw std::logic_error("ChromaErrorCorrection: not whole blocks");
    Vec4 step[2][kLow], inverse[2][kLow];
    std::memcpy(step, step_, sizeof step);
    std::memcpy(inverse, inverse_, sizeof inverse);
    const RowArgs args{cb,   cr,      chroma_stride, rows, width, correction, correction_stride,
                       step, inverse, across_,       down_};
    correct_row(args, fx_, fy_);
}

} // namespace bb
