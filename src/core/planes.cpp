#include "planes.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "kernel.hpp"
#include "multiversion.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace bb {
namespace {

// out[x] = the taps' weighted sum of src, for x in [from, to).
BB_CLONES_AVX2
void interpolate_row(const float *src, const Taps &t, float *out, uint32_t from, uint32_t to) {
    const uint32_t *i0 = t.index[0].data(), *i1 = t.index[1].data(), *i2 = t.index[2].data(), *i3 = t.index[3].data();
    const float *w0 = t.weight[0].data(), *w1 = t.weight[1].data(), *w2 = t.weight[2].data(), *w3 = t.weight[3].data();
    for (uint32_t x = from; x < to; x++)
        out[x] = w0[x] * src[i0[x]] + w1[x] * src[i1[x]] + w2[x] * src[i2[x]] + w3[x] * src[i3[x]];
}

// Eight floats, eight 32-bit integers, eight bytes in vector registers; the helpers are always
// inlined, so the ABI of passing such vectors, which GCC warns about, never applies.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Vec8 __attribute__((vector_size(32)));
typedef uint32_t Uint8 __attribute__((vector_size(32)));
typedef uint8_t Byte16 __attribute__((vector_size(16)));
typedef uint16_t Ushort8 __attribute__((vector_size(16)));
typedef uint16_t Ushort16 __attribute__((vector_size(32)));

inline uint8_t round_to_u8(float v) {
    return uint8_t(std::min(std::max(v + 0.5f, 0.0f), 255.0f));
}

// Up to kSplineTaps rows weighed and summed, and a row added to them (the sink's correction,
// weight 1): out = round(sum w[k] rows[k]), clamped to 0-255.
struct RowMix {
    const float *rows[kSplineTaps + 1];
    float weight[kSplineTaps + 1];
    int count;
};

void mix_scalar(const RowMix &m, uint8_t *out, uint32_t from, uint32_t n) {
    for (uint32_t x = from; x < n; x++) {
        float v = 0.0f;
        for (int k = 0; k < m.count; k++)
            v += m.weight[k] * m.rows[k][x];
        out[x] = round_to_u8(v);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
// Sixteen samples at a time, packed to bytes with saturation (GCC turns a generic vector
// conversion to bytes into one extract per sample); the count of rows a template argument, so
// that the weights stay in registers and the taps unroll.
template <int N> __attribute__((target("avx2,fma"))) void mix_avx2(const RowMix &m, uint8_t *out, uint32_t n) {
    const __m256 half = _mm256_set1_ps(0.5f), zero = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f);
    __m256 w[N];
    const float *rows[N];
    for (int k = 0; k < N; k++) {
        w[k] = _mm256_set1_ps(m.weight[k]);
        rows[k] = m.rows[k];
    }
    uint32_t x = 0;
    for (; x + 16 <= n; x += 16) {
        __m256i words[2];
        for (int h = 0; h < 2; h++) {
            __m256 v = half;
#pragma GCC unroll 8
            for (int k = 0; k < N; k++)
                v = _mm256_fmadd_ps(w[k], _mm256_loadu_ps(rows[k] + x + 8 * h), v);
            v = _mm256_min_ps(_mm256_max_ps(v, zero), top);
            words[h] = _mm256_cvttps_epi32(v);
        }
        // packs works within 128-bit lanes: (0-3, 8-11 | 4-7, 12-15), put back in order below
        const __m256i packed = _mm256_packs_epi32(words[0], words[1]);
        const __m256i ordered = _mm256_permute4x64_epi64(packed, 0xd8);
        const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(ordered), _mm256_extracti128_si256(ordered, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + x), bytes);
    }
    mix_scalar(m, out, x, n);
}

bool have_avx2() noexcept {
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return avx2;
}
#endif

void mix_to_u8(const RowMix &m, uint8_t *out, uint32_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (have_avx2())
        switch (m.count) {
        case 1: return mix_avx2<1>(m, out, n);
        case 2: return mix_avx2<2>(m, out, n);
        case kSplineTaps: return mix_avx2<kSplineTaps>(m, out, n);
        case kSplineTaps + 1: return mix_avx2<kSplineTaps + 1>(m, out, n);
        default: break;
        }
#endif
    mix_scalar(m, out, 0, n);
}

// Reconstruction up by a whole factor F of 2 or 4 (ratio 1/F), for the outputs of source
// samples [first, end): output F k + j reads samples k + offset[j] to k + offset[j] + 3 with
// the same four weights for every k, so no gathers are needed; the arithmetic is
// interpolate_row's.
template <uint32_t F> struct Phases {
    int offset[F];
    float weight[F][kSplineTaps];
};

// The phases as the taps place them (interpolation_taps, the one place that does): those of
// the outputs of source sample k, which must lie inside the row (no reflection).
template <uint32_t F> Phases<F> phases_from(const Taps &t, uint32_t k) {
    Phases<F> p{};
    for (uint32_t j = 0; j < F; j++) {
        const uint32_t x = F * k + j;
        p.offset[j] = int(t.index[0][x]) - int(k);
        for (int i = 0; i < kSplineTaps; i++)
            p.weight[j][i] = t.weight[i][x];
    }
    return p;
}

template <uint32_t F>
void upsample_scalar(const float *src, const Phases<F> &p, float *out, uint32_t first, uint32_t end) {
    for (uint32_t k = first; k < end; k++)
        for (uint32_t j = 0; j < F; j++) {
            const float *s = src + int(k) + p.offset[j];
            out[F * k + j] =
                p.weight[j][0] * s[0] + p.weight[j][1] * s[1] + p.weight[j][2] * s[2] + p.weight[j][3] * s[3];
        }
}

#if defined(__x86_64__) && defined(__GNUC__)
// Phase j of eight source samples from k: its four taps weighed.
template <uint32_t F>
__attribute__((target("avx2,fma"))) inline __m256 phase8(const float *src, const Phases<F> &p, uint32_t k, uint32_t j) {
    const float *s = src + int(k) + p.offset[j];
    __m256 v = _mm256_mul_ps(_mm256_set1_ps(p.weight[j][0]), _mm256_loadu_ps(s));
    for (int i = 1; i < kSplineTaps; i++)
        v = _mm256_fmadd_ps(_mm256_set1_ps(p.weight[j][i]), _mm256_loadu_ps(s + i), v);
    return v;
}

// Eight source samples at a time, their phases interleaved into 8 F outputs.
template <uint32_t F>
__attribute__((target("avx2,fma"))) void upsample_avx2(const float *src, const Phases<F> &p, float *out, uint32_t first,
                                                       uint32_t end) {
    uint32_t k = first;
    for (; k + 8 <= end; k += 8) {
        float *o = out + F * k;
        if constexpr (F == 2) {
            const __m256 r0 = phase8(src, p, k, 0), r1 = phase8(src, p, k, 1);
            const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            _mm256_storeu_ps(o, _mm256_permute2f128_ps(t0, t1, 0x20));
            _mm256_storeu_ps(o + 8, _mm256_permute2f128_ps(t0, t1, 0x31));
        } else {
            const __m256 r0 = phase8(src, p, k, 0), r1 = phase8(src, p, k, 1), r2 = phase8(src, p, k, 2),
                         r3 = phase8(src, p, k, 3);
            const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
            const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
            _mm256_storeu_ps(o, _mm256_permute2f128_ps(u0, u1, 0x20));
            _mm256_storeu_ps(o + 8, _mm256_permute2f128_ps(u2, u3, 0x20));
            _mm256_storeu_ps(o + 16, _mm256_permute2f128_ps(u0, u1, 0x31));
            _mm256_storeu_ps(o + 24, _mm256_permute2f128_ps(u2, u3, 0x31));
        }
    }
    upsample_scalar<F>(src, p, out, k, end);
}
#endif

template <uint32_t F> void upsample_row(const Taps &t, const float *src, float *out, uint32_t first, uint32_t end) {
    const Phases<F> p = phases_from<F>(t, first);
#if defined(__x86_64__) && defined(__GNUC__)
    if (have_avx2())
        return upsample_avx2<F>(src, p, out, first, end);
#endif
    upsample_scalar<F>(src, p, out, first, end);
}

// Widens one decoded row to floats (block size 1), or adds it to the column sums of the
// current block row (first: starts them).
BB_CLONES_AVX2
void widen_row(const uint8_t *__restrict src, float *__restrict dst, uint32_t n) {
    uint32_t x = 0;
    for (; x + 16 <= n; x += 16) { // in steps, as in add_row
        Byte16 bytes;
        std::memcpy(&bytes, src + x, sizeof bytes);
        const Ushort16 wide = __builtin_convertvector(bytes, Ushort16);
        const Ushort8 halves[2] = {__builtin_shufflevector(wide, wide, 0, 1, 2, 3, 4, 5, 6, 7),
                                   __builtin_shufflevector(wide, wide, 8, 9, 10, 11, 12, 13, 14, 15)};
        for (int h = 0; h < 2; h++) {
            const Vec8 v = __builtin_convertvector(__builtin_convertvector(halves[h], Uint8), Vec8);
            std::memcpy(dst + x + 8 * h, &v, sizeof v);
        }
    }
    for (; x < n; x++)
        dst[x] = float(src[x]);
}

BB_CLONES_AVX2
void add_row(const uint8_t *__restrict src, uint32_t *__restrict sums, uint32_t n, bool first) {
    uint32_t x = 0;
    // Widened in two steps, bytes to 16 and 16 to 32 bits: GCC turns a direct conversion of 8
    // bytes into one extract per byte, which made this loop a seventh of a JPEG blur's time.
    for (; x + 16 <= n; x += 16) {
        Byte16 bytes;
        std::memcpy(&bytes, src + x, sizeof bytes);
        const Ushort16 wide = __builtin_convertvector(bytes, Ushort16);
        const Ushort8 halves[2] = {__builtin_shufflevector(wide, wide, 0, 1, 2, 3, 4, 5, 6, 7),
                                   __builtin_shufflevector(wide, wide, 8, 9, 10, 11, 12, 13, 14, 15)};
        for (int h = 0; h < 2; h++) {
            Uint8 v = __builtin_convertvector(halves[h], Uint8);
            if (!first) {
                Uint8 s;
                std::memcpy(&s, sums + x + 8 * h, sizeof s);
                v += s;
            }
            std::memcpy(sums + x + 8 * h, &v, sizeof v);
        }
    }
    for (; x < n; x++)
        sums[x] = first ? src[x] : sums[x] + src[x];
}

// Sums of m columns each, scaled: one row of block averages (the last block may be partial).
void block_averages(const uint32_t *sums, uint32_t width, uint32_t m, uint32_t rows, float *dst) {
    const uint32_t whole = width / m;
    const float scale = 1.0f / float(m * rows);
    if (m == 2) {
        for (uint32_t bx = 0; bx < whole; bx++)
            dst[bx] = float(sums[2 * bx] + sums[2 * bx + 1]) * scale;
    } else {
        for (uint32_t bx = 0; bx < whole; bx++) {
            uint32_t sum = 0;
            for (uint32_t x = bx * m; x < bx * m + m; x++)
                sum += sums[x];
            dst[bx] = float(sum) * scale;
        }
    }
    if (whole * m < width) {
        uint32_t sum = 0;
        for (uint32_t x = whole * m; x < width; x++)
            sum += sums[x];
        dst[whole] = float(sum) / float((width - whole * m) * rows);
    }
}

} // namespace

void spline_weights(double t, float w[kSplineTaps]) {
    const double u = 1.0 - t;
    w[0] = float(u * u * u / 6.0);
    w[1] = float((3.0 * t * t * t - 6.0 * t * t + 4.0) / 6.0);
    w[2] = float((-3.0 * t * t * t + 3.0 * t * t + 3.0 * t + 1.0) / 6.0);
    w[3] = float(t * t * t / 6.0);
}

double reconstruction_variance(double ratio) noexcept {
    return ratio == 1.0 ? 0.0 : 1.0 / 3.0;
}

Taps interpolation_taps(uint32_t n_src, uint32_t n_dst, double ratio) {
    Taps t;
    for (int k = 0; k < kSplineTaps; k++) {
        t.index[k].resize(n_dst);
        t.weight[k].resize(n_dst);
    }
    const bool copy = reconstruction_variance(ratio) == 0.0;
    for (uint32_t i = 0; i < n_dst; i++) {
        const double x = copy ? double(i) : (double(i) + 0.5) * ratio - 0.5;
        const double first = std::floor(x);
        float w[kSplineTaps] = {0.0f, 1.0f, 0.0f, 0.0f};
        if (!copy)
            spline_weights(x - first, w);
        for (int k = 0; k < kSplineTaps; k++) {
            t.index[k][i] = uint32_t(reflect_index(long(first) - 1 + k, long(n_src)));
            t.weight[k][i] = w[k];
        }
    }
    return t;
}

PlaneStream::PlaneStream(const PlaneGeometry &geometry)
    : g_(geometry), reduced_width_((g_.in_width + g_.block - 1) / g_.block),
      reduced_height_((g_.in_height + g_.block - 1) / g_.block),
      blur_(reduced_width_, reduced_height_, 1, g_.sigma_x, g_.sigma_y),
      identity_(reduced_width_ == g_.out_width && reduced_height_ == g_.out_height && g_.ratio_x == 1.0 &&
                g_.ratio_y == 1.0) {
    if (g_.block == 0 || g_.in_width == 0 || g_.in_height == 0 || g_.out_width == 0 || g_.out_height == 0 ||
        g_.padded_width < g_.out_width)
        throw std::logic_error("PlaneStream: invalid geometry");
    if (g_.block > 1)
        sums_.resize(g_.in_width);
    averaged_.resize(std::max(reduced_width_, g_.in_width));
    blurred_.resize(reduced_width_);
    if (!identity_) {
        if (g_.ratio_x == 0.5 || g_.ratio_x == 0.25)
            factor_x_ = uint32_t(1.0 / g_.ratio_x);
        tx_ = interpolation_taps(reduced_width_, g_.out_width, g_.ratio_x);
        ty_ = interpolation_taps(reduced_height_, g_.out_height, g_.ratio_y);
        last_tap_.resize(g_.out_height);
        for (uint32_t y = 0; y < g_.out_height; y++)
            for (int k = 0; k < kSplineTaps; k++)
                last_tap_[y] = std::max(last_tap_[y], ty_.index[k][y]);
        for (std::vector<float> &row : rows_)
            row.resize(g_.out_width);
    }
}

void PlaneStream::push(const uint8_t *row) {
    const uint32_t w = g_.in_width, m = g_.block, y = pushed_;
    if (y >= g_.in_height)
        throw std::logic_error("PlaneStream: more rows pushed than the plane has");
    pushed_++;
    if (m == 1) {
        widen_row(row, averaged_.data(), w);
        push_mapped();
        return;
    }
    add_row(row, sums_.data(), w, y % m == 0);
    if ((y + 1) % m == 0 || y + 1 == g_.in_height) { // the block row is complete
        block_averages(sums_.data(), w, m, y % m + 1, averaged_.data());
        push_mapped();
    }
}

void PlaneStream::push_mapped() {
    if (g_.scale != 1.0f || g_.offset != 0.0f)
        for (uint32_t x = 0; x < reduced_width_; x++)
            averaged_[x] = averaged_[x] * g_.scale + g_.offset;
    blur_.push(averaged_.data());
}

bool PlaneStream::ready(uint32_t y) const noexcept {
    return blur_.pushed() >= blur_.rows_needed(identity_ ? y : last_tap_[y]);
}

void PlaneStream::blurred_row(uint32_t i, std::vector<float> &out) {
    blur_.read(i, blurred_.data());
    const float *src = blurred_.data();
    // Upsampling by 2 or 4 (libjpeg's scaled decodes, 4:2:0 chroma): the inside of the row,
    // source samples 2 to those whose last tap is still inside, by the periodic kernel; the
    // ends by the taps, which reflect.
    const uint32_t f = factor_x_;
    const uint32_t end = f && reduced_width_ > 4 ? std::min(reduced_width_ - 2, g_.out_width / f) : 0;
    if (end <= 2) {
        interpolate_row(src, tx_, out.data(), 0, g_.out_width);
        return;
    }
    interpolate_row(src, tx_, out.data(), 0, 2 * f);
    if (f == 2)
        upsample_row<2>(tx_, src, out.data(), 2, end);
    else
        upsample_row<4>(tx_, src, out.data(), 2, end);
    interpolate_row(src, tx_, out.data(), f * end, g_.out_width);
}

void PlaneStream::write(uint32_t y, uint8_t *out, const float *add) {
    const uint32_t width = g_.out_width;
    RowMix mix{};
    if (identity_) {
        blur_.read(y, blurred_.data());
        mix.rows[0] = blurred_.data();
        mix.weight[0] = 1.0f;
        mix.count = 1;
    } else {
        // The rows the taps read, each interpolated once, in slot index % kSplineTaps: a row's
        // taps (reflected at the ends, some repeated) lie within kSplineTaps consecutive
        // indices, which never share a slot, and the window only moves down, so a row is
        // replaced only once no later output reads it. Those missing are read from the blur in
        // increasing order, as it asks.
        uint32_t lo = ty_.index[0][y], hi = lo;
        for (int k = 1; k < kSplineTaps; k++) {
            lo = std::min(lo, ty_.index[k][y]);
            hi = std::max(hi, ty_.index[k][y]);
        }
        for (uint32_t i = lo; i <= hi; i++) {
            bool needed = false;
            for (int k = 0; k < kSplineTaps; k++)
                needed = needed || ty_.index[k][y] == i;
            const uint32_t slot = i % kSplineTaps;
            if (needed && have_[slot] != i) {
                blurred_row(i, rows_[slot]);
                have_[slot] = i;
            }
        }
        for (int k = 0; k < kSplineTaps; k++) {
            mix.rows[k] = rows_[ty_.index[k][y] % kSplineTaps].data();
            mix.weight[k] = ty_.weight[k][y];
        }
        mix.count = kSplineTaps;
    }
    if (add) {
        mix.rows[mix.count] = add;
        mix.weight[mix.count] = 1.0f;
        mix.count++;
    }
    mix_to_u8(mix, out, width);
    std::memset(out + width, out[width - 1], g_.padded_width - width);
}

} // namespace bb
