// The fast path of PNG decoding (png_inflate.cpp): one libdeflate call and our own unfiltering
// for plain PNGs, with libpng as the fallback for everything else.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>

#include "errors.hpp"
#include "image.hpp"

namespace bb {

class RowGate; // worker_thread.hpp

// What the PNG header says, before any of libpng's transformations.
struct PngLayout {
    uint32_t width = 0, height = 0;
    int bit_depth = 0;
    int color_type = 0; // PNG's own: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
    bool interlaced = false;
    bool has_trns = false;
};

// Largest inflated size (scanlines with their filter bytes) inflated in one libdeflate call:
// 24 MiB inflates in about 40 ms here, so interrupts are still seen within 50 ms. Larger
// images are inflated by zlib, kPngInflateBatchBytes of scanlines a call, each batch unfiltered
// while it is in cache, with a check for an interrupt between two.
constexpr size_t kPngFastInflateBytes = 24u << 20;
constexpr size_t kPngInflateBatchBytes = 4u << 20;

// Whether inflate_png_pixels may handle an image of this layout (the plain ones), of at most
// max_bytes of scanlines.
bool png_fast_path_applies(const PngLayout &layout, size_t max_bytes = SIZE_MAX) noexcept;

// Fills image (allocated for the file's size, channels and depth) from the PNG's IDAT chunks.
// Returns false, leaving image's pixels unspecified, when the file is anything but a well-formed
// plain PNG: consecutive IDAT chunks with good CRCs, a zlib stream that inflates to exactly the
// image's scanlines (its Adler-32 checked by libdeflate; zlib's batches leave that to the
// CRCs, as libpng does), and known filter types. Throws Error(Interrupted)
// when poll says so. The sizes choose the inflater (above); tests make them small. With a
// gate, the rows are published to it as they are unfiltered, from the top, for a blur on
// another thread (png_codec.cpp); which rows it may already have changed, the unfiltering no
// longer reads: each row reads only the one above it.
bool inflate_png_pixels(const uint8_t *data, size_t size, Image &image, InterruptPoll poll,
                        size_t one_call_bytes = kPngFastInflateBytes, size_t batch_bytes = kPngInflateBatchBytes,
                        RowGate *gate = nullptr);

// inflate_png_pixels on this thread and the fixed-point blur (fixed_blur_u8, which must apply
// to the image) at sigma on a second, a few rows behind it, through a RowGate: the blur writes
// row y back in place once the rows its kernel reaches below y are there, and the unfiltering
// reads only the row above the one it is at, which the blur has not written yet. The same
// pixels as the blur after the decoding; false, with the rows unspecified, where
// inflate_png_pixels declines the file. Polls on this thread only; a cancel stops the blur
// within a row, and the second thread is joined before this returns or throws.
bool inflate_and_blur(const uint8_t *data, size_t size, Image &image, double sigma, InterruptPoll poll,
                      size_t one_call_bytes = kPngFastInflateBytes, size_t batch_bytes = kPngInflateBatchBytes);

} // namespace bb
