#include "plane_blur.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "planes.hpp"

namespace bb {

namespace {

// Variance, in image pixels squared along one axis, of a viewer's upsampling of chroma
// subsampled by `factor`: libjpeg's default ("fancy") upsampling by 2, which browsers use too,
// is a triangle (3/4 and 1/4 of the two nearest samples): 3/16 of the spacing squared, 0.75;
// other factors are replicated, a box.
double chroma_upsampling_variance(int factor) {
    if (factor == 1)
        return 0.0;
    return factor == 2 ? 0.75 : (double(factor) * factor - 1.0) / 12.0;
}

// The subsampling factor of component c in a file described by meta, along x or y.
int input_factor(const JpegMeta &meta, int c, bool x) {
    int max_samp = 1;
    for (int i = 0; i < meta.components; i++)
        max_samp = std::max(max_samp, x ? meta.h_samp[i] : meta.v_samp[i]);
    return max_samp / (x ? meta.h_samp[c] : meta.v_samp[c]);
}

// The Gaussian's sigma, in the plane's block-averaged samples along one axis, that makes the
// served picture SciPy's blur of the input as a viewer shows it. Besides our own blur, every
// step on the way smooths the plane, and a variance in image pixels squared is subtracted for
// each (Gaussian variances add):
//  - the decoded samples, `step` pixels apart (libjpeg's scaled IDCT, or the input's own
//    chroma subsampling `factor_in`): each stands for step / factor_in of the input's samples,
//    (step^2 - factor_in^2) / 12;
//  - the averaging of m x m decoded samples: (m^2 - 1) / 12 of their spacing squared;
//  - the reconstruction of the output's samples from the blurred ones (a cubic B-spline:
//    reconstruction_variance of their spacing squared);
//  - the viewer's upsampling of the output's chroma (factor_out), less that of the input's
//    (factor_in), which the reference already has.
// Without them a sigma of 5 came out as about 5.4 on libjpeg's 1/4-scale decode: on the
// OneStandsOut photo at quality 75, luma's PSNR against SciPy was 44.8 dB, now 48.8 (the
// benchmark's bytes table, in RGB: 42.9 -> 44.5 dB), at no cost in time.
double plane_sigma(double sigma, double step, int factor_in, uint32_t m, double ratio, int factor_out) {
    const double spacing = step * m; // of the blurred samples, in image pixels
    const double variance = sigma * sigma - (step * step - double(factor_in) * factor_in) / 12.0 -
                            (double(m) * m - 1.0) / 12.0 * step * step -
                            reconstruction_variance(ratio) * spacing * spacing -
                            chroma_upsampling_variance(factor_out) + chroma_upsampling_variance(factor_in);
    return std::sqrt(std::max(variance, 0.0)) / spacing;
}

} // namespace

bool planes_hold(uint32_t width, uint32_t height, double sigma) {
    return sigma < 2 * kWorkingSigma || double(std::min(width, height)) >= 8 * sigma;
}

Buffer stream_planes(PlaneSource &source, const JpegMeta &input, const JpegMeta &meta, double sigma, PlaneSink &sink,
                     InterruptPoll poll) {
    const JpegLayout &layout = sink.layout();
    const int components = source.components();
    double finest = source.step_x(0);
    for (int c = 1; c < components; c++)
        finest = std::min(finest, source.step_x(c));
    const double working_sigma = finest >= 8 ? kWorkingSigmaScaled : kWorkingSigma;
    int max_h = 1, max_v = 1;
    for (int c = 0; c < components; c++) {
        max_h = std::max(max_h, meta.h_samp[c]);
        max_v = std::max(max_v, meta.v_samp[c]);
    }
    std::vector<PlaneStream> streams;
    streams.reserve(size_t(components));
    for (int c = 0; c < components; c++) {
        const double step_x = source.step_x(c), step_y = source.step_y(c);
        const double samples = std::min(sigma / step_x, sigma / step_y);
        const uint32_t m = uint32_t(std::max(1.0, std::floor(samples / working_sigma)));
        PlaneGeometry g;
        g.in_width = source.plane_width(c);
        g.in_height = source.plane_height(c);
        g.block = m;
        // blurred samples per sample of the component at full size
        g.ratio_x = double(max_h) / meta.h_samp[c] / (step_x * m);
        g.ratio_y = double(max_v) / meta.v_samp[c] / (step_y * m);
        g.sigma_x = plane_sigma(sigma, step_x, input_factor(input, c, true), m, g.ratio_x, max_h / meta.h_samp[c]);
        g.sigma_y = plane_sigma(sigma, step_y, input_factor(input, c, false), m, g.ratio_y, max_v / meta.v_samp[c]);
        g.out_width = layout.comp_width[c];
        g.out_height = layout.comp_height[c];
        g.padded_width = layout.padded_width[c];
        const SampleMap map = sink.sample_map(c);
        g.scale = map.scale;
        g.offset = map.offset;
        streams.emplace_back(g);
    }
    auto decode_more = [&] {
        if (!source.next())
            throw std::logic_error("stream_planes: the decoder ran out of rows");
        for (int c = 0; c < components; c++)
            for (uint32_t r = 0; r < source.row_count(c); r++)
                streams[size_t(c)].push(source.row(c, r));
    };
    for (uint32_t step = 0; !sink.done(); step++) {
        if (poll && poll())
            throw_interrupted();
        // The other components first: the sink may answer their rows in the first's.
        const float *const *correction = nullptr;
        for (int i = 1; i <= components; i++) {
            const int c = i % components;
            if (c == 0 && components > 1)
                correction = sink.first_component_correction();
            PlaneStream &stream = streams[size_t(c)];
            const uint32_t rows = sink.rows_per_step(c);
            for (uint32_t r = 0; r < rows; r++) {
                const uint32_t y = step * rows + r;
                if (y >= layout.comp_height[c]) { // below the image: whole blocks repeat its last row
                    if (r == 0)
                        throw std::logic_error("stream_planes: an iMCU row below the image");
                    std::memcpy(sink.row(c, r), sink.row(c, r - 1), layout.padded_width[c]);
                    continue;
                }
                while (!stream.ready(y))
                    decode_more();
                stream.write(y, sink.row(c, r), correction ? correction[r] : nullptr);
            }
        }
        sink.write();
    }
    while (source.next()) { // the rest of the file, so that a corrupt end is still an error
    }
    return sink.finish();
}

} // namespace bb
