// Shared helpers of the core's unit tests: deterministic images and encoded files.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include <gtest/gtest.h>
#include <jpeglib.h>

#include "codecs.hpp"
#include "image.hpp"

namespace bbtest {

// A deterministic, photo-like image: gradients plus a hard edge plus a little texture.
inline bb::Image make_image(uint32_t width, uint32_t height, int channels, int depth = 8, int alpha = -1) {
    bb::Image img;
    img.width = width;
    img.height = height;
    img.channels = channels;
    img.depth = depth;
    img.alpha_channel = alpha;
    img.allocate();
    const uint32_t max = depth > 8 ? 65535u : 255u;
    uint32_t seed = 12345;
    for (uint32_t y = 0; y < height; y++) {
        for (uint32_t x = 0; x < width; x++) {
            for (int c = 0; c < channels; c++) {
                seed = seed * 1103515245u + 12345u;
                uint32_t v = (x * 255 / (width ? width : 1) + y * 97 / (height ? height : 1) + c * 40) % 256;
                if (x > width / 2)
                    v = 255 - v;
                v = (v + ((seed >> 16) % 21)) % 256;
                if (c == alpha)
                    v = 255 - (x * 255 / (width ? width : 1));
                const uint32_t sample = depth > 8 ? v * 257 : v;
                const size_t i = (size_t(y) * width + x) * size_t(channels) + size_t(c);
                if (depth > 8)
                    reinterpret_cast<uint16_t *>(img.pixels.data())[i] = uint16_t(sample > max ? max : sample);
                else
                    img.pixels.data()[i] = uint8_t(sample);
            }
        }
    }
    return img;
}

// An 8-bit image whose samples follow f(x, y, c).
template <class F> bb::Image image_of(uint32_t width, uint32_t height, int channels, F f) {
    bb::Image img;
    img.width = width;
    img.height = height;
    img.channels = channels;
    img.depth = 8;
    img.allocate();
    for (uint32_t y = 0; y < height; y++)
        for (uint32_t x = 0; x < width; x++)
            for (int c = 0; c < channels; c++)
                img.row(y)[size_t(x) * size_t(channels) + size_t(c)] = uint8_t(f(x, y, c));
    return img;
}

inline double sample(const bb::Image &img, uint32_t x, uint32_t y, int c) {
    const size_t i = size_t(x) * size_t(img.channels) + size_t(c);
    return img.depth > 8 ? reinterpret_cast<const uint16_t *>(img.row(y))[i] : img.row(y)[i];
}

inline std::vector<uint8_t> bytes_of(const bb::Buffer &buffer) {
    return std::vector<uint8_t>(buffer.begin(), buffer.end());
}

inline std::vector<uint8_t> png_of(const bb::Image &img) {
    return bytes_of(bb::encode_png(img, bb::PngMeta(), nullptr));
}

inline std::vector<uint8_t> jpeg_of(const bb::Image &img, int color_space, int quality = 90) {
    bb::JpegMeta meta;
    meta.color_space = color_space;
    meta.components = img.channels;
    return bytes_of(bb::encode_jpeg(img, meta, quality, nullptr));
}

// How jpeg_file writes: luma sampled h x v (chroma 1x1), or one grey component; progressive
// (libjpeg's standard scan script), or sequential in one scan per component, or baseline; a
// restart marker every `restart` MCUs.
struct JpegFileOptions {
    int quality = 90;
    int h = 2, v = 2;
    bool grey = false;
    bool rgb = false; // stored as RGB (Adobe's transform 0), not YCbCr
    bool progressive = false;
    bool one_scan_per_component = false;
    int restart = 0;
};

// A JPEG of an 8-bit RGB image written with libjpeg directly: the core's encoder writes
// single-scan baseline files of its own sampling only.
inline std::vector<uint8_t> jpeg_file(const bb::Image &img, const JpegFileOptions &o) {
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr err{};
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_compress(&cinfo);
    unsigned char *buf = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &buf, &size);
    cinfo.image_width = img.width;
    cinfo.image_height = img.height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, o.quality, TRUE);
    if (o.grey) {
        jpeg_set_colorspace(&cinfo, JCS_GRAYSCALE);
    } else if (o.rgb) {
        jpeg_set_colorspace(&cinfo, JCS_RGB);
    } else {
        cinfo.comp_info[0].h_samp_factor = o.h;
        cinfo.comp_info[0].v_samp_factor = o.v;
    }
    jpeg_scan_info scans[3] = {};
    if (o.one_scan_per_component) {
        for (int c = 0; c < 3; c++) {
            scans[c].comps_in_scan = 1;
            scans[c].component_index[0] = c;
            scans[c].Se = 63;
        }
        cinfo.scan_info = scans;
        cinfo.num_scans = 3;
    } else if (o.progressive) {
        jpeg_simple_progression(&cinfo);
    }
    cinfo.restart_interval = unsigned(o.restart);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = const_cast<JSAMPROW>(img.row(cinfo.next_scanline));
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    std::vector<uint8_t> out(buf, buf + size);
    std::free(buf);
    return out;
}

// A progressive JPEG of an 8-bit RGB image, or with one_scan_per_component a sequential file in
// three scans. libjpeg reads either kind whole into coefficients before its first row.
inline std::vector<uint8_t> progressive_jpeg_of(const bb::Image &img, int quality = 90,
                                                bool one_scan_per_component = false, int luma_h = 2, int luma_v = 2) {
    JpegFileOptions o;
    o.quality = quality;
    o.h = luma_h;
    o.v = luma_v;
    o.progressive = !one_scan_per_component;
    o.one_scan_per_component = one_scan_per_component;
    return jpeg_file(img, o);
}

// The pixels stock libjpeg decodes from a JPEG, with its own memory manager and its defaults
// (fancy upsampling, as viewers decode), in the file's colour space as decode_jpeg does, or
// in out_color_space when one is given (JCS_RGB: what a viewer shows).
inline std::vector<uint8_t> libjpeg_pixels(const std::vector<uint8_t> &jpeg, int out_color_space = -1) {
    jpeg_decompress_struct cinfo{};
    jpeg_error_mgr err{};
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, jpeg.data(), jpeg.size());
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = out_color_space < 0 ? cinfo.jpeg_color_space : J_COLOR_SPACE(out_color_space);
    jpeg_start_decompress(&cinfo);
    const size_t row_bytes = size_t(cinfo.output_width) * size_t(cinfo.output_components);
    std::vector<uint8_t> pixels(row_bytes * cinfo.output_height);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels.data() + row_bytes * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return pixels;
}

// PSNR of two images of the same layout, on their own scale (255 or 65535); 99 when equal.
inline double psnr(const bb::Image &a, const bb::Image &b) {
    double sum = 0;
    size_t n = 0;
    for (uint32_t y = 0; y < a.height; y++)
        for (uint32_t x = 0; x < a.width; x++)
            for (int c = 0; c < a.channels; c++, n++) {
                const double d = sample(a, x, y, c) - sample(b, x, y, c);
                sum += d * d;
            }
    const double max = a.depth > 8 ? 65535.0 : 255.0;
    return sum == 0 ? 99.0 : 10 * std::log10(max * max / (sum / double(n)));
}

// The mean of each channel.
inline std::vector<double> channel_means(const bb::Image &img) {
    std::vector<double> sum(size_t(img.channels), 0.0);
    for (uint32_t y = 0; y < img.height; y++)
        for (uint32_t x = 0; x < img.width; x++)
            for (int c = 0; c < img.channels; c++)
                sum[size_t(c)] += sample(img, x, y, c);
    for (double &s : sum)
        s /= double(img.width) * img.height;
    return sum;
}

// A poll that counts its calls and says stop at the stop_at-th (never when 0), for tests of how
// often a loop checks for a cancel and that it stops where told. For one thread.
// The kind of bb::Error that f() throws, or nullopt when it returns.
template <typename F> std::optional<bb::ErrorKind> kind_of_thrown(F f) {
    try {
        f();
    } catch (const bb::Error &e) {
        return e.kind();
    }
    return std::nullopt;
}

struct PollCounter {
    static inline int calls = 0, stop_at = 0;
    static bool poll() { return ++calls == stop_at; }
    static void reset(int stop = 0) {
        calls = 0;
        stop_at = stop;
    }
};

// Runs run() with PollCounter counting its polls, then once for each poll with a stop there:
// every such run must end in Error(Interrupted), or, unless every_run_stops, have asked fewer
// times. Returns how many polls the whole run made, and leaves the counter with no stop set.
template <typename Run> int stop_at_every_poll(Run run, bool every_run_stops) {
    PollCounter::reset();
    run();
    const int polls = PollCounter::calls;
    for (int stop = 1; stop <= polls; stop++) {
        PollCounter::reset(stop);
        const std::optional<bb::ErrorKind> kind = kind_of_thrown(run);
        if (kind || every_run_stops)
            EXPECT_EQ(kind, bb::ErrorKind::Interrupted) << "stopped at poll " << stop << " of " << polls;
        else
            EXPECT_LT(PollCounter::calls, stop) << "the poll said stop, and the work went on";
    }
    PollCounter::reset();
    return polls;
}

// The count can vary from run to run where a waiting caller polls on a timer
// (run_abandonable), so a run may ask fewer times than the first did; a stop left set would
// then end the next user's run.
template <typename Run> int expect_stops_at_every_poll(Run run) {
    return stop_at_every_poll(run, false);
}

// A run on one thread, whose polls are the same every time: every stop must end it.
template <typename Run> int expect_every_poll_stops_it(Run run) {
    return stop_at_every_poll(run, true);
}

// The kind of bb::Error that f() throws; a test failure when it throws none.
template <typename F> bb::ErrorKind kind_of(F f) {
    try {
        f();
    } catch (const bb::Error &e) {
        return e.kind();
    }
    ADD_FAILURE() << "no error";
    return bb::ErrorKind::InvalidData;
}

// A poll that says stop from a moment on, and how late a run that it stops ends after that
// moment: the least of up to three tries, stopping at the first under 50 ms (the promise). On a
// loaded machine (CI runs two releases side by side on two CPUs, the unit tests under ASan) one
// try can wait for a CPU past 50 ms; a cancel that waited for the work's next natural step would
// be hundreds of ms late every time. run() must start the work and see it stopped.
struct DeadlinePoll {
    static inline std::chrono::steady_clock::time_point at;
    static bool poll() { return std::chrono::steady_clock::now() >= at; }
};
template <typename Run> std::chrono::steady_clock::duration least_cancel_delay(Run run) {
    auto least = std::chrono::steady_clock::duration::max();
    for (int attempt = 0; attempt < 3 && least >= std::chrono::milliseconds(50); attempt++) {
        DeadlinePoll::at = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
        run();
        least = std::min(least, std::chrono::steady_clock::now() - DeadlinePoll::at);
    }
    return least;
}

} // namespace bbtest
