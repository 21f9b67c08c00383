// The Gaussian blur of 8-bit samples without alpha in 16-bit fixed point, as OpenCV blurs
// 8-bit images: weights in Q15 summing to exactly 32768, horizontally filtered rows kept in Q6
// (1/64 of a level) in a ring of 16-bit rows, products summed in 32 bits (pmaddwd). Half the
// memory traffic of float samples and twice the samples per instruction. The result differs
// from the exact one by less than 0.4 of a level for sigma up to kMaxFixedSigma (weights
// rounded to 1/32768, rows to 1/64), so it stays within 1 of SciPy's rounded float64 result.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "errors.hpp"

namespace bb {

// Above this sigma the float path is used: more taps would add up more weight rounding.
constexpr double kMaxFixedSigma = 10.0;

// The kernels fixed_blur_u8 runs: the portable ones, AVX2 (16 samples a step) or AVX-512 BW
// (32), all bit-identical.
enum class FixedKernels { Scalar, Avx2, Avx512 };

// The widest kernels this processor runs.
FixedKernels fixed_blur_kernels() noexcept;

// Whether this processor runs vectorised fixed-point kernels (AVX2 or wider on x86-64).
bool fixed_blur_vectorised() noexcept;

// Whether the fixed-point blur can take this sigma (its Q15 weights are representable).
bool fixed_blur_supported(double sigma);

class RowGate;

// Blurs rows of width * channels 8-bit samples, stride bytes apart, in place, with kernels
// (the unit tests run each kind this processor has; wider than it has is a bug). Each output
// row is written once the rows sigma's kernel reaches below it have been read, from the top
// down, so the rows can still be arriving: with a gate, each row is read only once the gate
// has it, and the blur stops (the rows then unspecified) when the gate is abandoned.
void fixed_blur_u8(uint8_t *base, size_t stride, uint32_t width, uint32_t height, int channels, double sigma,
                   InterruptPoll poll, FixedKernels kernels, RowGate *gate = nullptr);

} // namespace bb
