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

// The extra bits that follow each symbol's code: literal/length symbols 0-287, distance
// symbols 0-31, code-length symbols 0-18 (whose repeat bits are read on their own). 0xff marks
// a symbol deflate does not allow.
struct ExtraBits {
    uint8_t literal[288];
    uint8_t distance[32];
    uint8_t none[19];
};

const ExtraBits &extra_bits() {
    static const ExtraBits bits = [] {
        ExtraBits e{};
        for (unsigned s = 257; s < 285; s++)
            e.literal[s] = uint8_t(s < 265 ? 0 : (s - 261) / 4);
        e.literal[286] = e.literal[287] = 0xff;
        for (unsigned s = 0; s < 30; s++)
            e.distance[s] = uint8_t(s < 4 ? 0 : (s - 2) / 2);
        e.distance[30] = e.distance[31] = 0xff;
        return e;
    }();
    return bits;
}

// A canonical Huffman code as two levels of tables: the next kPrimaryBits input bits index
// the first, whose entry is symbol << 8 | code length for codes that short; longer codes
// (rare) continue in a second table at the entry's offset, indexed by the bits that follow.
// Small enough for the processor's first-level cache: a single table for 15-bit codes was
// not, and made the walk three times slower. An entry of 0 matches no code.
struct HuffmanTable {
    static constexpr unsigned kPrimaryBits = 10;
    unsigned sub_bits = 0; // index bits of each second-level table
    std::vector<uint32_t> entries;

    // extra[s]: the extra bits that follow symbol s's code, counted into its entry so that one
    // shift consumes both; 0xff marks a symbol that must not occur (its entries stay 0).
    void build(const uint8_t *lengths, unsigned count, const uint8_t *extra) {
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
                    entries[i] = extra[s] == 0xff ? 0 : s << 8 | (len + extra[s]);
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
                entries[base + i] = extra[s] == 0xff ? 0 : s << 8 | (len + extra[s]);
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
    lengths_code.build(clen, 19, extra_bits().none);
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
    literals.build(lengths, nlit, extra_bits().literal);
    distances.build(lengths + nlit, ndist, extra_bits().distance);
}

void fixed_tables(HuffmanTable &literals, HuffmanTable &distances) {
    uint8_t lengths[288 + 30];
    std::memset(lengths, 8, 144);
    std::memset(lengths + 144, 9, 112);
    std::memset(lengths + 256, 7, 24);
    std::memset(lengths + 280, 8, 8);
    std::memset(lengths + 288, 5, 30);
    literals.build(lengths, 288, extra_bits().literal);
    distances.build(lengths + 288, 30, extra_bits().distance);
}

// Looks up the next code in table (two levels, see HuffmanTable) from the window.
[[gnu::always_inline]] inline uint32_t lookup(const HuffmanTable &table, uint64_t window) {
    uint32_t e = table.entries[window & ((1u << HuffmanTable::kPrimaryBits) - 1)];
    if ((e & 0xff) == 0 && e != 0)
        e = table.entries[(e >> 8) + ((window >> HuffmanTable::kPrimaryBits) & ((1u << table.sub_bits) - 1))];
    return e;
}

// Walks the codes of one Huffman block up to its end-of-block code, without output: the hot
// loop of the walk, with the window in registers. Each table entry counts the extra bits
// after its code, so a literal or a length takes one lookup and one shift, a distance one
// more. The window is topped up to 57 bits when fewer are left than the next code may take:
// 15 + 5 bits for a literal/length, 15 + 13 for a distance.
void walk_codes(BitReader &in, const HuffmanTable &literals, const HuffmanTable &distances) {
    uint64_t window = in.window();
    unsigned have = in.have();
    auto refill = [&] {
        in.window() = window;
        in.have() = have;
        in.refill();
        window = in.window();
        have = in.have();
    };
    for (;;) {
        if (have < 20) // a literal/length code and a length's extra bits
            refill();
        uint32_t e = lookup(literals, window);
        if (e == 0)
            malformed("an invalid literal or length code");
        window >>= e & 0xff;
        have -= e & 0xff;
        const unsigned symbol = e >> 8;
        if (symbol < 256)
            continue;
        if (symbol == 256)
            break;
        if (have < 28) // a distance code and its extra bits
            refill();
        e = lookup(distances, window);
        if (e == 0)
            malformed("an invalid distance code");
        window >>= e & 0xff;
        have -= e & 0xff;
    }
    in.window() = window;
    in.have() = have;
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
        if (piece != next())
            std::memcpy(next(), piece, size);
        bytes_ += size;
        return;
    }
    const DeflateExtent extent = deflate_extent(piece, size);
    if (piece != next())
        std::memcpy(next(), piece, (extent.end_bit + 7) / 8);
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
