// A picture blurred as component planes on their way from a decoder (PlaneSource: a JPEG's
// raw planes, a lossy WebP's YUV) to an encoder (PlaneSink), each at its own resolution and
// never as RGB pixels: the way JPEG to JPEG, JPEG to WebP and WebP to WebP go.
#pragma once
#include "no_postgres.hpp"

#include <cstdint>

#include "codecs.hpp"

namespace bb {

// A plane is blurred at a resolution where its sigma is at least this many samples: below it
// the Gaussian still has detail to keep; above it the finer samples only cost time. From a
// full-size decode, 1.25: at sigma 5 the real photos of test/bench/run came out at 47-55 dB
// against SciPy in four fifths of the time that 2.0 took (50-60 dB); 1.0 saved little more
// for 45-52 dB (the target: 42). From libjpeg's 1/8-scale decode, 2.0: there the planes are
// small already, and 1.25 fell below 42 dB at sigma 100 on a small image, where the
// reflected borders are most of what is left.
constexpr double kWorkingSigma = 1.25;
constexpr double kWorkingSigmaScaled = 2.0;

// Whether the planes' blur holds for a picture of this size. Their block-averaged (and scaled)
// samples each stand for a whole block of pixels, and where the kernel reaches across most of
// the picture, the partial blocks at its right and bottom edges weigh as much as whole ones:
// 33 columns blurred at sigma 12 came out 7 levels redder on average than SciPy's blur
// (test_jpeg_encoding.cpp). Below sigma 2.5 nothing is averaged, and from 8 sigma on a side
// the edges are a small part of what the kernel sees (within a level on average). A picture
// that fails it is blurred as pixels.
bool planes_hold(uint32_t width, uint32_t height, double sigma);

// Streams source's planes, blurred at sigma, into sink's layout. input and output describe
// the sampling of the source's and the sink's components (JpegMeta's h_samp and v_samp). Each
// plane is averaged down in blocks until its sigma is about kWorkingSigma samples (libjpeg's
// DCT scaling may do the first factor of 2, 4 or 8: a source whose finest plane is 8 pixels a
// sample works at kWorkingSigmaScaled), blurred there with its own sigma per axis, mapped to
// the sink's codes (PlaneSink::sample_map), and brought to the sink's sampling by a cubic
// B-spline (planes.hpp) as the sink asks for rows. The cost per pixel does not grow with sigma, and
// only a few dozen rows of each plane are held. Then reads the rest of the source, so that a
// corrupt end is still an error, and returns what the sink wrote. poll is checked before
// each of the sink's steps.
Buffer stream_planes(PlaneSource &source, const JpegMeta &input, const JpegMeta &output, double sigma, PlaneSink &sink,
                     InterruptPoll poll);

} // namespace bb
