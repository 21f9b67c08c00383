// libFuzzer target over the AVIF reader and writer alone: the container (libavif's parser), the
// AV1 payload (the AV1 decoder libavif was built with), the conversion to RGB, then the pixels
// written back at the file's own depth and sampling, at a quality the first byte gives, with
// the metadata read, and cut to its clean aperture as a conversion cuts it. The clean aperture's
// placing is also fuzzed alone, with clap values and a picture size taken from the input's
// bytes: it must lie inside the picture. Any outcome but a bb::Error is a bug.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "codecs.hpp"
#include "convert.hpp"
#include "probe.hpp"

namespace {

bool inside(const bb::Rect &r, uint32_t width, uint32_t height) {
    return !r.empty() && r.x1 <= width && r.y1 <= height;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    bb::DecodeOptions options;
    options.max_pixels = 1u << 18; // an AV1 encode of more takes long; the limit path is fuzzed too
    const int quality = 1 + data[0] % 100;
    try {
        bb::probe(data + 1, size - 1);
        bb::AvifMeta meta;
        bb::Image image = bb::decode_avif(data + 1, size - 1, options, &meta);
        bb::encode_avif(image, meta, quality, 1, nullptr);
        const bb::Rect shown = bb::avif_clean_aperture(meta, image.width, image.height);
        if (!inside(shown, image.width, image.height))
            __builtin_trap();
        bb::crop(image, shown, nullptr);
    } catch (const bb::Error &) {
    }
    uint32_t words[10];
    if (size >= sizeof words) {
        std::memcpy(words, data, sizeof words);
        bb::AvifMeta meta;
        meta.transform_flags = words[0];
        std::memcpy(meta.clap, words + 2, sizeof meta.clap);
        const uint32_t width = 1 + words[1] % 0x7fffffffu, height = 1 + (words[1] ^ words[0]) % 0x7fffffffu;
        if (!inside(bb::avif_clean_aperture(meta, width, height), width, height))
            __builtin_trap();
    }
    return 0;
}
