// libFuzzer target over the AVIF reader and writer alone: the container (libavif's parser), the
// AV1 payload (the AV1 decoder libavif was built with), the conversion to RGB, then the pixels
// written back at the file's own depth and sampling, at a quality the first byte gives, with
// the metadata read. Any outcome but a bb::Error is a bug.
#include <cstddef>
#include <cstdint>

#include "codecs.hpp"
#include "probe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    bb::DecodeOptions options;
    options.max_pixels = 1u << 18; // an AV1 encode of more takes long; the limit path is fuzzed too
    const int quality = 1 + data[0] % 100;
    try {
        bb::probe(data + 1, size - 1);
        bb::AvifMeta meta;
        const bb::Image image = bb::decode_avif(data + 1, size - 1, options, &meta);
        bb::encode_avif(image, meta, quality, 1, nullptr);
    } catch (const bb::Error &) {
    }
    return 0;
}
