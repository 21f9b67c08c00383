// libFuzzer target over redaction (bytea_blur_regions): the first byte picks sigma and quality,
// the second how many boxes follow (0 to 7), each as four big-endian 16-bit corners (the value
// 0x7fff stands for NaN and 0x7ffe for infinity, so that the checks are fuzzed too); the rest
// is the image. Any outcome but a bb::Error is a bug: the coefficient path (jpeg_regions.cpp)
// and the windows of the pixel path are reached with boxes anywhere, overlapping, outside the
// image and empty.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "regions.hpp"

namespace {

double corner(const uint8_t *p) {
    const int v = int16_t(uint16_t(p[0] << 8 | p[1]));
    if (v == 0x7fff)
        return std::numeric_limits<double>::quiet_NaN();
    if (v == 0x7ffe)
        return std::numeric_limits<double>::infinity();
    return v / 4.0; // quarter pixels: corners between pixel centres too
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    bb::BlurOptions options;
    options.sigma = (data[0] & 0x0f) == 15 ? 40.0 : (data[0] & 0x0f) * 0.75;
    options.quality = 1 + (data[0] >> 4) * 6;
    options.max_pixels = 1u << 22;
    const size_t count = data[1] & 7;
    if (size < 2 + count * 8)
        return 0;
    std::vector<bb::Box> boxes;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = data + 2 + i * 8;
        boxes.push_back(bb::Box{corner(p), corner(p + 2), corner(p + 4), corner(p + 6)});
    }
    const size_t at = 2 + count * 8;
    try {
        bb::blur_regions(data + at, size - at, boxes, options);
    } catch (const bb::Error &) {
    }
    return 0;
}
