// A baseline JPEG redacted without rewriting what no box touches (jpeg_regions.hpp). The scan's
// coded data is unstuffed once, Huffman-decoded with the file's own tables (only the MCU rows
// that the blur's windows read are kept as coefficients: no array for the whole image), the
// blocks of the boxes are recomputed, and the output is written as
//   the file's own tables and frame, with the metadata the policy keeps;
//   with restart markers: the coded bits before the first interval that changes, copied; the
//   changed intervals coded again with the same Huffman tables; the rest, copied from the
//   next marker on as it is;
//   without: in each changed MCU row, the MCUs whose blocks change and the one after them
//   (its DC differences start from a changed block) coded again, and the coded bits between
//   them copied, shifted to where the output stands; the last MCUs coded are made 0-7 bits
//   longer with ZRL codes so that the rest of the scan is copied as it is.
// Any file this cannot take as it is returns false before anything is written: progressive,
// arithmetic coding, several scans, markers after the scan but its end, data libjpeg would
// only warn about, a table without the code a recomputed block needs.
#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "exif.hpp"
#include "jpeg_glue.hpp"
#include "jpeg_regions.hpp"

namespace bb {
namespace jpeg {
namespace {

constexpr int kLookBits = 9;

// A Huffman table for decoding (JPEG's canonical codes, T.81 annex C and F.2.2.3) and for
// encoding.
struct HuffTable {
    int32_t maxcode[18]; // largest code of each length; -1: none
    int32_t valoffset[17];
    int count; // symbols
    uint8_t vals[256];
    uint16_t look[1 << kLookBits]; // (length << 8 | symbol) + 1 for codes up to kLookBits; 0: longer
    uint32_t code[256];            // by symbol
    uint8_t size[256];             // 0: no code for the symbol
};

bool build_table(const JHUFF_TBL *t, HuffTable *h) {
    if (!t)
        return false;
    uint8_t huffsize[257];
    uint32_t huffcode[257];
    int p = 0;
    for (int l = 1; l <= 16; l++) {
        const int n = t->bits[l];
        if (p + n > 256)
            return false;
        for (int i = 0; i < n; i++)
            huffsize[p++] = uint8_t(l);
    }
    huffsize[p] = 0;
    h->count = p;
    uint32_t code = 0;
    int si = huffsize[0];
    for (p = 0; huffsize[p];) {
        while (huffsize[p] == si)
            huffcode[p++] = code++;
        if (code > (1u << si)) // a code of si bits past all ones: not a prefix code
            return false;
        code <<= 1;
        si++;
    }
    std::memset(h->size, 0, sizeof h->size);
    std::memset(h->look, 0, sizeof h->look);
    p = 0;
    for (int l = 1; l <= 16; l++) {
        if (t->bits[l]) {
            h->valoffset[l] = p - int32_t(huffcode[p]);
            p += t->bits[l];
            h->maxcode[l] = int32_t(huffcode[p - 1]);
        } else {
            h->maxcode[l] = -1;
        }
    }
    h->maxcode[17] = 0x7fffffff;
    for (p = 0; p < h->count; p++) {
        const uint8_t v = t->huffval[p];
        h->vals[p] = v;
        if (h->size[v])
            return false; // a symbol twice
        h->code[v] = huffcode[p];
        h->size[v] = huffsize[p];
        if (huffsize[p] <= kLookBits) {
            const int spare = kLookBits - huffsize[p];
            for (uint32_t s = 0; s < (1u << spare); s++)
                h->look[(huffcode[p] << spare) | s] = uint16_t(((huffsize[p] << 8) | v) + 1);
        }
    }
    return true;
}

// Reads the unstuffed coded data, most significant bit first, through a 64-bit buffer. Past the
// end it reads zeros; overrun() tells.
struct BitReader {
    const uint8_t *buf;
    size_t bytes;
    size_t next = 0;   // the next byte to load
    uint64_t bits = 0; // loaded, unread bits at the top
    int count = 0;

    BitReader(const uint8_t *b, size_t n, uint64_t at = 0) : buf(b), bytes(n), next(size_t(at >> 3)) {
        refill();
        skip(int(at & 7));
    }
    uint64_t pos() const { return uint64_t(next) * 8 - uint64_t(count); }
    bool overrun() const { return pos() > uint64_t(bytes) * 8; }
    void refill() {
        if (next + 8 <= bytes) {
            // Eight bytes at once, big-endian: those that fit whole are taken; the bits of the
            // next one that show below them are that byte's own, which the next refill ORs in
            // at the same place again.
            uint64_t word;
            std::memcpy(&word, buf + next, 8);
            bits |= __builtin_bswap64(word) >> count;
            next += size_t((63 - count) >> 3);
            count |= 56;
            return;
        }
        while (count <= 56) {
            const uint64_t b = next < bytes ? buf[next] : 0;
            bits |= b << (56 - count);
            count += 8;
            next++;
        }
    }
    uint32_t peek(int n) { // 1 <= n <= 32
        if (count < n)
            refill();
        return uint32_t(bits >> (64 - n));
    }
    void skip(int n) {
        if (count < n)
            refill();
        bits = n == 64 ? 0 : bits << n;
        count -= n;
    }
    uint32_t get(int n) {
        if (n == 0)
            return 0;
        const uint32_t v = peek(n);
        skip(n);
        return v;
    }
    void align() { skip(int((8 - (pos() & 7)) & 7)); }
    // Makes at least 32 bits available: one symbol (16 bits at most) and its value (15 at most)
    // are then read by fast_symbol and take without a check each.
    void ensure32() {
        if (count < 32)
            refill();
    }
    uint32_t take(int n) { // 0 <= n <= 16, after ensure32
        const auto v = uint32_t(bits >> (63 - n) >> 1);
        bits <<= n;
        count -= n;
        return v;
    }
    int fast_symbol(const HuffTable &t) { // after ensure32
        const uint16_t look = t.look[bits >> (64 - kLookBits)];
        if (!look)
            return symbol(t); // a code longer than kLookBits
        const int length = (look - 1) >> 8;
        bits <<= length;
        count -= length;
        return (look - 1) & 0xff;
    }
    int symbol(const HuffTable &t) {
        const uint16_t look = t.look[peek(kLookBits)];
        if (look) {
            skip((look - 1) >> 8);
            return (look - 1) & 0xff;
        }
        for (int l = kLookBits + 1; l <= 16; l++) {
            const int32_t c = int32_t(peek(l));
            if (c <= t.maxcode[l]) {
                const int32_t at = t.valoffset[l] + c;
                if (at < 0 || at >= t.count)
                    return -1;
                skip(l);
                return t.vals[at];
            }
        }
        return -1;
    }
};

int extend(uint32_t v, int s) {
    return v < (1u << (s - 1)) ? int(v) - (1 << s) + 1 : int(v);
}

// Writes coded data with JPEG's byte stuffing (a 0xFF data byte is followed by 0x00).
struct BitWriter {
    std::vector<uint8_t> &out;
    uint64_t acc = 0;
    int n = 0; // pending bits in acc, fewer than 8 between calls

    void put(uint32_t bits, int len) { // len <= 24
        acc = acc << len | (bits & ((1u << len) - 1));
        n += len;
        if (n < 8)
            return;
        uint8_t bytes[6]; // at most 31 bits pending: 3 whole bytes, each stuffed at most once
        int k = 0;
        while (n >= 8) {
            const auto b = uint8_t(acc >> (n - 8));
            bytes[k++] = b;
            if (b == 0xFF)
                bytes[k++] = 0;
            n -= 8;
        }
        out.insert(out.end(), bytes, bytes + k);
        acc &= (uint64_t(1) << n) - 1;
    }
    void pad() { // to the byte, with ones, as T.81 F.1.2.3 asks before a marker
        if (n)
            put((1u << (8 - n)) - 1, 8 - n);
    }
    // Appends the whole bytes [from, to) of the unstuffed data, stuffed again.
    void stuff(const uint8_t *from, const uint8_t *to) {
        while (from < to) {
            const auto *ff = static_cast<const uint8_t *>(std::memchr(from, 0xFF, size_t(to - from)));
            const uint8_t *run_end = ff ? ff + 1 : to;
            out.insert(out.end(), from, run_end);
            if (ff)
                out.push_back(0);
            from = run_end;
        }
    }
    // Copies the unstuffed bits [from, to) of buf.
    void copy(const uint8_t *buf, size_t bytes, uint64_t from, uint64_t to) {
        if (n != 0 && uint64_t(n) == (from & 7) && from + uint64_t(8 - n) <= to) {
            // the same place within the byte: finish it, then whole bytes
            const int take = 8 - n;
            put(buf[from >> 3] & ((1u << take) - 1), take);
            from += uint64_t(take);
        }
        if (n == 0 && (from & 7) == 0) {
            stuff(buf + (from >> 3), buf + (to >> 3));
            from = to & ~uint64_t(7);
        }
        BitReader r(buf, bytes, from);
        while (r.pos() + 24 <= to)
            put(r.get(24), 24);
        if (r.pos() < to) {
            const int rest = int(to - r.pos()); // before get() moves pos
            put(r.get(rest), rest);
        }
    }
};

struct Restart {
    size_t offset; // the marker stood before this byte of the unstuffed data
    int number;    // 0-7
};

// Removes the byte stuffing from the scan's coded data at start, noting where its restart
// markers stood; *end is where the marker that ends the scan starts. False: no such marker.
bool unstuff(const uint8_t *d, size_t n, size_t start, std::vector<uint8_t> *u, std::vector<Restart> *restarts,
             size_t *end) {
    u->reserve(n - start);
    for (size_t i = start; i < n;) {
        if (d[i] != 0xFF) { // a run of data bytes, up to the next 0xFF
            const auto *ff = static_cast<const uint8_t *>(std::memchr(d + i, 0xFF, n - i));
            const size_t run_end = ff ? size_t(ff - d) : n;
            u->insert(u->end(), d + i, d + run_end);
            i = run_end;
            continue;
        }
        size_t j = i + 1;
        while (j < n && d[j] == 0xFF) // fill bytes
            j++;
        if (j >= n)
            return false;
        if (d[j] == 0x00) {
            u->push_back(0xFF);
        } else if (d[j] >= 0xD0 && d[j] <= 0xD7) {
            restarts->push_back(Restart{u->size(), d[j] - 0xD0});
        } else {
            *end = i;
            return true;
        }
        i = j + 1;
    }
    return false;
}

uint16_t be16(const uint8_t *p) {
    return uint16_t(p[0] << 8 | p[1]);
}

void put_segment(std::vector<uint8_t> &out, uint8_t marker, const uint8_t *payload, size_t size) {
    out.push_back(0xFF);
    out.push_back(marker);
    out.push_back(uint8_t((size + 2) >> 8));
    out.push_back(uint8_t(size + 2));
    out.insert(out.end(), payload, payload + size);
}

// The output's header: SOI, JFIF (without a thumbnail) if the input had it, the EXIF
// orientation and the ICC profile the policy keeps, then the input's own Adobe marker, tables,
// frame, restart interval and scan header as they are. False: a segment this does not know.
bool write_header(const uint8_t *d, size_t scan_data, const JpegMeta &meta, std::vector<uint8_t> &out) {
    std::vector<std::pair<size_t, size_t>> kept; // segments copied, [at, at + length)
    std::vector<uint8_t> jfif;
    for (size_t p = 2; p < scan_data;) {
        if (d[p] != 0xFF)
            return false;
        if (d[p + 1] == 0xFF) { // fill
            p++;
            continue;
        }
        if (p + 4 > scan_data)
            return false;
        const uint8_t m = d[p + 1];
        const size_t length = be16(d + p + 2) + 2;
        if (length < 4 || p + length > scan_data)
            return false;
        const uint8_t *payload = d + p + 4;
        const size_t payload_size = length - 4;
        // Kept: the tables, the frame, the restart interval, the scan header, and Adobe's
        // marker (its colour transform flag says how the components are to be read).
        const bool adobe = m == 0xEE && payload_size >= 12 && std::memcmp(payload, "Adobe", 5) == 0;
        const bool structure = m == 0xDB || m == 0xC4 || m == 0xDD || m == 0xC0 || m == 0xC1 || m == 0xDA;
        if (m == 0xE0 && payload_size >= 14 && std::memcmp(payload, "JFIF\0", 5) == 0) {
            jfif.assign(payload, payload + 12); // identifier, version, units, densities
            jfif.push_back(0);                  // no thumbnail
            jfif.push_back(0);
        } else if (adobe || structure) {
            kept.emplace_back(p, length);
        } else if ((m < 0xE0 || m > 0xEF) && m != 0xFE) {
            return false; // not application data or a comment (those are dropped: EXIF, XMP, thumbnails)
        }
        p += length;
        if (m == 0xDA)
            break;
    }
    out.push_back(0xFF);
    out.push_back(0xD8);
    if (!jfif.empty())
        put_segment(out, 0xE0, jfif.data(), jfif.size());
    if (meta.orientation) {
        const ExifOrientation exif(meta.orientation);
        put_segment(out, 0xE1, exif.bytes, sizeof exif.bytes);
    }
    // ICC_PROFILE chunks, as libjpeg's jpeg_write_icc_profile writes them
    constexpr size_t kChunk = 65519;
    const size_t chunks = (meta.icc.size() + kChunk - 1) / kChunk;
    for (size_t i = 0; i < chunks && chunks < 256; i++) {
        std::vector<uint8_t> payload = {'I', 'C', 'C', '_', 'P', 'R', 'O', 'F', 'I', 'L', 'E', 0};
        payload.push_back(uint8_t(i + 1));
        payload.push_back(uint8_t(chunks));
        const size_t at = i * kChunk, take = std::min(kChunk, meta.icc.size() - at);
        payload.insert(payload.end(), meta.icc.begin() + long(at), meta.icc.begin() + long(at + take));
        put_segment(out, 0xE2, payload.data(), payload.size());
    }
    for (const auto &[at, length] : kept)
        out.insert(out.end(), d + at, d + at + length);
    return true;
}

// Codes one block (natural order) with the tables, and `extra` more ZRL codes (16 zeros each)
// before its EOB: the same coefficients in more bits, which the block's trailing zeros must
// hold (zrl_room). False when a table lacks a code it needs. Out is a BitWriter, or a
// BitCounter for a dry run.
template <typename Out>
bool encode_block(Out &w, const JCOEF *block, int *pred, const HuffTable &dc, const HuffTable &ac, int extra = 0) {
    const int diff = block[0] - *pred;
    *pred = block[0];
    const int s = magnitude_bits(diff);
    if (s > 11 || !dc.size[s])
        return false;
    w.put(dc.code[s], dc.size[s]);
    w.put(uint32_t(diff < 0 ? diff - 1 : diff), s);
    int run = 0;
    for (int k = 1; k < 64; k++) {
        const int v = block[kNaturalOrder[k]];
        if (v == 0) {
            run++;
            continue;
        }
        for (; run > 15; run -= 16) {
            if (!ac.size[0xF0])
                return false;
            w.put(ac.code[0xF0], ac.size[0xF0]);
        }
        const int bits = magnitude_bits(v);
        const int symbol = run << 4 | bits;
        if (bits > 10 || !ac.size[symbol])
            return false;
        w.put(ac.code[symbol], ac.size[symbol]);
        w.put(uint32_t(v < 0 ? v - 1 : v), bits);
        run = 0;
    }
    if (run > 0) {
        for (int i = 0; i < extra; i++)
            w.put(ac.code[0xF0], ac.size[0xF0]);
        if (!ac.size[0x00])
            return false;
        w.put(ac.code[0x00], ac.size[0x00]);
    }
    return true;
}

// How many ZRL codes a block's trailing zeros can take before its EOB (which must stay: the
// zeros after the ZRLs may not reach the block's end).
int zrl_room(const JCOEF *block) {
    int last = 0; // zigzag position of the last nonzero AC coefficient, 0 for none
    for (int k = 63; k > 0; k--)
        if (block[kNaturalOrder[k]]) {
            last = k;
            break;
        }
    return (62 - last) / 16;
}

struct BitCounter {
    uint64_t bits = 0;
    void put(uint32_t, int len) { bits += uint64_t(len); }
};

// Decodes one block into natural order, or without kKeep reads past it (the DC prediction
// followed, block not touched: a block no one keeps); false on data libjpeg would not take as it
// is.
template <bool kKeep>
bool decode_block(BitReader &r, JCOEF *block, int *pred, const HuffTable &dc, const HuffTable &ac) {
    if constexpr (kKeep)
        std::memset(block, 0, sizeof(JCOEF) * 64);
    r.ensure32();
    const int s = r.fast_symbol(dc);
    if (s < 0 || s > 11)
        return false;
    const int dc_value = *pred + (s ? extend(r.take(s), s) : 0);
    if (dc_value < -32768 || dc_value > 32767)
        return false;
    *pred = dc_value;
    if constexpr (kKeep)
        block[0] = JCOEF(dc_value);
    for (int k = 1; k < 64; k++) {
        r.ensure32();
        const int rs = r.fast_symbol(ac);
        if (rs < 0)
            return false;
        const int run = rs >> 4, size = rs & 15;
        if (size) {
            k += run;
            if (k > 63)
                return false;
            const uint32_t bits = r.take(size);
            if constexpr (kKeep)
                block[kNaturalOrder[k]] = JCOEF(extend(bits, size));
        } else {
            if (run != 15)
                break;
            k += 15;
        }
    }
    return true;
}

// A component of the scan: its plan, tables and the rows of blocks kept.
struct ScanComponent {
    int index;  // in comp_info and the plans
    int hb, vb; // blocks per MCU across and down
    uint32_t blocks_across;
    HuffTable dc, ac;
    // The blocks of the MCU rows kept, 64 coefficients each; not cleared here, since every
    // kept block is decoded (decode_block clears it) before anything reads it.
    std::unique_ptr<JCOEF[]> kept;
    std::vector<JBLOCKROW> rows;
};

} // namespace

bool splice_regions(const uint8_t *data, size_t size, DecodeJob &job, const JpegMeta &meta,
                    std::vector<ComponentPlan> &plans, InterruptPoll poll, Buffer *result) {
    const jpeg_decompress_struct &ci = job.cinfo;
    if (ci.progressive_mode || ci.arith_code || ci.comps_in_scan != ci.num_components || ci.Ss != 0 || ci.Se != 63 ||
        ci.Ah != 0 || ci.Al != 0 || !ci.src)
        return false;
    const size_t scan_data = size_t(ci.src->next_input_byte - data);
    if (scan_data < 4 || scan_data > size)
        return false;

    // The MCUs: several components interleaved, or one component's blocks one by one.
    const bool interleaved = ci.comps_in_scan > 1;
    const uint32_t across = interleaved ? (ci.image_width + 8u * ci.max_h_samp_factor - 1) / (8u * ci.max_h_samp_factor)
                                        : ci.cur_comp_info[0]->width_in_blocks;
    const uint32_t down = interleaved ? (ci.image_height + 8u * ci.max_v_samp_factor - 1) / (8u * ci.max_v_samp_factor)
                                      : ci.cur_comp_info[0]->height_in_blocks;
    const uint64_t total = uint64_t(across) * down;
    std::vector<ScanComponent> comps(size_t(ci.comps_in_scan));
    // The MCU rows whose blocks change, and those the blur's windows read.
    uint32_t touched_lo = down, touched_hi = 0, need_lo = down, need_hi = 0;
    uint32_t touched_left = across, touched_right = 0; // the MCU columns whose blocks change, [left, right)
    for (int i = 0; i < ci.comps_in_scan; i++) {
        const jpeg_component_info *comp = ci.cur_comp_info[i];
        ScanComponent &s = comps[size_t(i)];
        s.index = comp->component_index;
        if (s.index < 0 || s.index >= ci.num_components)
            return false;
        s.hb = interleaved ? comp->h_samp_factor : 1;
        s.vb = interleaved ? comp->v_samp_factor : 1;
        s.blocks_across = across * uint32_t(s.hb);
        if (comp->dc_tbl_no < 0 || comp->dc_tbl_no >= NUM_HUFF_TBLS || comp->ac_tbl_no < 0 ||
            comp->ac_tbl_no >= NUM_HUFF_TBLS || !build_table(ci.dc_huff_tbl_ptrs[comp->dc_tbl_no], &s.dc) ||
            !build_table(ci.ac_huff_tbl_ptrs[comp->ac_tbl_no], &s.ac))
            return false;
        if (comp->quant_tbl_no < 0 || comp->quant_tbl_no >= NUM_QUANT_TBLS || !ci.quant_tbl_ptrs[comp->quant_tbl_no])
            return false;
        plans[size_t(s.index)].plane.quant = ci.quant_tbl_ptrs[comp->quant_tbl_no]->quantval;
        const uint32_t vb = uint32_t(s.vb);
        for (const RectGroup &g : plans[size_t(s.index)].groups) {
            need_lo = std::min(need_lo, g.window.y0 / kBlock / vb);
            need_hi = std::max(need_hi, ((g.window.y1 + kBlock - 1) / kBlock + vb - 1) / vb);
            for (const Rect &r : g.rects) {
                touched_lo = std::min(touched_lo, r.y0 / kBlock / vb);
                touched_hi = std::max(touched_hi, (r.y1 - 1) / kBlock / vb + 1);
                touched_left = std::min(touched_left, r.x0 / kBlock / uint32_t(s.hb));
                touched_right = std::max(touched_right, (r.x1 - 1) / kBlock / uint32_t(s.hb) + 1);
            }
        }
    }
    // The MCUs coded again, [m0, m1): whole rows, then to restart intervals, or one MCU more.
    const uint64_t interval = ci.restart_interval;
    uint64_t m0 = total, m1 = total;
    if (touched_lo < touched_hi) {
        m0 = uint64_t(touched_lo) * across;
        m1 = uint64_t(touched_hi) * across;
        if (interval) {
            m0 = m0 / interval * interval;
            m1 = std::min(total, (m1 + interval - 1) / interval * interval);
        } else {
            m1 = std::min(total, m1 + 1);
        }
    }
    uint32_t keep_lo = std::min(need_lo, uint32_t(m0 / across));
    uint32_t keep_hi = m1 > m0 ? std::max(need_hi, uint32_t((m1 - 1) / across + 1)) : need_hi;
    keep_hi = std::min(keep_hi, down);
    if (keep_lo >= keep_hi)
        keep_lo = keep_hi = 0;
    for (ScanComponent &s : comps) {
        const size_t block_rows = size_t(keep_hi - keep_lo) * size_t(s.vb);
        s.kept.reset(new JCOEF[block_rows * s.blocks_across * DCTSIZE2]);
        s.rows.assign(size_t(down) * size_t(s.vb), nullptr);
        for (size_t r = 0; r < block_rows; r++)
            s.rows[size_t(keep_lo) * size_t(s.vb) + r] =
                reinterpret_cast<JBLOCKROW>(&s.kept[r * s.blocks_across * DCTSIZE2]);
    }

    // The coded data, unstuffed; the scan must end the file.
    std::vector<uint8_t> u;
    std::vector<Restart> restarts;
    size_t scan_end = 0;
    if (!unstuff(data, size, scan_data, &u, &restarts, &scan_end))
        return false;
    size_t e = scan_end;
    while (e < size && data[e] == 0xFF)
        e++;
    if (e >= size || data[e] != 0xD9)
        return false; // another scan, or a marker after it: libjpeg's path takes those
    const uint64_t u_bits = uint64_t(u.size()) * 8;

    std::vector<uint8_t> out;
    out.reserve(size + 1024);
    if (!write_header(data, scan_data, meta, out))
        return false;
    BitWriter w{out};
    // Copies the coded bits [from, to), with the restart markers that stood inside them
    // (and one right at `to` when include_last).
    auto copy = [&](uint64_t from, uint64_t to, bool include_last) {
        for (const Restart &rs : restarts) {
            const uint64_t at = uint64_t(rs.offset) * 8;
            if (at <= from || at > to || (at == to && !include_last))
                continue;
            w.copy(u.data(), u.size(), from, at);
            w.pad(); // aligned already: the source is at a byte here, and so is the copy
            out.push_back(0xFF);
            out.push_back(uint8_t(0xD0 + rs.number));
            from = at;
        }
        w.copy(u.data(), u.size(), from, to);
    };
    auto finish = [&] {
        w.pad();
        out.push_back(0xFF);
        out.push_back(0xD9);
        result->reset(out.size());
        std::memcpy(result->data(), out.data(), out.size());
        return true;
    };
    if (m0 == total) { // no block changes: the coded data as it is
        copy(0, u_bits, false);
        return finish();
    }

    // The MCUs decoded, [d0, d1): those kept and those coded again; with restart markers from
    // the interval that holds the first (found by its marker, no decoding before it), else
    // from the start. After d1 nothing is decoded: the rest is copied as it is.
    const uint64_t want_lo = std::min(uint64_t(keep_lo) * across, m0);
    const uint64_t want_hi = std::max(uint64_t(keep_hi) * across, m1);
    uint64_t d0 = 0, d1 = want_hi;
    size_t next_restart = 0;
    BitReader r(u.data(), u.size());
    if (interval) {
        d1 = std::min(total, (want_hi + interval - 1) / interval * interval);
        const uint64_t first = want_lo / interval * interval;
        const size_t marker = size_t(first / interval); // the marker before interval `first` is number marker - 1
        if (first > 0 && restarts.size() >= marker && restarts[marker - 1].number == int((marker - 1) & 7)) {
            d0 = first;
            next_restart = marker;
            r = BitReader(u.data(), u.size(), uint64_t(restarts[marker - 1].offset) * 8);
        }
    }
    int pred[4] = {0, 0, 0, 0}, pred_m0[4] = {0, 0, 0, 0};
    uint64_t b0 = 0, b1 = 0;
    // Without restart markers, where each MCU of [m0, m1] starts in the coded data and the DC
    // predictions there: the changed MCUs of each row are coded again, the others copied.
    struct McuStart {
        uint64_t bit;
        int pred[4];
    };
    std::vector<McuStart> starts(interval ? 0 : size_t(m1 - m0 + 1));
    const auto note_start = [&](uint64_t m) {
        if (!starts.empty() && m >= m0 && m <= m1) {
            McuStart &at = starts[size_t(m - m0)];
            at.bit = r.pos();
            std::copy(std::begin(pred), std::end(pred), std::begin(at.pred));
        }
    };
    // Decodes MCUs [from, to) into the rows kept (or nowhere); false on data libjpeg would not
    // take as it is.
    auto decode = [&](uint64_t from, uint64_t to) {
        for (uint64_t m = from; m < to; m++) {
            if (interval && m > d0 && m % interval == 0) {
                r.align();
                if (next_restart >= restarts.size() || uint64_t(restarts[next_restart].offset) * 8 != r.pos() ||
                    restarts[next_restart].number != int((m / interval - 1) & 7))
                    return false;
                next_restart++;
                std::fill(std::begin(pred), std::end(pred), 0);
            }
            if (m == m0) {
                b0 = r.pos();
                std::copy(std::begin(pred), std::end(pred), std::begin(pred_m0));
            }
            if (m == m1)
                b1 = r.pos();
            note_start(m);
            const uint32_t row = uint32_t(m / across), col = uint32_t(m % across);
            for (size_t i = 0; i < comps.size(); i++) {
                ScanComponent &s = comps[i];
                for (int y = 0; y < s.vb; y++)
                    for (int x = 0; x < s.hb; x++) {
                        JBLOCKROW kept_row = s.rows[size_t(row) * size_t(s.vb) + size_t(y)];
                        if (!(kept_row ? decode_block<true>(r, kept_row[size_t(col) * size_t(s.hb) + size_t(x)],
                                                            &pred[i], s.dc, s.ac)
                                       : decode_block<false>(r, nullptr, &pred[i], s.dc, s.ac)))
                            return false;
                    }
            }
            if (col + 1 == across) {
                if (r.overrun())
                    return false;
                if (poll && (row & 15) == 15 && poll())
                    throw_interrupted();
            }
        }
        if (to == m1) {
            b1 = r.pos();
            note_start(m1);
        }
        return true;
    };
    if (!decode(d0, d1))
        return false;
    if (interval && m1 < total) { // the rest starts after the marker before MCU m1
        const size_t marker = size_t(m1 / interval) - 1;
        if (marker >= restarts.size() || restarts[marker].number != int(marker & 7))
            return false;
        b1 = uint64_t(restarts[marker].offset) * 8;
    }

    // The blocks of the boxes.
    for (ScanComponent &s : comps) {
        ComponentPlan &plan = plans[size_t(s.index)];
        plan.plane.coefficients = CoefficientRows{s.rows.data(), s.blocks_across, JDIMENSION(s.rows.size())};
        redact_plane(plan, poll);
    }

    // Codes MCUs [from, to) into `to_out` (a BitWriter or a BitCounter), the DC predictions in
    // p, with `zrls` more ZRL codes in the blocks of component `zrl_comp` that have room for
    // them, first come first served (false when they do not all fit, or a code is missing).
    auto encode = [&](auto &to_out, uint64_t from, uint64_t to, int *p, int zrl_comp, int zrls) {
        for (uint64_t m = from; m < to; m++) {
            if (interval && m > m0 && m % interval == 0) {
                if constexpr (std::is_same_v<std::decay_t<decltype(to_out)>, BitWriter>) {
                    to_out.pad();
                    out.push_back(0xFF);
                    out.push_back(uint8_t(0xD0 + ((m / interval - 1) & 7)));
                }
                std::fill(p, p + 4, 0);
            }
            const uint32_t row = uint32_t(m / across), col = uint32_t(m % across);
            for (size_t i = 0; i < comps.size(); i++) {
                const ScanComponent &s = comps[i];
                for (int y = 0; y < s.vb; y++)
                    for (int x = 0; x < s.hb; x++) {
                        const JCOEF *block =
                            s.rows[size_t(row) * size_t(s.vb) + size_t(y)][size_t(col) * size_t(s.hb) + size_t(x)];
                        int extra = 0;
                        if (zrls > 0 && int(i) == zrl_comp) {
                            extra = std::min(zrls, zrl_room(block));
                            zrls -= extra;
                        }
                        if (!encode_block(to_out, block, &p[i], s.dc, s.ac, extra))
                            return false;
                    }
            }
        }
        return zrls == 0;
    };

    if (interval) {
        // Whole restart intervals are coded again; the rest starts at a restart marker (coded
        // after the last MCU again here), or there is none.
        copy(0, b0, true);
        int p[4];
        std::copy(std::begin(pred_m0), std::end(pred_m0), std::begin(p));
        if (!encode(w, m0, m1, p, -1, 0))
            return false;
        if (m1 == total) {
            const uint64_t b_end = r.pos(); // decoded to the end: only padding may follow
            if (u_bits - b_end >= 8 || next_restart != restarts.size())
                return false;
            return finish();
        }
        w.pad();
        out.push_back(0xFF);
        out.push_back(uint8_t(0xD0 + ((m1 / interval - 1) & 7)));
        copy(b1, u_bits, false);
        return finish();
    }

    // No restart markers. Coded again: in each row of [touched_lo, touched_hi), the MCUs of the
    // columns whose blocks change and the one after them (its DC is predicted from a changed
    // block), as segments [a, b) (joined where one row's meets the next's). The coded bits
    // between two segments are copied, shifted to where the output stands; each segment starts
    // from the DC predictions the decode found there.
    if (!restarts.empty())
        return false; // restart markers without a restart interval: libjpeg's path judges them
    std::vector<std::pair<uint64_t, uint64_t>> segments;
    for (uint32_t row = touched_lo; row < touched_hi; row++) {
        const uint64_t a = uint64_t(row) * across + touched_left;
        const uint64_t b = std::min(total, uint64_t(row) * across + touched_right + 1);
        if (!segments.empty() && segments.back().second >= a)
            segments.back().second = b;
        else
            segments.emplace_back(a, b);
    }
    if (segments.empty())
        return false; // not reached: m0 < total means some row changes
    const auto start_of = [&](uint64_t m) -> const McuStart & { return starts[size_t(m - m0)]; };
    uint64_t from = 0; // the coded bits copied up to here
    for (size_t k = 0; k + 1 < segments.size(); k++) {
        const auto [a, b] = segments[k];
        copy(from, start_of(a).bit, false);
        int q[4];
        std::copy(std::begin(start_of(a).pred), std::end(start_of(a).pred), std::begin(q));
        if (!encode(w, a, b, q, -1, 0))
            return false;
        from = start_of(b).bit;
    }
    const auto [a, b] = segments.back();
    copy(from, start_of(a).bit, false);
    int p[4];
    std::copy(std::begin(start_of(a).pred), std::end(start_of(a).pred), std::begin(p));
    if (b == total) { // the last segment ends the scan
        if (!encode(w, a, b, p, -1, 0))
            return false;
        const uint64_t b_end = r.pos(); // decoded to the end: only padding may follow
        if (u_bits - b_end >= 8)
            return false;
        return finish();
    }
    // The rest's bits must fall where they did within their bytes, so that they are copied as
    // they are, final padding included. The last MCUs coded are made as many bits longer (0 to
    // 7, modulo 8) as that takes, with ZRL codes before some blocks' EOB: the same
    // coefficients, decoded the same by any decoder that follows T.81's procedure (F.2.2.2).
    // Those last MCUs are counted first (a dry run), the rest coded once.
    const uint64_t rest = start_of(b).bit;
    const uint64_t tail = b - std::min<uint64_t>(b - a, 64);
    if (!encode(w, a, tail, p, -1, 0))
        return false;
    BitCounter dry;
    int dry_p[4];
    std::copy(p, p + 4, dry_p);
    if (!encode(dry, tail, b, dry_p, -1, 0))
        return false;
    const int need = int((rest - uint64_t(w.n) - dry.bits) & 7);
    int zrl_comp = -1, zrls = 0;
    for (size_t i = 0; i < comps.size() && need && zrl_comp < 0; i++) {
        const int z = comps[i].ac.size[0xF0];
        for (int k = 1; k < 8 && z; k++)
            if ((k * z) % 8 == need) {
                BitCounter probe;
                std::copy(p, p + 4, dry_p);
                if (encode(probe, tail, b, dry_p, int(i), k)) { // room enough in this component's blocks
                    zrl_comp = int(i);
                    zrls = k;
                }
                break;
            }
    }
    if (need == 0 || zrl_comp >= 0) {
        if (!encode(w, tail, b, p, zrl_comp, zrls))
            return false;
        copy(rest, u_bits, false);
        return finish();
    }
    // No way to keep the bits in place: decode to the end and copy the rest shifted.
    if (!encode(w, tail, b, p, -1, 0) || !decode(d1, total))
        return false;
    const uint64_t b_end = r.pos();
    if (u_bits - b_end >= 8)
        return false;
    copy(rest, b_end, false);
    return finish();
}

} // namespace jpeg
} // namespace bb
