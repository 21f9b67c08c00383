// Splitting a progressive JPEG's scans between two libjpeg decoders that run at once.
//
// A progressive file carries each coefficient in several scans, and libjpeg decodes them one
// after the other: on the 4 MP ColorfulCups photo 29 ms, the longest part of a blur there.
// But the scans form independent chains. An AC scan holds one component and only AC
// coefficients; it depends only on the earlier AC scans of that component (a refinement scan
// reads the bits the scans before it left). The DC scans touch only DC coefficients. So the AC
// scans of a component can go to a second decoder, which writes that component's AC
// coefficients into the same memory as the first decoder while the first one reads the rest;
// no two scans ever write the same coefficient at once. Each decoder reads the file's own
// bytes with the other's scans left out: every table and restart definition in its place, so
// each scan decodes with exactly the tables it would have had.
//
// plan_scan_split walks the file's markers, without libjpeg, and says whether and how to
// split. It declines anything unusual (no end marker, a second frame, an AC scan before its
// component's DC scan, a marker it does not know): such files take the one-decoder path,
// where libjpeg reports whatever is wrong with them exactly as before.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bb {
namespace jpeg {

// A run of the file's bytes.
struct ByteRange {
    size_t at;
    size_t size;
};

struct ScanSplit {
    // Each a complete JPEG stream: the start marker, the frame and every table, the scans it
    // decodes, the end marker. The main stream holds all the DC scans and the markers the
    // reader keeps (EXIF, ICC); the worker's only what decoding its scans needs.
    std::vector<ByteRange> main, worker;
    int worker_components = 0; // a bit per component (index in the frame) whose AC scans are the worker's
    int worker_scans = 0;
    uint64_t main_cost = 0, worker_cost = 0; // estimated, in bytes of entropy-coded data
};

// The larger half must be at most this share of the whole, in per cent.
constexpr uint64_t kMaxSplitShare = 85;

// Fills split and returns true when data is a progressive JPEG whose scans split into two
// streams, costing min_cost or more in all; returns false, leaving split empty, otherwise.
// Never throws for any input (only std::bad_alloc).
bool plan_scan_split(const uint8_t *data, size_t size, uint64_t min_cost, ScanSplit *split);

} // namespace jpeg
} // namespace bb
