// AVIF through libavif: still images at 8, 10 and 12 bits, 4:2:0, 4:2:2, 4:4:4 and monochrome,
// with or without alpha. libavif decodes the AV1 payload with whichever decoder it was built
// with (dav1d, libgav1 or aom) and encodes with aom (rav1e or SVT-AV1 when aom is absent).
// libavif reports every failure by an avifResult, never by longjmp, so its objects are owned
// by the ordinary RAII holders below.
//
// libavif offers no hook inside the AV1 decoder or encoder, which take up to a second on a large
// photo. Both therefore run on a worker thread (run_abandonable, worker_thread.hpp) while the
// calling thread polls for a cancel; on a cancel the caller throws at once and leaves the worker
// to finish on its own: everything the worker touches (the encoder, the image, the output; the
// decoder and a copy of the file) is held by shared pointers the worker owns too.
//
// libavif 0.11 (Debian 12) and 1.x (Debian 13) differ in a few signatures: the functions that
// allocate return void in 0.11 and an avifResult from 1.0. checked() below takes either.
#include "codecs.hpp"

#include "avif_convert.hpp"
#include "probe.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "worker_thread.hpp"

#include <avif/avif.h>

namespace bb {
namespace {

struct DecoderDeleter {
    void operator()(avifDecoder *d) const noexcept { avifDecoderDestroy(d); }
};
struct EncoderDeleter {
    void operator()(avifEncoder *e) const noexcept { avifEncoderDestroy(e); }
};
struct ImageDeleter {
    void operator()(avifImage *i) const noexcept { avifImageDestroy(i); }
};
struct RWData {
    avifRWData data = AVIF_DATA_EMPTY;
    ~RWData() { avifRWDataFree(&data); }
};

static_assert(sizeof(avifImageRotation) == 1 && sizeof(avifImageMirror) == 1,
              "AvifMeta holds irot and imir as one byte each");

[[noreturn]] void out_of_memory(const char *what) {
    throw Error(ErrorKind::OutOfMemory, "out of memory", std::string("libavif could not allocate ") + what + ".");
}

// An allocating libavif call: void in 0.11, an avifResult from 1.0.
template <typename Call> void checked(Call call, const char *what) {
    if constexpr (std::is_void_v<decltype(call())>)
        call();
    else if (call() != AVIF_RESULT_OK)
        out_of_memory(what);
}

std::string diagnostics(const avifDiagnostics &diag, avifResult result) {
    std::string out = avifResultToString(result);
    if (diag.error[0])
        out += std::string(": ") + diag.error;
    return out;
}

// What a decode failure means for the user: a file that is not a valid AVIF (22P03), one that
// asks for what we do not read or a libavif built without an AV1 decoder (0A000), memory.
[[noreturn]] void decode_failed(const avifDecoder &decoder, avifResult result) {
    const std::string detail = "libavif: " + diagnostics(decoder.diag, result) + ".";
    switch (result) {
    case AVIF_RESULT_OUT_OF_MEMORY: throw Error(ErrorKind::OutOfMemory, "out of memory", detail);
    case AVIF_RESULT_NO_CODEC_AVAILABLE: throw Error(ErrorKind::Unsupported, "no AV1 decoder available", detail);
    case AVIF_RESULT_NOT_IMPLEMENTED: throw Error(ErrorKind::Unsupported, "this AVIF image is not supported", detail);
    default: throw Error(ErrorKind::InvalidData, "corrupt AVIF image", detail);
    }
}

// A decoder over the bytes, its container parsed: every box's header and property checked
// against size, the dimensions, depth and sampling known, no AV1 payload decoded yet.
std::unique_ptr<avifDecoder, DecoderDeleter> parse(const uint8_t *data, size_t size, int threads) {
    std::unique_ptr<avifDecoder, DecoderDeleter> decoder(avifDecoderCreate());
    if (!decoder)
        out_of_memory("its decoder");
    decoder->maxThreads = threads;
    decoder->ignoreExif = AVIF_TRUE; // the policy drops EXIF and XMP; irot and imir are properties
    decoder->ignoreXMP = AVIF_TRUE;
    avifResult result = avifDecoderSetIOMemory(decoder.get(), data, size);
    if (result != AVIF_RESULT_OK)
        decode_failed(*decoder, result);
    result = avifDecoderParse(decoder.get());
    if (result == AVIF_RESULT_TRUNCATED_DATA)
        throw Error(ErrorKind::InvalidData, "truncated AVIF image",
                    "libavif: " + diagnostics(decoder->diag, result) + ".");
    // Dimensions over libavif's own limits (16384 x 16384 pixels, 32768 a side) fail the
    // parse with a message and no code of their own: a size limit, as bytea_blur's is.
    if (result == AVIF_RESULT_BMFF_PARSE_FAILED && std::strstr(decoder->diag.error, "dimensions are too large"))
        throw Error(ErrorKind::TooLarge, "image too large",
                    "libavif: " + diagnostics(decoder->diag, result) + " (over libavif's own limits).");
    if (result != AVIF_RESULT_OK)
        decode_failed(*decoder, result);
    return decoder;
}

// libavif's call on a worker thread (run_abandonable) and its result. The AV1 codec's own
// threads (decoder->maxThreads, encoder->maxThreads) start from that worker, with its signals
// blocked.
avifResult run_off_thread(std::function<avifResult()> call, InterruptPoll poll) {
    const auto result = std::make_shared<avifResult>(AVIF_RESULT_UNKNOWN_ERROR);
    run_abandonable([result, call = std::move(call)] { *result = call(); }, poll);
    return *result;
}

int channels_of(const avifImage &image, bool alpha) {
    return (image.yuvFormat == AVIF_PIXEL_FORMAT_YUV400 ? 1 : 3) + (alpha ? 1 : 0);
}

} // namespace

AvifHeader read_avif_header(const uint8_t *data, size_t size) {
    const auto decoder = parse(data, size, 1);
    const avifImage &image = *decoder->image;
    AvifHeader header;
    header.width = image.width;
    header.height = image.height;
    header.depth = int(image.depth);
    header.channels = channels_of(image, decoder->alphaPresent);
    header.frames = decoder->imageCount > 0 ? uint32_t(decoder->imageCount) : 1;
    return header;
}

// The decode's conversion, as rgb_to_yuv_in_strips is the encode's. libavif's upsampling of
// chroma (bilinear, AVIF_CHROMA_UPSAMPLING_BEST_QUALITY) reads the chroma rows on either side of
// a pixel's own, so each strip is converted from a view kStripMargin rows taller at each end (as
// far as the picture goes) into a scratch buffer, and only its own rows are copied out: the same
// pixels one call gives (AvifStrips.DecodeConversionMatchesOneCall). 10- and 12-bit pictures take the
// slow path, about 45 ms for 4 megapixels on an idle core.
avifResult yuv_to_rgb_in_strips(const avifImage &decoded, Image &image, bool alpha, InterruptPoll poll) {
    constexpr uint32_t kStripMargin = 2; // even, so that every view starts on a chroma row
    const std::unique_ptr<avifImage, ImageDeleter> view(avifImageCreateEmpty());
    if (!view)
        out_of_memory("a view of the image");
    const size_t stride = image.stride();
    Buffer scratch(stride * std::min<size_t>(image.height, kPollRows + 2 * kStripMargin));
    for (uint32_t y = 0; y < image.height; y += kPollRows) {
        const uint32_t rows = std::min(kPollRows, image.height - y);
        const uint32_t top = y >= kStripMargin ? y - kStripMargin : 0;
        const uint32_t bottom = std::min(image.height, y + rows + kStripMargin);
        const avifCropRect rect{0, top, image.width, bottom - top};
        avifResult result = avifImageSetViewRect(view.get(), &decoded, &rect);
        if (result != AVIF_RESULT_OK)
            return result;
        avifRGBImage rgb;
        avifRGBImageSetDefaults(&rgb, view.get());
        rgb.depth = uint32_t(image.depth);
        rgb.format = alpha ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB;
        rgb.chromaUpsampling = AVIF_CHROMA_UPSAMPLING_BEST_QUALITY;
        rgb.pixels = scratch.data();
        rgb.rowBytes = uint32_t(stride);
        result = avifImageYUVToRGB(view.get(), &rgb);
        if (result != AVIF_RESULT_OK)
            return result;
        std::memcpy(image.row(y), scratch.data() + size_t(y - top) * stride, size_t(rows) * stride);
        if (poll && poll())
            throw_interrupted();
    }
    return AVIF_RESULT_OK;
}

Image decode_avif(const uint8_t *data, size_t size, const DecodeOptions &options, AvifMeta *meta) {
    // The decoder reads the file as it decodes: a copy of it, which a worker left running
    // after a cancel still owns once the caller's memory is gone.
    const auto file = std::make_shared<std::vector<uint8_t>>(data, data + size);
    const std::shared_ptr<avifDecoder> decoder(parse(file->data(), size, options.threads).release(), DecoderDeleter());
    avifImage &header = *decoder->image;
    if (decoder->imageCount > 1)
        throw Error(ErrorKind::Unsupported, "AVIF image sequences are not supported",
                    "The file holds a sequence of " + std::to_string(decoder->imageCount) +
                        " images; only still AVIF images can be blurred.");
    check_pixel_limit(header.width, header.height, options.max_pixels);
    if (header.depth != 8 && header.depth != 10 && header.depth != 12)
        throw Error(ErrorKind::Unsupported, std::to_string(header.depth) + "-bit AVIF is not supported",
                    "AVIF images have 8, 10 or 12 bits per sample.");
    // The AV1 decoder's own limit, so that a payload larger than its container says stops too.
    decoder->imageSizeLimit = uint32_t(std::min<uint64_t>(options.max_pixels, AVIF_DEFAULT_IMAGE_SIZE_LIMIT));

    // What the container declares (ispe, pixi, av1C): decoder->image takes the AV1 payload's
    // own values when it is decoded, and a payload larger than its container says is corrupt.
    const uint32_t declared_width = header.width, declared_height = header.height;
    AvifMeta m;
    m.depth = int(header.depth);
    m.yuv_format = int(header.yuvFormat);
    m.yuv_range = int(header.yuvRange);
    m.color_primaries = header.colorPrimaries;
    m.transfer = header.transferCharacteristics;
    m.matrix = header.matrixCoefficients;
    m.transform_flags = header.transformFlags;
    std::memcpy(&m.irot, &header.irot, 1);
    std::memcpy(&m.imir, &header.imir, 1);
    static_assert(sizeof m.pasp == sizeof header.pasp && sizeof m.clap == sizeof header.clap, "same boxes");
    std::memcpy(m.pasp, &header.pasp, sizeof m.pasp);
    std::memcpy(m.clap, &header.clap, sizeof m.clap);
    m.icc.assign(header.icc.data, header.icc.data + header.icc.size);
    const bool alpha = decoder->alphaPresent;
    const bool grey = header.yuvFormat == AVIF_PIXEL_FORMAT_YUV400;

    const avifResult result =
        run_off_thread([decoder, file] { return avifDecoderNextImage(decoder.get()); }, options.poll);
    if (result != AVIF_RESULT_OK)
        decode_failed(*decoder, result);
    const avifImage &decoded = *decoder->image; // the same avifImage, now with the payload's values
    if (decoded.width != declared_width || decoded.height != declared_height || int(decoded.depth) != m.depth)
        throw Error(ErrorKind::InvalidData, "corrupt AVIF image",
                    "The AV1 payload's size or depth differs from what the container declares.");

    // Converted to full-range RGB(A) at 8 bits, or 16 for 10 and 12 (libavif scales the
    // samples), not premultiplied: the blur premultiplies itself. Monochrome is read as RGB
    // and kept as its first channel.
    Image image;
    image.width = decoded.width;
    image.height = decoded.height;
    image.depth = m.depth == 8 ? 8 : 16;
    image.channels = alpha ? 4 : 3;
    image.alpha_channel = alpha ? 3 : -1;
    image.allocate();
    const avifResult converted = yuv_to_rgb_in_strips(decoded, image, alpha, options.poll);
    if (converted != AVIF_RESULT_OK)
        decode_failed(*decoder, converted);
    if (grey) {
        // R = G = B: keep one, and alpha beside it.
        const size_t bytes = image.bytes_per_sample();
        const int out_channels = alpha ? 2 : 1;
        for (uint32_t y = 0; y < image.height; y++) {
            uint8_t *row = image.row(y);
            for (uint32_t x = 0; x < image.width; x++) {
                std::memmove(row + size_t(x) * out_channels * bytes, row + size_t(x) * image.channels * bytes, bytes);
                if (alpha)
                    std::memmove(row + (size_t(x) * 2 + 1) * bytes, row + (size_t(x) * 4 + 3) * bytes, bytes);
            }
            poll_every_rows(y, options.poll);
        }
        // Rows are now tightly packed at the new width in place: repack them contiguously.
        const size_t old_stride = image.stride();
        image.channels = out_channels;
        image.alpha_channel = alpha ? 1 : -1;
        for (uint32_t y = 1; y < image.height; y++)
            std::memmove(image.pixels.data() + image.stride() * y, image.pixels.data() + old_stride * y,
                         image.row_bytes());
        image.pixels.shrink(image.stride() * image.height);
    }
    if (meta)
        *meta = std::move(m);
    return image;
}

// libavif's RGB-to-YUV conversion has no hook and takes about 40 ms on a 4-megapixel picture on
// an idle core (several times that on a loaded machine), so it runs in strips of kPollRows
// rows, each through a view of out (avifImageSetViewRect), with a poll between strips. A strip
// starts on an even row, so a 4:2:0 strip starts on a chroma row, and each chroma sample is made
// from its own 2x2 (4:2:0) or 2x1 (4:2:2) block of pixels only: the strips give out the samples
// one call over the whole picture would (AvifStrips.EncodeConversionMatchesOneCall).
void rgb_to_yuv_in_strips(avifImage &out, const Image &source, bool alpha, InterruptPoll poll) {
    checked([&] { return avifImageAllocatePlanes(&out, alpha ? AVIF_PLANES_ALL : AVIF_PLANES_YUV); },
            "the image's planes");
    const std::unique_ptr<avifImage, ImageDeleter> view(avifImageCreateEmpty());
    if (!view)
        out_of_memory("a view of the image");
    for (uint32_t y = 0; y < out.height; y += kPollRows) {
        const avifCropRect strip{0, y, out.width, std::min(kPollRows, out.height - y)};
        avifResult result = avifImageSetViewRect(view.get(), &out, &strip);
        if (result == AVIF_RESULT_OK) {
            avifRGBImage rgb;
            avifRGBImageSetDefaults(&rgb, view.get());
            rgb.depth = uint32_t(source.depth);
            rgb.format = alpha ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB;
            rgb.pixels = const_cast<uint8_t *>(source.row(y)); // libavif only reads them
            rgb.rowBytes = uint32_t(source.stride());
            result = avifImageRGBToYUV(view.get(), &rgb);
            // avifImageRGBToYUV calls avifImageAllocatePlanes, which allocates only missing
            // planes but marks the image as owning its planes all the same (0.11 and 1.x): the
            // view would then free out's planes. They stay out's.
            view->imageOwnsYUVPlanes = AVIF_FALSE;
            view->imageOwnsAlphaPlane = AVIF_FALSE;
        }
        if (result != AVIF_RESULT_OK)
            throw Error(result == AVIF_RESULT_OUT_OF_MEMORY ? ErrorKind::OutOfMemory : ErrorKind::InvalidParameter,
                        "could not encode AVIF", std::string("libavif: ") + avifResultToString(result) + ".");
        if (poll && poll())
            throw_interrupted();
    }
}

int avif_quantizer(int quality) noexcept {
    // libavif 1.x's own mapping of quality 0-100 to AV1's quantizer 63-0.
    return ((100 - quality) * 63 + 50) / 100;
}

Buffer encode_avif(const Image &image, const AvifMeta &meta, int quality, int threads, InterruptPoll poll) {
    if (image.channels < 1 || image.channels > 4 || (image.depth != 8 && image.depth != 16))
        throw Error(ErrorKind::InvalidParameter, "could not encode AVIF",
                    "AVIF is written from 8- or 16-bit grey, grey+alpha, RGB or RGBA pixels.");
    const bool grey = image.channels <= 2;
    const bool alpha = image.alpha_channel >= 0;
    const int depth = meta.depth ? meta.depth : (image.depth == 8 ? 8 : 12);
    const avifPixelFormat format = grey ? AVIF_PIXEL_FORMAT_YUV400 : avifPixelFormat(meta.yuv_format);
    const std::shared_ptr<avifImage> out(avifImageCreate(image.width, image.height, uint32_t(depth), format),
                                         ImageDeleter());
    if (!out)
        out_of_memory("the image to encode");
    out->yuvRange = avifRange(meta.yuv_range);
    out->colorPrimaries = avifColorPrimaries(meta.color_primaries);
    out->transferCharacteristics = avifTransferCharacteristics(meta.transfer);
    out->matrixCoefficients = avifMatrixCoefficients(meta.matrix);
    out->transformFlags = meta.transform_flags;
    std::memcpy(&out->irot, &meta.irot, 1);
    std::memcpy(&out->imir, &meta.imir, 1);
    std::memcpy(&out->pasp, meta.pasp, sizeof meta.pasp);
    std::memcpy(&out->clap, meta.clap, sizeof meta.clap);
    if (!meta.icc.empty())
        checked([&] { return avifImageSetProfileICC(out.get(), meta.icc.data(), meta.icc.size()); }, "the ICC profile");

    // Grey samples go to libavif as RGB (R = G = B gives Y = the sample under every matrix).
    Image rgb_pixels;
    const Image *source = &image;
    if (grey) {
        rgb_pixels.width = image.width;
        rgb_pixels.height = image.height;
        rgb_pixels.depth = image.depth;
        rgb_pixels.channels = alpha ? 4 : 3;
        rgb_pixels.alpha_channel = alpha ? 3 : -1;
        rgb_pixels.allocate();
        const size_t bytes = image.bytes_per_sample();
        for (uint32_t y = 0; y < image.height; y++) {
            const uint8_t *in = image.row(y);
            uint8_t *o = rgb_pixels.row(y);
            for (uint32_t x = 0; x < image.width; x++) {
                const uint8_t *p = in + size_t(x) * image.channels * bytes;
                uint8_t *q = o + size_t(x) * rgb_pixels.channels * bytes;
                for (int c = 0; c < 3; c++)
                    std::memcpy(q + c * bytes, p, bytes);
                if (alpha)
                    std::memcpy(q + 3 * bytes, p + bytes, bytes);
            }
            poll_every_rows(y, poll);
        }
        source = &rgb_pixels;
    }
    rgb_to_yuv_in_strips(*out, *source, alpha, poll);

    const std::shared_ptr<avifEncoder> encoder(avifEncoderCreate(), EncoderDeleter());
    if (!encoder)
        out_of_memory("its encoder");
    encoder->maxThreads = threads;
    encoder->speed = kAvifSpeed;
    encoder->minQuantizer = encoder->maxQuantizer = avif_quantizer(quality);
    encoder->minQuantizerAlpha = encoder->maxQuantizerAlpha = avif_quantizer(quality);
    const auto output = std::make_shared<RWData>();
    const avifResult written = run_off_thread(
        [encoder, out, output] { return avifEncoderWrite(encoder.get(), out.get(), &output->data); }, poll);
    if (written != AVIF_RESULT_OK)
        throw Error(written == AVIF_RESULT_OUT_OF_MEMORY        ? ErrorKind::OutOfMemory
                    : written == AVIF_RESULT_NO_CODEC_AVAILABLE ? ErrorKind::Unsupported
                                                                : ErrorKind::InvalidData,
                    "could not encode AVIF", "libavif: " + diagnostics(encoder->diag, written) + ".");
    Buffer buffer(output->data.size);
    std::memcpy(buffer.data(), output->data.data, output->data.size);
    return buffer;
}

int avif_orientation(const AvifMeta &meta) noexcept {
    // irot turns anticlockwise by angle x 90 degrees; imir then mirrors (mode/axis 0: top and
    // bottom exchanged, 1: left and right). As an EXIF orientation (stored -> displayed):
    const bool rotate = meta.transform_flags & AVIF_TRANSFORM_IROT;
    const bool mirror = meta.transform_flags & AVIF_TRANSFORM_IMIR;
    const int angle = rotate ? meta.irot & 3 : 0;
    if (!mirror) {
        static const int kTurn[4] = {1, 8, 3, 6};
        return kTurn[angle];
    }
    static const int kMirrorTopBottom[4] = {4, 5, 2, 7};
    static const int kMirrorLeftRight[4] = {2, 7, 4, 5};
    return (meta.imir & 1) ? kMirrorLeftRight[angle] : kMirrorTopBottom[angle];
}

Rect avif_clean_aperture(const AvifMeta &meta, uint32_t width, uint32_t height) noexcept {
    const Rect whole{0, 0, width, height};
    if (!(meta.transform_flags & AVIF_TRANSFORM_CLAP))
        return whole;
    // clap's fractions in the box's order: width, height, horizOff, vertOff as N/D, the N of
    // the offsets signed. Exact in 64 bits: every term is below 2^63.
    const int64_t width_n = meta.clap[0], width_d = int32_t(meta.clap[1]), height_n = meta.clap[2],
                  height_d = int32_t(meta.clap[3]), horiz_n = int32_t(meta.clap[4]), horiz_d = int32_t(meta.clap[5]),
                  vert_n = int32_t(meta.clap[6]), vert_d = int32_t(meta.clap[7]);
    if (width_d <= 0 || height_d <= 0 || horiz_d <= 0 || vert_d <= 0 || width_n % width_d || height_n % height_d)
        return whole;
    // The first column: centre - (size - 1) / 2 = (stored - size) / 2 + off, a whole number.
    const auto first = [](int64_t stored, int64_t size, int64_t off_n, int64_t off_d, int64_t *at) {
        const int64_t numerator = (stored - size) * off_d + 2 * off_n, denominator = 2 * off_d;
        if (numerator < 0 || numerator % denominator)
            return false;
        *at = numerator / denominator;
        return *at + size <= stored;
    };
    const int64_t w = width_n / width_d, h = height_n / height_d;
    int64_t x = 0, y = 0;
    if (w <= 0 || h <= 0 || !first(width, w, horiz_n, horiz_d, &x) || !first(height, h, vert_n, vert_d, &y))
        return whole;
    return Rect{uint32_t(x), uint32_t(y), uint32_t(x + w), uint32_t(y + h)};
}

} // namespace bb
