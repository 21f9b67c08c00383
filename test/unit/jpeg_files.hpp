// JPEG files for the tests of the writer's entropy coding (test_jpeg_encoding.cpp,
// test_jpeg_split_entropy.cpp, test_jpeg_sampled_statistics.cpp): planes written as
// stream_planes writes them, and what a decoder reads back of the result.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "codecs.hpp"
#include "helpers.hpp"

namespace bbtest {

// A YCbCr (components 3) or greyscale (1) file's description, luma sampled luma_h x luma_v.
inline bb::JpegMeta planes_meta(int components, int luma_h, int luma_v) {
    bb::JpegMeta meta;
    meta.components = components;
    meta.color_space = components == 1 ? JCS_GRAYSCALE : JCS_YCbCr;
    meta.h_samp[0] = luma_h;
    meta.v_samp[0] = luma_v;
    return meta;
}

// How write_planes writes: JpegPlaneWriter's choices, and the picture.
struct PlaneWriting {
    bool split = false;
    int threads = 1;
    bb::InterruptPoll poll = nullptr;
    uint32_t statistics_stride = 1;
    int quality = 75;
    // Component c's sample at (x, y) of its plane; by default a smooth picture with some texture.
    std::function<uint8_t(uint32_t x, uint32_t y, int c)> sample;
};

struct WrittenPlanes {
    std::vector<uint8_t> file;
    bool split = false;
};

// Planes written with optimised tables as stream_planes writes them: the rows below the image
// repeat its last, the columns right of it its last.
inline WrittenPlanes write_planes(uint32_t width, uint32_t height, const bb::JpegMeta &meta, const PlaneWriting &how) {
    const bb::JpegLayout layout = bb::jpeg_layout(width, height, meta);
    bb::JpegPlaneWriter writer(layout, meta, how.quality, true, how.poll, how.split, how.threads,
                               how.statistics_stride);
    for (uint32_t step = 0; !writer.done(); step++) {
        for (int c = 0; c < meta.components; c++)
            for (uint32_t r = 0; r < writer.rows_per_step(c); r++) {
                const uint32_t y = std::min(step * writer.rows_per_step(c) + r, layout.comp_height[c] - 1);
                for (uint32_t x = 0; x < layout.padded_width[c]; x++) {
                    const uint32_t xx = std::min(x, layout.comp_width[c] - 1);
                    writer.row(c, r)[x] =
                        how.sample
                            ? how.sample(xx, y, c)
                            : uint8_t((xx * 3 + y * 5 + uint32_t(c) * 70 + ((xx * 7919 + y * 104729) % 23)) % 256);
                }
            }
        writer.write();
    }
    WrittenPlanes out;
    out.split = writer.split();
    out.file = bytes_of(writer.finish());
    return out;
}

// What a decoder reads of a file: every component's coefficients, the restart interval, and how
// many warnings (a corrupt entropy-coded segment, a restart marker out of place) it gave.
struct ReadCoefficients {
    std::vector<std::vector<JCOEF>> coefficients;
    unsigned restart_interval = 0;
    long warnings = 0;
};

inline ReadCoefficients read_coefficients(const std::vector<uint8_t> &file) {
    ReadCoefficients out;
    jpeg_decompress_struct cinfo{};
    jpeg_error_mgr err{};
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, file.data(), static_cast<unsigned long>(file.size()));
    jpeg_read_header(&cinfo, TRUE);
    jvirt_barray_ptr *arrays = jpeg_read_coefficients(&cinfo);
    for (int c = 0; c < cinfo.num_components; c++) {
        const jpeg_component_info &comp = cinfo.comp_info[c];
        std::vector<JCOEF> all;
        for (JDIMENSION row = 0; row < comp.height_in_blocks; row++) {
            JBLOCKARRAY blocks =
                (*cinfo.mem->access_virt_barray)(reinterpret_cast<j_common_ptr>(&cinfo), arrays[c], row, 1, FALSE);
            all.insert(all.end(), &blocks[0][0][0], &blocks[0][0][0] + comp.width_in_blocks * DCTSIZE2);
        }
        out.coefficients.push_back(std::move(all));
    }
    out.restart_interval = cinfo.restart_interval;
    jpeg_finish_decompress(&cinfo);
    out.warnings = err.num_warnings;
    jpeg_destroy_decompress(&cinfo);
    return out;
}

// The restart markers (0xFF 0xD0-0xD7) in a file: in entropy-coded data a 0xFF byte is always
// followed by 0x00, so each of these is a marker.
inline int restart_markers(const std::vector<uint8_t> &file) {
    int count = 0;
    for (size_t i = 0; i + 1 < file.size(); i++)
        count += file[i] == 0xFF && file[i + 1] >= 0xD0 && file[i + 1] <= 0xD7;
    return count;
}

// The Huffman tables a JPEG file defines (DHT segments before the first scan), by class and
// id (class << 4 | id): the 16 code counts, then the symbols.
inline std::map<int, std::vector<uint8_t>> huffman_tables(const std::vector<uint8_t> &file) {
    std::map<int, std::vector<uint8_t>> tables;
    size_t p = 2;
    while (p + 4 <= file.size() && file[p] == 0xFF && file[p + 1] != 0xDA) {
        const size_t length = size_t(file[p + 2]) << 8 | file[p + 3];
        if (file[p + 1] == 0xC4) {
            size_t q = p + 4;
            while (q + 17 <= p + 2 + length) {
                const int key = file[q];
                size_t count = 0;
                for (int i = 1; i <= 16; i++)
                    count += file[q + size_t(i)];
                tables[key].assign(file.begin() + long(q) + 1, file.begin() + long(q + 17 + count));
                q += 17 + count;
            }
        }
        p += 2 + length;
    }
    return tables;
}

// How many symbols a table of huffman_tables has a code for.
inline size_t symbols_coded(const std::vector<uint8_t> &table) {
    return table.size() >= 16 ? table.size() - 16 : 0;
}

} // namespace bbtest
