// What jpeg_regions.cpp (the blocks a box touches, recomputed) and jpeg_splice.cpp (a baseline
// file's coded data copied around them) share: each component's plane and the groups of its
// samples to blur.
#pragma once
#include "no_postgres.hpp"

#include <vector>

#include "jpeg_coefficients.hpp"
#include "jpeg_reader.hpp"
#include "regions.hpp"

namespace bb {
namespace jpeg {

constexpr int kBlock = DCTSIZE; // 8

// One component of the file: its plane, its table, and where its blocks are.
struct Plane {
    uint32_t width = 0, height = 0;      // samples that belong to the image
    uint32_t blocks_w = 0, blocks_h = 0; // blocks that hold them
    int factor_x = 1, factor_y = 1;      // image pixels per sample along each axis
    const UINT16 *quant = nullptr;       // the component's table, natural order
    CoefficientRows coefficients{};      // the blocks, row by row
};

// A component's part of a redaction: its plane and, in its own samples, the groups of
// rectangles to blur (regions.hpp), each with the window of blocks it reads.
struct ComponentPlan {
    Plane plane;
    double sigma_x = 0, sigma_y = 0;
    std::vector<RectGroup> groups;
};

// Each component's plan for the boxes (stored pixels) at sigma, from the header alone.
std::vector<ComponentPlan> plan_components(const jpeg_decompress_struct &ci, const std::vector<Rect> &rects,
                                           double sigma);

// Recomputes the blocks of plan's groups in plan.plane.coefficients (which must hold every block
// of their windows), with plan.plane.quant.
void redact_plane(const ComponentPlan &plan, InterruptPoll poll);

// The redaction of a baseline (sequential, Huffman-coded, one-scan) JPEG whose header job has
// read: the coded data is decoded without a coefficient array for the whole image, only the
// rows that the groups' windows need are kept, the restart intervals whose blocks change (or,
// without restart markers, the changed MCUs of each row and the one after them, whose DC
// differences change) are coded again with the file's own Huffman tables, and the coded data
// around them is copied bit for bit. Returns false, having changed nothing, for any other
// file, or when a table lacks a code that the recomputed blocks need: the caller then
// transcodes the whole file.
bool splice_regions(const uint8_t *data, size_t size, DecodeJob &job, const JpegMeta &meta,
                    std::vector<ComponentPlan> &plans, InterruptPoll poll, Buffer *out);

} // namespace jpeg
} // namespace bb
