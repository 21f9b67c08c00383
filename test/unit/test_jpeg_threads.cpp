// A JPEG decoded on two threads: a progressive file's scans split between two decoders
// (jpeg_scan_split.hpp, jpeg_split_reader.hpp), any other file's rows decoded ahead on a
// second thread (jpeg_read_ahead.hpp). The plan, and that the planes, the errors and the
// interrupts are exactly those of one thread.
#include <gtest/gtest.h>

#include <string>

#include "helpers.hpp"
#include "jpeg_scan_split.hpp"
#include "worker_thread.hpp"

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
    bool ahead = false;
    bool failed = false;
    bb::ErrorKind kind = bb::ErrorKind::InvalidData;
    std::string message;
};

Decoded read_planes(const std::vector<uint8_t> &jpeg, int scale, int threads, bb::InterruptPoll poll = nullptr,
                    uint64_t split_min_cost = 0) {
    Decoded out;
    bb::DecodeOptions options;
    options.threads = threads;
    options.split_min_cost = split_min_cost; // by default split however small the file
    options.read_ahead_pixels = 0;           // and read ahead however small
    options.poll = poll;
    try {
        bb::JpegMeta meta;
        bb::JpegPlaneReader reader(jpeg.data(), jpeg.size(), options, scale, &meta);
        out.split = reader.split();
        out.ahead = reader.read_ahead();
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

// Says stop from the poll_budget-th call on. On two threads the number of calls depends on
// timing (this thread polls while it waits for the other), so a run may end before it: that
// passes as long as no call said stop (the gate's two releases side by side on two cores
// made JpegReadAhead.InterruptedAtEveryPoll fail as written before).
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
        if (!d.failed && poll_budget >= 0)
            continue; // this run polled fewer times than the first (see counting_poll)
        ASSERT_TRUE(d.failed) << k;
        EXPECT_EQ(d.kind, bb::ErrorKind::Interrupted) << k;
    }
}

// With no second thread to be had, a split would read the worker's scans on this thread with
// no poll between them: one decoder reads the file instead, with its polls, and the planes are
// those of one thread.
TEST(JpegSplit, WithNoThreadToBeHadOneDecoderReadsTheFile) {
    const auto jpeg = progressive_of(320, 200, 2, 2);
    const Decoded one = read_planes(jpeg, 1, 1);
    ASSERT_FALSE(one.failed) << one.message;
    struct Denied {
        Denied() { bb::worker_threads_denied = true; }
        ~Denied() { bb::worker_threads_denied = false; }
    } no_threads;
    const Decoded denied = read_planes(jpeg, 1, 2);
    EXPECT_FALSE(denied.failed) << denied.message;
    EXPECT_FALSE(denied.split);
    EXPECT_FALSE(denied.ahead);
    EXPECT_EQ(denied.rows, one.rows);
    // one thread: the polls are the same every run, and each one stops it
    const int polls = bbtest::expect_every_poll_stops_it([&] {
        const Decoded d = read_planes(jpeg, 1, 2, bbtest::PollCounter::poll);
        if (d.failed)
            throw bb::Error(d.kind, d.message);
    });
    EXPECT_GT(polls, 10);
}

TEST(JpegReadAhead, PlanesAreThoseOfOneThreadForEveryKindOfFile) {
    const bb::Image rgb = bbtest::make_image(203, 131, 3), grey = bbtest::make_image(203, 131, 1);
    const bb::Image cmyk = bbtest::make_image(203, 131, 4);
    const std::vector<std::vector<uint8_t>> files = {
        bbtest::jpeg_of(rgb, JCS_YCbCr),
        bbtest::jpeg_of(rgb, JCS_RGB),
        bbtest::jpeg_of(grey, JCS_GRAYSCALE),
        bbtest::jpeg_of(cmyk, JCS_CMYK),
        bbtest::progressive_jpeg_of(rgb, 90, true), // three sequential scans
        progressive_of(203, 131, 2, 1),             // progressive, not split: read ahead
    };
    for (size_t f = 0; f < files.size(); f++)
        for (int scale : {1, 2, 4, 8}) {
            const Decoded one = read_planes(files[f], scale, 1);
            const Decoded two = read_planes(files[f], scale, 2, nullptr, UINT64_MAX);
            ASSERT_FALSE(one.failed) << one.message;
            ASSERT_FALSE(two.failed) << two.message;
            EXPECT_FALSE(one.ahead);
            EXPECT_TRUE(two.ahead) << f;
            EXPECT_FALSE(two.split);
            EXPECT_TRUE(one.rows == two.rows) << "file " << f << " at 1/" << scale;
        }
}

TEST(JpegReadAhead, AFaultComesAtTheSameRowAsOnOneThread) {
    // Changed bytes, truncations and a missing end marker in a baseline file: the same rows,
    // then the same error, or the same planes.
    const auto jpeg = bbtest::jpeg_of(bbtest::make_image(160, 120, 3), JCS_YCbCr);
    std::vector<std::vector<uint8_t>> bad_files;
    for (size_t at = 700; at + 2 < jpeg.size(); at += 131) {
        if (jpeg[at] == 0xFF || jpeg[at - 1] == 0xFF)
            continue;
        std::vector<uint8_t> bad = jpeg;
        bad[at] = 0xFF; // a marker in the middle of the data
        bad_files.push_back(bad);
        bad[at] = uint8_t(jpeg[at] ^ 0x5A);
        bad_files.push_back(bad);
        bad_files.emplace_back(jpeg.begin(), jpeg.begin() + long(at));
    }
    bad_files.emplace_back(jpeg.begin(), jpeg.end() - 2);
    int failures = 0;
    for (size_t f = 0; f < bad_files.size(); f++) {
        const Decoded one = read_planes(bad_files[f], 2, 1), two = read_planes(bad_files[f], 2, 2);
        ASSERT_TRUE(two.ahead || two.failed) << f;
        ASSERT_EQ(one.failed, two.failed) << f << ": " << one.message << " / " << two.message;
        failures += one.failed;
        EXPECT_EQ(one.message, two.message) << f;
        EXPECT_TRUE(one.rows == two.rows) << f << ": " << one.rows.size() << " rows / " << two.rows.size();
    }
    EXPECT_GT(failures, 10);
}

TEST(JpegReadAhead, InterruptedAtEveryPoll) {
    const auto jpeg = bbtest::jpeg_of(bbtest::make_image(320, 200, 3), JCS_YCbCr);
    for (int scale : {1, 4}) {
        poll_budget = 1L << 40;
        poll_calls = 0;
        const Decoded all = read_planes(jpeg, scale, 2, counting_poll);
        ASSERT_FALSE(all.failed);
        ASSERT_TRUE(all.ahead);
        const long total = poll_calls;
        ASSERT_GT(total, 10);
        for (long k = 0; k < total; k++) {
            poll_budget = k;
            const Decoded d = read_planes(jpeg, scale, 2, counting_poll);
            if (!d.failed && poll_budget >= 0)
                continue; // this run polled fewer times than the first (see counting_poll)
            ASSERT_TRUE(d.failed) << k;
            EXPECT_EQ(d.kind, bb::ErrorKind::Interrupted) << k;
        }
    }
}
