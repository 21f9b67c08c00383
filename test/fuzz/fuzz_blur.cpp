// libFuzzer target over the whole core: recognise, decode, blur, encode. The first byte picks
// sigma and quality, the rest is the image; the input's length modulo 8 picks the output format
// (5 JPEG, 6 PNG, 7 WebP; otherwise the input's own), so that the conversions are fuzzed too. Any outcome but a
// bb::Error is a bug: the fuzzer reports crashes, sanitizer findings, leaks and uncaught exceptions.
#include <cstddef>
#include <cstdint>

#include "pipeline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    bb::BlurOptions options;
    // 0 to 10.5 in steps of 0.75, and 40: every blur method and every JPEG decode scale
    options.sigma = (data[0] & 0x0f) == 15 ? 40.0 : (data[0] & 0x0f) * 0.75;
    options.quality = 1 + (data[0] >> 4) * 6;
    options.max_pixels = 1u << 22; // keeps each run fast; the limit path is fuzzed too
    switch (size % 8) {
    case 5: options.output = bb::Format::Jpeg; break;
    case 6: options.output = bb::Format::Png; break;
    case 7: options.output = bb::Format::Webp; break;
    default: break;
    }
    try {
        bb::blur_image(data + 1, size - 1, options);
    } catch (const bb::Error &) {
    }
    return 0;
}
