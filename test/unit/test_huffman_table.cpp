// optimal_huffman_table against libjpeg-turbo's jpeg_gen_optimal_table: the same table, bit for
// bit, for counts of every shape the writer meets and some it should never meet.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <jpeglib.h>

#include "jpeg_statistics.hpp"

// libjpeg-turbo's own, exported but declared only in its jchuff.h.
extern "C" void jpeg_gen_optimal_table(j_compress_ptr cinfo, JHUFF_TBL *htbl, long freq[]);

namespace {

struct Table {
    uint8_t bits[17];
    uint8_t values[256];
    int symbols; // sum of bits
};

// libjpeg's table for counts, through a compressor (its error manager is only for the table's
// allocation, which cannot fail here).
Table libjpegs(const long counts[257]) {
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr err{};
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_compress(&cinfo);
    JHUFF_TBL *htbl = jpeg_alloc_huff_table(reinterpret_cast<j_common_ptr>(&cinfo));
    long freq[257];
    std::memcpy(freq, counts, sizeof freq);
    jpeg_gen_optimal_table(&cinfo, htbl, freq);
    Table t{};
    std::memcpy(t.bits, htbl->bits, sizeof t.bits);
    std::memcpy(t.values, htbl->huffval, sizeof t.values);
    for (int l = 1; l <= 16; l++)
        t.symbols += t.bits[l];
    jpeg_destroy_compress(&cinfo);
    return t;
}

Table ours(const long counts[257]) {
    Table t{};
    EXPECT_TRUE(bb::jpeg::optimal_huffman_table(counts, t.bits, t.values));
    for (int l = 1; l <= 16; l++)
        t.symbols += t.bits[l];
    return t;
}

void expect_same(const long counts[257], const char *what) {
    SCOPED_TRACE(what);
    const Table mine = ours(counts), theirs = libjpegs(counts);
    int nonzero = 0;
    for (int s = 0; s < 256; s++)
        nonzero += counts[s] > 0;
    EXPECT_EQ(mine.symbols, nonzero);
    EXPECT_EQ(0, std::memcmp(mine.bits, theirs.bits, sizeof mine.bits));
    EXPECT_EQ(0, std::memcmp(mine.values, theirs.values, size_t(mine.symbols)));
    // A complete prefix code but for the one all-ones code left out (Kraft's sum 1 - 2^-16 at
    // most), no code longer than 16 bits.
    uint64_t kraft = 0;
    for (int l = 1; l <= 16; l++)
        kraft += uint64_t(mine.bits[l]) << (16 - l);
    EXPECT_LT(kraft, uint64_t(1) << 16);
}

// Counts summing to less than 10^9: libjpeg takes a count of 10^9 or more for a symbol already
// merged (its scan's sentinel), and a writer's arrays (at most kOptimizeBufferBytes of
// coefficients) hold some 33 million symbols. 256 symbols of at most 2^20 sum to 2.7 10^8.
TEST(HuffmanTable, SameAsLibjpegForRandomCounts) {
    std::mt19937_64 random(21);
    for (int round = 0; round < 2000; round++) {
        long counts[257] = {};
        const int shape = round % 5;
        const int used = 1 + int(random() % 256);
        for (int i = 0; i < used; i++) {
            const int s = int(random() % 256);
            switch (shape) {
            case 0: counts[s] = 1 + long(random() % 1000); break;        // flat
            case 1: counts[s] = long(1) << (random() % 20); break;       // powers of two: ties
            case 2: counts[s] = 1 + long(random() % 3); break;           // many ties
            case 3: counts[s] = long(random() % 2 ? 1 : 3000000); break; // extremes
            default: counts[s] = long(std::exp2(double(random() % 2000) / 100.0)); break;
            }
        }
        char what[64];
        std::snprintf(what, sizeof what, "round %d, shape %d", round, shape);
        expect_same(counts, what);
    }
}

// Counts that grow like Fibonacci numbers make the deepest tree: codes of up to 32 bits
// before K.2's limiting, which must then move many of them up to 16.
TEST(HuffmanTable, SameAsLibjpegWhenCodesMustBeShortened) {
    for (int symbols : {17, 20, 25, 31}) {
        long counts[257] = {};
        long a = 1, b = 1;
        for (int i = 0; i < symbols; i++) {
            counts[255 - 7 * i % 256] = a;
            const long c = a + b;
            a = b;
            b = c;
        }
        expect_same(counts, "Fibonacci counts");
    }
}

TEST(HuffmanTable, SameAsLibjpegForTheWritersCounts) {
    // One symbol; two; a DC table's twelve categories with every one floored to 1; an AC
    // table with the end of block dominant, as a blurred picture's.
    long one[257] = {};
    one[0] = 5;
    expect_same(one, "one symbol");
    long two[257] = {};
    two[3] = 1;
    two[200] = 1;
    expect_same(two, "two symbols");
    long dc[257] = {};
    for (int s = 0; s <= 11; s++)
        dc[s] = s < 6 ? 1000 >> s : 1;
    expect_same(dc, "DC categories");
    long ac[257] = {};
    ac[0x00] = 400000;
    ac[0xF0] = 1;
    for (int run = 0; run < 16; run++)
        for (int bits = 1; bits <= 10; bits++)
            ac[(run << 4) + bits] = std::max(1L, 200000L >> (run + 2 * bits));
    expect_same(ac, "AC with the end of block dominant");
}

TEST(HuffmanTable, NoSymbolsGiveAnEmptyTable) {
    long none[257] = {};
    const Table t = ours(none);
    EXPECT_EQ(t.symbols, 0);
}

} // namespace
