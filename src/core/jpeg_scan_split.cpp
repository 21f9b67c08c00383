#include "jpeg_scan_split.hpp"

#include <algorithm>
#include <cstring>

namespace bb {
namespace jpeg {
namespace {

constexpr int kMaxComponents = 4;

// What the walk found of one marker segment (a scan with its entropy-coded data).
struct Segment {
    ByteRange bytes;
    int scan; // kNotAScan, kDcScan, or the component of an AC scan
};

constexpr int kNotAScan = -2;
constexpr int kDcScan = -1;

struct Frame {
    int components = 0;
    uint8_t id[kMaxComponents] = {};
    uint64_t blocks[kMaxComponents] = {}; // 8x8 blocks of each component's plane
};

unsigned be16(const uint8_t *p) {
    return unsigned(p[0]) << 8 | p[1];
}

// A progressive frame header (SOF2 Huffman, SOF10 arithmetic).
bool read_frame(const uint8_t *body, size_t size, Frame *frame) {
    if (size < 6)
        return false;
    const uint64_t height = be16(body + 1), width = be16(body + 3);
    const int n = body[5];
    if (height == 0 || width == 0 || n < 1 || n > kMaxComponents || size != 6 + 3 * size_t(n))
        return false; // a zero height waits for a DNL marker, which libjpeg refuses anyway
    int max_h = 1, max_v = 1, h[kMaxComponents], v[kMaxComponents];
    for (int c = 0; c < n; c++) {
        const uint8_t *p = body + 6 + 3 * c;
        frame->id[c] = p[0];
        for (int d = 0; d < c; d++)
            if (frame->id[d] == p[0])
                return false;
        h[c] = p[1] >> 4;
        v[c] = p[1] & 15;
        if (h[c] < 1 || h[c] > 4 || v[c] < 1 || v[c] > 4)
            return false;
        max_h = h[c] > max_h ? h[c] : max_h;
        max_v = v[c] > max_v ? v[c] : max_v;
    }
    for (int c = 0; c < n; c++) {
        const uint64_t w = (width * uint64_t(h[c]) + uint64_t(max_h) - 1) / uint64_t(max_h);
        const uint64_t r = (height * uint64_t(v[c]) + uint64_t(max_v) - 1) / uint64_t(max_v);
        frame->blocks[c] = ((w + 7) / 8) * ((r + 7) / 8);
    }
    frame->components = n;
    return true;
}

// The end of a scan's entropy-coded data: the first marker that is not a restart marker or a
// stuffed zero. Returns 0 when the data runs to the end of the file.
size_t end_of_entropy_data(const uint8_t *data, size_t size, size_t at) {
    while (at < size) {
        const auto *ff = static_cast<const uint8_t *>(std::memchr(data + at, 0xFF, size - at));
        if (!ff)
            return 0;
        at = size_t(ff - data);
        if (at + 1 >= size)
            return 0;
        const uint8_t next = data[at + 1];
        if (next != 0x00 && (next < 0xD0 || next > 0xD7))
            return at;
        at += 2;
    }
    return 0;
}

void append(std::vector<ByteRange> *ranges, ByteRange range) {
    if (!ranges->empty() && ranges->back().at + ranges->back().size == range.at)
        ranges->back().size += range.size;
    else
        ranges->push_back(range);
}

} // namespace

bool plan_scan_split(const uint8_t *data, size_t size, uint64_t min_cost, ScanSplit *split) {
    *split = ScanSplit();
    if (size < 4 || data[0] != 0xFF || data[1] != 0xD8)
        return false;
    std::vector<Segment> segments;
    Frame frame;
    bool dc_seen[kMaxComponents] = {};
    uint64_t dc_cost = 0, ac_cost[kMaxComponents] = {};
    size_t p = 2;
    for (;;) {
        if (p >= size || data[p] != 0xFF)
            return false;
        const size_t start = p;
        while (p < size && data[p] == 0xFF) // fill bytes may precede a marker
            p++;
        if (p >= size)
            return false;
        const uint8_t marker = data[p++];
        if (marker == 0xD9) { // the end
            segments.push_back({{start, p - start}, kNotAScan});
            break;
        }
        if (size - p < 2)
            return false;
        const size_t length = be16(data + p);
        if (length < 2 || length > size - p)
            return false;
        const uint8_t *body = data + p + 2;
        const size_t body_size = length - 2;
        size_t end = p + length;
        int scan = kNotAScan;
        if (marker == 0xC2 || marker == 0xCA) {
            if (frame.components || !read_frame(body, body_size, &frame))
                return false;
        } else if (marker == 0xDA) {
            if (!frame.components || body_size < 1)
                return false;
            const int n = body[0];
            if (n < 1 || n > frame.components || body_size != 1 + 2 * size_t(n) + 3)
                return false;
            int index[kMaxComponents];
            for (int i = 0; i < n; i++) {
                index[i] = -1;
                for (int c = 0; c < frame.components; c++)
                    if (frame.id[c] == body[1 + 2 * i])
                        index[i] = c;
                if (index[i] < 0)
                    return false;
                for (int j = 0; j < i; j++)
                    if (index[j] == index[i])
                        return false;
            }
            const int ss = body[1 + 2 * n];
            end = end_of_entropy_data(data, size, end);
            if (!end)
                return false; // truncated: libjpeg says so on the one-decoder path
            // The cost: the entropy-coded bytes, and a third of a byte for each block the
            // scan visits (a scan of few bytes still walks every block of its components).
            uint64_t cost = end - start;
            for (int i = 0; i < n; i++)
                cost += frame.blocks[index[i]] / 3;
            if (ss == 0) {
                for (int i = 0; i < n; i++)
                    dc_seen[index[i]] = true;
                dc_cost += cost;
                scan = kDcScan;
            } else {
                if (n != 1 || !dc_seen[index[0]])
                    return false; // libjpeg refuses the first, warns of the second
                scan = index[0];
                ac_cost[scan] += cost;
            }
        } else if ((marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xCC) || marker < 0xC0 ||
                   (marker >= 0xD0 && marker <= 0xD8) || marker == 0xDC || (marker >= 0xF0 && marker <= 0xFD)) {
            // another frame type (not progressive), restart or start markers out of place, DNL,
            // the reserved JPGn markers: leave these to libjpeg
            return false;
        }
        // DHT, DAC, DQT, DRI, APPn and COM need nothing more than their place.
        segments.push_back({{start, end - start}, scan});
        p = end;
    }
    if (frame.components < 1) // read_frame allows 1 to 4; none means no frame was read
        return false;

    // The components whose AC scans go to the worker: the split with the smaller larger half.
    uint64_t total = dc_cost;
    for (int c = 0; c < frame.components; c++)
        total += ac_cost[c];
    int best = 0;
    uint64_t best_worker = 0;
    for (int mask = 1; mask < 1 << frame.components; mask++) {
        uint64_t worker = 0;
        for (int c = 0; c < frame.components; c++)
            if (mask & 1 << c)
                worker += ac_cost[c];
        const uint64_t larger = std::max(worker, total - worker);
        if (larger < std::max(best_worker, total - best_worker)) {
            best = mask;
            best_worker = worker;
        }
    }
    const uint64_t larger = std::max(best_worker, total - best_worker);
    if (!best || total < min_cost || larger * 100 > total * kMaxSplitShare)
        return false;

    split->worker_components = best;
    split->worker_cost = best_worker;
    split->main_cost = total - best_worker;
    append(&split->main, {0, 2});
    append(&split->worker, {0, 2});
    for (const Segment &s : segments) {
        const bool worker_scan = s.scan >= 0 && (best & 1 << s.scan);
        if (!worker_scan)
            append(&split->main, s.bytes);
        if (worker_scan || s.scan == kNotAScan)
            append(&split->worker, s.bytes);
        split->worker_scans += worker_scan;
    }
    return true;
}

} // namespace jpeg
} // namespace bb
