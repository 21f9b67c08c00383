// libFuzzer target over the WebP reader and writer alone: decode (the container, VP8, VP8L,
// alpha, the metadata chunks), then write the pixels back, lossless or lossy as the first byte
// says, with the metadata read; a lossy file also through its planes (blur_webp_planes: VP8's
// Y, U and V decoded, blurred and written from the planes); an animation goes through read_webp_animation and
// transform_webp_animation (every frame inverted), within the same pixel budget for all its
// frames. Any outcome but a bb::Error is a bug.
#include <cstddef>
#include <cstdint>

#include "codecs.hpp"
#include "formats.hpp"
#include "pipeline.hpp"
#include "probe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    bb::DecodeOptions options;
    options.max_pixels = 1u << 20; // keeps each run fast; the limit path is fuzzed too
    const int quality = 1 + (data[0] >> 1) % 100;
    try {
        const bb::ImageInfo info = bb::probe(data + 1, size - 1);
        if (info.format == bb::Format::Webp && info.webp_animated) {
            const bb::WebpAnimation animation = bb::read_webp_animation(data + 1, size - 1);
            if (uint64_t(animation.width) * animation.height * animation.frames > options.max_pixels)
                return 0;
            bb::transform_webp_animation(
                data + 1, size - 1, animation, quality,
                [](bb::Image &frame) {
                    for (size_t i = 0; i < frame.pixels.size(); i++)
                        frame.pixels.data()[i] = uint8_t(255 - frame.pixels.data()[i]);
                },
                nullptr);
            return 0;
        }
        if (info.format == bb::Format::Webp && !info.webp_lossless) {
            bb::BlurOptions blur;
            blur.sigma = 3.0;
            blur.quality = quality;
            blur.max_pixels = options.max_pixels;
            bb::Buffer out;
            bb::blur_webp_planes(data + 1, size - 1, info, blur, options, &out);
        }
        bb::WebpMeta meta;
        const bb::Image image = bb::decode_webp(data + 1, size - 1, options, &meta);
        meta.lossless = data[0] & 1;
        bb::encode_webp(image, meta, quality, nullptr);
    } catch (const bb::Error &) {
    }
    return 0;
}
