// With no thread to be had (a backend out of them: worker_threads_denied, worker_thread.hpp),
// every place that asks for one does the work on the calling thread: a JPEG's rows read ahead
// (jpeg_read_ahead) and a progressive file's scans split (jpeg_split_reader), a PNG's blur
// beside its unfiltering (run_pipelined) and its compression in pairs (run_beside), libwebp's
// and libavif's calls (run_abandonable). Each writes the bytes it writes with the thread, and,
// its polls then being the same every run, stops at every one of them.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include <avif/avif.h>

#include "codecs.hpp"
#include "helpers.hpp"
#include "pipeline.hpp"
#include "worker_thread.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

struct NoThreads {
    NoThreads() { bb::worker_threads_denied = true; }
    ~NoThreads() { bb::worker_threads_denied = false; }
    NoThreads(const NoThreads &) = delete;
    NoThreads &operator=(const NoThreads &) = delete;
};

Bytes blurred(const Bytes &file, int threads, bb::InterruptPoll poll = nullptr) {
    bb::BlurOptions options;
    options.sigma = 5.0;
    options.threads = threads;
    options.poll = poll;
    return bbtest::bytes_of(bb::blur_image(file.data(), file.size(), options));
}

struct Input {
    std::string name;
    Bytes file;
};

// Files that take each of the second thread's ways at bytea_blur.threads 2: a JPEG of 2 MP
// and more (DecodeOptions::read_ahead_pixels), a progressive one worth a split, a PNG of a
// megabyte of scanlines (kParallelDeflateBytes), lossy and lossless WebP, AVIF.
std::vector<Input> inputs(bool large) {
    const uint32_t w = large ? 1700 : 160, h = large ? 1250 : 120;
    const bb::Image rgb = bbtest::make_image(w, h, 3);
    bb::WebpMeta lossless;
    lossless.lossless = true;
    bb::AvifMeta avif;
    avif.depth = 8;
    avif.yuv_format = AVIF_PIXEL_FORMAT_YUV420;
    std::vector<Input> out = {
        {"baseline JPEG", bbtest::jpeg_of(rgb, JCS_YCbCr)},
        {"progressive JPEG", bbtest::progressive_jpeg_of(rgb, 90, false, 2, 2)},
        {"PNG", bbtest::png_of(bbtest::make_image(large ? 700 : 160, large ? 520 : 120, 3))},
        {"lossy WebP", bbtest::bytes_of(bb::encode_webp(rgb, bb::WebpMeta(), 80, nullptr))},
        {"lossless WebP", bbtest::bytes_of(bb::encode_webp(bbtest::make_image(96, 64, 3), lossless, 80, nullptr))},
        {"AVIF", bbtest::bytes_of(bb::encode_avif(bbtest::make_image(64, 48, 3), avif, 60, 1, nullptr))},
    };
    return out;
}

} // namespace

// The same bytes as with the second thread (a PNG's compression in pairs makes other bytes
// than one thread's, the same pixels).
TEST(NoThreadToBeHad, EveryFormatWritesTheBytesOfTwoThreads) {
    for (const Input &in : inputs(true)) {
        const Bytes two = blurred(in.file, 2);
        NoThreads none;
        EXPECT_TRUE(blurred(in.file, 2) == two) << in.name;
    }
}

TEST(NoThreadToBeHad, EveryPollStopsIt) {
    for (const Input &in : inputs(false)) {
        NoThreads none;
        const int polls = bbtest::expect_every_poll_stops_it([&] { blurred(in.file, 2, bbtest::PollCounter::poll); });
        EXPECT_GE(polls, 3) << in.name;
    }
}

// The JPEG reader itself, with the sizes from which it would use the second thread lowered to
// nothing: rows read ahead, or scans split, but for the want of a thread.
TEST(NoThreadToBeHad, TheJpegReaderReadsAlone) {
    const bb::Image rgb = bbtest::make_image(320, 200, 3);
    for (const Bytes &file : {bbtest::jpeg_of(rgb, JCS_YCbCr), bbtest::progressive_jpeg_of(rgb, 90, false, 2, 2)}) {
        bb::DecodeOptions options;
        options.threads = 2;
        options.split_min_cost = 0;
        options.read_ahead_pixels = 0;
        const auto read = [&] {
            bb::JpegMeta meta;
            bb::JpegPlaneReader reader(file.data(), file.size(), options, 4, &meta);
            EXPECT_FALSE(reader.split());
            EXPECT_FALSE(reader.read_ahead());
            size_t rows = 0;
            while (reader.next())
                rows += reader.row_count(0);
            return rows;
        };
        NoThreads none;
        EXPECT_EQ(read(), 50u);
        options.poll = bbtest::PollCounter::poll;
        EXPECT_GE(bbtest::expect_every_poll_stops_it(read), 3);
    }
}

// The thread helpers' own ways without a worker.
TEST(NoThreadToBeHad, TheHelpersRunTheWorkHere) {
    NoThreads none;
    std::vector<std::string> order;
    bb::run_beside([&] { order.push_back("beside"); }, [&] { order.push_back("here"); }, nullptr);
    EXPECT_EQ(order, (std::vector<std::string>{"beside", "here"}));
    // produce first, to the end, then consume
    bb::RowGate gate;
    order.clear();
    const bool produced = bb::run_pipelined(
        gate,
        [&] {
            EXPECT_TRUE(gate.wait_for(10));
            order.push_back("consume");
        },
        [&] {
            order.push_back("produce");
            gate.publish(10);
            return true;
        },
        nullptr);
    EXPECT_TRUE(produced);
    EXPECT_EQ(order, (std::vector<std::string>{"produce", "consume"}));
    const std::thread::id caller = std::this_thread::get_id();
    bool here = false;
    bb::run_abandonable([&here, caller] { here = bb::on_caller_thread(caller); }, nullptr);
    EXPECT_TRUE(here);
}
