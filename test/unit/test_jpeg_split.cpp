// A progressive JPEG's scans split between two decoders on two threads (jpeg_scan_split.hpp,
// jpeg_split_reader.hpp): the plan, and that the planes, the errors and the interrupts are
// exactly those of one decoder.
#include <gtest/gtest.h>

#include <string>

#include "helpers.hpp"
#include "jpeg_scan_split.hpp"

namespace {

// A progressive JPEG (libjpeg's standard script) of a noisy RGB image with the given sampling
// of the luma component (chroma at 1x1).
std::vector<uint8_t> progressive_of(uint32_t width, uint32_t height, int h_samp, int v_samp) {
    return bbtest::progressive_jpeg_of(bbtest::make_image(width, height, 3), 90, false, h_samp, v_samp);
}

// Every plane row a reader gives, or the error it threw.
struct Decoded {
    std::vector<std::vector<uint8_t>> rows;
    bool split = false;
    bool failed = false;
    bb::ErrorKind kind = bb::ErrorKind::InvalidData;
    std::string message;
};

Decoded read_planes(const std::vector<uint8_t> &jpeg, int scale, int threads, bb::InterruptPoll poll = nullptr) {
    Decoded out;
    bb::DecodeOptions options;
    options.threads = threads;
    options.split_min_cost = 0; // split however small the file
    options.poll = poll;
    try {
        bb::JpegMeta meta;
        bb::JpegPlaneReader reader(jpeg.data(), jpeg.size(), options, scale, &meta);
        out.split = reader.split();
        while (reader.next())
            for (int c = 0; c < reader.components(); c++)
                for (uint32_t r = 0; r < reader.row_count(c); r++)
                    out.rows.emplace_back(reader.row(c, r), reader.row(c, r) + reader.plane_width(c));
    } catch (const bb::Error &e) {
        out.failed = true;
        out.kind = e.kind();
        out.message = std::string(e.what()) + ": " + e.detail();
    }
    return out;
}

bool plan(const std::vector<uint8_t> &jpeg, bb::jpeg::ScanSplit *split, uint64_t min_cost = 0) {
    return bb::jpeg::plan_scan_split(jpeg.data(), jpeg.size(), min_cost, split);
}

// The stream a decoder of the split reads.
std::vector<uint8_t> stream_of(const std::vector<uint8_t> &jpeg, const std::vector<bb::jpeg::ByteRange> &ranges) {
    std::vector<uint8_t> out;
    for (const auto &r : ranges)
        out.insert(out.end(), jpeg.begin() + long(r.at), jpeg.begin() + long(r.at + r.size));
    return out;
}

// Start-of-scan markers in a stream (0xFF 0xDA never occurs inside entropy-coded data).
int scans_in(const std::vector<uint8_t> &stream) {
    int n = 0;
    for (size_t i = 0; i + 1 < stream.size(); i++)
        n += stream[i] == 0xFF && stream[i + 1] == 0xDA;
    return n;
}

long poll_budget = 0;
long poll_calls = 0;
bool counting_poll() {
    poll_calls++;
    return --poll_budget < 0;
}

} // namespace

TEST(JpegSplit, PlansTheLumaAcScansOfTheStandardScriptForTheWorker) {
    // libjpeg's standard script for YCbCr: 10 scans, of which 4 are luma's AC scans.
    const auto jpeg = progressive_of(256, 160, 2, 2);
    bb::jpeg::ScanSplit split;
    ASSERT_TRUE(plan(jpeg, &split));
    EXPECT_EQ(split.worker_components, 1);
    EXPECT_EQ(split.worker_scans, 4);
    EXPECT_GT(split.worker_cost, 0u);
    EXPECT_GT(split.main_cost, 0u);
    const auto main = stream_of(jpeg, split.main), worker = stream_of(jpeg, split.worker);
    EXPECT_EQ(scans_in(main), 6);
    EXPECT_EQ(scans_in(worker), 4);
    for (const auto *s : {&main, &worker}) {
        ASSERT_GE(s->size(), 4u);
        EXPECT_EQ((*s)[0], 0xFF);
        EXPECT_EQ((*s)[1], 0xD8);
        EXPECT_EQ((*s)[s->size() - 2], 0xFF);
        EXPECT_EQ((*s)[s->size() - 1], 0xD9);
    }
    // Every scan's bytes are in exactly one stream; everything else in both.
    EXPECT_EQ(main.size() + worker.size() > jpeg.size(), true);
    EXPECT_FALSE(plan(jpeg, &split, split.main_cost + split.worker_cost + 1)); // not worth it
    EXPECT_TRUE(split.main.empty() && split.worker.empty());
}

TEST(JpegSplit, DeclinesWhatIsNotACompleteProgressiveFile) {
    bb::jpeg::ScanSplit split;
    const bb::Image img = bbtest::make_image(96, 64, 3);
    EXPECT_FALSE(plan(bbtest::jpeg_of(img, JCS_YCbCr), &split));              // baseline
    EXPECT_FALSE(plan(bbtest::progressive_jpeg_of(img, 90, true), &split));   // sequential, three scans
    EXPECT_FALSE(plan(std::vector<uint8_t>{0xFF, 0xD8, 0xFF, 0xD9}, &split)); // no frame
    const auto jpeg = progressive_of(96, 64, 2, 2);
    ASSERT_TRUE(plan(jpeg, &split));
    // Every truncation, and every byte changed to a marker, is declined or planned without
    // reading out of bounds (the sanitizers watch); truncations are all declined.
    for (size_t n = 0; n < jpeg.size(); n++) {
        const std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + long(n));
        EXPECT_FALSE(plan(cut, &split)) << n;
        std::vector<uint8_t> marked = jpeg;
        marked[n] = 0xFF;
        plan(marked, &split);
    }
}

TEST(JpegSplit, PlanesAreThoseOfOneDecoderAtEveryScaleAndSampling) {
    for (int h : {1, 2})
        for (int v : {1, 2}) {
            const auto jpeg = progressive_of(203, 131, h, v);
            bb::jpeg::ScanSplit split;
            ASSERT_TRUE(plan(jpeg, &split)) << h << "x" << v;
            for (int scale : {1, 2, 4, 8}) {
                const Decoded one = read_planes(jpeg, scale, 1), two = read_planes(jpeg, scale, 2);
                ASSERT_FALSE(one.failed) << one.message;
                ASSERT_FALSE(two.failed) << two.message;
                EXPECT_FALSE(one.split);
                EXPECT_TRUE(two.split);
                EXPECT_TRUE(one.rows == two.rows) << h << "x" << v << " at 1/" << scale;
            }
        }
}

TEST(JpegSplit, ACorruptScanFailsAsWithOneDecoder) {
    // Bytes changed in the entropy-coded data of every scan, the worker's and the main
    // decoder's: one decoder and two report the same error, or decode the same planes.
    const auto jpeg = progressive_of(160, 96, 2, 2);
    bb::jpeg::ScanSplit split;
    ASSERT_TRUE(plan(jpeg, &split));
    int failures = 0, split_failures = 0;
    for (size_t at = 700; at + 2 < jpeg.size(); at += 97) {
        for (uint8_t value : {uint8_t(0x00), uint8_t(0x5A), uint8_t(0xFE)}) {
            std::vector<uint8_t> bad = jpeg;
            if (bad[at] == 0xFF || bad[at - 1] == 0xFF)
                continue; // keep the markers as they are
            bad[at] = value;
            const Decoded one = read_planes(bad, 4, 1), two = read_planes(bad, 4, 2);
            ASSERT_EQ(one.failed, two.failed) << at << ": " << one.message << " / " << two.message;
            failures += one.failed;
            split_failures += two.split && two.failed;
            if (one.failed) {
                EXPECT_EQ(one.kind, two.kind) << at;
                EXPECT_EQ(one.message, two.message) << at;
            } else {
                EXPECT_TRUE(one.rows == two.rows) << at;
            }
        }
    }
    EXPECT_GT(failures, 0);
    EXPECT_GT(split_failures, 0); // the worker's error, raised while the output pass ran
}

TEST(JpegSplit, InterruptedAtEveryPoll) {
    const auto jpeg = progressive_of(320, 200, 2, 2);
    poll_budget = 1L << 40;
    poll_calls = 0;
    ASSERT_FALSE(read_planes(jpeg, 4, 2, counting_poll).failed);
    const long total = poll_calls;
    ASSERT_GT(total, 10);
    for (long k = 0; k < total; k++) {
        poll_budget = k;
        const Decoded d = read_planes(jpeg, 4, 2, counting_poll);
        ASSERT_TRUE(d.failed) << k;
        EXPECT_EQ(d.kind, bb::ErrorKind::Interrupted) << k;
    }
}
