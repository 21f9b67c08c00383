// libwebp's lossy encoder on a blurred photograph, configuration by configuration: the evidence
// for encoder_config's choices (webp_codec.cpp). Decodes a WebP (bytea_blur's decoder), blurs
// it at sigma 5 (bytea_blur's blur), imports it once and encodes it at quality 75 with each
// configuration given, five times; prints the median WebPEncode time, the bytes and the PSNR
// of the decoded output against the blurred picture. Links the core as the unit tests do:
//   g++ -O2 -std=c++17 -Isrc/core -o webp_encoder test/bench/webp_encoder.cpp src/core/*.cpp
//       -ljpeg -lpng -lwebp -lwebpdemux -lwebpmux -lavif -ldeflate -lz -pthread   (one line)
//   ./webp_encoder PHOTO.webp m4,seg4 m4,seg1 m3,seg4 ...   (mM: libwebp's method, segS: segments)
#include <webp/decode.h>
#include <webp/encode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "codecs.hpp"
#include "gaussian.hpp"

namespace {

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double psnr_of(const uint8_t *encoded, size_t size, const bb::Image &want) {
    int width = 0, height = 0;
    uint8_t *got = WebPDecodeRGB(encoded, size, &width, &height);
    if (!got)
        return 0.0;
    double sum = 0.0;
    for (uint32_t y = 0; y < want.height; y++)
        for (size_t i = 0; i < size_t(want.width) * 3; i++) {
            const double d = double(got[size_t(y) * size_t(width) * 3 + i]) - double(want.row(y)[i]);
            sum += d * d;
        }
    WebPFree(got);
    return 10 * std::log10(255.0 * 255.0 / (sum / (double(width) * height * 3)));
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s PHOTO.webp mM,segS...\n", argv[0]);
        return 2;
    }
    std::ifstream file(argv[1], std::ios::binary);
    const std::vector<uint8_t> data((std::istreambuf_iterator<char>(file)), {});
    bb::WebpMeta meta;
    bb::Image image = bb::decode_webp(data.data(), data.size(), bb::DecodeOptions(), &meta);
    bb::gaussian_blur(image, 5.0, nullptr);
    WebPPicture source;
    WebPPictureInit(&source);
    source.width = int(image.width);
    source.height = int(image.height);
    if (image.channels != 3 || !WebPPictureImportRGB(&source, image.row(0), int(image.stride()))) {
        std::fprintf(stderr, "an RGB WebP, please\n");
        return 1;
    }
    for (int arg = 2; arg < argc; arg++) {
        int method = 4, segments = 4;
        std::sscanf(argv[arg], "m%d,seg%d", &method, &segments);
        WebPConfig config;
        WebPConfigInit(&config);
        config.quality = 75;
        config.method = method;
        config.segments = segments;
        std::vector<double> times;
        size_t bytes = 0;
        double psnr = 0.0;
        for (int run = 0; run < 5; run++) {
            WebPPicture picture;
            WebPPictureInit(&picture);
            WebPPictureCopy(&source, &picture);
            WebPMemoryWriter writer;
            WebPMemoryWriterInit(&writer);
            picture.writer = WebPMemoryWrite;
            picture.custom_ptr = &writer;
            const double start = now_ms();
            WebPEncode(&config, &picture);
            times.push_back(now_ms() - start);
            bytes = writer.size;
            if (run == 0)
                psnr = psnr_of(writer.mem, writer.size, image);
            WebPMemoryWriterClear(&writer);
            WebPPictureFree(&picture);
        }
        std::sort(times.begin(), times.end());
        std::printf("%-12s %8.1f ms %8zu bytes %6.2f dB\n", argv[arg], times[2], bytes, psnr);
    }
    WebPPictureFree(&source);
    return 0;
}
