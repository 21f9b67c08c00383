#include "kernel.hpp"

#include <cmath>

#include "errors.hpp"

namespace bb {

std::vector<float> gaussian_kernel(double sigma) {
    if (!(sigma >= 0.0) || sigma > kMaxSigma)
        throw Error(ErrorKind::InvalidParameter, "invalid sigma", "sigma must be between 0 and 1000.");
    if (sigma == 0.0)
        return {1.0f};
    // SciPy's radius is int(truncate * sigma + 0.5): truncation is the definition, not a rounding slip.
    const long radius = static_cast<long>(kTruncate * sigma + 0.5); // NOLINT(bugprone-incorrect-roundings)
    std::vector<double> w(static_cast<size_t>(2 * radius + 1));
    double sum = 0.0;
    for (size_t i = 0; i < w.size(); i++) {
        const double x = double(long(i) - radius);
        w[i] = std::exp(-0.5 * x * x / (sigma * sigma));
        sum += w[i];
    }
    std::vector<float> out(w.size());
    for (size_t i = 0; i < w.size(); i++)
        out[i] = static_cast<float>(w[i] / sum);
    return out;
}

} // namespace bb
