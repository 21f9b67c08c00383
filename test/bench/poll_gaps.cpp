// The longest time bytea_blur's core runs without checking for an interrupt, for the benchmark:
// blurs each file with a poll that notes the time of every call, and prints the longest gap
// (from the start to the first call and from the last call to the end included). PostgreSQL
// answers a cancel or statement_timeout at the next check, so this bounds how late it can be.
//   poll_gaps SIGMA FILE...     prints "FILE  longest-gap-ms  whole-blur-ms  checks" per file
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "pipeline.hpp"

namespace {

using Clock = std::chrono::steady_clock;
Clock::time_point last;
double longest = 0.0;
long checks = 0;

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

bool poll() {
    longest = std::max(longest, ms_since(last));
    last = Clock::now();
    checks++;
    return false;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: poll_gaps SIGMA FILE...\n");
        return 2;
    }
    bb::BlurOptions options;
    options.sigma = std::atof(argv[1]);
    options.poll = poll;
    options.threads = 2; // bytea_blur.threads' default: the calling thread polls while the other decodes
    for (int i = 2; i < argc; i++) {
        std::ifstream in(argv[i], std::ios::binary);
        const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        longest = 0.0;
        checks = 0;
        const Clock::time_point start = last = Clock::now();
        const bb::Buffer out = bb::blur_image(data.data(), data.size(), options);
        longest = std::max(longest, ms_since(last));
        std::printf("%s %.1f %.1f %ld\n", argv[i], longest, ms_since(start), checks);
    }
    return 0;
}
