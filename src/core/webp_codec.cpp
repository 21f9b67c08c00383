// WebP through libwebp: still images, lossy (VP8) and lossless (VP8L), with or without alpha,
// and animations, frame by frame.
// libwebp reports every failure by a status, never by longjmp, so its objects are owned by
// the ordinary RAII holders below.
#include "codecs.hpp"

#include "convert.hpp"
#include "exif.hpp"
#include "formats.hpp"
#include "pipeline.hpp"
#include "plane_blur.hpp"
#include "probe.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "webp_convert.hpp"
#include "worker_thread.hpp"

#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

namespace bb {
namespace {

struct IDecoderDeleter {
    void operator()(WebPIDecoder *d) const noexcept { WebPIDelete(d); }
};
struct DemuxDeleter {
    void operator()(WebPDemuxer *d) const noexcept { WebPDemuxDelete(d); }
};
struct MuxDeleter {
    void operator()(WebPMux *m) const noexcept { WebPMuxDelete(m); }
};
struct Picture {
    WebPPicture picture{};
    bool initialised = false;
    ~Picture() {
        if (initialised)
            WebPPictureFree(&picture);
    }
};
struct MemoryWriter {
    WebPMemoryWriter writer{};
    MemoryWriter() { WebPMemoryWriterInit(&writer); }
    ~MemoryWriter() { WebPMemoryWriterClear(&writer); }
};
struct OwnedData {
    WebPData data{};
    ~OwnedData() { WebPDataClear(&data); }
};
struct AnimDecoderDeleter {
    void operator()(WebPAnimDecoder *d) const noexcept { WebPAnimDecoderDelete(d); }
};
struct AnimEncoderDeleter {
    void operator()(WebPAnimEncoder *e) const noexcept { WebPAnimEncoderDelete(e); }
};

[[noreturn]] void version_mismatch(const char *what) {
    throw Error(ErrorKind::Unsupported, what, "libwebp's version does not match the one bytea_blur was built with.");
}

[[noreturn]] void decode_failed(VP8StatusCode status) {
    switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY:
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp could not allocate memory to decode the image.");
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        throw Error(ErrorKind::Unsupported, "WebP feature not supported", "libwebp cannot decode this WebP file.");
    case VP8_STATUS_NOT_ENOUGH_DATA:
    case VP8_STATUS_SUSPENDED:
        throw Error(ErrorKind::InvalidData, "truncated WebP image", "The data ends before the image does.");
    default: throw Error(ErrorKind::InvalidData, "corrupt WebP image", "libwebp found the image data malformed.");
    }
}

// The payload of chunk fourcc (ICCP, EXIF), empty when the file has none.
std::vector<uint8_t> chunk_of(const WebPDemuxer *demux, const char *fourcc) {
    WebPChunkIterator it;
    std::vector<uint8_t> out;
    if (WebPDemuxGetChunk(demux, fourcc, 1, &it)) {
        out.assign(it.chunk.bytes, it.chunk.bytes + it.chunk.size);
        WebPDemuxReleaseChunkIterator(&it);
    }
    return out;
}

// The container's chunks (the demuxer reads their headers, not the bitstreams); throws
// InvalidData when they are malformed or cut short.
std::unique_ptr<WebPDemuxer, DemuxDeleter> open_container(const uint8_t *data, size_t size) {
    const WebPData whole = {data, size};
    WebPDemuxState state = WEBP_DEMUX_PARSE_ERROR;
    std::unique_ptr<WebPDemuxer, DemuxDeleter> demux(WebPDemuxPartial(&whole, &state));
    if (!demux || state == WEBP_DEMUX_PARSE_ERROR)
        throw Error(ErrorKind::InvalidData, "corrupt WebP image", "The WebP container's chunks are malformed.");
    if (state != WEBP_DEMUX_DONE)
        throw Error(ErrorKind::InvalidData, "truncated WebP image",
                    "The data ends inside the WebP container's chunks.");
    return demux;
}

// What the metadata policy keeps of a file: its ICC profile and its EXIF orientation.
void read_metadata(const WebPDemuxer *demux, WebpMeta *meta) {
    meta->icc = chunk_of(demux, "ICCP");
    const std::vector<uint8_t> exif = chunk_of(demux, "EXIF");
    meta->orientation = exif_orientation(exif.data(), exif.size());
}

// An encode (a still picture, or an animation's frames one by one), shared by the caller and
// the worker threads run_abandonable runs its steps on.
struct EncodeJob {
    Picture pic;
    MemoryWriter writer;
    int ok = 0;
    bool interrupted = false; // the hook ended the step
    std::shared_ptr<std::atomic<bool>> stop = std::make_shared<std::atomic<bool>>(false);
    InterruptPoll poll = nullptr;
    std::thread::id caller = std::this_thread::get_id();
    Image planes[3]; // the Y, U and V planes a picture from planes points to (WebpPlaneWriter)

    explicit EncodeJob(InterruptPoll p) : poll(p) {}
    // Initialises the picture and hooks it to this job.
    void init_picture() {
        if (!WebPPictureInit(&pic.picture))
            version_mismatch("could not encode WebP");
        pic.initialised = true;
        pic.picture.progress_hook = hook;
        pic.picture.user_data = this;
    }

  private:
    // libwebp's progress hook, between the encoder's steps (rows of macroblocks, passes of the
    // lossless encoder): ends the step once the caller has given up on it, and polls itself
    // only where no worker could be had (the caller's own thread runs the step).
    static int hook(int, const WebPPicture *picture) {
        auto *job = static_cast<EncodeJob *>(picture->user_data);
        if (job->stop->load() || (on_caller_thread(job->caller) && job->poll && job->poll())) {
            job->interrupted = true;
            return 0;
        }
        return 1;
    }
};

// Runs one step of job's encode on a worker thread (step captures what else it touches);
// throws Error(Interrupted) on a cancel, or when the hook ended the step.
void run_step(const std::shared_ptr<EncodeJob> &job, std::function<int()> step) {
    run_abandonable([job, step = std::move(step)] { job->ok = step(); }, job->poll, job->stop);
    if (job->interrupted)
        throw_interrupted();
}

// The encoded file (a bare bitstream, or with animation a whole animated WebP) with the
// metadata the policy keeps: the ICC profile, EXIF cut to its orientation tag, nothing else.
Buffer with_metadata(const uint8_t *encoded, size_t size, bool animation, const WebpMeta &meta) {
    if (meta.icc.empty() && meta.orientation == 0) {
        Buffer out(size);
        std::memcpy(out.data(), encoded, size);
        return out;
    }
    const WebPData bitstream = {encoded, size};
    std::unique_ptr<WebPMux, MuxDeleter> mux(animation ? WebPMuxCreate(&bitstream, 0) : WebPMuxNew());
    if (!mux)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp could not allocate its muxer.");
    if (!animation && WebPMuxSetImage(mux.get(), &bitstream, 0) != WEBP_MUX_OK)
        throw Error(ErrorKind::InvalidData, "could not encode WebP", "libwebp's muxer refused the encoded image.");
    if (!meta.icc.empty()) {
        const WebPData icc = {meta.icc.data(), meta.icc.size()};
        if (WebPMuxSetChunk(mux.get(), "ICCP", &icc, 0) != WEBP_MUX_OK)
            throw Error(ErrorKind::InvalidData, "could not encode WebP", "libwebp's muxer refused the ICC profile.");
    }
    const ExifOrientation exif_block(meta.orientation);
    if (meta.orientation != 0) {
        // WebP's EXIF chunk holds the TIFF structure itself, without JPEG's "Exif\0\0"
        const WebPData exif = {exif_block.bytes + 6, sizeof exif_block.bytes - 6};
        if (WebPMuxSetChunk(mux.get(), "EXIF", &exif, 0) != WEBP_MUX_OK)
            throw Error(ErrorKind::InvalidData, "could not encode WebP", "libwebp's muxer refused the EXIF chunk.");
    }
    OwnedData assembled;
    const WebPMuxError assembled_status = WebPMuxAssemble(mux.get(), &assembled.data);
    if (assembled_status == WEBP_MUX_MEMORY_ERROR)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp's muxer ran out of memory.");
    if (assembled_status != WEBP_MUX_OK)
        throw Error(ErrorKind::InvalidData, "could not encode WebP", "libwebp's muxer could not assemble the file.");
    Buffer out(assembled.data.size);
    std::memcpy(out.data(), assembled.data.bytes, assembled.data.size);
    return out;
}

// The configuration every frame of an encoded WebP gets: lossless (quality then the effort,
// libwebp's default 75) or lossy at quality; method 4, libwebp's default trade of time for
// bytes; the colour under fully transparent pixels not kept. A lossy picture blurred all over
// (meta.whole_blur) is one segment, one quantiser: libwebp's default four segments shape the
// quantisers to the texture of each region (its spatial noise shaping), which a blur has
// evened out. On seven photographs as WebP at quality 90 (Pillow), blurred at sigma 5 and
// encoded at 75: 8-14 % less encoding time, 0.2-0.8 dB more PSNR against the blurred
// picture, bytes -7 % to +2 % (test/bench/webp_encoder.cpp).
WebPConfig encoder_config(const WebpMeta &meta, int quality) {
    WebPConfig config;
    if (!WebPConfigInit(&config))
        version_mismatch("could not encode WebP");
    config.lossless = meta.lossless ? 1 : 0;
    config.quality = meta.lossless ? 75.0f : float(quality);
    config.method = 4;
    config.exact = 0;
    if (meta.whole_blur && !meta.lossless)
        config.segments = 1;
    if (!WebPValidateConfig(&config))
        throw Error(ErrorKind::InvalidParameter, "could not encode WebP", "libwebp refused its configuration.");
    return config;
}

// A decoder's output in mode, in memory the caller owns, for a picture of image's size.
WebPDecBuffer output_buffer(WEBP_CSP_MODE mode, const Image &image) {
    WebPDecBuffer output;
    if (!WebPInitDecBuffer(&output))
        version_mismatch("could not decode WebP");
    output.colorspace = mode;
    output.is_external_memory = 1;
    output.width = int(image.width);
    output.height = int(image.height);
    return output;
}

// Decodes a still image into output, kWebpPieceBytes of the file at a time with a check for a
// cancel between two: libwebp decodes the rows that each piece completes.
void decode_in_pieces(WebPDecBuffer *output, const uint8_t *data, size_t size, InterruptPoll poll) {
    std::unique_ptr<WebPIDecoder, IDecoderDeleter> decoder(WebPINewDecoder(output));
    if (!decoder)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp could not allocate its decoder.");
    VP8StatusCode status = VP8_STATUS_SUSPENDED;
    for (size_t given = 0; given < size && status == VP8_STATUS_SUSPENDED;) {
        if (poll && poll())
            throw_interrupted();
        given += std::min(kWebpPieceBytes, size - given);
        status = WebPIUpdate(decoder.get(), data, given);
    }
    if (status != VP8_STATUS_OK)
        decode_failed(status);
}

// The size of a VP8 chroma plane along an axis of `luma` samples: 4:2:0, half, rounded up.
constexpr uint32_t vp8_chroma(uint32_t luma) noexcept {
    return (luma + 1) / 2;
}

// An 8-bit plane of width x height samples.
Image plane_of(uint32_t width, uint32_t height) {
    Image plane;
    plane.width = width;
    plane.height = height;
    plane.channels = 1;
    plane.depth = 8;
    plane.allocate();
    return plane;
}

// A lossy WebP's planes as VP8 stores them: Y at full size, U and V at 4:2:0 (each sample the
// middle of a 2x2 block, as JFIF's), in VP8's limited-range codes. Decoded whole into planes
// the reader owns (half the memory of RGB pixels), then handed out 16 luma rows and 8 chroma
// rows at a time, as a 4:2:0 JPEG's iMCU rows are.
class WebpYuvReader final : public PlaneSource {
  public:
    WebpYuvReader(const uint8_t *data, size_t size, const ImageInfo &info, InterruptPoll poll) {
        for (int c = 0; c < 3; c++)
            planes_[c] =
                c == 0 ? plane_of(info.width, info.height) : plane_of(vp8_chroma(info.width), vp8_chroma(info.height));
        WebPDecBuffer output = output_buffer(MODE_YUV, planes_[0]);
        WebPYUVABuffer &yuv = output.u.YUVA;
        yuv.y = planes_[0].pixels.data();
        yuv.y_stride = int(planes_[0].stride());
        yuv.y_size = planes_[0].pixels.size();
        yuv.u = planes_[1].pixels.data();
        yuv.u_stride = int(planes_[1].stride());
        yuv.u_size = planes_[1].pixels.size();
        yuv.v = planes_[2].pixels.data();
        yuv.v_stride = int(planes_[2].stride());
        yuv.v_size = planes_[2].pixels.size();
        decode_in_pieces(&output, data, size, poll);
    }

    int components() const noexcept override { return 3; }
    uint32_t plane_width(int c) const noexcept override { return planes_[c].width; }
    uint32_t plane_height(int c) const noexcept override { return planes_[c].height; }
    double step_x(int c) const noexcept override { return c == 0 ? 1.0 : 2.0; }
    double step_y(int c) const noexcept override { return c == 0 ? 1.0 : 2.0; }
    bool next() override {
        if (uint64_t(band_) * kBandRows >= planes_[0].height)
            return false;
        band_++;
        return true;
    }
    uint32_t row_count(int c) const noexcept override {
        const uint32_t first = first_row(c), height = planes_[c].height;
        return first >= height ? 0 : std::min(band_rows(c), height - first);
    }
    const uint8_t *row(int c, uint32_t r) const noexcept override { return planes_[c].row(first_row(c) + r); }

  private:
    static constexpr uint32_t kBandRows = 16; // luma rows a band
    static uint32_t band_rows(int c) noexcept { return c == 0 ? kBandRows : kBandRows / 2; }
    uint32_t first_row(int c) const noexcept { return (band_ - 1) * band_rows(c); }

    Image planes_[3];
    uint32_t band_ = 0; // bands handed out so far; the current one is band_ - 1
};

} // namespace

Image decode_webp(const uint8_t *data, size_t size, const DecodeOptions &options, WebpMeta *meta) {
    const ImageInfo info = probe(data, size);
    if (info.format != Format::Webp)
        throw Error(ErrorKind::InvalidData, "not a WebP image", "The data does not start with a WebP header.");
    check_supported(info);
    if (info.webp_animated)
        throw Error(ErrorKind::Unsupported, "an animated WebP has no single image",
                    "Its frames are blurred one by one into a WebP animation (transform_webp_animation).");
    check_pixel_limit(info.width, info.height, options.max_pixels);

    // Metadata chunks, from the container; the demuxer reads only the chunk headers.
    WebpMeta m;
    m.lossless = info.webp_lossless;
    read_metadata(open_container(data, size).get(), &m);

    Image image;
    image.width = info.width;
    image.height = info.height;
    image.channels = info.channels;
    image.depth = 8;
    image.alpha_channel = info.channels == 4 ? 3 : -1;
    image.allocate();

    // Decoded into the image's own rows.
    WebPDecBuffer output = output_buffer(image.channels == 4 ? MODE_RGBA : MODE_RGB, image);
    output.u.RGBA.rgba = image.pixels.data();
    output.u.RGBA.stride = int(image.stride());
    output.u.RGBA.size = image.pixels.size();
    decode_in_pieces(&output, data, size, options.poll);
    if (meta)
        *meta = std::move(m);
    return image;
}

// libwebp's import has no hook and takes 6-40 ms on a 4-megapixel picture on an idle core here
// (the conversion to YUV; several times that on a loaded machine, and 25 times that at the
// 100-megapixel limit). It converts two rows at a time, each pair on its own (the 4:2:0 chroma
// of a pair is the mean of its 2x2 blocks), except for one decision over the whole picture:
// whether it has alpha at all (WEBP_YUV420A). A pair without transparency is converted the same
// either way, so strips of kPollRows (even) rows give the picture one call gives once that
// decision is made here, for the whole.
bool import_in_strips(WebPPicture &picture, const Image &image, InterruptPoll poll) {
    const bool rgba = image.channels == 4;
    const uint32_t width = image.width;
    bool transparent = false;
    if (rgba && !picture.use_argb)
        for (uint32_t y = 0; y < image.height && !transparent; y++) {
            const uint8_t *row = image.row(y);
            for (uint32_t x = 0; x < width; x++)
                if (row[size_t(x) * 4 + 3] != 0xff) {
                    transparent = true;
                    break;
                }
            poll_every_rows(y, poll);
        }
    picture.colorspace = transparent ? WEBP_YUV420A : WEBP_YUV420;
    if (!WebPPictureAlloc(&picture))
        return false;
    for (uint32_t y = 0; y < image.height; y += kPollRows) {
        const uint32_t rows = std::min(kPollRows, image.height - y);
        Picture strip;
        if (!WebPPictureInit(&strip.picture))
            version_mismatch("could not encode WebP");
        strip.initialised = true;
        strip.picture.use_argb = picture.use_argb;
        strip.picture.width = int(width);
        strip.picture.height = int(rows);
        const int stride = int(image.stride());
        if (!(rgba ? WebPPictureImportRGBA(&strip.picture, image.row(y), stride)
                   : WebPPictureImportRGB(&strip.picture, image.row(y), stride)))
            return false;
        const WebPPicture &from = strip.picture;
        const auto copy = [](uint8_t *to, int to_stride, const uint8_t *in, int in_stride, uint32_t n, size_t bytes) {
            for (uint32_t r = 0; r < n; r++)
                std::memcpy(to + size_t(r) * to_stride, in + size_t(r) * in_stride, bytes);
        };
        if (picture.use_argb) {
            copy(reinterpret_cast<uint8_t *>(picture.argb + size_t(y) * picture.argb_stride), picture.argb_stride * 4,
                 reinterpret_cast<const uint8_t *>(from.argb), from.argb_stride * 4, rows, size_t(width) * 4);
        } else {
            const uint32_t uv_width = vp8_chroma(width), uv_rows = vp8_chroma(rows);
            copy(picture.y + size_t(y) * picture.y_stride, picture.y_stride, from.y, from.y_stride, rows, width);
            copy(picture.u + size_t(y / 2) * picture.uv_stride, picture.uv_stride, from.u, from.uv_stride, uv_rows,
                 uv_width);
            copy(picture.v + size_t(y / 2) * picture.uv_stride, picture.uv_stride, from.v, from.uv_stride, uv_rows,
                 uv_width);
            if (transparent) {
                for (uint32_t r = 0; r < rows; r++) {
                    uint8_t *to = picture.a + size_t(y + r) * picture.a_stride;
                    if (from.a)
                        std::memcpy(to, from.a + size_t(r) * from.a_stride, width);
                    else
                        std::memset(to, 0xff, width); // an opaque strip: libwebp kept no alpha for it
                }
            }
        }
        if (poll && poll())
            throw_interrupted();
    }
    return true;
}

namespace {

// Encodes the job's picture (filled, its size set) with config on a worker thread and returns
// the file with meta's metadata. The encoder's progress steps are far apart on large pictures
// (hundreds of ms, lossless or with alpha), so it runs on a worker thread (run_abandonable)
// while this one polls; on a cancel the hook sees stop and ends the encode at its next step, on
// memory the job owns. threads 2 lets libwebp start its own second thread (thread_level 1: the
// analysis beside the encoding, the same bytes) from the worker, whose signals are blocked;
// never from the caller's thread, which runs the step where no worker could be had.
Buffer encode_picture(const std::shared_ptr<EncodeJob> &job, WebPConfig config, const WebpMeta &meta, int threads) {
    Picture &pic = job->pic;
    pic.picture.writer = WebPMemoryWrite;
    pic.picture.custom_ptr = &job->writer.writer;
    run_step(job, [job, config, threads]() mutable {
        config.thread_level = threads > 1 && !on_caller_thread(job->caller) ? 1 : 0;
        return WebPEncode(&config, &job->pic.picture);
    });
    if (!job->ok) {
        if (pic.picture.error_code == VP8_ENC_ERROR_OUT_OF_MEMORY ||
            pic.picture.error_code == VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY)
            throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp ran out of memory while encoding.");
        throw Error(ErrorKind::InvalidData, "could not encode WebP",
                    "libwebp's encoder failed (error " + std::to_string(int(pic.picture.error_code)) + ").");
    }
    return with_metadata(job->writer.writer.mem, job->writer.writer.size, false, meta);
}

// WebP's sampling as a JPEG's layout: luma 2x2 over chroma 1x1 (4:2:0), or one grey plane.
JpegLayout yuv420_layout(const PlaneImage &image) {
    JpegMeta sampling;
    sampling.components = image.components;
    sampling.h_samp[0] = sampling.v_samp[0] = image.components == 3 ? 2 : 1;
    return jpeg_layout(image.width, image.height, sampling);
}

// The blurred planes are written straight into the encoder's picture: planes the job owns,
// padded to whole steps of rows (libwebp reads width x height of them through their stride).
class WebpPlaneWriter final : public PlaneSink {
  public:
    WebpPlaneWriter(const PlaneImage &image, const BlurOptions &options)
        : job_(std::make_shared<EncodeJob>(options.poll)), quality_(options.quality), threads_(options.threads),
          orientation_(image.orientation_as_tag ? 0 : image.orientation), limited_range_(image.limited_range),
          poll_(options.poll), layout_(yuv420_layout(image)) {
        meta_.icc = image.icc;
        meta_.whole_blur = true;
        if (image.orientation_as_tag)
            meta_.orientation = image.orientation;
        for (int c = 0; c < 3; c++) {
            Image &plane = job_->planes[c];
            if (c < image.components) {
                plane = plane_of(layout_.padded_width[c], layout_.padded_height[c]);
            } else { // grey: chroma planes of 128, VP8's neutral code, at 4:2:0
                plane = plane_of(vp8_chroma(image.width), vp8_chroma(image.height));
                std::memset(plane.pixels.data(), 128, plane.pixels.size());
            }
        }
        steps_ = (layout_.padded_height[0] + rows_per_step(0) - 1) / rows_per_step(0);
    }

    const JpegLayout &layout() const noexcept override { return layout_; }
    uint32_t rows_per_step(int c) const noexcept override {
        return uint32_t(c == 0 && layout_.components == 3 ? 16 : 8);
    }
    uint8_t *row(int c, uint32_t r) noexcept override { return job_->planes[c].row(step_ * rows_per_step(c) + r); }
    // VP8's codes for JFIF's full-range samples: the same BT.601 matrix in the limited range,
    // Y 16-235 (219 steps), chroma 16-240 around 128 (224 steps). A WebP's own are VP8's.
    SampleMap sample_map(int c) const noexcept override {
        SampleMap map;
        if (limited_range_)
            return map;
        map.scale = (c == 0 ? 219.0f : 224.0f) / 255.0f;
        map.offset = c == 0 ? 16.0f : 128.0f - 128.0f * map.scale;
        return map;
    }
    bool done() const noexcept override { return step_ >= steps_; }
    void write() override { step_++; }
    Buffer finish() override {
        if (!done())
            throw std::logic_error("WebpPlaneWriter: finish before every row");
        uint32_t width = layout_.width, height = layout_.height;
        if (orientation_ >= 2) { // the planes cut to the picture, then turned
            for (int c = 0; c < 3; c++) {
                Image &plane = job_->planes[c];
                const uint32_t w = c == 0 ? width : vp8_chroma(width), h = c == 0 ? height : vp8_chroma(height);
                if (plane.width != w || plane.height != h) {
                    Image cut = plane_of(w, h);
                    for (uint32_t y = 0; y < h; y++)
                        std::memcpy(cut.row(y), plane.row(y), w);
                    plane = std::move(cut);
                }
                apply_orientation(plane, orientation_, poll_);
            }
            width = job_->planes[0].width;
            height = job_->planes[0].height;
        }
        job_->init_picture();
        WebPPicture &picture = job_->pic.picture;
        picture.use_argb = 0;
        picture.colorspace = WEBP_YUV420;
        picture.width = int(width);
        picture.height = int(height);
        // libwebp encodes from planes its caller owns (as WebPPictureView's); the job owns them
        picture.y = job_->planes[0].pixels.data();
        picture.y_stride = int(job_->planes[0].stride());
        picture.u = job_->planes[1].pixels.data();
        picture.v = job_->planes[2].pixels.data();
        picture.uv_stride = int(job_->planes[1].stride());
        return encode_picture(job_, encoder_config(meta_, quality_), meta_, threads_);
    }

  private:
    std::shared_ptr<EncodeJob> job_;
    int quality_, threads_, orientation_;
    bool limited_range_;
    InterruptPoll poll_;
    WebpMeta meta_;
    JpegLayout layout_;
    uint32_t step_ = 0, steps_ = 0;
};

} // namespace

Buffer encode_webp(const Image &image, const WebpMeta &meta, int quality, InterruptPoll poll, int threads) {
    if (image.depth != 8 || (image.channels != 3 && image.channels != 4))
        throw Error(ErrorKind::InvalidParameter, "could not encode WebP", "WebP holds 8-bit RGB or RGBA pixels.");
    // Lossless in, lossless out; lossy in, lossy out at quality.
    const WebPConfig config = encoder_config(meta, quality);

    const auto job = std::make_shared<EncodeJob>(poll);
    job->init_picture();
    Picture &pic = job->pic;
    pic.picture.use_argb = meta.lossless ? 1 : 0;
    pic.picture.width = int(image.width);
    pic.picture.height = int(image.height);
    if (!import_in_strips(pic.picture, image, poll))
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp could not allocate the picture to encode.");
    return encode_picture(job, config, meta, threads);
}

std::unique_ptr<PlaneSink> webp_plane_writer(const PlaneImage &image, const BlurOptions &options) {
    const ReversedAxes reversed = reversed_axes(image.orientation_as_tag ? 0 : image.orientation);
    if (image.components == 3 && ((reversed.x && image.width % 2) || (reversed.y && image.height % 2)))
        return nullptr;
    return std::make_unique<WebpPlaneWriter>(image, options);
}

bool blur_webp_planes(const uint8_t *data, size_t size, const ImageInfo &info, const BlurOptions &options,
                      const DecodeOptions &decode, Buffer *out) {
    if (info.format != Format::Webp || info.webp_animated || info.webp_lossless || info.channels != 3 ||
        !planes_hold(info.width, info.height, options.sigma))
        return false;
    check_pixel_limit(info.width, info.height, decode.max_pixels);
    PlaneImage image;
    image.width = info.width;
    image.height = info.height;
    image.limited_range = true;
    image.orientation_as_tag = true;
    {
        WebpMeta meta;
        read_metadata(open_container(data, size).get(), &meta);
        image.icc = std::move(meta.icc);
        image.orientation = meta.orientation;
    }
    WebpYuvReader reader(data, size, info, decode.poll);
    const std::unique_ptr<PlaneSink> writer = webp_plane_writer(image, options);
    JpegMeta sampling; // VP8's 4:2:0, in and out
    sampling.components = 3;
    sampling.h_samp[0] = sampling.v_samp[0] = 2;
    *out = stream_planes(reader, sampling, sampling, options.sigma, *writer, options.poll);
    return true;
}

WebpAnimation read_webp_animation(const uint8_t *data, size_t size) {
    const std::unique_ptr<WebPDemuxer, DemuxDeleter> demux = open_container(data, size);
    WebpAnimation a;
    a.width = WebPDemuxGetI(demux.get(), WEBP_FF_CANVAS_WIDTH);
    a.height = WebPDemuxGetI(demux.get(), WEBP_FF_CANVAS_HEIGHT);
    a.frames = WebPDemuxGetI(demux.get(), WEBP_FF_FRAME_COUNT);
    a.loop_count = int(WebPDemuxGetI(demux.get(), WEBP_FF_LOOP_COUNT));
    a.background = WebPDemuxGetI(demux.get(), WEBP_FF_BACKGROUND_COLOR);
    if (a.frames == 0 || a.width == 0 || a.height == 0)
        throw Error(ErrorKind::InvalidData, "corrupt WebP image",
                    "The WebP animation has no frame or an empty canvas.");
    // lossless when every frame is
    a.meta.lossless = true;
    WebPIterator it;
    if (WebPDemuxGetFrame(demux.get(), 1, &it)) {
        do {
            WebPBitstreamFeatures features;
            if (WebPGetFeatures(it.fragment.bytes, it.fragment.size, &features) != VP8_STATUS_OK ||
                features.format != 2)
                a.meta.lossless = false;
        } while (WebPDemuxNextFrame(&it));
        WebPDemuxReleaseIterator(&it);
    }
    read_metadata(demux.get(), &a.meta);
    return a;
}

Buffer transform_webp_animation(const uint8_t *data, size_t size, const WebpAnimation &animation, int quality,
                                const std::function<void(Image &)> &transform, InterruptPoll poll) {
    WebPAnimDecoderOptions decoder_options;
    if (!WebPAnimDecoderOptionsInit(&decoder_options))
        version_mismatch("could not decode WebP");
    decoder_options.color_mode = MODE_RGBA; // not premultiplied: the blur premultiplies itself
    decoder_options.use_threads = 0;
    const WebPData whole = {data, size};
    std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter> decoder(WebPAnimDecoderNew(&whole, &decoder_options));
    if (!decoder)
        throw Error(ErrorKind::InvalidData, "corrupt WebP image", "libwebp cannot read the animation's frames.");

    WebPAnimEncoderOptions encoder_options;
    if (!WebPAnimEncoderOptionsInit(&encoder_options))
        version_mismatch("could not encode WebP");
    encoder_options.anim_params.loop_count = animation.loop_count;
    encoder_options.anim_params.bgcolor = animation.background;
    const std::shared_ptr<WebPAnimEncoder> encoder(
        WebPAnimEncoderNew(int(animation.width), int(animation.height), &encoder_options), AnimEncoderDeleter());
    if (!encoder)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp could not allocate its animation encoder.");
    const WebPConfig config = encoder_config(animation.meta, quality);

    Image frame;
    frame.width = animation.width;
    frame.height = animation.height;
    frame.channels = 4;
    frame.alpha_channel = 3;
    frame.allocate(); // once: every frame is a whole canvas
    // The encoder's steps run on worker threads, as a still picture's do (encode_webp).
    const auto job = std::make_shared<EncodeJob>(poll);
    job->init_picture();
    Picture &pic = job->pic;
    pic.picture.use_argb = 1;
    pic.picture.width = int(animation.width);
    pic.picture.height = int(animation.height);

    // Each frame as the animation shows it (the decoder composites the frames' rectangles,
    // blending and disposal onto the canvas), transformed, handed to the encoder with its start
    // time; the encoder finds each frame's changed rectangle and its blending again.
    int start = 0;
    for (uint32_t n = 0; WebPAnimDecoderHasMoreFrames(decoder.get()); n++) {
        if (poll && poll())
            throw_interrupted();
        uint8_t *canvas = nullptr;
        int end = 0;
        if (!WebPAnimDecoderGetNext(decoder.get(), &canvas, &end))
            throw Error(ErrorKind::InvalidData, "corrupt WebP image",
                        "libwebp cannot decode frame " + std::to_string(n + 1) + " of the animation.");
        std::memcpy(frame.pixels.data(), canvas, frame.pixels.size());
        transform(frame);
        if (!WebPPictureImportRGBA(&pic.picture, frame.row(0), int(frame.stride())))
            throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp could not allocate the picture to encode.");
        run_step(job, [job, encoder, start, config] {
            return WebPAnimEncoderAdd(encoder.get(), &job->pic.picture, start, &config);
        });
        if (!job->ok) {
            throw Error(ErrorKind::InvalidData, "could not encode WebP",
                        std::string("libwebp's animation encoder failed: ") + WebPAnimEncoderGetError(encoder.get()) +
                            ".");
        }
        start = end;
    }
    const auto assembled = std::make_shared<OwnedData>();
    run_step(job, [encoder, start, assembled] {
        return WebPAnimEncoderAdd(encoder.get(), nullptr, start, nullptr) &&
               WebPAnimEncoderAssemble(encoder.get(), &assembled->data);
    });
    if (!job->ok) {
        throw Error(ErrorKind::InvalidData, "could not encode WebP",
                    std::string("libwebp's animation encoder failed: ") + WebPAnimEncoderGetError(encoder.get()) + ".");
    }
    return with_metadata(assembled->data.bytes, assembled->data.size, true, animation.meta);
}

} // namespace bb
