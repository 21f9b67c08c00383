#include "jpeg_statistics.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include <jerror.h>
#include <jpegint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "jpeg_glue.hpp"

namespace bb {
namespace jpeg {
namespace {

static_assert(BITS_IN_JSAMPLE == 8, "the coefficients' range below is 8-bit JPEG's");
constexpr int kMaxCoefBits = 10; // jchuff.c's MAX_COEF_BITS for 8-bit samples

std::atomic<bool> fast_statistics{true};

// zigzag[i][b]: the zigzag bits of the natural positions 8 i + bit set in b.
struct ZigzagTables {
    uint64_t bits[8][256];
};

const ZigzagTables &zigzag_tables() {
    static const ZigzagTables tables = [] {
        int zigzag_of[64];
        for (int k = 0; k < 64; k++)
            zigzag_of[kNaturalOrder[k]] = k;
        ZigzagTables t{};
        for (int i = 0; i < 8; i++)
            for (int b = 0; b < 256; b++)
                for (int bit = 0; bit < 8; bit++)
                    if (b & (1 << bit))
                        t.bits[i][b] |= uint64_t(1) << zigzag_of[8 * i + bit];
        return t;
    }();
    return tables;
}

// The block's nonzero coefficients, a bit each in natural order: with SSE2 (every x86-64),
// sixteen at a time; elsewhere nonzero_natural_portable (jpeg_statistics.hpp).
inline uint64_t nonzero_natural(const JCOEF *block) {
#if defined(__SSE2__)
    static_assert(sizeof(JCOEF) == 2, "16-bit coefficients");
    const __m128i zero = _mm_setzero_si128();
    uint64_t zeros = 0;
    for (int i = 0; i < 4; i++) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 16 * i));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 16 * i + 8));
        // saturating to bytes keeps every nonzero coefficient nonzero
        const __m128i packed = _mm_packs_epi16(a, b);
        zeros |= uint64_t(uint16_t(_mm_movemask_epi8(_mm_cmpeq_epi8(packed, zero)))) << (16 * i);
    }
    return ~zeros;
#else
    return nonzero_natural_portable(block);
#endif
}

// htest_one_block's counts (jchuff.c), visiting the nonzero AC coefficients only; false for a
// coefficient out of JPEG's range (libjpeg's JERR_BAD_DCT_COEF).
inline bool count_block(const JCOEF *block, int last_dc, long *dc, long *ac, const ZigzagTables &zigzag) {
    const int difference = block[0] - last_dc;
    const int dc_bits = magnitude_bits(difference);
    if (dc_bits > kMaxCoefBits + 1)
        return false;
    dc[dc_bits]++;
    const uint64_t natural = nonzero_natural(block);
    uint64_t left = 0;
    for (int i = 0; i < 8; i++)
        left |= zigzag.bits[i][(natural >> (8 * i)) & 0xff];
    left &= ~uint64_t(1); // the DC
    int last = 0;
    while (left) {
        const int k = __builtin_ctzll(left);
        left &= left - 1;
        int run = k - last - 1;
        for (; run > 15; run -= 16)
            ac[0xF0]++;
        const int v = block[kNaturalOrder[k]];
        const int bits = magnitude_bits(v);
        if (bits > kMaxCoefBits)
            return false;
        ac[(run << 4) + bits]++;
        last = k;
    }
    if (last < 63)
        ac[0]++; // end of block
    return true;
}

// Stands in for libjpeg's entropy coder (cinfo->entropy) during the statistics pass. The
// callbacks run inside libjpeg's calls, so inside the setjmp of a run_* function
// (jpeg_glue.hpp): they own no C++ object, and report a bad coefficient as libjpeg does.
struct Gatherer {
    jpeg_entropy_encoder pub; // first: cinfo->entropy points at it
    jpeg_entropy_encoder *libjpeg;
    HuffmanCounts *counts; // own, or shared by the compressors of an image's parts
    HuffmanCounts own;
    int last_dc[MAX_COMPS_IN_SCAN];
    uint32_t row_stride, first_row; // StatisticsRows (a plain struct, set with memset)
    JDIMENSION row;                 // the MCU row in the scan
    JDIMENSION mcu_in_row;          // the MCU in that row
    bool counting;                  // whether that row is counted: set once a row
};

bool counted_row(const Gatherer &g) {
    return (g.first_row + g.row) % g.row_stride == 0;
}

Gatherer *gatherer_of(j_compress_ptr cinfo) {
    return reinterpret_cast<Gatherer *>(cinfo->entropy);
}

boolean gather_mcu(j_compress_ptr cinfo, JBLOCKROW *mcu) {
    Gatherer *g = gatherer_of(cinfo);
    const bool counted = g->counting;
    if (++g->mcu_in_row == cinfo->MCUs_per_row) {
        g->mcu_in_row = 0;
        g->row++;
        g->counting = counted_row(*g);
    }
    if (!counted) { // only the DC predictions, for the next row counted
        for (int blkn = 0; blkn < cinfo->blocks_in_MCU; blkn++)
            g->last_dc[cinfo->MCU_membership[blkn]] = mcu[blkn][0][0];
        return TRUE;
    }
    const ZigzagTables &zigzag = zigzag_tables();
    for (int blkn = 0; blkn < cinfo->blocks_in_MCU; blkn++) {
        const int ci = cinfo->MCU_membership[blkn];
        const jpeg_component_info *comp = cinfo->cur_comp_info[ci];
        const JCOEF *block = mcu[blkn][0];
        if (!count_block(block, g->last_dc[ci], g->counts->dc[comp->dc_tbl_no], g->counts->ac[comp->ac_tbl_no], zigzag))
            ERREXIT(cinfo, JERR_BAD_DCT_COEF);
        g->last_dc[ci] = block[0];
    }
    return TRUE;
}

// K.2's merging order: the smaller count first, and of equal counts the larger symbol.
struct MergeOrder {
    const long *count;
    bool operator()(int a, int b) const noexcept { // a after b: a min-heap under std's max-heap
        if (count[a] != count[b])
            return count[a] > count[b];
        return a < b;
    }
};

constexpr int kMaxCodeLength = 32; // longest code K.2's merging may give before limiting

} // namespace

bool optimal_huffman_table(const long counts[257], uint8_t bits[17], uint8_t values[256]) noexcept {
    long count[257];
    int length[257] = {}, next[257], heap[257], in_heap = 0;
    for (int s = 0; s < 257; s++) {
        count[s] = s == 256 ? 1 : counts[s];
        next[s] = -1;
        if (count[s] > 0)
            heap[in_heap++] = s;
    }
    const MergeOrder order{count};
    std::make_heap(heap, heap + in_heap, order);
    // Huffman's merging: each subtree a chain of its symbols (next), each symbol's code one bit
    // longer for every merge of its subtree; the merged subtree goes on under its first symbol.
    while (in_heap > 1) {
        std::pop_heap(heap, heap + in_heap--, order);
        const int first = heap[in_heap];
        std::pop_heap(heap, heap + in_heap--, order);
        const int second = heap[in_heap];
        count[first] += count[second];
        int s = first;
        for (;; s = next[s]) {
            length[s]++;
            if (next[s] < 0)
                break;
        }
        next[s] = second;
        for (s = second; s >= 0; s = next[s])
            length[s]++;
        heap[in_heap++] = first;
        std::push_heap(heap, heap + in_heap, order);
    }
    int of_length[kMaxCodeLength + 1] = {};
    for (int s = 0; s < 257; s++) {
        if (length[s] > kMaxCodeLength)
            return false;
        if (count[s] > 0)
            of_length[length[s]]++;
    }
    // The symbols in order of their length before the limiting, then of their value: K.2's
    // order, which keeps the codes a prefix code after it (the pseudo-symbol 256 is last).
    int n = 0;
    for (int l = 1; l <= kMaxCodeLength; l++)
        for (int s = 0; s < 256; s++)
            if (length[s] == l && count[s] > 0)
                values[n++] = uint8_t(s);
    // K.2's limiting to 16 bits: two codes of the longest length become one a bit shorter, and
    // a code of the next shorter length in use becomes the prefix of two a bit longer than it.
    for (int l = kMaxCodeLength; l > 16; l--)
        while (of_length[l] > 0) {
            int j = l - 2;
            while (of_length[j] == 0)
                j--;
            of_length[l] -= 2;
            of_length[l - 1]++;
            of_length[j + 1] += 2;
            of_length[j]--;
        }
    int longest = 16;
    while (of_length[longest] == 0)
        longest--;
    of_length[longest]--; // the pseudo-symbol's code
    bits[0] = 0;
    for (int l = 1; l <= 16; l++)
        bits[l] = uint8_t(of_length[l]);
    return true;
}

namespace {

// One optimal table made from counts, into *table (allocated when the slot is empty), as
// libjpeg's jpeg_gen_optimal_table would make it (optimal_huffman_table). From a copy, so that
// shared counts stay as they are for the other compressors. With every_symbol (counts of a sample of the rows), each
// symbol a DC or AC table of a baseline scan of 8-bit samples can be asked for counts at least
// once: the DC's magnitude categories 0-11, the AC's end of block, run of 16 zeros, and runs
// of 0-15 zeros before a coefficient of 1-10 bits.
void make_optimal_table(j_compress_ptr cinfo, JHUFF_TBL **table, const long counts[257], bool ac, bool every_symbol) {
    if (!*table)
        *table = jpeg_alloc_huff_table(reinterpret_cast<j_common_ptr>(cinfo));
    long freq[257];
    std::memcpy(freq, counts, sizeof freq);
    if (every_symbol) {
        auto at_least_once = [&freq](int symbol) { freq[symbol] = std::max(freq[symbol], 1L); };
        if (!ac) {
            for (int bits = 0; bits <= kMaxCoefBits + 1; bits++)
                at_least_once(bits);
        } else {
            at_least_once(0x00);
            at_least_once(0xF0);
            for (int run = 0; run < 16; run++)
                for (int bits = 1; bits <= kMaxCoefBits; bits++)
                    at_least_once((run << 4) + bits);
        }
    }
    if (!optimal_huffman_table(freq, (*table)->bits, (*table)->huffval))
        ERREXIT(cinfo, JERR_HUFF_CLEN_OVERFLOW);
    (*table)->sent_table = FALSE;
}

// finish_pass_gather (jchuff.c): each table the scan uses made once from its counts; then
// libjpeg's coder is back for the passes that follow.
void finish_gathering(j_compress_ptr cinfo) {
    Gatherer *g = gatherer_of(cinfo);
    bool did_dc[NUM_HUFF_TBLS] = {}, did_ac[NUM_HUFF_TBLS] = {};
    const bool sampled = g->row_stride > 1;
    for (int ci = 0; ci < cinfo->comps_in_scan; ci++) {
        const jpeg_component_info *comp = cinfo->cur_comp_info[ci];
        const int dc = comp->dc_tbl_no, ac = comp->ac_tbl_no;
        if (!did_dc[dc])
            make_optimal_table(cinfo, &cinfo->dc_huff_tbl_ptrs[dc], g->counts->dc[dc], false, sampled);
        if (!did_ac[ac])
            make_optimal_table(cinfo, &cinfo->ac_huff_tbl_ptrs[ac], g->counts->ac[ac], true, sampled);
        did_dc[dc] = did_ac[ac] = true;
    }
    cinfo->entropy = g->libjpeg;
}

// Another pass's start (not expected before finish_gathering): libjpeg's coder takes it.
void start_pass(j_compress_ptr cinfo, boolean gather) {
    cinfo->entropy = gatherer_of(cinfo)->libjpeg;
    cinfo->entropy->start_pass(cinfo, gather);
}

} // namespace

uint64_t nonzero_natural_portable(const JCOEF *block) noexcept {
    uint64_t nonzero = 0;
    for (int n = 0; n < 64; n++)
        nonzero |= uint64_t(block[n] != 0) << n;
    return nonzero;
}

uint64_t nonzero_natural_fast(const JCOEF *block) noexcept {
    return nonzero_natural(block);
}

bool gather_statistics(j_compress_ptr cinfo, HuffmanCounts *shared, StatisticsRows rows) {
    // A restart interval of the scan's MCUs or more (a part's, the DRI the whole file needs)
    // never comes: its counts are those of no interval.
    const bool restarts = cinfo->restart_interval != 0 &&
                          long(cinfo->restart_interval) < long(cinfo->MCUs_per_row) * long(cinfo->MCU_rows_in_scan);
    if (!fast_statistics.load(std::memory_order_relaxed) || !cinfo->optimize_coding || cinfo->progressive_mode ||
        cinfo->arith_code || restarts || cinfo->restart_in_rows || !cinfo->entropy || rows.stride == 0)
        return false;
    auto *g = static_cast<Gatherer *>(
        cinfo->mem->alloc_small(reinterpret_cast<j_common_ptr>(cinfo), JPOOL_IMAGE, sizeof(Gatherer)));
    std::memset(g, 0, sizeof *g);
    g->counts = shared ? shared : &g->own;
    g->row_stride = rows.stride;
    g->first_row = rows.first_row;
    g->counting = counted_row(*g);
    g->pub.start_pass = start_pass;
    g->pub.encode_mcu = gather_mcu;
    g->pub.finish_pass = finish_gathering;
    g->libjpeg = cinfo->entropy;
    cinfo->entropy = &g->pub;
    return true;
}

void use_fast_statistics(bool on) noexcept {
    fast_statistics.store(on, std::memory_order_relaxed);
}

bool fast_statistics_used() noexcept {
    return fast_statistics.load(std::memory_order_relaxed);
}

} // namespace jpeg
} // namespace bb
