// libFuzzer target, differential, over the two inflaters of the PNG fast path
// (png_inflate.cpp): libdeflate in one call, and zlib in batches of whole rows, which only
// images over 24 MiB of scanlines take and fuzz_blur's small images never reach. The first byte
// picks the batch size (one row to many) and the row layout, the rest is the PNG. Whatever the
// one call accepts the batches must accept, with the same pixels; they may accept more only
// where the one call checks the Adler-32 that the batches leave to the chunk CRCs. And where the
// fixed-point blur applies (8-bit grey or RGB), the blur on a second thread beside the
// unfiltering (inflate_and_blur) must take what the one call takes, with the pixels of the
// blur after it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "errors.hpp"
#include "fixed_blur.hpp"
#include "gaussian.hpp"
#include "png_inflate.hpp"

namespace {

uint32_t be32(const uint8_t *p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

// An image laid out as decode_png lays it out for this header.
bb::Image image_for(const bb::PngLayout &layout, size_t row_prefix) {
    static const int kChannels[7] = {1, 0, 3, 0, 2, 0, 4};
    bb::Image image;
    image.width = layout.width;
    image.height = layout.height;
    image.channels = kChannels[layout.color_type];
    image.depth = layout.bit_depth;
    image.row_prefix = image.depth == 8 ? row_prefix : 0;
    image.allocate();
    return image;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size < 1 + 33)
        return 0;
    const size_t batch_bytes = 1 + size_t(data[0] >> 1) * 211;
    const size_t row_prefix = data[0] & 1;
    data++;
    size--;
    if (std::memcmp(data, kSignature, 8) != 0 || std::memcmp(data + 12, "IHDR", 4) != 0)
        return 0;
    bb::PngLayout layout;
    layout.width = be32(data + 16);
    layout.height = be32(data + 20);
    layout.bit_depth = data[24];
    layout.color_type = data[25];
    layout.interlaced = data[28] != 0;
    if (!bb::png_fast_path_applies(layout) || uint64_t(layout.width) * layout.height > (1u << 20))
        return 0;
    bb::Image one = image_for(layout, row_prefix), batched = image_for(layout, row_prefix);
    const bool one_ok = bb::inflate_png_pixels(data, size, one, nullptr);
    const bool batched_ok = bb::inflate_png_pixels(data, size, batched, nullptr, 0, batch_bytes);
    if (one_ok && !batched_ok)
        std::abort(); // the batches refused what the one call took
    if (one_ok && std::memcmp(one.pixels.data(), batched.pixels.data(), one.pixels.size()) != 0)
        std::abort(); // the same stream gave two images
    if (layout.bit_depth == 8 && (layout.color_type == 0 || layout.color_type == 2) && bb::fixed_blur_vectorised()) {
        constexpr double kSigma = 2.5;
        bb::Image beside = image_for(layout, row_prefix);
        if (bb::inflate_and_blur(data, size, beside, kSigma, nullptr) != one_ok)
            std::abort(); // the blur beside the unfiltering changed the verdict
        if (one_ok) {
            bb::gaussian_blur(one, kSigma, nullptr, bb::BlurMethod::FixedPoint);
            if (std::memcmp(one.pixels.data(), beside.pixels.data(), one.pixels.size()) != 0)
                std::abort(); // the blur beside the unfiltering gave other pixels
        }
    }
    return 0;
}
