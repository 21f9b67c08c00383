#include "planes.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "multiversion.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace bb {
namespace {

BB_CLONES_AVX2
void interpolate_row(const float *src, const uint32_t *left, const uint32_t *right, const float *weight, float *out,
                     uint32_t n) {
    for (uint32_t x = 0; x < n; x++)
        out[x] = src[left[x]] + weight[x] * (src[right[x]] - src[left[x]]);
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

// out = round(a + w * (b - a)), clamped to 0-255.
void blend_scalar(const float *a, const float *b, float w, uint8_t *out, uint32_t from, uint32_t n) {
    for (uint32_t x = from; x < n; x++)
        out[x] = round_to_u8(a[x] + w * (b[x] - a[x]));
}

#if defined(__x86_64__) && defined(__GNUC__)
// Sixteen samples at a time, packed to bytes with saturation (GCC turns a generic vector
// conversion to bytes into one extract per sample).
__attribute__((target("avx2,fma"))) void blend_avx2(const float *a, const float *b, float w, uint8_t *out, uint32_t n) {
    const __m256 vw = _mm256_set1_ps(w), half = _mm256_set1_ps(0.5f), zero = _mm256_setzero_ps(),
                 top = _mm256_set1_ps(255.0f);
    uint32_t x = 0;
    for (; x + 16 <= n; x += 16) {
        __m256i words[2];
        for (int k = 0; k < 2; k++) {
            const __m256 va = _mm256_loadu_ps(a + x + 8 * k), vb = _mm256_loadu_ps(b + x + 8 * k);
            __m256 v = _mm256_add_ps(_mm256_fmadd_ps(vw, _mm256_sub_ps(vb, va), va), half);
            v = _mm256_min_ps(_mm256_max_ps(v, zero), top);
            words[k] = _mm256_cvttps_epi32(v);
        }
        // packs works within 128-bit lanes: (0-3, 8-11 | 4-7, 12-15), put back in order below
        const __m256i packed = _mm256_packs_epi32(words[0], words[1]);
        const __m256i ordered = _mm256_permute4x64_epi64(packed, 0xd8);
        const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(ordered), _mm256_extracti128_si256(ordered, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + x), bytes);
    }
    blend_scalar(a, b, w, out, x, n);
}

bool have_avx2() noexcept {
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return avx2;
}
#endif

// Interpolation by a whole factor F of 2 or 4 (ratio 1/F), for the outputs of source samples
// [first, end): each source sample k gives F outputs with the same F weights, read from the
// taps of sample 1, so no gathers are needed; the arithmetic is interpolate_row's.
struct Phases {
    int offset[4]; // the left tap of output F k + j is sample k + offset[j]
    float weight[4];
};

template <uint32_t F> Phases phases_of(const Taps &t) {
    Phases p{};
    for (uint32_t j = 0; j < F; j++) {
        p.offset[j] = int(t.left[F + j]) - 1;
        p.weight[j] = t.weight[F + j];
    }
    return p;
}

template <uint32_t F>
void upsample_scalar(const float *src, const Phases &p, float *out, uint32_t first, uint32_t end) {
    for (uint32_t k = first; k < end; k++)
        for (uint32_t j = 0; j < F; j++) {
            const float a = src[int(k) + p.offset[j]], b = src[int(k) + p.offset[j] + 1];
            out[F * k + j] = a + p.weight[j] * (b - a);
        }
}

#if defined(__x86_64__) && defined(__GNUC__)
// Phase j of eight source samples from k: a + w (b - a) with a, b its two taps.
__attribute__((target("avx2,fma"))) inline __m256 phase8(const float *src, const Phases &p, uint32_t k, uint32_t j) {
    const __m256 a = _mm256_loadu_ps(src + int(k) + p.offset[j]), b = _mm256_loadu_ps(src + int(k) + p.offset[j] + 1);
    return _mm256_fmadd_ps(_mm256_set1_ps(p.weight[j]), _mm256_sub_ps(b, a), a);
}

// Eight source samples at a time, their phases interleaved into 8 F outputs.
template <uint32_t F>
__attribute__((target("avx2,fma"))) void upsample_avx2(const float *src, const Phases &p, float *out, uint32_t first,
                                                       uint32_t end) {
    uint32_t k = first;
    for (; k + 8 <= end; k += 8) {
        float *o = out + F * k;
        if (F == 2) {
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

template <uint32_t F> void upsample_row(const float *src, const Taps &t, float *out, uint32_t first, uint32_t end) {
    const Phases p = phases_of<F>(t);
#if defined(__x86_64__) && defined(__GNUC__)
    if (have_avx2())
        return upsample_avx2<F>(src, p, out, first, end);
#endif
    upsample_scalar<F>(src, p, out, first, end);
}

void blend_to_u8(const float *a, const float *b, float w, uint8_t *out, uint32_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (have_avx2())
        return blend_avx2(a, b, w, out, n);
#endif
    blend_scalar(a, b, w, out, 0, n);
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

Taps interpolation_taps(uint32_t n_src, uint32_t n_dst, double ratio) {
    Taps t;
    t.left.resize(n_dst);
    t.right.resize(n_dst);
    t.weight.resize(n_dst);
    for (uint32_t i = 0; i < n_dst; i++) {
        double x = (double(i) + 0.5) * ratio - 0.5;
        x = std::min(std::max(x, 0.0), double(n_src - 1));
        const uint32_t i0 = uint32_t(x);
        t.left[i] = i0;
        t.right[i] = std::min(i0 + 1, n_src - 1);
        t.weight[i] = float(x - double(i0));
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
        row0_.resize(g_.out_width);
        row1_.resize(g_.out_width);
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
    const uint32_t last = identity_ ? y : ty_.right[y];
    return blur_.pushed() >= blur_.rows_needed(last);
}

void PlaneStream::blurred_row(uint32_t i, std::vector<float> &out) {
    blur_.read(i, blurred_.data());
    const float *src = blurred_.data();
    // Upsampling by 2 or 4 (libjpeg's scaled decodes, 4:2:0 chroma): the inside of the row by
    // the periodic kernel, samples 1 to those whose right tap is still inside; the ends by the taps.
    const uint32_t f = factor_x_, end = f ? std::min(reduced_width_ - 1, g_.out_width / f) : 0;
    if (f == 0 || end <= 1) {
        interpolate_row(src, tx_.left.data(), tx_.right.data(), tx_.weight.data(), out.data(), g_.out_width);
        return;
    }
    interpolate_row(src, tx_.left.data(), tx_.right.data(), tx_.weight.data(), out.data(), f);
    if (f == 2)
        upsample_row<2>(src, tx_, out.data(), 1, end);
    else
        upsample_row<4>(src, tx_, out.data(), 1, end);
    interpolate_row(src, tx_.left.data() + f * end, tx_.right.data() + f * end, tx_.weight.data() + f * end,
                    out.data() + f * end, g_.out_width - f * end);
}

void PlaneStream::write(uint32_t y, uint8_t *out) {
    const uint32_t width = g_.out_width;
    if (identity_) {
        blur_.read(y, blurred_.data());
        blend_to_u8(blurred_.data(), blurred_.data(), 0.0f, out, width);
    } else {
        const uint32_t i0 = ty_.left[y], i1 = ty_.right[y];
        if (have0_ != i0) {
            if (have1_ == i0) {
                std::swap(row0_, row1_);
                std::swap(have0_, have1_);
            } else {
                blurred_row(i0, row0_);
                have0_ = i0;
            }
        }
        if (have1_ != i1) {
            blurred_row(i1, row1_);
            have1_ = i1;
        }
        blend_to_u8(row0_.data(), row1_.data(), ty_.weight[y], out, width);
    }
    std::memset(out + width, out[width - 1], g_.padded_width - width);
}

} // namespace bb
