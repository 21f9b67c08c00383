// Redaction (regions.hpp, jpeg_regions.cpp): boxes checked and mapped from displayed to stored
// pixels under every EXIF orientation; groups that never share a window; decoded pixels blurred
// inside the boxes exactly as the whole image's blur and untouched outside; a JPEG's blocks that
// no box touches keeping their coefficients bit for bit at every chroma sampling, progressive
// and with restart markers, its pixels outside the boxes grown to the block grid identical on
// decode, inside them close to the whole image's blur; cancels and corrupt files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

#include "codecs.hpp"
#include "convert.hpp"
#include "gaussian.hpp"
#include "helpers.hpp"
#include "pipeline.hpp"
#include "regions.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

using bbtest::kind_of;

Bytes redact(const Bytes &file, const std::vector<bb::Box> &boxes, double sigma = 5.0,
             bb::InterruptPoll poll = nullptr) {
    bb::BlurOptions options;
    options.sigma = sigma;
    options.poll = poll;
    return bbtest::bytes_of(bb::blur_regions(file.data(), file.size(), boxes, options));
}

// A JPEG written by libjpeg (helpers.hpp): luma sampled h x v, or grey; progressive or with a
// restart marker every `restart` MCUs when asked.
Bytes sampled_jpeg(const bb::Image &img, int h, int v, bool grey = false, bool progressive = false, int restart = 0,
                   int quality = 85) {
    bbtest::JpegFileOptions o;
    o.quality = quality;
    o.h = h;
    o.v = v;
    o.grey = grey;
    o.progressive = progressive;
    o.restart = restart;
    return bbtest::jpeg_file(img, o);
}

// Every block's quantised coefficients, per component, as stock libjpeg reads them; and the
// sampling factors and quantisation tables.
struct Coefficients {
    int components = 0, max_h = 1, max_v = 1;
    int h[4] = {}, v[4] = {};
    uint32_t blocks_w[4] = {}, blocks_h[4] = {};
    std::vector<JCOEF> blocks[4]; // row by row, 64 a block
    std::vector<UINT16> quant[4];
    bool progressive = false;
    unsigned restart = 0;
};
Coefficients coefficients_of(const Bytes &jpeg) {
    jpeg_decompress_struct cinfo{};
    jpeg_error_mgr err{};
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, jpeg.data(), jpeg.size());
    jpeg_read_header(&cinfo, TRUE);
    jvirt_barray_ptr *arrays = jpeg_read_coefficients(&cinfo);
    Coefficients out;
    out.components = cinfo.num_components;
    out.max_h = cinfo.max_h_samp_factor;
    out.max_v = cinfo.max_v_samp_factor;
    out.progressive = cinfo.progressive_mode;
    out.restart = cinfo.restart_interval;
    for (int c = 0; c < cinfo.num_components; c++) {
        jpeg_component_info &comp = cinfo.comp_info[c];
        out.h[c] = comp.h_samp_factor;
        out.v[c] = comp.v_samp_factor;
        out.blocks_w[c] = comp.width_in_blocks;
        out.blocks_h[c] = comp.height_in_blocks;
        out.quant[c].assign(comp.quant_table->quantval, comp.quant_table->quantval + DCTSIZE2);
        for (JDIMENSION by = 0; by < comp.height_in_blocks; by++) {
            JBLOCKARRAY row =
                (*cinfo.mem->access_virt_barray)(reinterpret_cast<j_common_ptr>(&cinfo), arrays[c], by, 1, FALSE);
            for (JDIMENSION bx = 0; bx < comp.width_in_blocks; bx++)
                out.blocks[c].insert(out.blocks[c].end(), row[0][bx], row[0][bx] + DCTSIZE2);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return out;
}

// The decoded pixels (stock libjpeg, RGB, its default fancy upsampling, as browsers use) and
// the image's width.
std::vector<uint8_t> rgb_pixels(const Bytes &jpeg, uint32_t *width, uint32_t *height) {
    bb::DecodeOptions options;
    options.jpeg_to_rgb = true;
    bb::JpegMeta meta;
    bb::Image img = bb::decode_jpeg(jpeg.data(), jpeg.size(), options, &meta);
    *width = img.width;
    *height = img.height;
    return std::vector<uint8_t>(img.pixels.begin(), img.pixels.end());
}

TEST(Regions, BadBoxesAreRefused) {
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    for (const bb::Box &b :
         {bb::Box{nan, 0, 1, 1}, bb::Box{0, 0, inf, 1}, bb::Box{0, -inf, 1, 1}, bb::Box{0, 0, 1, 2e9}}) {
        EXPECT_EQ(kind_of([&] { bb::check_boxes({b}); }), bb::ErrorKind::InvalidParameter);
    }
    EXPECT_NO_THROW(bb::check_boxes(std::vector<bb::Box>(bb::kMaxRegions, bb::Box{-1e9, 0, 1e9, 1})));
    EXPECT_EQ(kind_of([] { bb::check_boxes(std::vector<bb::Box>(bb::kMaxRegions + 1)); }), bb::ErrorKind::TooLarge);
    // and through the whole job, before any pixel is decoded
    const Bytes png = bbtest::png_of(bbtest::make_image(16, 16, 3));
    EXPECT_EQ(kind_of([&] { redact(png, {bb::Box{nan, 0, 1, 1}}); }), bb::ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of([&] { redact(png, {bb::Box{0, 0, 4, 4}}, -1.0); }), bb::ErrorKind::InvalidParameter);
}

TEST(Regions, APixelIsInsideWhenItsCentreIs) {
    auto one = [](bb::Box b) {
        const std::vector<bb::Rect> r = bb::stored_rects({b}, 10, 8, 1);
        return r.empty() ? bb::Rect{} : r[0];
    };
    bb::Rect r = one({0.4, 0, 1.6, 1}); // centres 0.5 and 1.5 inside
    EXPECT_EQ(r.x0, 0u);
    EXPECT_EQ(r.x1, 2u);
    r = one({1.6, 1, 0.6, 0}); // corners in any order; 0.5 is outside now
    EXPECT_EQ(r.x0, 1u);
    EXPECT_EQ(r.x1, 2u);
    r = one({-1e6, -5, 1e6, 1e6}); // clipped to the image
    EXPECT_EQ(r.x0, 0u);
    EXPECT_EQ(r.y0, 0u);
    EXPECT_EQ(r.x1, 10u);
    EXPECT_EQ(r.y1, 8u);
    EXPECT_TRUE(bb::stored_rects({bb::Box{3, 3, 3, 6}}, 10, 8, 1).empty());   // no width
    EXPECT_TRUE(bb::stored_rects({bb::Box{20, 0, 30, 8}}, 10, 8, 1).empty()); // outside
}

// A box drawn on the displayed image covers the stored pixels that show inside it.
TEST(Regions, BoxesFollowEveryOrientation) {
    bb::Image stored = bbtest::make_image(7, 5, 1);
    for (uint32_t i = 0; i < 35; i++)
        stored.pixels.data()[i] = uint8_t(i); // every pixel its own value
    for (int orientation = 1; orientation <= 8; orientation++) {
        bb::Image shown = bbtest::make_image(7, 5, 1);
        std::copy(stored.pixels.begin(), stored.pixels.end(), shown.pixels.data());
        bb::apply_orientation(shown, orientation, nullptr);
        const bb::Box box{1, 2, 3, 4}; // displayed columns 1-2, rows 2-3
        std::multiset<int> want, got;
        for (uint32_t y = 2; y < 4; y++)
            for (uint32_t x = 1; x < 3; x++)
                want.insert(shown.row(y)[x]);
        const std::vector<bb::Rect> rects = bb::stored_rects({box}, 7, 5, orientation);
        ASSERT_EQ(rects.size(), 1u);
        for (uint32_t y = rects[0].y0; y < rects[0].y1; y++)
            for (uint32_t x = rects[0].x0; x < rects[0].x1; x++)
                got.insert(stored.row(y)[x]);
        EXPECT_EQ(got, want) << "orientation " << orientation;
    }
}

// A box drawn on the part of the picture a viewer is shown (an AVIF's clean aperture), turned,
// covers the stored pixels of that part that show inside it, and never one outside it.
TEST(Regions, BoxesOnAShownPartStayInIt) {
    bb::Image stored = bbtest::make_image(9, 8, 1);
    for (uint32_t i = 0; i < 72; i++)
        stored.pixels.data()[i] = uint8_t(i);
    const bb::Rect part{1, 2, 8, 7}; // 7 x 5 from (1, 2)
    for (int orientation = 1; orientation <= 8; orientation++) {
        bb::Image shown = bbtest::make_image(7, 5, 1);
        for (uint32_t y = 0; y < 5; y++)
            for (uint32_t x = 0; x < 7; x++)
                shown.row(y)[x] = stored.row(y + part.y0)[x + part.x0];
        bb::apply_orientation(shown, orientation, nullptr);
        const bb::Box box{1, 2, 3, 4};
        std::multiset<int> want, got;
        for (uint32_t y = 2; y < 4; y++)
            for (uint32_t x = 1; x < 3; x++)
                want.insert(shown.row(y)[x]);
        const std::vector<bb::Rect> rects = bb::stored_rects({box}, part, orientation);
        ASSERT_EQ(rects.size(), 1u);
        for (uint32_t y = rects[0].y0; y < rects[0].y1; y++)
            for (uint32_t x = rects[0].x0; x < rects[0].x1; x++)
                got.insert(stored.row(y)[x]);
        EXPECT_EQ(got, want) << "orientation " << orientation;
        // a box over the whole displayed picture and beyond: the part, no more
        const std::vector<bb::Rect> all = bb::stored_rects({bb::Box{-50, -50, 50, 50}}, part, orientation);
        ASSERT_EQ(all.size(), 1u);
        EXPECT_EQ(all[0].x0, part.x0);
        EXPECT_EQ(all[0].y0, part.y0);
        EXPECT_EQ(all[0].x1, part.x1);
        EXPECT_EQ(all[0].y1, part.y1);
    }
}

TEST(Regions, GroupsNeverShareAWindow) {
    uint32_t seed = 7;
    auto next = [&](uint32_t n) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 8) % n;
    };
    for (int trial = 0; trial < 50; trial++) {
        std::vector<bb::Rect> rects;
        for (int i = 0; i < 12; i++) {
            const uint32_t x = next(300), y = next(200);
            rects.push_back(bb::Rect{x, y, x + 1 + next(40), y + 1 + next(30)});
        }
        const uint32_t align = trial % 2 ? 8 : 1;
        const std::vector<bb::RectGroup> groups = bb::group_rects(rects, 9, 5, 320, 220, align);
        size_t count = 0;
        for (size_t i = 0; i < groups.size(); i++) {
            count += groups[i].rects.size();
            for (const bb::Rect &r : groups[i].rects) { // the rect and its reach lie in the window
                EXPECT_LE(groups[i].window.x0, r.x0 > 9 ? r.x0 - 9 : 0);
                EXPECT_GE(groups[i].window.x1, std::min(r.x1 + 9, 320u));
                EXPECT_LE(groups[i].window.y0, r.y0 > 5 ? r.y0 - 5 : 0);
                EXPECT_GE(groups[i].window.y1, std::min(r.y1 + 5, 220u));
            }
            for (size_t j = i + 1; j < groups.size(); j++) {
                const bb::Rect &a = groups[i].window, &b = groups[j].window;
                auto lo = [&](uint32_t v) { return v / align * align; };
                auto hi = [&](uint32_t v) { return (v + align - 1) / align * align; };
                const bool meet =
                    lo(a.x0) < hi(b.x1) && lo(b.x0) < hi(a.x1) && lo(a.y0) < hi(b.y1) && lo(b.y0) < hi(a.y1);
                EXPECT_FALSE(meet) << "trial " << trial;
            }
        }
        EXPECT_EQ(count, rects.size());
    }
}

// Decoded pixels: inside the rects the whole image's blur, outside the pixels as they were.
TEST(Regions, PixelsInsideAreTheWholeBlurOutsideUntouched) {
    struct Case {
        int channels, depth, alpha;
        double sigma;
    };
    for (const Case &k : {Case{3, 8, -1, 5.0}, Case{4, 8, 3, 3.0}, Case{1, 16, -1, 9.0}, Case{2, 8, 1, 0.7}}) {
        const bb::Image original = bbtest::make_image(90, 70, k.channels, k.depth, k.alpha);
        bb::Image whole = bbtest::make_image(90, 70, k.channels, k.depth, k.alpha);
        bb::gaussian_blur(whole, k.sigma, nullptr);
        bb::Image part = bbtest::make_image(90, 70, k.channels, k.depth, k.alpha);
        // two that overlap, one on the border, one far away
        const std::vector<bb::Rect> rects = {{10, 10, 30, 25}, {25, 20, 40, 40}, {0, 60, 90, 70}, {70, 5, 80, 9}};
        bb::blur_rects(part, rects, k.sigma, nullptr);
        int inside = 0;
        for (uint32_t y = 0; y < 70; y++)
            for (uint32_t x = 0; x < 90; x++) {
                const bool in = std::any_of(rects.begin(), rects.end(), [&](const bb::Rect &r) {
                    return x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;
                });
                inside += in;
                for (int c = 0; c < k.channels; c++) {
                    const double want = bbtest::sample(in ? whole : original, x, y, c);
                    ASSERT_NEAR(bbtest::sample(part, x, y, c), want, in ? 1.0 : 0.0)
                        << "channels " << k.channels << " at " << x << "," << y;
                }
            }
        EXPECT_GT(inside, 1000);
    }
}

// Rects on a shown part (an AVIF's clean aperture): blurred as if that part were the whole
// image, so nothing outside it bleeds in, and every pixel outside the rects left as it was.
TEST(Regions, RectsOnAShownPartReadNothingOutsideIt) {
    const bb::Rect shown{12, 9, 70, 55};
    const uint32_t w = shown.x1 - shown.x0, h = shown.y1 - shown.y0;
    for (const int channels : {3, 4}) {
        const int alpha = channels == 4 ? 3 : -1;
        const auto inside = [&](uint32_t x, uint32_t y) {
            return x >= shown.x0 && x < shown.x1 && y >= shown.y0 && y < shown.y1;
        };
        // a picture inside a padding of magenta, and the picture alone
        const auto framed = [&] {
            bb::Image image = bbtest::make_image(90, 70, channels, 8, alpha);
            for (uint32_t y = 0; y < image.height; y++)
                for (uint32_t x = 0; x < image.width; x++)
                    for (int c = 0; c < channels && !inside(x, y); c++)
                        image.row(y)[x * uint32_t(channels) + uint32_t(c)] = c == 1 ? 0 : 255;
            return image;
        };
        const auto alone = [&] {
            const bb::Image whole = framed();
            bb::Image part = bbtest::make_image(w, h, channels, 8, alpha);
            for (uint32_t y = 0; y < h; y++)
                std::memcpy(part.row(y), whole.row(y + shown.y0) + shown.x0 * uint32_t(channels), part.row_bytes());
            return part;
        };
        // at each edge of the part, one inside it; then one over all of it
        const std::vector<std::vector<bb::Rect>> cases = {
            {{12, 20, 30, 40}, {50, 9, 70, 30}, {30, 40, 60, 55}, {20, 25, 40, 35}}, {shown}};
        for (const std::vector<bb::Rect> &on_part : cases) {
            std::vector<bb::Rect> on_alone;
            for (const bb::Rect &r : on_part)
                on_alone.push_back(bb::Rect{r.x0 - shown.x0, r.y0 - shown.y0, r.x1 - shown.x0, r.y1 - shown.y0});
            bb::Image got = framed(), want = alone();
            const bb::Image original = framed();
            bb::blur_rects(got, on_part, shown, 5.0, nullptr);
            bb::blur_rects(want, on_alone, 5.0, nullptr);
            for (uint32_t y = 0; y < got.height; y++)
                for (uint32_t x = 0; x < got.width; x++)
                    for (int c = 0; c < channels; c++)
                        ASSERT_EQ(bbtest::sample(got, x, y, c),
                                  inside(x, y) ? bbtest::sample(want, x - shown.x0, y - shown.y0, c)
                                               : bbtest::sample(original, x, y, c))
                            << channels << " channels, " << on_part.size() << " rects, at " << x << "," << y;
        }
        // the part's whole blur, as gaussian_blur blurs the picture alone
        bb::Image got = framed(), want = alone();
        bb::blur_rects(got, {shown}, shown, 5.0, nullptr);
        bb::gaussian_blur(want, 5.0, nullptr);
        for (uint32_t y = 0; y < h; y++)
            EXPECT_EQ(std::memcmp(got.row(y + shown.y0) + shown.x0 * uint32_t(channels), want.row(y), want.row_bytes()),
                      0)
                << "row " << y;
        EXPECT_THROW(bb::blur_rects(got, {bb::Rect{5, 20, 30, 40}}, shown, 5.0, nullptr), std::logic_error);
    }
}

// An image of no pixels, or nothing of it shown: no rect to blur, no error, nothing changed.
TEST(Regions, NothingShownBlursNothing) {
    bb::Image none = bbtest::make_image(0, 0, 3);
    EXPECT_NO_THROW(bb::blur_rects(none, {}, 5.0, nullptr));
    EXPECT_NO_THROW(bb::blur_rects(none, {bb::Rect{0, 0, 0, 0}}, 5.0, nullptr));
    EXPECT_THROW(bb::blur_rects(none, {bb::Rect{0, 0, 1, 1}}, 5.0, nullptr), std::logic_error);
    const bb::Image original = bbtest::make_image(20, 10, 3);
    bb::Image image = bbtest::make_image(20, 10, 3);
    EXPECT_NO_THROW(bb::blur_rects(image, {bb::Rect{4, 4, 4, 8}}, bb::Rect{4, 4, 4, 8}, 5.0, nullptr));
    for (uint32_t y = 0; y < image.height; y++)
        EXPECT_EQ(std::memcmp(image.row(y), original.row(y), image.row_bytes()), 0) << "row " << y;
    EXPECT_THROW(bb::blur_rects(image, {bb::Rect{4, 4, 5, 8}}, bb::Rect{4, 4, 4, 8}, 5.0, nullptr), std::logic_error);
}

// A JPEG at every chroma sampling, progressive and with restart markers: the blocks no box
// touches keep their coefficients; the tables, sampling, scan mode and restart interval stay.
TEST(Regions, JpegBlocksNoBoxTouchesKeepTheirCoefficients) {
    const bb::Image img = bbtest::make_image(150, 110, 3);
    struct Case {
        const char *name;
        int h, v;
        bool grey, progressive;
        int restart;
    };
    const Case cases[] = {{"4:4:4", 1, 1, false, false, 0},        {"4:2:2", 2, 1, false, false, 0},
                          {"4:2:0", 2, 2, false, false, 0},        {"4:4:0", 1, 2, false, false, 0},
                          {"grey", 1, 1, true, false, 0},          {"progressive 4:2:0", 2, 2, false, true, 0},
                          {"restart 4:2:0", 2, 2, false, false, 3}};
    const bb::Box box{37, 29, 83, 61};
    for (const Case &k : cases) {
        const Bytes in = sampled_jpeg(img, k.h, k.v, k.grey, k.progressive, k.restart);
        const Bytes out = redact(in, {box});
        const Coefficients a = coefficients_of(in), b = coefficients_of(out);
        ASSERT_EQ(a.components, b.components) << k.name;
        EXPECT_EQ(b.progressive, k.progressive) << k.name;
        EXPECT_EQ(b.restart, unsigned(k.restart)) << k.name;
        size_t changed = 0, touched = 0;
        for (int c = 0; c < a.components; c++) {
            ASSERT_EQ(a.h[c], b.h[c]);
            ASSERT_EQ(a.v[c], b.v[c]);
            ASSERT_EQ(a.quant[c], b.quant[c]) << k.name;
            ASSERT_EQ(a.blocks[c].size(), b.blocks[c].size());
            const int fx = a.max_h / a.h[c], fy = a.max_v / a.v[c];
            // the plane's samples the box's pixels are upsampled from, and the blocks holding them
            const auto first = [](int p, int f) { return uint32_t(std::max(0, (p - f / 2) / f)); };
            const auto end = [](int p, int f) { return uint32_t((p - 1 + f / 2) / f + 1); };
            const uint32_t sx0 = first(37, fx), sx1 = end(83, fx);
            const uint32_t sy0 = first(29, fy), sy1 = end(61, fy);
            for (uint32_t by = 0; by < a.blocks_h[c]; by++)
                for (uint32_t bx = 0; bx < a.blocks_w[c]; bx++) {
                    const bool hit = bx * 8 < sx1 && sx0 < bx * 8 + 8 && by * 8 < sy1 && sy0 < by * 8 + 8;
                    const size_t at = (size_t(by) * a.blocks_w[c] + bx) * DCTSIZE2;
                    const bool same = std::equal(a.blocks[c].begin() + long(at), a.blocks[c].begin() + long(at) + 64,
                                                 b.blocks[c].begin() + long(at));
                    touched += hit;
                    changed += !same;
                    if (!hit) {
                        ASSERT_TRUE(same) << k.name << ": component " << c << " block " << bx << "," << by;
                    }
                }
        }
        EXPECT_GT(changed, touched / 2) << k.name; // the blur changed most of the blocks it touched
        // a second redaction elsewhere leaves the first one's blocks as they are
        const Bytes again = redact(out, {bb::Box{0, 0, 16, 16}});
        const Coefficients c2 = coefficients_of(again);
        size_t differ = 0;
        for (int c = 0; c < a.components; c++)
            for (size_t i = size_t(DCTSIZE2) * 2 * a.blocks_w[c]; i < b.blocks[c].size(); i++)
                differ += b.blocks[c][i] != c2.blocks[c][i];
        EXPECT_EQ(differ, 0u) << k.name << ": below the second box's block rows";
    }
}

// The coded data of a one-scan JPEG: from the end of its SOS segment to its EOI.
Bytes scan_data(const Bytes &jpeg) {
    for (size_t p = 2; p + 4 <= jpeg.size();) {
        const size_t length = size_t(jpeg[p + 2] << 8 | jpeg[p + 3]) + 2;
        if (jpeg[p + 1] == 0xDA)
            return Bytes(jpeg.begin() + long(p + length), jpeg.end() - 2);
        p += length;
    }
    return {};
}

// A baseline file is not rewritten: its coded data is copied before and after the MCU rows
// that change (jpeg_splice.cpp), as it was.
TEST(Regions, BaselineCodedDataIsCopiedAroundTheBox) {
    const bb::Image img = bbtest::make_image(160, 320, 3);
    for (const int restart : {0, 2}) {
        const Bytes in = sampled_jpeg(img, 2, 2, false, false, restart);
        const Bytes a = scan_data(in);
        ASSERT_GT(a.size(), 1000u);
        // no box: the coded data as it was, byte for byte
        EXPECT_EQ(scan_data(redact(in, {})), a) << restart;
        // a box in the middle: the rows above it copied; with restart markers, the rows below too
        const Bytes b = scan_data(redact(in, {bb::Box{40, 150, 100, 170}}));
        size_t same_start = 0, same_end = 0;
        while (same_start < std::min(a.size(), b.size()) && a[same_start] == b[same_start])
            same_start++;
        while (same_end < std::min(a.size(), b.size()) && a[a.size() - 1 - same_end] == b[b.size() - 1 - same_end])
            same_end++;
        EXPECT_GT(same_start, a.size() * 4 / 10) << restart;
        // after them too: from the next restart marker, or (without markers) with the changed
        // rows made as many bits longer as keeps the rest where it was in its bytes
        EXPECT_GT(same_end, a.size() * 4 / 10) << restart;
        EXPECT_NE(a, b);
    }
}

// Boxes at the top, the bottom, the corners and over everything, on a baseline file without
// and with restart markers and a grey one: every block outside them as it was, every file
// readable by stock libjpeg (the splice's bit copies and its ZRL padding included).
TEST(Regions, BaselineSpliceAnywhere) {
    const bb::Image img = bbtest::make_image(200, 136, 3);
    const std::vector<bb::Box> boxes = {{0, 0, 30, 20},   {150, 110, 200, 136}, {0, 120, 200, 136},
                                        {90, 60, 91, 61}, {-5, -5, 500, 500},   {10, 10, 190, 20}};
    for (const Bytes &in : {sampled_jpeg(img, 2, 2), sampled_jpeg(img, 2, 2, false, false, 1),
                            sampled_jpeg(img, 1, 1, true), sampled_jpeg(img, 2, 1, false, false, 5)}) {
        const Coefficients a = coefficients_of(in);
        for (const bb::Box &box : boxes) {
            const Coefficients b = coefficients_of(redact(in, {box}));
            for (int c = 0; c < a.components; c++) {
                const int fx = a.max_h / a.h[c], fy = a.max_v / a.v[c];
                const auto clampi = [](double v, double hi) { return int(std::clamp(v, 0.0, hi)); };
                const int x0 = clampi(box.x1, 200), x1 = clampi(box.x2, 200), y0 = clampi(box.y1, 136),
                          y1 = clampi(box.y2, 136);
                const uint32_t sx0 = uint32_t(std::max(0, (x0 - fx / 2) / fx)),
                               sx1 = uint32_t((x1 - 1 + fx / 2) / fx + 1);
                const uint32_t sy0 = uint32_t(std::max(0, (y0 - fy / 2) / fy)),
                               sy1 = uint32_t((y1 - 1 + fy / 2) / fy + 1);
                for (uint32_t by = 0; by < a.blocks_h[c]; by++)
                    for (uint32_t bx = 0; bx < a.blocks_w[c]; bx++) {
                        const bool hit = bx * 8 < sx1 && sx0 < bx * 8 + 8 && by * 8 < sy1 && sy0 < by * 8 + 8;
                        const size_t at = (size_t(by) * a.blocks_w[c] + bx) * DCTSIZE2;
                        if (!hit) {
                            ASSERT_TRUE(std::equal(a.blocks[c].begin() + long(at), a.blocks[c].begin() + long(at) + 64,
                                                   b.blocks[c].begin() + long(at)))
                                << "box " << box.x1 << "," << box.y1 << " component " << c << " block " << bx << ","
                                << by;
                        }
                    }
            }
        }
    }
}

// Decoded as a browser decodes (fancy upsampling), every pixel outside the box is the input's
// unless it is within the box grown, along a subsampled axis, by one pixel, then out to the MCU
// grid, then by one more pixel (the upsampling's reach on either side); inside the box the
// pixels are close to the whole image's blur of the decoded input in the file's colour space
// (YCbCr, where bytea_blur blurs a JPEG: in RGB the two differ where conversion clips).
TEST(Regions, JpegPixelsOutsideTheGrownBoxAreIdentical) {
    const bb::Image img = bbtest::make_image(150, 110, 3);
    const bb::Box box{37, 29, 83, 61};
    for (const int hv : {11, 21, 22, 12}) {
        const int h = hv / 10, v = hv % 10;
        const Bytes in = sampled_jpeg(img, h, v);
        const Bytes out = redact(in, {box});
        uint32_t w, ht, w2, h2;
        ASSERT_EQ(rgb_pixels(in, &w, &ht).size(), rgb_pixels(out, &w2, &h2).size());
        ASSERT_EQ(w, w2);
        const std::vector<uint8_t> a = bbtest::libjpeg_pixels(in), b = bbtest::libjpeg_pixels(out);
        const int mx = 8 * h, my = 8 * v;
        const int sx = h > 1, sy = v > 1;
        const int gx0 = (37 - sx) / mx * mx - sx, gx1 = (83 + sx + mx - 1) / mx * mx + sx;
        const int gy0 = (29 - sy) / my * my - sy, gy1 = (61 + sy + my - 1) / my * my + sy;
        // the whole image's blur of the decoded input, for the inside
        bb::Image whole = bbtest::make_image(w, ht, 3);
        std::copy(a.begin(), a.end(), whole.pixels.data());
        bb::gaussian_blur(whole, 5.0, nullptr);
        double error = 0;
        int n = 0;
        for (int y = 0; y < int(ht); y++)
            for (int x = 0; x < int(w); x++)
                for (int c = 0; c < 3; c++) {
                    const size_t i = (size_t(y) * w + size_t(x)) * 3 + size_t(c);
                    if (x < gx0 || x >= gx1 || y < gy0 || y >= gy1) {
                        ASSERT_EQ(a[i], b[i]) << h << "x" << v << " at " << x << "," << y;
                    } else if (x >= 37 && x < 83 && y >= 29 && y < 61) {
                        const double d = double(b[i]) - whole.pixels.data()[i];
                        error += d * d;
                        n++;
                    }
                }
        const double psnr = 10 * std::log10(255.0 * 255.0 / (error / n));
        EXPECT_GT(psnr, 40.0) << h << "x" << v;
    }
}

TEST(Regions, NoBoxChangesNoPixelAndKeepsTheOrientation) {
    const bb::Image img = bbtest::make_image(64, 48, 3);
    bb::JpegMeta meta;
    meta.color_space = JCS_RGB; // written as YCbCr 4:2:0 by libjpeg's defaults
    meta.components = 3;
    meta.orientation = 6;
    const Bytes in = bbtest::bytes_of(bb::encode_jpeg(img, meta, 90, nullptr));
    for (const std::vector<bb::Box> &boxes : {std::vector<bb::Box>{}, std::vector<bb::Box>{{100, 100, 200, 200}}}) {
        const Bytes out = redact(in, boxes);
        uint32_t w, h;
        EXPECT_EQ(rgb_pixels(in, &w, &h), rgb_pixels(out, &w, &h));
        bb::DecodeOptions options;
        bb::JpegMeta got;
        bb::decode_jpeg(out.data(), out.size(), options, &got);
        EXPECT_EQ(got.orientation, 6);
    }
    // Orientation 6 shows the 64x48 image as 48x64: a box on the top-left of what shows is the
    // bottom-left of what is stored.
    const Bytes out = redact(in, {bb::Box{0, 0, 16, 16}});
    uint32_t w, h;
    const std::vector<uint8_t> a = rgb_pixels(in, &w, &h), b = rgb_pixels(out, &w, &h);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            if (a[(size_t(y) * w + x) * 3] != b[(size_t(y) * w + x) * 3]) {
                ASSERT_TRUE(x < 33 && y >= 15) << "changed at stored " << x << "," << y;
            }
}

bool always() {
    return true;
}

TEST(Regions, CancelAndCorruptFiles) {
    const bb::Image img = bbtest::make_image(200, 150, 3);
    const Bytes jpeg = sampled_jpeg(img, 2, 2);
    const Bytes png = bbtest::png_of(img);
    for (const Bytes *file : {&jpeg, &png})
        EXPECT_EQ(kind_of([&] {
                      redact(*file, {bb::Box{10, 10, 150, 120}}, 5.0, always);
                  }),
                  bb::ErrorKind::Interrupted);
    for (size_t cut : {size_t(2), size_t(200), jpeg.size() / 2, jpeg.size() - 3}) {
        const Bytes truncated(jpeg.begin(), jpeg.begin() + long(cut));
        EXPECT_EQ(kind_of([&] {
                      redact(truncated, {bb::Box{10, 10, 50, 50}});
                  }),
                  bb::ErrorKind::InvalidData)
            << "cut at " << cut;
    }
    bb::BlurOptions small;
    small.max_pixels = 200 * 150 - 1;
    EXPECT_EQ(kind_of([&] { bb::blur_regions(jpeg.data(), jpeg.size(), {}, small); }), bb::ErrorKind::TooLarge);
}

} // namespace
