// One zlib stream from pieces compressed one at a time. A PNG holds all its scanlines in a
// single zlib stream, and libdeflate compresses a whole buffer in one call that cannot be
// interrupted (126 ms for the 14 MiB of a 2.5 MP 16-bit photo here). So the encoder compresses
// pieces of a few MiB each, checking for an interrupt between them, and joins their raw deflate
// streams as zlib's Z_SYNC_FLUSH would have cut them: every piece but the last loses the
// final-block flag of its last block and is followed by an empty stored block, which brings the
// next piece onto a byte boundary. Where a piece's last block begins is found by walking its
// blocks, decoding each Huffman code without writing any output. Each piece starts a new 32 KiB
// window, which costs almost nothing on pieces of megabytes.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>

namespace bb {

// Where a raw deflate stream's last block begins and where the stream ends, in bits from the
// start of data (bit 0 is the lowest bit of byte 0, as deflate packs them).
struct DeflateExtent {
    size_t last_block_bit = 0;
    size_t end_bit = 0;
};

// Walks the blocks of a raw deflate stream. Throws std::runtime_error when the stream is
// malformed or ends early (it reads libdeflate's own output, so that means a bug).
DeflateExtent deflate_extent(const uint8_t *data, size_t size);

// Joins raw deflate streams into out, which the caller sizes: the sum of the pieces' sizes
// plus 5 bytes a piece.
class DeflateJoiner {
  public:
    explicit DeflateJoiner(uint8_t *out) noexcept : out_(out) {}
    // Appends a complete raw deflate stream; unless last, its final-block flag is cleared and
    // an empty stored block follows, so that the next piece's blocks follow on a byte boundary.
    // Only those pieces are walked. The piece may already stand at next() (compressed there
    // directly): then nothing is copied.
    void append(const uint8_t *piece, size_t size, bool last);
    // Bytes written so far, and where the next piece goes.
    size_t bytes() const noexcept { return bytes_; }
    uint8_t *next() const noexcept { return out_ + bytes_; }

  private:
    uint8_t *out_;
    size_t bytes_ = 0;
};

} // namespace bb
