// The Huffman statistics of a JPEG written with optimised tables, gathered in our code rather
// than libjpeg-turbo's. With optimize_coding libjpeg counts, in the pass that takes the rows,
// every symbol its entropy coder will write, a coefficient at a time in C (htest_one_block):
// on a blurred 4 MP photo at 4:2:0, 56 M of the 204 M instructions of the thread that writes
// it (callgrind, test/bench/redact_core). Ours finds a block's nonzero coefficients at once (a
// vector compare, their zigzag positions from lookup tables) and visits only those, which a
// blur leaves few of; the counts, and so the tables and the file, are the same as libjpeg's
// (test_jpeg_encoding.cpp compares the bytes).
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first
#include <jpeglib.h>

namespace bb {
namespace jpeg {

// The symbol counts of each Huffman table, as jpeg_gen_optimal_table takes them.
struct HuffmanCounts {
    long dc[NUM_HUFF_TBLS][257];
    long ac[NUM_HUFF_TBLS][257];
};

// Which MCU rows of a scan are counted: those whose row in the image (first_row, the part's
// first, plus the row in the scan) is a multiple of stride. With a stride of 1, every one,
// and the tables are libjpeg's own. With more, the tables are made from a sample of the
// picture, and every symbol a baseline scan of 8-bit samples can hold gets a code (a count of
// at least 1), so that the rows not counted can be written whatever they hold. A blurred photo's
// rows are alike: on the benchmark's photos, counting one MCU row in 4 cost 0.05-0.44 % more
// bytes than counting all, most of it the codes of symbols never counted (the README's "Huffman
// statistics from a quarter of the rows"), and takes three quarters of the counting off the
// thread that writes.
struct StatisticsRows {
    uint32_t stride = 1;
    uint32_t first_row = 0;
};

// Takes over the statistics pass of cinfo's entropy coder, right after jpeg_start_compress
// with optimize_coding: a counter of ours, in the compressor's memory pool, stands in for
// libjpeg's coder until that pass ends, then makes the optimal tables from its counts as libjpeg
// would and hands the coder back for the output pass. Only for a sequential Huffman file whose
// scan has no restart in it (returns false otherwise, and libjpeg keeps its own gathering), and
// unless the tests turned it off (use_fast_statistics). Call it inside the run_* function's
// setjmp: libjpeg reports a failed allocation, and a coefficient out of range, by its jump.
// With shared (zeroed by the caller, and outliving the compressor's output pass) the counts
// go there instead, so that compressors of parts of one image, which count one after the
// other, make the same tables from them all; the tables are made from a copy, so their
// output passes may run at once on two threads. rows: which MCU rows are counted (all, by
// default); compressors that share counts must share the stride.
bool gather_statistics(j_compress_ptr cinfo, HuffmanCounts *shared = nullptr, StatisticsRows rows = {});

// The optimal Huffman table for a symbol's counts (JPEG K.2), as libjpeg-turbo's
// jpeg_gen_optimal_table makes it: the same code lengths, the same order of the symbols. Ours
// merges the two least frequent subtrees from a heap where libjpeg finds them by a scan of all
// 257 counts for every merge: with every symbol a baseline AC table can hold counted (a sampled
// count, StatisticsRows) that scan was 2 % of a 4 MP photo's blur at one thread (`perf`). Ties
// go to the larger symbol, as libjpeg breaks them, so the tables are libjpeg's bit for bit
// (test_huffman_table.cpp) for counts summing to less than 10^9, which libjpeg's scan takes
// for its sentinel (a writer's arrays, at most kOptimizeBufferBytes, hold some 33 million).
// counts: 256 symbols (the 257th is ignored: a pseudo-symbol of count 1 keeps every real code
// from being all ones). bits[1..16]: the number of codes of each length, bits[0] 0; values: the
// symbols in order of code length, then of symbol. False when a code would be longer than 32
// bits before K.2's limiting to 16, where libjpeg fails with JERR_HUFF_CLEN_OVERFLOW (counts
// that grow like Fibonacci numbers, to some 9 million).
bool optimal_huffman_table(const long counts[257], uint8_t bits[17], uint8_t values[256]) noexcept;

// A block's nonzero coefficients, a bit each in natural order: the way the counter finds them
// (SSE2 where there is, else the portable loop) and the portable loop itself, which the
// tests hold it to.
uint64_t nonzero_natural_fast(const JCOEF *block) noexcept;
uint64_t nonzero_natural_portable(const JCOEF *block) noexcept;

// For the tests: false makes gather_statistics leave libjpeg's own gathering (the same files).
void use_fast_statistics(bool on) noexcept;
bool fast_statistics_used() noexcept;

} // namespace jpeg
} // namespace bb
