#include "recursive_blur.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <vector>

#include "kernel.hpp"
#include "multiversion.hpp"

namespace bb {

RecursiveCoefficients recursive_coefficients(double sigma) {
    if (!(sigma > 0.0) || sigma > kMaxSigma)
        throw std::invalid_argument("recursive_coefficients: sigma out of range");
    // Deriche's fit of the Gaussian for x >= 0, x in units of sigma, as two terms
    // (A cos(w x) + B sin(w x)) exp(-b x), each one second-order section.
    const double fit[2][4] = {{1.680, 3.735, 1.783, 0.6318}, {-0.6803, -0.2598, 1.723, 1.997}}; // A, B, b, w
    RecursiveCoefficients k{};
    double gain = 0.0;
    for (int i = 0; i < 2; i++) {
        const double A = fit[i][0], B = fit[i][1], e = std::exp(-fit[i][2] / sigma), w = fit[i][3] / sigma;
        const double cw = std::cos(w), sw = std::sin(w);
        RecursiveSection &s = k.section[i];
        // z-transform over n >= 0: (A + e (B sin w - A cos w) z^-1) / (1 - 2 e cos w z^-1 + e^2 z^-2);
        // over n >= 1 mirrored: (e (B sin w + A cos w) z - A e^2 z^2) / (the same in z).
        s.causal[0] = A;
        s.causal[1] = e * (B * sw - A * cw);
        s.anticausal[0] = e * (B * sw + A * cw);
        s.anticausal[1] = -A * e * e;
        s.feedback[0] = -2 * e * cw;
        s.feedback[1] = e * e;
        gain += (s.causal[0] + s.causal[1] + s.anticausal[0] + s.anticausal[1]) / (1 + s.feedback[0] + s.feedback[1]);
    }
    // Scaled so that the gains at zero frequency add up to 1.
    for (RecursiveSection &s : k.section)
        for (int j = 0; j < 2; j++) {
            s.causal[j] /= gain;
            s.anticausal[j] /= gain;
        }
    return k;
}

long settle_length(double sigma) {
    return long(std::ceil(8.0 * sigma)) + 4;
}

namespace {

// Four doubles: one AVX2 register, two SSE ones, aligned for AVX2 whatever the baseline says
// (its default is 16 bytes, which the AVX2 clones would not expect). The helpers are inlined, so the ABI of passing
// such vectors, which GCC warns about, never applies.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double Vec4d __attribute__((vector_size(32), aligned(32)));
typedef float Vec4f __attribute__((vector_size(16)));

// An array of Vec4d on 32-byte boundaries (a std::vector would drop the type's alignment).
class VecArray {
  public:
    explicit VecArray(size_t n)
        : data_(static_cast<Vec4d *>(::operator new(std::max<size_t>(n, 1) * sizeof(Vec4d), std::align_val_t(32)))) {
        std::fill(data_, data_ + n, Vec4d{0, 0, 0, 0});
    }
    ~VecArray() { ::operator delete(data_, std::align_val_t(32)); }
    VecArray(const VecArray &) = delete;
    VecArray &operator=(const VecArray &) = delete;
    Vec4d *data() noexcept { return data_; }
    Vec4d &operator[](size_t i) noexcept { return data_[i]; }

  private:
    Vec4d *data_;
};

// One step of a section's causal recursion, y+[n] from x[n], x[n-1], y+[n-1], y+[n-2]; of its
// anticausal one, y-[n] from x[n+1], x[n+2], y-[n+1], y-[n+2]. The term on the previous output
// comes last, so that only one multiply-add waits for the previous step.
[[gnu::always_inline]] inline Vec4d causal_step(const RecursiveSection &s, Vec4d x0, Vec4d x1, Vec4d y1, Vec4d y2) {
    return (s.causal[0] * x0 + s.causal[1] * x1 - s.feedback[1] * y2) - s.feedback[0] * y1;
}

[[gnu::always_inline]] inline Vec4d anticausal_step(const RecursiveSection &s, Vec4d x1, Vec4d x2, Vec4d y1, Vec4d y2) {
    return (s.anticausal[0] * x1 + s.anticausal[1] * x2 - s.feedback[1] * y2) - s.feedback[0] * y1;
}

// Filters `groups` vectors of independent lanes along a line of `length` steps, reflected at
// both ends: line holds the groups of step v at line + v * groups. Each recursion starts
// `settle` steps outside the line from rest; causal (length * groups) keeps y+, and step v's
// y+ + y- goes to out + v * out_stride as `samples` floats (the leading lanes of the groups).
BB_CLONES_AVX2
void filter_lines(const Vec4d *line, long length, long groups, long settle, const RecursiveCoefficients &coefficients,
                  Vec4d *history, Vec4d *causal, float *out, size_t out_stride, size_t samples) {
    const Vec4d zero = {0, 0, 0, 0};
    // local copies: the stores below cannot alias them
    const RecursiveSection p = coefficients.section[0], q = coefficients.section[1];
    auto at = [&](long v) { return line + reflect_index(v, length) * groups; };
    // history: y of each section for the last two steps; step u writes slots (u mod 2) and
    // reads the other one: [p, u even] [p, u odd] [q, u even] [q, u odd], groups vectors each.
    Vec4d *const hp[2] = {history, history + groups}, *const hq[2] = {history + 2 * groups, history + 3 * groups};
    std::fill(history, history + 4 * groups, zero);
    for (long v = -settle, u = 0; v < length; v++, u++) {
        const Vec4d *x0 = at(v), *x1 = at(v - 1);
        Vec4d *p0 = hp[u & 1], *q0 = hq[u & 1]; // also y[n-2]
        const Vec4d *p1 = hp[(u + 1) & 1], *q1 = hq[(u + 1) & 1];
        for (long g = 0; g < groups; g++) {
            p0[g] = causal_step(p, x0[g], x1[g], p1[g], p0[g]);
            q0[g] = causal_step(q, x0[g], x1[g], q1[g], q0[g]);
        }
        if (v >= 0)
            for (long g = 0; g < groups; g++)
                causal[v * groups + g] = p0[g] + q0[g];
    }
    std::fill(history, history + 4 * groups, zero);
    for (long v = length - 1 + settle, u = 0; v >= 0; v--, u++) {
        const Vec4d *x1 = at(v + 1), *x2 = at(v + 2);
        Vec4d *p0 = hp[u & 1], *q0 = hq[u & 1];
        const Vec4d *p1 = hp[(u + 1) & 1], *q1 = hq[(u + 1) & 1];
        for (long g = 0; g < groups; g++) {
            p0[g] = anticausal_step(p, x1[g], x2[g], p1[g], p0[g]);
            q0[g] = anticausal_step(q, x1[g], x2[g], q1[g], q0[g]);
        }
        if (v < length) {
            const Vec4d *c = causal + v * groups;
            float *dst = out + size_t(v) * out_stride;
            long g = 0;
            for (; 4 * size_t(g) + 4 <= samples; g++) {
                const Vec4f sum = __builtin_convertvector(c[g] + p0[g] + q0[g], Vec4f);
                std::memcpy(dst + 4 * g, &sum, sizeof sum);
            }
            for (size_t lane = 0; 4 * size_t(g) + lane < samples; lane++) // the last, partial group
                dst[4 * g + long(lane)] = float(c[g][lane] + p0[g][lane] + q0[g][lane]);
        }
    }
}

template <typename T> void blur_typed(const PixelRows &v, double sigma, InterruptPoll poll) {
    const RecursiveCoefficients k = recursive_coefficients(sigma);
    const long settle = settle_length(sigma);
    const size_t C = size_t(v.channels), samples = v.samples();
    const double max_value = v.max_value();
    // Every sample is written by the vertical pass before it is read: left uninitialised, so that
    // no pass over the whole buffer (177 MB for a 15 MP RGB photo) runs between two polls.
    const std::unique_ptr<float[]> mid(new float[samples * v.height]);

    // Vertical, from the samples into mid: strips of 16 pixels (a multiple of 4 samples for
    // any channel count), each row's part converted once into doubles, premultiplied.
    {
        const size_t strip_pixels = 16;
        const long groups_max = long(strip_pixels * C / 4);
        VecArray strip(size_t(groups_max) * v.height), causal(size_t(groups_max) * v.height),
            history(4 * size_t(groups_max));
        for (size_t x0 = 0; x0 < v.width; x0 += strip_pixels) {
            if (poll && poll())
                throw_interrupted();
            const size_t x1 = std::min<size_t>(v.width, x0 + strip_pixels);
            const size_t strip_samples = (x1 - x0) * C;
            const long groups = long((strip_samples + 3) / 4);
            for (uint32_t y = 0; y < v.height; y++) {
                double *dst = reinterpret_cast<double *>(strip.data() + size_t(groups) * y);
                load_pixels(v.row<T>(y), dst, x0, x1, v.channels, v.alpha, max_value);
                std::fill(dst + strip_samples, dst + 4 * groups, 0.0);
            }
            filter_lines(strip.data(), long(v.height), groups, settle, k, history.data(), causal.data(),
                         mid.get() + x0 * C, samples, strip_samples);
        }
    }

    // Horizontal, from mid back into the samples: blocks of 8 rows, the 4 lanes of a vector
    // holding one sample of 4 rows, so that each step runs 2 * C independent recursions.
    const size_t rows_per_block = 8;
    const long groups = long(2 * C);
    const size_t width = v.width;
    VecArray line(width * size_t(groups)), causal(width * size_t(groups)), history(4 * size_t(groups));
    std::vector<float> out(width * size_t(groups) * 4), zeros(samples);
    std::vector<double> row(samples);
    for (uint32_t y0 = 0; y0 < v.height; y0 += rows_per_block) {
        if (poll && poll())
            throw_interrupted();
        const uint32_t rows = std::min<uint32_t>(v.height - y0, rows_per_block);
        // lane (r mod 4) of group (2c + r / 4) holds channel c of row y0 + r; rows below the
        // image read zeros
        for (uint32_t half = 0; half < 2; half++) {
            const float *src[4];
            for (uint32_t r = 0; r < 4; r++)
                src[r] = 4 * half + r < rows ? mid.get() + samples * (y0 + 4 * half + r) : zeros.data();
            Vec4d *dst = line.data() + half;
            for (size_t x = 0; x < width; x++, dst += groups)
                for (size_t c = 0; c < C; c++) {
                    const size_t i = x * C + c;
                    dst[2 * c] = Vec4d{src[0][i], src[1][i], src[2][i], src[3][i]};
                }
        }
        filter_lines(line.data(), long(width), groups, settle, k, history.data(), causal.data(), out.data(),
                     size_t(groups) * 4, size_t(groups) * 4);
        for (uint32_t r = 0; r < rows; r++) {
            for (size_t x = 0; x < width; x++)
                for (size_t c = 0; c < C; c++)
                    row[x * C + c] = out[x * size_t(groups) * 4 + (2 * c + r / 4) * 4 + r % 4];
            store_pixels(row.data(), v.row<T>(y0 + r), v.width, v.channels, v.alpha, max_value);
        }
    }
}

} // namespace

void recursive_line(const double *in, double *out, long n, double sigma) {
    const RecursiveCoefficients k = recursive_coefficients(sigma);
    VecArray line(static_cast<size_t>(n)), causal(static_cast<size_t>(n)), history(4);
    for (long i = 0; i < n; i++)
        line[size_t(i)] = Vec4d{in[i], 0, 0, 0};
    std::vector<float> result(static_cast<size_t>(n));
    filter_lines(line.data(), n, 1, settle_length(sigma), k, history.data(), causal.data(), result.data(), 1, 1);
    for (long i = 0; i < n; i++)
        out[i] = result[size_t(i)];
}

void recursive_blur(const PixelRows &rows, double sigma, InterruptPoll poll) {
    if (rows.width == 0 || rows.height == 0 || sigma == 0.0)
        return;
    if (rows.channels < 1 || rows.channels > 4)
        throw std::invalid_argument("recursive_blur: 1 to 4 channels");
    if (rows.depth > 8)
        blur_typed<uint16_t>(rows, sigma, poll);
    else
        blur_typed<uint8_t>(rows, sigma, poll);
}

} // namespace bb
