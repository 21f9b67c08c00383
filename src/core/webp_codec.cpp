// WebP through libwebp: still images, lossy (VP8) and lossless (VP8L), with or without alpha.
// libwebp reports every failure by a status, never by longjmp, so its objects are owned by
// the ordinary RAII holders below.
#include "codecs.hpp"

#include "exif.hpp"
#include "probe.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

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

struct HookState {
    InterruptPoll poll;
    bool interrupted;
};

// libwebp's progress hook: polls for a cancel between the encoder's steps (rows of
// macroblocks, passes of the lossless encoder); 0 makes WebPEncode stop.
int progress_hook(int, const WebPPicture *picture) {
    auto *state = static_cast<HookState *>(picture->user_data);
    if (state->poll && state->poll()) {
        state->interrupted = true;
        return 0;
    }
    return 1;
}

} // namespace

Image decode_webp(const uint8_t *data, size_t size, const DecodeOptions &options, WebpMeta *meta) {
    const ImageInfo info = probe(data, size);
    if (info.format != Format::Webp)
        throw Error(ErrorKind::InvalidData, "not a WebP image", "The data does not start with a WebP header.");
    check_supported(info);
    check_pixel_limit(info.width, info.height, options.max_pixels);

    // Metadata chunks, from the container; the demuxer reads only the chunk headers.
    WebpMeta m;
    m.lossless = info.webp_lossless;
    {
        WebPData whole = {data, size};
        WebPDemuxState state = WEBP_DEMUX_PARSE_ERROR;
        std::unique_ptr<WebPDemuxer, DemuxDeleter> demux(WebPDemuxPartial(&whole, &state));
        if (!demux || state == WEBP_DEMUX_PARSE_ERROR)
            throw Error(ErrorKind::InvalidData, "corrupt WebP image", "The WebP container's chunks are malformed.");
        if (state != WEBP_DEMUX_DONE)
            throw Error(ErrorKind::InvalidData, "truncated WebP image",
                        "The data ends inside the WebP container's chunks.");
        m.icc = chunk_of(demux.get(), "ICCP");
        const std::vector<uint8_t> exif = chunk_of(demux.get(), "EXIF");
        m.orientation = exif_orientation(exif.data(), exif.size());
    }

    Image image;
    image.width = info.width;
    image.height = info.height;
    image.channels = info.channels;
    image.depth = 8;
    image.alpha_channel = info.channels == 4 ? 3 : -1;
    image.allocate();

    // Decoded into the image's own rows, kWebpPieceBytes of the file at a time with a check
    // for a cancel between two: libwebp decodes the rows that each piece completes.
    WebPDecBuffer output;
    if (!WebPInitDecBuffer(&output))
        throw Error(ErrorKind::Unsupported, "could not decode WebP",
                    "libwebp's decoder version does not match the one bytea_blur was built with.");
    output.colorspace = image.channels == 4 ? MODE_RGBA : MODE_RGB;
    output.is_external_memory = 1;
    output.width = int(image.width);
    output.height = int(image.height);
    output.u.RGBA.rgba = image.pixels.data();
    output.u.RGBA.stride = int(image.stride());
    output.u.RGBA.size = image.pixels.size();
    std::unique_ptr<WebPIDecoder, IDecoderDeleter> decoder(WebPINewDecoder(&output));
    if (!decoder)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp could not allocate its decoder.");
    VP8StatusCode status = VP8_STATUS_SUSPENDED;
    for (size_t given = 0; given < size && status == VP8_STATUS_SUSPENDED;) {
        if (options.poll && options.poll())
            throw_interrupted();
        given += std::min(kWebpPieceBytes, size - given);
        status = WebPIUpdate(decoder.get(), data, given);
    }
    if (status != VP8_STATUS_OK)
        decode_failed(status);
    if (meta)
        *meta = std::move(m);
    return image;
}

Buffer encode_webp(const Image &image, const WebpMeta &meta, int quality, InterruptPoll poll) {
    if (image.depth != 8 || (image.channels != 3 && image.channels != 4))
        throw Error(ErrorKind::InvalidParameter, "could not encode WebP", "WebP holds 8-bit RGB or RGBA pixels.");
    WebPConfig config;
    if (!WebPConfigInit(&config))
        throw Error(ErrorKind::Unsupported, "could not encode WebP",
                    "libwebp's encoder version does not match the one bytea_blur was built with.");
    // Lossless in, lossless out (quality is then the effort, libwebp's default 75); lossy in,
    // lossy out at quality. method 4 is libwebp's default trade of time for bytes.
    config.lossless = meta.lossless ? 1 : 0;
    config.quality = meta.lossless ? 75.0f : float(quality);
    config.method = 4;
    config.exact = 0; // the colour under fully transparent pixels need not be kept
    if (!WebPValidateConfig(&config))
        throw Error(ErrorKind::InvalidParameter, "could not encode WebP", "libwebp refused its configuration.");

    Picture pic;
    if (!WebPPictureInit(&pic.picture))
        throw Error(ErrorKind::Unsupported, "could not encode WebP",
                    "libwebp's encoder version does not match the one bytea_blur was built with.");
    pic.initialised = true;
    pic.picture.use_argb = meta.lossless ? 1 : 0;
    pic.picture.width = int(image.width);
    pic.picture.height = int(image.height);
    const int imported = image.channels == 4 ? WebPPictureImportRGBA(&pic.picture, image.row(0), int(image.stride()))
                                             : WebPPictureImportRGB(&pic.picture, image.row(0), int(image.stride()));
    if (!imported)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp could not allocate the picture to encode.");
    MemoryWriter writer;
    pic.picture.writer = WebPMemoryWrite;
    pic.picture.custom_ptr = &writer.writer;
    HookState hook{poll, false};
    pic.picture.progress_hook = progress_hook;
    pic.picture.user_data = &hook;
    if (!WebPEncode(&config, &pic.picture)) {
        if (hook.interrupted || pic.picture.error_code == VP8_ENC_ERROR_USER_ABORT)
            throw_interrupted();
        if (pic.picture.error_code == VP8_ENC_ERROR_OUT_OF_MEMORY ||
            pic.picture.error_code == VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY)
            throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp ran out of memory while encoding.");
        throw Error(ErrorKind::InvalidData, "could not encode WebP",
                    "libwebp's encoder failed (error " + std::to_string(int(pic.picture.error_code)) + ").");
    }
    if (poll && poll())
        throw_interrupted();

    // The metadata policy: the ICC profile kept, EXIF cut to its orientation tag, nothing else.
    if (meta.icc.empty() && meta.orientation == 0) {
        Buffer out(writer.writer.size);
        std::memcpy(out.data(), writer.writer.mem, writer.writer.size);
        return out;
    }
    std::unique_ptr<WebPMux, MuxDeleter> mux(WebPMuxNew());
    if (!mux)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libwebp could not allocate its muxer.");
    const WebPData bitstream = {writer.writer.mem, writer.writer.size};
    if (WebPMuxSetImage(mux.get(), &bitstream, 0) != WEBP_MUX_OK)
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

} // namespace bb
