#include "regions.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

#include "codecs.hpp"
#include "formats.hpp"
#include "gaussian.hpp"
#include "kernel.hpp"
#include "multiversion.hpp"
#include "probe.hpp"
#include "recursive_blur.hpp"

namespace bb {

namespace {

std::string corner_text(const Box &box) {
    std::ostringstream out;
    out.precision(10);
    out << "(" << box.x1 << "," << box.y1 << "),(" << box.x2 << "," << box.y2 << ")";
    return out.str();
}

// The pixels [a0, a1) whose centres lie in [lo, hi), clipped to [0, limit].
void pixel_span(double lo, double hi, uint32_t limit, uint32_t *a0, uint32_t *a1) {
    const double first = std::ceil(lo - 0.5), end = std::ceil(hi - 0.5);
    *a0 = uint32_t(std::clamp(first, 0.0, double(limit)));
    *a1 = uint32_t(std::clamp(end, 0.0, double(limit)));
}

bool meet(const Rect &a, const Rect &b) noexcept {
    return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

Rect bound(const Rect &a, const Rect &b) noexcept {
    return Rect{std::min(a.x0, b.x0), std::min(a.y0, b.y0), std::max(a.x1, b.x1), std::max(a.y1, b.y1)};
}

uint32_t down_to(uint32_t v, uint32_t align) noexcept {
    return v / align * align;
}
uint32_t up_to(uint32_t v, uint32_t align) noexcept {
    return uint32_t((uint64_t(v) + align - 1) / align * align);
}

// One line of n samples blurred at sigma (SciPy's kernel and reflected borders): a FIR below
// the sigma where the recursive filter gets cheaper (gaussian.hpp), the recursive filter from it.
// Four doubles in a vector register (two SSE2 registers on the baseline target).
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double Double4 __attribute__((vector_size(32)));

BB_CLONES_AVX2
void blur_line(const double *in, double *out, long n, double sigma, const std::vector<float> &kernel) {
    if (sigma >= kRecursiveFromSigma) {
        recursive_line(in, out, n, sigma);
        return;
    }
    const long radius = long(kernel.size() / 2);
    // The samples whose window lies inside the line, [lo, hi): four at a time in a vector
    // (each sum still adds its taps in the same order), then one at a time.
    const long lo = std::min(radius, n), hi = std::max(lo, n - radius);
    long i = lo;
    for (; i + 4 <= hi; i += 4) {
        Double4 sum = {0.0, 0.0, 0.0, 0.0};
        const double *p = in + i - radius;
        for (long k = 0; k <= 2 * radius; k++) {
            Double4 v;
            std::memcpy(&v, p + k, sizeof v);
            sum += double(kernel[size_t(k)]) * v;
        }
        std::memcpy(out + i, &sum, sizeof sum);
    }
    for (; i < hi; i++) {
        double sum = 0.0;
        const double *p = in + i - radius;
        for (long k = 0; k <= 2 * radius; k++)
            sum += double(kernel[size_t(k)]) * p[k];
        out[i] = sum;
    }
    // The samples near the ends, whose windows reflect.
    for (long j = 0; j < n; j++) {
        if (j == lo)
            j = hi;
        if (j >= n)
            break;
        double sum = 0.0;
        for (long k = -radius; k <= radius; k++)
            sum += double(kernel[size_t(k + radius)]) * in[reflect_index(j + k, n)];
        out[j] = sum;
    }
}

} // namespace

void check_boxes(const std::vector<Box> &boxes) {
    if (boxes.size() > kMaxRegions)
        throw Error(ErrorKind::TooLarge, "too many regions",
                    "bytea_blur_regions takes at most " + std::to_string(kMaxRegions) + " boxes; got " +
                        std::to_string(boxes.size()) + ".");
    for (size_t i = 0; i < boxes.size(); i++) {
        const Box &b = boxes[i];
        for (double v : {b.x1, b.y1, b.x2, b.y2}) {
            if (!std::isfinite(v) || std::fabs(v) > kMaxCoordinate)
                throw Error(ErrorKind::InvalidParameter, "region coordinates must be finite pixel positions",
                            "Box " + std::to_string(i + 1) + " is " + corner_text(b) +
                                "; every corner must be a finite number of pixels within 1e9 of the origin.");
        }
    }
}

std::vector<Rect> stored_rects(const std::vector<Box> &boxes, uint32_t width, uint32_t height, int orientation) {
    const bool swap = orientation >= 5 && orientation <= 8;
    const uint32_t shown_w = swap ? height : width, shown_h = swap ? width : height;
    std::vector<Rect> out;
    for (const Box &b : boxes) {
        uint32_t a0, a1, b0, b1; // displayed columns [a0, a1), rows [b0, b1)
        pixel_span(std::min(b.x1, b.x2), std::max(b.x1, b.x2), shown_w, &a0, &a1);
        pixel_span(std::min(b.y1, b.y2), std::max(b.y1, b.y2), shown_h, &b0, &b1);
        if (a0 >= a1 || b0 >= b1)
            continue;
        // The stored pixel that shows at (x, y), as apply_orientation (convert.cpp) maps it.
        Rect r;
        switch (orientation) {
        case 2: r = Rect{width - a1, b0, width - a0, b1}; break;
        case 3: r = Rect{width - a1, height - b1, width - a0, height - b0}; break;
        case 4: r = Rect{a0, height - b1, a1, height - b0}; break;
        case 5: r = Rect{b0, a0, b1, a1}; break;
        case 6: r = Rect{b0, height - a1, b1, height - a0}; break;
        case 7: r = Rect{width - b1, height - a1, width - b0, height - a0}; break;
        case 8: r = Rect{width - b1, a0, width - b0, a1}; break;
        default: r = Rect{a0, b0, a1, b1}; break;
        }
        out.push_back(r);
    }
    return out;
}

std::vector<Rect> stored_rects(const std::vector<Box> &boxes, const Rect &shown, int orientation) {
    std::vector<Rect> rects = stored_rects(boxes, shown.x1 - shown.x0, shown.y1 - shown.y0, orientation);
    for (Rect &r : rects)
        r = Rect{r.x0 + shown.x0, r.y0 + shown.y0, r.x1 + shown.x0, r.y1 + shown.y0};
    return rects;
}

uint32_t kernel_reach(double sigma) {
    return uint32_t(kTruncate * sigma + 0.5); // SciPy's int(): NOLINT(bugprone-incorrect-roundings)
}

std::vector<RectGroup> group_rects(const std::vector<Rect> &rects, uint32_t margin_x, uint32_t margin_y,
                                   uint32_t limit_w, uint32_t limit_h, uint32_t align) {
    std::vector<RectGroup> groups;
    for (const Rect &r : rects) {
        if (r.empty())
            continue;
        RectGroup g;
        g.window = Rect{r.x0 > margin_x ? r.x0 - margin_x : 0, r.y0 > margin_y ? r.y0 - margin_y : 0,
                        uint32_t(std::min<uint64_t>(uint64_t(r.x1) + margin_x, limit_w)),
                        uint32_t(std::min<uint64_t>(uint64_t(r.y1) + margin_y, limit_h))};
        g.rects.push_back(r);
        groups.push_back(std::move(g));
    }
    auto aligned = [&](const Rect &w) {
        return Rect{down_to(w.x0, align), down_to(w.y0, align), up_to(w.x1, align), up_to(w.y1, align)};
    };
    // Merge any two groups whose (aligned) windows meet, until none do: at most n - 1 merges.
    for (bool merged = true; merged;) {
        merged = false;
        for (size_t i = 0; i < groups.size() && !merged; i++) {
            for (size_t j = i + 1; j < groups.size(); j++) {
                if (!meet(aligned(groups[i].window), aligned(groups[j].window)))
                    continue;
                groups[i].window = bound(groups[i].window, groups[j].window);
                groups[i].rects.insert(groups[i].rects.end(), groups[j].rects.begin(), groups[j].rects.end());
                groups.erase(groups.begin() + long(j));
                merged = true;
                break;
            }
        }
    }
    return groups;
}

void blur_rects(Image &image, const std::vector<Rect> &rects, double sigma, InterruptPoll poll) {
    blur_rects(image, rects, Rect{0, 0, image.width, image.height}, sigma, poll);
}

void blur_rects(Image &image, const std::vector<Rect> &rects, const Rect &shown, double sigma, InterruptPoll poll) {
    if (shown.x0 > shown.x1 || shown.y0 > shown.y1 || shown.x1 > image.width || shown.y1 > image.height)
        throw std::logic_error("blur_rects: a shown part outside the image");
    for (const Rect &r : rects)
        if (!r.empty() && (r.x0 < shown.x0 || r.y0 < shown.y0 || r.x1 > shown.x1 || r.y1 > shown.y1))
            throw std::logic_error("blur_rects: a rectangle outside the shown part");
    if (shown.empty()) // nothing shown (an image of no pixels): every rect is empty too, above
        return;
    const uint32_t reach = kernel_reach(sigma);
    const size_t bpp = size_t(image.channels) * image.bytes_per_sample();
    for (RectGroup &g : group_rects(rects, reach, reach, shown.x1, shown.y1)) {
        // Cut to the shown part: the blur reflects at the window's edges, which are then its
        // edges or at least the kernel's reach from every rect (group_rects).
        g.window.x0 = std::max(g.window.x0, shown.x0);
        g.window.y0 = std::max(g.window.y0, shown.y0);
        Image window = image.same_kind(g.window.x1 - g.window.x0, g.window.y1 - g.window.y0);
        for (uint32_t y = 0; y < window.height; y++)
            std::memcpy(window.row(y), image.row(g.window.y0 + y) + g.window.x0 * bpp, window.row_bytes());
        gaussian_blur(window, sigma, poll);
        for (const Rect &r : g.rects)
            for (uint32_t y = r.y0; y < r.y1; y++)
                std::memcpy(image.row(y) + r.x0 * bpp, window.row(y - g.window.y0) + (r.x0 - g.window.x0) * bpp,
                            (r.x1 - r.x0) * bpp);
    }
}

void blur_plane(float *samples, uint32_t width, uint32_t height, double sigma_x, double sigma_y, InterruptPoll poll) {
    const size_t longest = std::max(width, height);
    std::vector<double> in(longest), out(longest);
    if (kernel_reach(sigma_x) > 0 && width > 1) {
        const std::vector<float> kernel = gaussian_kernel(sigma_x);
        for (uint32_t y = 0; y < height; y++) {
            float *row = samples + size_t(y) * width;
            std::copy(row, row + width, in.begin());
            blur_line(in.data(), out.data(), long(width), sigma_x, kernel);
            std::transform(out.begin(), out.begin() + width, row, [](double v) { return float(v); });
            poll_every_rows(y, poll);
        }
    }
    if (kernel_reach(sigma_y) > 0 && height > 1) {
        const std::vector<float> kernel = gaussian_kernel(sigma_y);
        for (uint32_t x = 0; x < width; x++) {
            for (uint32_t y = 0; y < height; y++)
                in[y] = samples[size_t(y) * width + x];
            blur_line(in.data(), out.data(), long(height), sigma_y, kernel);
            for (uint32_t y = 0; y < height; y++)
                samples[size_t(y) * width + x] = float(out[y]);
            poll_every_rows(x, poll);
        }
    }
}

Buffer blur_regions(const uint8_t *data, size_t size, const std::vector<Box> &boxes, const BlurOptions &options) {
    check_boxes(boxes);
    DecodeOptions decode;
    const ImageInfo info = checked_input(data, size, options, &decode);
    return format_entry(info.format).blur_regions(data, size, info, boxes, options, decode);
}

} // namespace bb
