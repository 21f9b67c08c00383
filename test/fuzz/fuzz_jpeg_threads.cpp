// libFuzzer target, differential, over the ways a JPEG's planes are read: on one thread, and
// on two (jpeg_split_reader.hpp for a progressive file's scans split between two decoders,
// jpeg_read_ahead.hpp for any other file's rows decoded ahead). The first byte picks the
// decode scale, the rest is the JPEG; both ways are taken however small the file. Both must
// fail alike (the same kind and message) or give the same planes (the split path reports a
// fault of the worker's last scan during the output pass, after some rows; one thread before
// the first).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "codecs.hpp"

namespace {

struct Decoded {
    std::vector<uint8_t> planes;
    bool failed = false;
    int kind = -1;
    std::string message;
};

Decoded read(const uint8_t *data, size_t size, int scale, int threads) {
    Decoded out;
    bb::DecodeOptions options;
    options.max_pixels = 1u << 22;
    options.threads = threads;
    options.split_min_cost = 0;
    options.read_ahead_pixels = 0;
    try {
        bb::JpegMeta meta;
        bb::JpegPlaneReader reader(data, size, options, scale, &meta);
        while (reader.next())
            for (int c = 0; c < reader.components(); c++)
                for (uint32_t r = 0; r < reader.row_count(c); r++)
                    out.planes.insert(out.planes.end(), reader.row(c, r), reader.row(c, r) + reader.plane_width(c));
    } catch (const bb::Error &e) {
        out.planes.clear(); // the rows read before the error differ: two decoders fail later
        out.failed = true;
        out.kind = int(e.kind());
        out.message = std::string(e.what()) + ": " + e.detail();
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 + 4)
        return 0;
    const int scale = 1 << (data[0] & 3);
    const Decoded one = read(data + 1, size - 1, scale, 1);
    const Decoded two = read(data + 1, size - 1, scale, 2);
    if (one.failed != two.failed || one.kind != two.kind || one.message != two.message || one.planes != two.planes)
        std::abort();
    return 0;
}
