#include "deflate_join.hpp"

#include <cstring>
#include <stdexcept>
#include <vector>

namespace bb {
namespace {

[[noreturn]] void malformed(const char *what) {
    throw std::runtime_error(std::string("deflate_extent: ") + what);
}

// Deflate's bits, lowest bit of each byte first, through a 64-bit window; reading past the
// end yields zeros, and position() then passes the end, which the caller checks.
class BitReader {
  public:
    BitReader(const uint8_t *data, size_t size) : data_(data), size_(size) {}

    size_t position() const noexcept { return next_ * 8 - have_; }
    uint32_t peek(unsigned n) {
        if (have_ < n)
            refill();
        return uint32_t(window_ & ((uint64_t(1) << n) - 1));
    }
    void skip(unsigned n) noexcept {
        window_ >>= n;
        have_ -= n;
    }
    uint32_t take(unsigned n) {
        const uint32_t v = peek(n);
        skip(n);
        return v;
    }
    // Drops the bits up to the next byte boundary.
    void align() noexcept { skip(have_ % 8); }
    // Skips n whole bytes (after align()).
    void skip_bytes(size_t n) {
        const size_t buffered = have_ / 8;
        if (n <= buffered) {
            skip(unsigned(n * 8));
            return;
        }
        next_ += n - buffered;
        window_ = 0;
        have_ = 0;
    }

    // The state, for walk_codes, which keeps it in registers.
    uint64_t &window() noexcept { return window_; }
    unsigned &have() noexcept { return have_; }
    // Tops the window up to at least 57 bits. Past the end it adds zeros, up to 16 bytes: a
    // stream that reads more is malformed (and would otherwise decode zeros forever).
    void refill() {
        refill_fast();
        if (next_ > size_ + 16)
            malformed("the data ends inside a block");
    }

  private:
    void refill_fast() noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (have_ <= 56 && next_ + 8 <= size_) {
            // Whole bytes up to 63 bits at once; the bits of the next byte that also land in the
            // window are that byte's own, and the next refill ORs them in at the same place.
            uint64_t w;
            std::memcpy(&w, data_ + next_, 8);
            window_ |= w << have_;
            const unsigned n = (63 - have_) / 8;
            next_ += n;
            have_ += 8 * n;
            return;
        }
#endif
        while (have_ <= 56) {
            window_ |= uint64_t(next_ < size_ ? data_[next_] : 0) << have_;
            next_++;
            have_ += 8;
        }
    }

    const uint8_t *data_;
    size_t size_;
    size_t next_ = 0; // the next byte to load into the window
    uint64_t window_ = 0;
    unsigned have_ = 0; // bits in the window
};

// A canonical Huffman code as two levels of tables: the next kPrimaryBits input bits index
// the first, whose entry is symbol << 8 | code length for codes that short; longer codes
// (rare) continue in a second table at the entry's offset, indexed by the bits that follow.
// Small enough for the processor's first-level cache: a single table for 15-bit codes was
// not, and made the walk three times slower. An entry of 0 matches no code.
struct HuffmanTable {
    static constexpr unsigned kPrimaryBits = 10;
    unsigned sub_bits = 0; // index bits of each second-level table
    std::vector<uint32_t> entries;

    void build(const uint8_t *lengths, unsigned count) {
        unsigned counts[16] = {}, longest = 0;
        for (unsigned s = 0; s < count; s++) {
            counts[lengths[s]]++;
            longest = std::max<unsigned>(longest, lengths[s]);
        }
        sub_bits = longest > kPrimaryBits ? longest - kPrimaryBits : 0;
        entries.assign(size_t(1) << kPrimaryBits, 0);
        counts[0] = 0;
        unsigned next[16] = {}, code = 0;
        for (unsigned len = 1; len <= 15; len++) {
            code = (code + counts[len - 1]) << 1;
            next[len] = code;
        }
        for (unsigned s = 0; s < count; s++) {
            const unsigned len = lengths[s];
            if (len == 0)
                continue;
            const unsigned c = next[len]++;
            if (c >= (1u << len))
                malformed("an over-subscribed Huffman code");
            unsigned reversed = 0;
            for (unsigned i = 0; i < len; i++)
                reversed |= ((c >> i) & 1u) << (len - 1 - i);
            if (len <= kPrimaryBits) {
                for (size_t i = reversed; i < (size_t(1) << kPrimaryBits); i += size_t(1) << len)
                    entries[i] = s << 8 | len;
                continue;
            }
            const unsigned prefix = reversed & ((1u << kPrimaryBits) - 1);
            if (entries[prefix] == 0) { // a second-level table for this prefix
                entries[prefix] = uint32_t(entries.size()) << 8;
                entries.resize(entries.size() + (size_t(1) << sub_bits), 0);
            } else if (entries[prefix] & 0xff) {
                malformed("a code that is a prefix of another");
            }
            const size_t base = entries[prefix] >> 8;
            const unsigned rest = reversed >> kPrimaryBits, rest_len = len - kPrimaryBits;
            for (size_t i = rest; i < (size_t(1) << sub_bits); i += size_t(1) << rest_len)
                entries[base + i] = s << 8 | len;
        }
    }

    unsigned decode(BitReader &in) const {
        const uint32_t window = in.peek(kPrimaryBits + sub_bits);
        uint32_t e = entries[window & ((1u << kPrimaryBits) - 1)];
        if ((e & 0xff) == 0 && e != 0)
            e = entries[(e >> 8) + (window >> kPrimaryBits)];
        if ((e & 0xff) == 0)
            malformed("an invalid Huffman code");
        in.skip(e & 0xff);
        return e >> 8;
    }
};

void read_dynamic_tables(BitReader &in, HuffmanTable &literals, HuffmanTable &distances) {
    static const uint8_t kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    const unsigned nlit = in.take(5) + 257, ndist = in.take(5) + 1, nclen = in.take(4) + 4;
    if (nlit > 286 || ndist > 30)
        malformed("too many codes");
    uint8_t clen[19] = {};
    for (unsigned i = 0; i < nclen; i++)
        clen[kOrder[i]] = uint8_t(in.take(3));
    HuffmanTable lengths_code;
    lengths_code.build(clen, 19);
    uint8_t lengths[286 + 30] = {};
    for (unsigned i = 0; i < nlit + ndist;) {
        const unsigned symbol = lengths_code.decode(in);
        unsigned repeat = 1;
        uint8_t value = uint8_t(symbol);
        if (symbol == 16) {
            if (i == 0)
                malformed("a repeat with nothing before it");
            value = lengths[i - 1];
            repeat = 3 + in.take(2);
        } else if (symbol == 17) {
            value = 0;
            repeat = 3 + in.take(3);
        } else if (symbol == 18) {
            value = 0;
            repeat = 11 + in.take(7);
        }
        if (i + repeat > nlit + ndist)
            malformed("code lengths past the end");
        std::memset(lengths + i, value, repeat);
        i += repeat;
    }
    literals.build(lengths, nlit);
    distances.build(lengths + nlit, ndist);
}

void fixed_tables(HuffmanTable &literals, HuffmanTable &distances) {
    uint8_t lengths[288 + 30];
    std::memset(lengths, 8, 144);
    std::memset(lengths + 144, 9, 112);
    std::memset(lengths + 256, 7, 24);
    std::memset(lengths + 280, 8, 8);
    std::memset(lengths + 288, 5, 30);
    literals.build(lengths, 288);
    distances.build(lengths + 288, 30);
}

// Extra bits of length symbols 257-287 and distance symbols 0-31; 0xff: an invalid symbol.
constexpr uint8_t kLengthExtra[31] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2,    2,   2,
                                      3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0, 0xff, 0xff};
constexpr uint8_t kDistanceExtra[32] = {0, 0, 0, 0, 1, 1, 2,  2,  3,  3,  4,  4,  5,  5,  6,    6,
                                        7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 0xff, 0xff};

// Looks up the next code in table (two levels, see HuffmanTable) from the window.
[[gnu::always_inline]] inline uint32_t lookup(const HuffmanTable &table, uint64_t window) {
    uint32_t e = table.entries[window & ((1u << HuffmanTable::kPrimaryBits) - 1)];
    if ((e & 0xff) == 0 && e != 0)
        e = table.entries[(e >> 8) + ((window >> HuffmanTable::kPrimaryBits) & ((1u << table.sub_bits) - 1))];
    return e;
}

// Walks the codes of one Huffman block up to its end-of-block code, without output: the hot
// loop of the walk, with the window in registers. A literal takes at most 15 bits, a match at
// most 15 + 5 + 15 + 13 = 48: the window is topped up to 57 bits before each code.
void walk_codes(BitReader &in, const HuffmanTable &literals, const HuffmanTable &distances) {
    for (;;) {
        if (in.have() < 48)
            in.refill();
        uint64_t window = in.window();
        unsigned have = in.have();
        uint32_t e = lookup(literals, window);
        unsigned len = e & 0xff;
        if (len == 0)
            malformed("an invalid Huffman code");
        window >>= len;
        have -= len;
        unsigned symbol = e >> 8;
        if (symbol < 256) { // a literal: a second one from the same window, when it fits
            if (have >= 15) {
                e = lookup(literals, window);
                len = e & 0xff;
                if (len == 0)
                    malformed("an invalid Huffman code");
                symbol = e >> 8;
                if (symbol < 256) {
                    in.window() = window >> len;
                    in.have() = have - len;
                    continue;
                }
                window >>= len;
                have -= len;
            } else {
                in.window() = window;
                in.have() = have;
                continue;
            }
        }
        if (symbol == 256) {
            in.window() = window;
            in.have() = have;
            return;
        }
        if (have < 33) { // refill for the rest of the match: 5 + 15 + 13 bits at most
            in.window() = window;
            in.have() = have;
            in.refill();
            window = in.window();
            have = in.have();
        }
        const unsigned extra = symbol - 257 < 31 ? kLengthExtra[symbol - 257] : 0xff;
        if (extra == 0xff)
            malformed("an invalid length symbol");
        window >>= extra;
        have -= extra;
        e = lookup(distances, window);
        len = e & 0xff;
        if (len == 0)
            malformed("an invalid Huffman code");
        window >>= len;
        have -= len;
        const unsigned dextra = kDistanceExtra[(e >> 8) & 31];
        if (dextra == 0xff)
            malformed("an invalid distance symbol");
        in.window() = window >> dextra;
        in.have() = have - dextra;
    }
}

} // namespace

DeflateExtent deflate_extent(const uint8_t *data, size_t size) {
    BitReader in(data, size);
    HuffmanTable literals, distances;
    DeflateExtent extent;
    for (bool final = false; !final;) {
        extent.last_block_bit = in.position();
        final = in.take(1) != 0;
        const unsigned type = in.take(2);
        if (type == 0) { // stored
            in.align();
            const uint32_t len = in.take(16), nlen = in.take(16);
            if ((len ^ 0xffffu) != nlen)
                malformed("a stored block's length check fails");
            in.skip_bytes(len);
        } else if (type == 1 || type == 2) {
            if (type == 1)
                fixed_tables(literals, distances);
            else
                read_dynamic_tables(in, literals, distances);
            walk_codes(in, literals, distances);
        } else {
            malformed("a reserved block type");
        }
        if (in.position() > size * 8)
            malformed("the data ends inside a block");
    }
    extent.end_bit = in.position();
    return extent;
}

void DeflateJoiner::append(const uint8_t *piece, size_t size, bool last) {
    if (last) { // nothing follows: the stream goes in as it is, final flag, padding and all
        std::memcpy(out_ + bytes_, piece, size);
        bytes_ += size;
        return;
    }
    const DeflateExtent extent = deflate_extent(piece, size);
    std::memcpy(out_ + bytes_, piece, (extent.end_bit + 7) / 8);
    const size_t end = bytes_ * 8 + extent.end_bit;
    if (end % 8) // the padding after the stream's last bit
        out_[end / 8] &= uint8_t((1u << (end % 8)) - 1);
    const size_t flag = bytes_ * 8 + extent.last_block_bit;
    out_[flag / 8] &= uint8_t(~(1u << (flag % 8)));
    // An empty stored block, as zlib's Z_SYNC_FLUSH writes: three zero bits (not final,
    // stored), zeros to the next byte, length 0 and its complement. The next piece then starts
    // on a byte, where its own stored blocks, aligned within the piece, stay aligned.
    const size_t length_at = (end + 3 + 7) / 8;
    for (size_t b = (end + 7) / 8; b < length_at; b++)
        out_[b] = 0;
    static const uint8_t kEmptyStored[4] = {0x00, 0x00, 0xff, 0xff};
    std::memcpy(out_ + length_at, kEmptyStored, sizeof kEmptyStored);
    bytes_ = length_at + sizeof kEmptyStored;
}

} // namespace bb
