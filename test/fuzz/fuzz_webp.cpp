// libFuzzer target over the WebP reader and writer alone: decode (the container, VP8, VP8L,
// alpha, the metadata chunks), then write the pixels back, lossless or lossy as the first byte
// says, with the metadata read. Any outcome but a bb::Error is a bug.
#include <cstddef>
#include <cstdint>

#include "codecs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    bb::DecodeOptions options;
    options.max_pixels = 1u << 20; // keeps each run fast; the limit path is fuzzed too
    try {
        bb::WebpMeta meta;
        const bb::Image image = bb::decode_webp(data + 1, size - 1, options, &meta);
        meta.lossless = data[0] & 1;
        bb::encode_webp(image, meta, 1 + (data[0] >> 1) % 100, nullptr);
    } catch (const bb::Error &) {
    }
    return 0;
}
