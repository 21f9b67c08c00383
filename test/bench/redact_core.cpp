// One redaction through bytea_blur's core, without PostgreSQL, for profiling: where the time of
// bytea_blur_regions goes, with callgrind or perf, away from the server's own costs.
//   redact_core FILE X Y [RUNS] [OUT]   redacts the 256x256 box at (X, Y) at sigma 5 (on one
//                                       thread by default) RUNS times (default 1), prints the median
//                                       milliseconds, writes the last result to OUT if given
//   redact_core FILE whole [RUNS] [OUT] the whole image's blur instead, for comparison
// Options, anywhere: --threads N (bytea_blur.threads, 1 by default); --standard-tables (a
// JPEG written with the standard Huffman tables: use_optimised_tables, codecs.hpp).
// e.g. valgrind --tool=callgrind redact_core photo.jpg 2608 1696
// Built like poll_gaps (test/bench/run): g++ -O2 -std=c++17 -Isrc/core test/bench/redact_core.cpp
// src/core/*.cpp -ljpeg -lpng -lwebp -lwebpdemux -lwebpmux -lavif -ldeflate -lz -pthread
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "codecs.hpp"
#include "pipeline.hpp"
#include "regions.hpp"

int main(int argc, char **argv) {
    int threads = 1;
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = std::atoi(argv[++i]);
        else if (std::strcmp(argv[i], "--standard-tables") == 0)
            bb::use_optimised_tables(false);
        else
            argv[kept++] = argv[i];
    }
    argc = kept;
    if (argc < 3) {
        std::fprintf(stderr, "usage: redact_core FILE X Y [RUNS] [OUT] | redact_core FILE whole [RUNS] [OUT]"
                             " [--threads N] [--standard-tables]\n");
        return 2;
    }
    std::ifstream file(argv[1], std::ios::binary);
    const std::vector<uint8_t> data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const bool whole = std::strcmp(argv[2], "whole") == 0;
    if (!whole && argc < 4) {
        std::fprintf(stderr, "usage: redact_core FILE X Y [RUNS] [OUT]\n");
        return 2;
    }
    const int first_optional = whole ? 3 : 4;
    const int runs = argc > first_optional ? std::max(1, std::atoi(argv[first_optional])) : 1;
    const double x = whole ? 0 : std::atof(argv[2]), y = whole ? 0 : std::atof(argv[3]);
    bb::BlurOptions options;
    options.sigma = 5;
    options.threads = threads;
    try {
        bb::Buffer result;
        std::vector<double> ms;
        for (int i = 0; i < runs; i++) {
            const auto start = std::chrono::steady_clock::now();
            result = whole ? bb::blur_image(data.data(), data.size(), options)
                           : bb::blur_regions(data.data(), data.size(), {bb::Box{x, y, x + 256, y + 256}}, options);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        }
        std::sort(ms.begin(), ms.end());
        std::printf("%zu bytes out, median %.1f ms of %d\n", result.size(), ms[ms.size() / 2], runs);
        if (argc > first_optional + 1) {
            std::ofstream out(argv[first_optional + 1], std::ios::binary);
            out.write(reinterpret_cast<const char *>(result.data()), std::streamsize(result.size()));
        }
    } catch (const bb::Error &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
