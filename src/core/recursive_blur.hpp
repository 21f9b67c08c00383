// The Gaussian as a recursive (IIR) filter whose cost per sample does not depend on sigma:
// Deriche's fourth-order approximation (R. Deriche, "Recursively implementing the Gaussian and
// its derivatives", INRIA RR-1893, 1993): two second-order sections, each run causally and
// anticausally along each axis, summed. Double precision: in single its poles, close to 1 at large
// sigma, lose the sum (6 levels off at sigma 50, 142 at 100, in a NumPy trial). SciPy's
// reflected borders come from running each recursion over settle_length(sigma) reflected
// samples before the first one kept, where the start's error has decayed below 1e-6; SciPy's
// kernel, cut at 4 sigma, differs from the whole Gaussian by 6e-5 of its weight. Measured
// against SciPy's float64 result (test_recursive_blur.cpp): within 1.5e-4 of the signal's range
// along a line (0.04 of an 8-bit level) for sigma 2 to 1000, and 8-bit images within 0.55 of
// the unrounded result, so within 1 level of SciPy's rounded one.
#pragma once
#include "no_postgres.hpp"

#include "errors.hpp"
#include "pixel_rows.hpp"

namespace bb {

// Deriche's filter is a sum of two terms, each a second-order section run causally and
// anticausally; kept apart (not multiplied out into one fourth-order recursion) they stay
// exact at large sigma, where the fourth-order form loses 15 levels at sigma 1000.
struct RecursiveSection {
    double causal[2];     // weights of x[n], x[n-1] in y+[n]
    double anticausal[2]; // weights of x[n+1], x[n+2] in y-[n]
    double feedback[2];   // both recursions subtract feedback[k-1] * y[n -+ k], k = 1, 2
};
struct RecursiveCoefficients {
    RecursiveSection section[2];
};

// The coefficients for sigma (> 0), scaled so that a constant signal comes out unchanged.
RecursiveCoefficients recursive_coefficients(double sigma);

// Reflected samples each recursion runs over before the signal: its slowest pole decays as
// exp(-1.723 / sigma) per sample, to 1e-6 after 8 sigma.
long settle_length(double sigma);

// Filters a line of n doubles (reflected borders) into out; the reference for the unit tests.
void recursive_line(const double *in, double *out, long n, double sigma);

// Blurs the rows in place, any depth, alpha premultiplied: the vertical pass from the samples
// into a float copy of the image, in strips of columns, then the horizontal pass in blocks of rows
// back into the samples. Needs one float per sample besides the image. Polls once per strip
// of 16 columns and once per block of 8 rows.
void recursive_blur(const PixelRows &rows, double sigma, InterruptPoll poll);

} // namespace bb
