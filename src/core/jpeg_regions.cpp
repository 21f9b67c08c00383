// A JPEG redacted in its DCT blocks: the file is read into coefficients (as jpegtran reads it,
// into the huge-page store of jpeg_coefficients.hpp), the blocks a region touches are
// recomputed, and the coefficients are written back with the file's own quantisation tables,
// sampling and colour space. Every block no region touches keeps its quantised coefficients
// bit for bit, so it decodes to exactly the pixels it did, however often the file is redacted.
//
// Each component is blurred in its own plane and sampling, as bytea_blur blurs a JPEG: a
// region of the image covers the samples of a subsampled plane that its pixels are upsampled
// from (plane_rect), and the plane's sigma is the image's divided by the subsampling along
// each axis. For each group
// of regions (regions.hpp) the blocks of its window are decoded (an exact float IDCT of the
// dequantised coefficients, rounded and clamped as a decoder shows them), the window is
// blurred, and each block that holds a sample of a region is made of the blurred samples
// inside the regions and its decoded samples outside them, then transformed and quantised with
// the file's table for that component. Samples of such a block outside every region change
// only by that requantisation (about half a step of the table).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "jpeg_reader.hpp"
#include "jpeg_regions.hpp"
#include "jpeg_writer.hpp"

namespace bb {

using namespace jpeg;

namespace {

// The orthonormal 8-point DCT-II basis: basis[u][x] = C(u) / 2 cos((2x + 1) u pi / 16),
// C(0) = 1 / sqrt(2). JPEG's 2-D DCT is this along rows and columns.
struct DctBasis {
    double m[kBlock][kBlock];
    DctBasis() noexcept {
        const double pi = std::acos(-1.0);
        for (int u = 0; u < kBlock; u++)
            for (int x = 0; x < kBlock; x++)
                m[u][x] = (u == 0 ? std::sqrt(0.125) : 0.5) * std::cos((2 * x + 1) * u * pi / 16.0);
    }
};
const DctBasis &dct_basis() {
    static const DctBasis basis;
    return basis;
}

// Dequantised coefficients (natural order) to samples, level-shifted back, unrounded.
void inverse_dct(const JCOEF *coef, const UINT16 *quant, double out[kBlock][kBlock]) {
    const auto &m = dct_basis().m;
    double rows[kBlock][kBlock]; // rows[v][x]: the horizontal inverse of each frequency row v
    for (int v = 0; v < kBlock; v++)
        for (int x = 0; x < kBlock; x++) {
            double s = 0.0;
            for (int u = 0; u < kBlock; u++)
                s += m[u][x] * double(coef[v * kBlock + u]) * double(quant[v * kBlock + u]);
            rows[v][x] = s;
        }
    for (int y = 0; y < kBlock; y++)
        for (int x = 0; x < kBlock; x++) {
            double s = 0.0;
            for (int v = 0; v < kBlock; v++)
                s += m[v][y] * rows[v][x];
            out[y][x] = s + 128.0;
        }
}

// Samples to coefficients quantised with quant, in natural order, clamped to what an 8-bit
// JPEG's entropy coder takes (DC 11 bits, AC 10 bits of magnitude).
void forward_dct(const double in[kBlock][kBlock], const UINT16 *quant, JCOEF *coef) {
    const auto &m = dct_basis().m;
    double cols[kBlock][kBlock]; // cols[y][u]: the horizontal transform of each sample row y
    for (int y = 0; y < kBlock; y++)
        for (int u = 0; u < kBlock; u++) {
            double s = 0.0;
            for (int x = 0; x < kBlock; x++)
                s += m[u][x] * (in[y][x] - 128.0);
            cols[y][u] = s;
        }
    for (int v = 0; v < kBlock; v++)
        for (int u = 0; u < kBlock; u++) {
            double s = 0.0;
            for (int y = 0; y < kBlock; y++)
                s += m[v][y] * cols[y][u];
            const double limit = v == 0 && u == 0 ? 2047.0 : 1023.0;
            const double q = std::clamp(std::nearbyint(s / double(quant[v * kBlock + u])), -limit, limit);
            coef[v * kBlock + u] = JCOEF(q);
        }
}

// The plane's samples that the pixels of rect (image pixels [a0, a1) along an axis) are
// decoded from: for a full-resolution plane the same ones; for a plane subsampled by f, every
// sample a decoder's upsampling reads for them. libjpeg's default ("fancy") upsampling by 2,
// which browsers use too, mixes each pixel's own sample with the nearer neighbour (3/4 and
// 1/4): pixel 2j reads samples j - 1 and j, pixel 2j + 1 samples j and j + 1. So samples
// floor((a0 - f/2) / f) to floor((a1 - 1 + f/2) / f): with them all blurred, no pixel of the box
// shows a trace of the unblurred colour at its edge.
Rect plane_rect(const Rect &r, const Plane &p) {
    auto first = [](uint32_t a, int f) {
        return uint32_t(std::max<int64_t>(0, (int64_t(a) - f / 2) / f)); // a >= f/2: no negative division
    };
    auto end = [](uint32_t a, int f, uint32_t limit) {
        return uint32_t(std::min<int64_t>(limit, (int64_t(a) - 1 + f / 2) / f + 1));
    };
    return Rect{first(r.x0, p.factor_x), first(r.y0, p.factor_y), end(r.x1, p.factor_x, p.width),
                end(r.y1, p.factor_y, p.height)};
}

} // namespace

std::vector<ComponentPlan> jpeg::plan_components(const jpeg_decompress_struct &ci, const std::vector<Rect> &rects,
                                                 double sigma) {
    std::vector<ComponentPlan> plans(size_t(ci.num_components));
    for (int c = 0; c < ci.num_components; c++) {
        const jpeg_component_info &comp = ci.comp_info[c];
        ComponentPlan &plan = plans[size_t(c)];
        Plane &p = plan.plane;
        p.width = comp.downsampled_width;
        p.height = comp.downsampled_height;
        p.blocks_w = comp.width_in_blocks;
        p.blocks_h = comp.height_in_blocks;
        p.factor_x = ci.max_h_samp_factor / comp.h_samp_factor;
        p.factor_y = ci.max_v_samp_factor / comp.v_samp_factor;
        if (p.blocks_w * kBlock < p.width || p.blocks_h * kBlock < p.height)
            throw Error(ErrorKind::InvalidData, "invalid JPEG data",
                        "Component " + std::to_string(c + 1) + " has fewer blocks than samples.");
        plan.sigma_x = sigma / p.factor_x;
        plan.sigma_y = sigma / p.factor_y;
        std::vector<Rect> plane_rects;
        for (const Rect &r : rects) {
            const Rect pr = plane_rect(r, p);
            if (!pr.empty())
                plane_rects.push_back(pr);
        }
        plan.groups =
            group_rects(plane_rects, kernel_reach(plan.sigma_x), kernel_reach(plan.sigma_y), p.width, p.height, kBlock);
    }
    return plans;
}

// Blurs the plane inside its groups' rects (its own samples), block by block as described at
// the top; p.quant and p.coefficients set, and holding every block of the groups' windows.
void jpeg::redact_plane(const ComponentPlan &plan, InterruptPoll poll) {
    const Plane &p = plan.plane;
    if (!plan.groups.empty() && std::find(p.quant, p.quant + DCTSIZE2, 0) != p.quant + DCTSIZE2)
        throw Error(ErrorKind::InvalidData, "invalid JPEG data",
                    "A quantisation table holds a step of 0: the blocks of a region cannot be quantised again.");
    const double sigma_x = plan.sigma_x, sigma_y = plan.sigma_y;
    for (const RectGroup &g : plan.groups) {
        // The window's blocks, decoded.
        const uint32_t bx0 = g.window.x0 / kBlock, by0 = g.window.y0 / kBlock;
        const uint32_t bx1 = (g.window.x1 + kBlock - 1) / kBlock, by1 = (g.window.y1 + kBlock - 1) / kBlock;
        const uint32_t dw = (bx1 - bx0) * kBlock, dh = (by1 - by0) * kBlock;
        std::vector<float> decoded(size_t(dw) * dh);
        for (uint32_t by = by0; by < by1; by++) {
            if (poll && poll())
                throw_interrupted();
            for (uint32_t bx = bx0; bx < bx1; bx++) {
                double block[kBlock][kBlock];
                inverse_dct(p.coefficients.rows[by][bx], p.quant, block);
                for (int y = 0; y < kBlock; y++)
                    for (int x = 0; x < kBlock; x++)
                        decoded[size_t((by - by0) * kBlock + uint32_t(y)) * dw + (bx - bx0) * kBlock + uint32_t(x)] =
                            float(std::clamp(std::nearbyint(block[y][x]), 0.0, 255.0));
            }
        }
        // The window itself (the image's samples only: its reflected borders are the plane's),
        // blurred.
        const uint32_t ww = g.window.x1 - g.window.x0, wh = g.window.y1 - g.window.y0;
        const uint32_t ox = g.window.x0 - bx0 * kBlock, oy = g.window.y0 - by0 * kBlock;
        std::vector<float> blurred(size_t(ww) * wh);
        for (uint32_t y = 0; y < wh; y++)
            std::memcpy(&blurred[size_t(y) * ww], &decoded[size_t(oy + y) * dw + ox], ww * sizeof(float));
        blur_plane(blurred.data(), ww, wh, sigma_x, sigma_y, poll);
        // Which decoded samples the regions take.
        std::vector<uint8_t> inside(size_t(dw) * dh, 0);
        for (const Rect &r : g.rects)
            for (uint32_t y = r.y0; y < r.y1; y++)
                std::memset(&inside[size_t(y - by0 * kBlock) * dw + (r.x0 - bx0 * kBlock)], 1, r.x1 - r.x0);
        // Each block holding one of them: recomposed, transformed, quantised.
        for (uint32_t by = by0; by < by1; by++) {
            if (poll && poll())
                throw_interrupted();
            for (uint32_t bx = bx0; bx < bx1; bx++) {
                double block[kBlock][kBlock];
                bool touched = false;
                for (int y = 0; y < kBlock; y++)
                    for (int x = 0; x < kBlock; x++) {
                        const uint32_t dy = (by - by0) * kBlock + uint32_t(y), dx = (bx - bx0) * kBlock + uint32_t(x);
                        const size_t at = size_t(dy) * dw + dx;
                        if (inside[at]) {
                            touched = true;
                            block[y][x] = std::clamp(double(blurred[size_t(dy - oy) * ww + (dx - ox)]), 0.0, 255.0);
                        } else {
                            block[y][x] = decoded[at];
                        }
                    }
                if (touched)
                    forward_dct(block, p.quant, p.coefficients.rows[by][bx]);
            }
        }
    }
}

Buffer blur_jpeg_regions(const uint8_t *data, size_t size, const std::vector<Box> &boxes, const BlurOptions &options,
                         const DecodeOptions &decode) {
    DecodeJob in{};
    DecodeGuard in_guard{&in};
    init_decode_job(in, data, size, options.poll);
    JpegMeta meta;
    read_header(in, decode, &meta);
    const jpeg_decompress_struct &ci = in.cinfo;
    const std::vector<Rect> rects = stored_rects(boxes, ci.image_width, ci.image_height, meta.orientation);
    std::vector<ComponentPlan> plans = plan_components(ci, rects, options.sigma);
    // A baseline file in one scan: the coded data of the rows no box needs copied, not redone.
    Buffer spliced;
    if (splice_regions(data, size, in, meta, plans, options.poll, &spliced))
        return spliced;

    // Any other (progressive, several scans, arithmetic coding, a table that lacks a code the
    // blurred blocks need): the whole file through libjpeg's coefficient arrays.
    jvirt_barray_ptr *arrays = nullptr;
    check_decode(run_read_coefficients(&in, &arrays), in);
    for (int c = 0; c < ci.num_components && !rects.empty(); c++) {
        const jpeg_component_info &comp = ci.comp_info[c];
        Plane &p = plans[size_t(c)].plane;
        const JQUANT_TBL *table = comp.quant_table ? comp.quant_table
                                  : comp.quant_tbl_no >= 0 && comp.quant_tbl_no < NUM_QUANT_TBLS
                                      ? ci.quant_tbl_ptrs[comp.quant_tbl_no]
                                      : nullptr;
        p.coefficients = coefficient_rows(arrays[c]);
        if (!table || p.coefficients.blocks_per_row < p.blocks_w || p.coefficients.row_count < p.blocks_h)
            throw Error(ErrorKind::InvalidData, "invalid JPEG data",
                        "Component " + std::to_string(c + 1) + " has no quantisation table or no blocks to redact.");
        p.quant = table->quantval;
        redact_plane(plans[size_t(c)], options.poll);
    }

    EncodeJob out{};
    EncodeGuard out_guard{&out};
    const ExifOrientation exif(meta.orientation);
    prepare_encode_job(out, meta, options.quality, options.poll, exif);
    check_encode(run_write_coefficients(&out, &in.cinfo, arrays), out);
    return take_output(out.dest);
}

} // namespace bb
