#include "fixed_blur.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernel.hpp"
#include "row_ring.hpp"
#include "worker_thread.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BB_FIXED_AVX2 1
#endif

namespace bb {
namespace {

constexpr int kWeightBits = 15; // weights in Q15
constexpr int kRowBits = 6;     // filtered rows in Q6: 255 * 64 + 64 fits in int16
constexpr int kHorizontalShift = kWeightBits - kRowBits;
constexpr int kVerticalShift = kWeightBits + kRowBits;

struct FixedKernel {
    long radius = 0;
    std::vector<int16_t> weights; // the right half, centre first
    std::vector<int32_t> pairs;   // weights (2j, 2j + 1) packed for pmaddwd; the last may pair with 0
};

// Q15 weights of SciPy's kernel, rounded, with the centre taking what makes them sum to 32768.
bool make_fixed_kernel(double sigma, FixedKernel *out) {
    if (!(sigma > 0.0) || sigma > kMaxFixedSigma)
        return false;
    const std::vector<float> kernel = gaussian_kernel(sigma);
    const long r = long(kernel.size() / 2);
    std::vector<int16_t> w(size_t(r) + 1);
    long sum = 0;
    for (long k = 1; k <= r; k++) {
        w[size_t(k)] = int16_t(std::lround(double(kernel[size_t(r + k)]) * (1 << kWeightBits)));
        sum += 2L * w[size_t(k)];
    }
    const long centre = (1L << kWeightBits) - sum;
    if (centre < 0 || centre > 32767)
        return false;
    w[0] = int16_t(centre);
    if (out) {
        out->radius = r;
        out->weights = w;
        out->pairs.clear();
        for (long k = 0; k <= r; k += 2) {
            const uint32_t lo = uint16_t(w[size_t(k)]);
            const uint32_t hi = k + 1 <= r ? uint16_t(w[size_t(k + 1)]) : 0u;
            out->pairs.push_back(int32_t(lo | hi << 16));
        }
    }
    return true;
}

// The sum of the weighted taps at sample i: w0 * centre[i] + sum of wk * (left[k][i] + right[k][i]).
inline int32_t taps_at(const int16_t *centre, const int16_t *const *left, const int16_t *const *right, const int16_t *w,
                       long r, size_t i) {
    int32_t acc = int32_t(w[0]) * centre[i];
    for (long k = 1; k <= r; k++)
        acc += int32_t(w[k]) * (int32_t(left[k][i]) + int32_t(right[k][i]));
    return acc;
}

// Portable kernels: the reference, and the tails of rows for the vectorised ones.
void horizontal_scalar(const int16_t *centre, const int16_t *const *left, const int16_t *const *right,
                       const FixedKernel &k, int16_t *out, size_t from, size_t n) {
    for (size_t i = from; i < n; i++)
        out[i] =
            int16_t((taps_at(centre, left, right, k.weights.data(), k.radius, i) + (1 << (kHorizontalShift - 1))) >>
                    kHorizontalShift);
}

void vertical_scalar(const int16_t *centre, const int16_t *const *left, const int16_t *const *right,
                     const FixedKernel &k, uint8_t *out, size_t from, size_t n) {
    for (size_t i = from; i < n; i++) {
        const int32_t v = (taps_at(centre, left, right, k.weights.data(), k.radius, i) + (1 << (kVerticalShift - 1))) >>
                          kVerticalShift;
        out[i] = uint8_t(std::min(std::max(v, 0), 255));
    }
}

#ifdef BB_FIXED_AVX2
// The vector helpers are always inlined into the AVX2 functions, so the ABI of passing AVX
// vectors, which GCC warns about, never applies.
#pragma GCC diagnostic ignored "-Wpsabi"

// Sixteen samples at i as two vectors of eight 32-bit sums, in the lane order of
// unpacklo/unpackhi (samples 0-3 and 8-11, then 4-7 and 12-15), which packs_epi32 restores.
__attribute__((target("avx2"))) inline __m256i load16(const int16_t *p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
}

// Tap t at sample i: the centre row for t = 0, else the sum of the two rows t apart.
__attribute__((target("avx2"))) inline __m256i tap16(const int16_t *centre, const int16_t *const *left,
                                                     const int16_t *const *right, long t, size_t i) {
    return t == 0 ? load16(centre + i) : _mm256_add_epi16(load16(left[t] + i), load16(right[t] + i));
}

__attribute__((target("avx2"))) inline void sums16(const int16_t *centre, const int16_t *const *left,
                                                   const int16_t *const *right, const FixedKernel &k, size_t i,
                                                   __m256i *lo, __m256i *hi) {
    __m256i acc_lo = _mm256_setzero_si256(), acc_hi = _mm256_setzero_si256();
    const long r = k.radius;
    for (long t = 0, j = 0; t <= r; t += 2, j++) {
        const __m256i a = tap16(centre, left, right, t, i);
        const __m256i b = t + 1 <= r ? tap16(centre, left, right, t + 1, i) : _mm256_setzero_si256();
        const __m256i w = _mm256_set1_epi32(k.pairs[size_t(j)]);
        acc_lo = _mm256_add_epi32(acc_lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), w));
        acc_hi = _mm256_add_epi32(acc_hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), w));
    }
    *lo = acc_lo;
    *hi = acc_hi;
}

// The sums at i, rounded and shifted right by Shift bits, as sixteen 16-bit words in order.
template <int Shift>
__attribute__((target("avx2"))) inline __m256i words16(const int16_t *centre, const int16_t *const *left,
                                                       const int16_t *const *right, const FixedKernel &k, size_t i) {
    const __m256i round = _mm256_set1_epi32(1 << (Shift - 1));
    __m256i lo, hi;
    sums16(centre, left, right, k, i, &lo, &hi);
    lo = _mm256_srai_epi32(_mm256_add_epi32(lo, round), Shift);
    hi = _mm256_srai_epi32(_mm256_add_epi32(hi, round), Shift);
    return _mm256_packs_epi32(lo, hi);
}

__attribute__((target("avx2"))) void horizontal_avx2(const int16_t *centre, const int16_t *const *left,
                                                     const int16_t *const *right, const FixedKernel &k, int16_t *out,
                                                     size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(out + i), words16<kHorizontalShift>(centre, left, right, k, i));
    horizontal_scalar(centre, left, right, k, out, i, n);
}

__attribute__((target("avx2"))) void vertical_avx2(const int16_t *centre, const int16_t *const *left,
                                                   const int16_t *const *right, const FixedKernel &k, uint8_t *out,
                                                   size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i words = words16<kVerticalShift>(centre, left, right, k, i);
        const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i), bytes);
    }
    vertical_scalar(centre, left, right, k, out, i, n);
}

// The same kernels on 32 samples at a time, for processors with AVX-512 (BW): unpack, madd
// and pack work within 128-bit lanes as in AVX2, so the lane order comes back the same way.
__attribute__((target("avx512bw"))) inline __m512i load32(const int16_t *p) {
    return _mm512_loadu_si512(p);
}

__attribute__((target("avx512bw"))) inline __m512i tap32(const int16_t *centre, const int16_t *const *left,
                                                         const int16_t *const *right, long t, size_t i) {
    return t == 0 ? load32(centre + i) : _mm512_add_epi16(load32(left[t] + i), load32(right[t] + i));
}

template <int Shift>
__attribute__((target("avx512bw"))) inline __m512i words32(const int16_t *centre, const int16_t *const *left,
                                                           const int16_t *const *right, const FixedKernel &k,
                                                           size_t i) {
    __m512i lo = _mm512_set1_epi32(1 << (Shift - 1)), hi = lo; // the rounding
    const long r = k.radius;
    for (long t = 0, j = 0; t <= r; t += 2, j++) {
        const __m512i a = tap32(centre, left, right, t, i);
        const __m512i b = t + 1 <= r ? tap32(centre, left, right, t + 1, i) : _mm512_setzero_si512();
        const __m512i w = _mm512_set1_epi32(k.pairs[size_t(j)]);
        lo = _mm512_add_epi32(lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(a, b), w));
        hi = _mm512_add_epi32(hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(a, b), w));
    }
    // the maskz forms: GCC 12 warns that the plain ones' undefined source may be uninitialised
    const __mmask16 all = 0xffff;
    return _mm512_packs_epi32(_mm512_maskz_srai_epi32(all, lo, Shift), _mm512_maskz_srai_epi32(all, hi, Shift));
}

__attribute__((target("avx512bw"))) void horizontal_avx512(const int16_t *centre, const int16_t *const *left,
                                                           const int16_t *const *right, const FixedKernel &k,
                                                           int16_t *out, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        _mm512_storeu_si512(out + i, words32<kHorizontalShift>(centre, left, right, k, i));
    horizontal_scalar(centre, left, right, k, out, i, n);
}

__attribute__((target("avx512bw"))) void vertical_avx512(const int16_t *centre, const int16_t *const *left,
                                                         const int16_t *const *right, const FixedKernel &k,
                                                         uint8_t *out, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512i words =
            _mm512_max_epi16(words32<kVerticalShift>(centre, left, right, k, i), _mm512_setzero_si512());
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(out + i), _mm512_maskz_cvtusepi16_epi8(~__mmask32(0), words));
    }
    vertical_scalar(centre, left, right, k, out, i, n);
}
#endif

} // namespace

FixedKernels fixed_blur_kernels() noexcept {
#ifdef BB_FIXED_AVX2
    if (__builtin_cpu_supports("avx512bw"))
        return FixedKernels::Avx512;
    if (__builtin_cpu_supports("avx2"))
        return FixedKernels::Avx2;
#endif
    return FixedKernels::Scalar;
}

bool fixed_blur_vectorised() noexcept {
    return fixed_blur_kernels() != FixedKernels::Scalar;
}

bool fixed_blur_supported(double sigma) {
    return make_fixed_kernel(sigma, nullptr);
}

void fixed_blur_u8(uint8_t *base, size_t stride, uint32_t width, uint32_t height, int channels, double sigma,
                   InterruptPoll poll, FixedKernels kernels, RowGate *gate) {
    FixedKernel k;
    if (!make_fixed_kernel(sigma, &k))
        throw Error(ErrorKind::InvalidParameter, "sigma out of range for the fixed-point blur");
#ifndef BB_FIXED_AVX2
    kernels = FixedKernels::Scalar;
#endif
    if (width == 0 || height == 0 || k.radius == 0)
        return;
    const long r = k.radius, h = long(height), C = channels;
    const size_t n = size_t(width) * size_t(channels);
    // Horizontally filtered rows wait in a ring of 2r+1 rows (all rows, if fewer) until the
    // vertical pass has used them; each output row is written back in place.
    RowRing<int16_t> ring(n, uint32_t(std::min(h, 2 * r + 1)));
    std::vector<int16_t> padded(n + 2 * size_t(r) * size_t(C));
    std::vector<const int16_t *> left(size_t(r) + 1), right(size_t(r) + 1);
    auto slot = [&](long row) { return ring.slot(uint32_t(row)); };
    int16_t *const middle = padded.data() + size_t(r) * size_t(C);

    long next = 0;
    for (long y = 0; y < h; y++) {
        if (poll && poll())
            throw_interrupted();
        if (gate && gate->abandoned())
            return;
        for (const long last = std::min(h - 1, y + r); next <= last; next++) {
            if (poll && poll())
                throw_interrupted();
            if (gate && !gate->wait_for(uint32_t(next) + 1))
                return;
            pad_reflected(base + stride * size_t(next), middle, long(width), C, r);
            for (long t = 1; t <= r; t++) {
                left[size_t(t)] = middle - t * C;
                right[size_t(t)] = middle + t * C;
            }
#ifdef BB_FIXED_AVX2
            if (kernels == FixedKernels::Avx512)
                horizontal_avx512(middle, left.data(), right.data(), k, slot(next), n);
            else if (kernels == FixedKernels::Avx2)
                horizontal_avx2(middle, left.data(), right.data(), k, slot(next), n);
            else
#endif
                horizontal_scalar(middle, left.data(), right.data(), k, slot(next), 0, n);
        }
        for (long t = 1; t <= r; t++) {
            left[size_t(t)] = slot(reflect_index(y - t, h));
            right[size_t(t)] = slot(reflect_index(y + t, h));
        }
        uint8_t *dst = base + stride * size_t(y);
#ifdef BB_FIXED_AVX2
        if (kernels == FixedKernels::Avx512)
            vertical_avx512(slot(y), left.data(), right.data(), k, dst, n);
        else if (kernels == FixedKernels::Avx2)
            vertical_avx2(slot(y), left.data(), right.data(), k, dst, n);
        else
#endif
            vertical_scalar(slot(y), left.data(), right.data(), k, dst, 0, n);
    }
}

} // namespace bb
