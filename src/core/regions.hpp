// Redaction: a Gaussian blur inside given rectangles of an image, the rest left as it was
// (bytea_blur_regions in SQL). The rectangles come in the coordinates of the image as it is
// displayed (its EXIF orientation, or AVIF's irot and imir, applied), since that is what a face
// detector or a person drawing a box sees; each format's line in the table (formats.cpp) maps
// them onto its stored pixels and blurs them there: a JPEG's DCT blocks (jpeg_regions.cpp), the
// decoded pixels of the others.
//
// Inside a rectangle every sample is the blur of the whole image at that sample (it reads its
// neighbours outside the rectangle, so the rectangle shows no seam of its own); each group of
// rectangles whose neighbourhoods meet is blurred in one window that holds the rectangles and
// the kernel's reach around them, so the cost follows the rectangles' size, not the image's.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codecs.hpp"
#include "errors.hpp"
#include "image.hpp"
#include "pipeline.hpp"

namespace bb {

// A rectangle as SQL's box gives it: two opposite corners, in any order, in pixels of the
// displayed image. A pixel is inside when its centre is: x1 <= x + 0.5 < x2 (and so for y),
// so integer corners take whole pixels and box(point(0,0), point(width,height)) is the image.
struct Box {
    double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

// At most this many rectangles a call (Error TooLarge beyond): each is a window to blur and
// a group to merge, and a thousand faces or plates is past any real picture.
constexpr size_t kMaxRegions = 1000;
// Corners beyond this magnitude are refused as absurd (InvalidParameter): no image the formats
// can hold is a thousandth as wide (JPEG and WebP stop at 65535 pixels a side).
constexpr double kMaxCoordinate = 1e9;

// Throws Error(TooLarge) for more than kMaxRegions boxes, Error(InvalidParameter) for a NaN,
// infinite or absurd corner.
void check_boxes(const std::vector<Box> &boxes);

// The stored pixels that each box covers in an image stored width x height and shown with
// EXIF orientation (1-8; 0 as 1): clipped to the image, empty boxes left out.
std::vector<Rect> stored_rects(const std::vector<Box> &boxes, uint32_t width, uint32_t height, int orientation);
// The same where a viewer is shown only the part `shown` of the stored picture (an AVIF's clean
// aperture), turned by orientation: the boxes are placed on that part, in stored coordinates.
std::vector<Rect> stored_rects(const std::vector<Box> &boxes, const Rect &shown, int orientation);

// Rectangles gathered so that each group's window (the union of its rectangles grown by the
// kernel's reach, margin_x and margin_y, clipped to the plane limit_w x limit_h and, with
// align > 1, widened outward to multiples of align) meets no other group's window: each group
// can then be blurred from the original samples, whatever the others wrote.
struct RectGroup {
    Rect window;
    std::vector<Rect> rects;
};
std::vector<RectGroup> group_rects(const std::vector<Rect> &rects, uint32_t margin_x, uint32_t margin_y,
                                   uint32_t limit_w, uint32_t limit_h, uint32_t align = 1);

// The reach of SciPy's kernel at sigma, in samples: int(4 sigma + 0.5).
uint32_t kernel_reach(double sigma);

// Decoded pixels: blurs image at sigma inside rects (stored pixels), as gaussian_blur blurs
// the whole image (alpha premultiplied); every pixel outside them stays as it is.
void blur_rects(Image &image, const std::vector<Rect> &rects, double sigma, InterruptPoll poll);
// The same where a viewer is shown only the part `shown` of the image (an AVIF's clean
// aperture; rects inside it): blurred as gaussian_blur blurs that part alone, its edges
// reflected, so that no pixel outside it (often an encoder's padding) is read. An empty shown
// part (an image of no pixels) takes only empty rects, and leaves the image as it is.
void blur_rects(Image &image, const std::vector<Rect> &rects, const Rect &shown, double sigma, InterruptPoll poll);

// One plane of float samples (a JPEG component's), rows width apart: blurs it in place with
// sigma_x and sigma_y samples along each axis and SciPy's reflected borders at its edges.
void blur_plane(float *samples, uint32_t width, uint32_t height, double sigma_x, double sigma_y, InterruptPoll poll);

// The whole job of bytea_blur_regions: recognise, check the limits, blur inside boxes, write
// the image again in its own format (quality for the lossy WebP and AVIF writers; a JPEG
// keeps its own quantisation tables). No box, or boxes that all miss the image, blur
// nothing, and the file is still written under the metadata policy.
Buffer blur_regions(const uint8_t *data, size_t size, const std::vector<Box> &boxes, const BlurOptions &options);

// jpeg_regions.cpp: a JPEG's DCT blocks that the boxes touch recomputed with its own
// quantisation tables; every other block keeps its coefficients, bit for bit.
Buffer blur_jpeg_regions(const uint8_t *data, size_t size, const std::vector<Box> &boxes, const BlurOptions &options,
                         const DecodeOptions &decode);

} // namespace bb
