// libjpeg-turbo glue. Each libjpeg call runs inside one of the run_* functions below, which
// hold the setjmp, own no C++ object and report failure through JpegJob::status.
#include "codecs.hpp"
#include "probe.hpp"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>

#include <jpeglib.h>
#include <jerror.h>

namespace bb {
namespace {

enum class Status { Ok, Failed, Interrupted };

struct ErrorManager {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
    int msg_code;
    char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error_exit(j_common_ptr cinfo) {
    auto *err = reinterpret_cast<ErrorManager *>(cinfo->err);
    err->msg_code = err->pub.msg_code;
    err->pub.format_message(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

// Warnings that mean the pixels are not what the file intended are fatal: a truncated or
// corrupt image must be an error, never a half-grey result.
void on_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0)
        return; // trace messages
    switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_TOO_MUCH_DATA: on_error_exit(cinfo);
    default: cinfo->err->num_warnings++;
    }
}

void on_output_message(j_common_ptr) {}

void init_error_manager(ErrorManager *err) {
    jpeg_std_error(&err->pub);
    err->pub.error_exit = on_error_exit;
    err->pub.emit_message = on_emit_message;
    err->pub.output_message = on_output_message;
    err->msg_code = 0;
    err->message[0] = '\0';
}

[[noreturn]] void throw_jpeg_error(const ErrorManager &err, bool decoding) {
    if (err.msg_code == JERR_OUT_OF_MEMORY)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libjpeg could not allocate its working memory.");
    if (decoding)
        throw Error(ErrorKind::InvalidData, "corrupt JPEG data", std::string("libjpeg: ") + err.message + ".");
    throw Error(ErrorKind::InvalidData, "could not encode JPEG", std::string("libjpeg: ") + err.message + ".");
}

// ---- decoding ----------------------------------------------------------------------------

struct DecodeJob {
    jpeg_decompress_struct cinfo;
    ErrorManager err;
    bool created;
    const uint8_t *data;
    size_t size;
    uint8_t *pixels; // set by the caller between the two phases
    size_t row_bytes;
    InterruptPoll poll;
    JOCTET *icc; // malloc'd by jpeg_read_icc_profile
    unsigned int icc_size;
    // raw (planar) decoding
    int scale_denom;        // 0: interleaved decoding
    JSAMPARRAY raw_rows[4]; // one iMCU row of each component, set by the caller
    jpeg_progress_mgr progress;
    bool interrupted; // the progress monitor saw an interrupt and jumped out
};

// libjpeg calls this between iMCU rows, also where no row reaches us: a progressive or
// multi-scan file is read whole into coefficients inside jpeg_start_decompress (155 ms for a
// 15 MP photo here). An interrupt leaves libjpeg the way its errors do, by the jump back to
// the run_* function, which reports Status::Interrupted.
void on_progress(j_common_ptr cinfo) {
    auto *job = static_cast<DecodeJob *>(cinfo->client_data);
    if (job->poll && job->poll()) {
        job->interrupted = true;
        std::longjmp(job->err.jump, 1);
    }
}

Status run_read_header(DecodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    jpeg_create_decompress(&job->cinfo);
    job->created = true;
    job->cinfo.client_data = job;
    job->cinfo.progress = &job->progress;
    jpeg_mem_src(&job->cinfo, job->data, static_cast<unsigned long>(job->size));
    jpeg_save_markers(&job->cinfo, JPEG_APP0 + 1, 0xffff); // EXIF, for the orientation
    jpeg_save_markers(&job->cinfo, JPEG_APP0 + 2, 0xffff); // ICC profile chunks
    jpeg_read_header(&job->cinfo, TRUE);
    // Keep the file's colour space: blurring is linear, so no conversion is needed.
    job->cinfo.out_color_space = job->cinfo.jpeg_color_space;
    if (job->scale_denom) {
        job->cinfo.raw_data_out = TRUE;
        job->cinfo.scale_num = 1;
        job->cinfo.scale_denom = static_cast<unsigned>(job->scale_denom);
        job->cinfo.do_block_smoothing = FALSE;
    }
    jpeg_calc_output_dimensions(&job->cinfo);
    if (!jpeg_read_icc_profile(&job->cinfo, &job->icc, &job->icc_size)) {
        job->icc = nullptr;
        job->icc_size = 0;
    }
    return Status::Ok;
}

Status run_read_pixels(DecodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    j_decompress_ptr cinfo = &job->cinfo;
    jpeg_start_decompress(cinfo);
    JSAMPROW rows[16];
    while (cinfo->output_scanline < cinfo->output_height) {
        if (job->poll && job->poll())
            return Status::Interrupted;
        const JDIMENSION y = cinfo->output_scanline;
        JDIMENSION n = cinfo->output_height - y;
        if (n > 16)
            n = 16;
        for (JDIMENSION i = 0; i < n; i++)
            rows[i] = job->pixels + job->row_bytes * (y + i);
        jpeg_read_scanlines(cinfo, rows, n);
    }
    jpeg_finish_decompress(cinfo);
    return Status::Ok;
}

Status run_start_raw(DecodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    jpeg_start_decompress(&job->cinfo);
    return Status::Ok;
}

// Decodes the next iMCU row of raw component data into raw_rows.
Status run_read_imcu(DecodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    j_decompress_ptr cinfo = &job->cinfo;
    jpeg_read_raw_data(cinfo, job->raw_rows, JDIMENSION(cinfo->max_v_samp_factor * cinfo->min_DCT_scaled_size));
    return Status::Ok;
}

// After the last row: reads the rest of the file up to its end marker.
Status run_finish_decompress(DecodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    jpeg_finish_decompress(&job->cinfo);
    return Status::Ok;
}

// Turns what a run_* function returned into the exception it stands for.
void check_decode(Status status, const DecodeJob &job) {
    if (status == Status::Interrupted)
        throw_interrupted();
    if (status != Status::Ok)
        throw_jpeg_error(job.err, true);
}

// Owns the libjpeg state across the phases so that every path, thrown or not, frees it.
struct DecodeGuard {
    DecodeJob *job;
    ~DecodeGuard() {
        if (job->created)
            jpeg_destroy_decompress(&job->cinfo);
        std::free(job->icc);
    }
};

uint32_t tiff_u32(const uint8_t *p, bool big) {
    return big ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
               : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
}
uint16_t tiff_u16(const uint8_t *p, bool big) {
    return big ? uint16_t(p[0] << 8 | p[1]) : uint16_t(p[1] << 8 | p[0]);
}

// Reads the orientation tag (0x0112) of IFD0 from an EXIF APP1 payload; 0 when absent.
int exif_orientation(const uint8_t *p, size_t n) {
    if (n < 14 || std::memcmp(p, "Exif\0\0", 6) != 0)
        return 0;
    const uint8_t *tiff = p + 6;
    const size_t len = n - 6;
    bool big;
    if (!std::memcmp(tiff, "MM\0*", 4))
        big = true;
    else if (!std::memcmp(tiff, "II*\0", 4))
        big = false;
    else
        return 0;
    const uint32_t ifd = tiff_u32(tiff + 4, big);
    if (ifd > len || len - ifd < 2)
        return 0;
    const unsigned count = tiff_u16(tiff + ifd, big);
    for (unsigned i = 0; i < count; i++) {
        const size_t entry = size_t(ifd) + 2 + size_t(i) * 12;
        if (entry + 12 > len)
            return 0;
        if (tiff_u16(tiff + entry, big) == 0x0112 && tiff_u16(tiff + entry + 2, big) == 3) {
            const int value = tiff_u16(tiff + entry + 8, big);
            return value >= 1 && value <= 8 ? value : 0;
        }
    }
    return 0;
}

// ---- encoding ----------------------------------------------------------------------------

// The compressed output, in a buffer this code owns. libjpeg's own jpeg_mem_dest records a
// reallocated buffer only when compression finishes, so after an error or an interrupt the
// caller would free the first, already freed, buffer and leak the current one.
struct MemoryDestination {
    jpeg_destination_mgr pub;
    JOCTET *buffer; // malloc'd; always the current buffer
    size_t capacity;
    size_t size; // set when compression finishes
};

void init_memory_destination(j_compress_ptr) {}

boolean grow_memory_destination(j_compress_ptr cinfo) {
    auto *dest = reinterpret_cast<MemoryDestination *>(cinfo->dest);
    const size_t used = dest->capacity; // called when the whole buffer is full
    auto *grown = static_cast<JOCTET *>(std::realloc(dest->buffer, used * 2));
    if (!grown)
        ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 10);
    dest->buffer = grown;
    dest->capacity = used * 2;
    dest->pub.next_output_byte = grown + used;
    dest->pub.free_in_buffer = dest->capacity - used;
    return TRUE;
}

void term_memory_destination(j_compress_ptr cinfo) {
    auto *dest = reinterpret_cast<MemoryDestination *>(cinfo->dest);
    dest->size = dest->capacity - dest->pub.free_in_buffer;
}

// Hands the finished output over: the caller's Buffer owns it, the job's guard no longer does.
Buffer take_output(MemoryDestination &dest) {
    Buffer out;
    out.adopt(dest.buffer, dest.size);
    dest.buffer = nullptr;
    return out;
}

struct EncodeJob {
    jpeg_compress_struct cinfo;
    ErrorManager err;
    bool created;
    const Image *image;
    const JpegMeta *meta;
    int quality;
    InterruptPoll poll;
    const uint8_t *exif;
    unsigned exif_size;
    MemoryDestination dest;
    // raw (planar) encoding
    const JpegLayout *layout; // null: interleaved encoding
    JSAMPARRAY raw_rows[4];   // one iMCU row of each component, set by the caller
};

// Creates the compressor, sets it up like the decoded file and writes the headers. Called only
// from the run_* functions below, inside their setjmp.
void start_encode(EncodeJob *job) {
    j_compress_ptr cinfo = &job->cinfo;
    const JpegMeta &meta = *job->meta;
    const int components = job->layout ? job->layout->components : job->image->channels;
    jpeg_create_compress(cinfo);
    job->created = true;
    cinfo->dest = &job->dest.pub;
    cinfo->image_width = job->layout ? job->layout->width : job->image->width;
    cinfo->image_height = job->layout ? job->layout->height : job->image->height;
    cinfo->input_components = components;
    cinfo->in_color_space = static_cast<J_COLOR_SPACE>(meta.color_space);
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, job->quality, TRUE);
    // An unchanged colour space keeps the file's chroma subsampling.
    if (cinfo->jpeg_color_space == cinfo->in_color_space && cinfo->num_components == meta.components &&
        components > 1) {
        for (int c = 0; c < cinfo->num_components && c < 4; c++) {
            cinfo->comp_info[c].h_samp_factor = meta.h_samp[c];
            cinfo->comp_info[c].v_samp_factor = meta.v_samp[c];
        }
    }
    if (meta.has_jfif && cinfo->write_JFIF_header) {
        cinfo->density_unit = meta.density_unit;
        cinfo->X_density = meta.x_density;
        cinfo->Y_density = meta.y_density;
    }
    if (job->layout) {
        // Raw planes skip colour conversion: the file must be written in the colour space the
        // planes are in (an RGB JPEG would otherwise be relabelled YCbCr).
        jpeg_set_colorspace(cinfo, static_cast<J_COLOR_SPACE>(meta.color_space));
        jpeg_set_quality(cinfo, job->quality, TRUE);
        for (int c = 0; c < cinfo->num_components && c < 4 && components > 1; c++) {
            cinfo->comp_info[c].h_samp_factor = meta.h_samp[c];
            cinfo->comp_info[c].v_samp_factor = meta.v_samp[c];
        }
        cinfo->raw_data_in = TRUE;
    }
    jpeg_start_compress(cinfo, TRUE);
    if (job->exif_size)
        jpeg_write_marker(cinfo, JPEG_APP0 + 1, job->exif, job->exif_size);
    if (!meta.icc.empty())
        jpeg_write_icc_profile(cinfo, meta.icc.data(), static_cast<unsigned>(meta.icc.size()));
}

// Encodes interleaved pixels (the reference path).
Status run_encode(EncodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return Status::Failed;
    start_encode(job);
    j_compress_ptr cinfo = &job->cinfo;
    const Image &image = *job->image;
    JSAMPROW rows[16];
    while (cinfo->next_scanline < cinfo->image_height) {
        if (job->poll && job->poll())
            return Status::Interrupted;
        const JDIMENSION y = cinfo->next_scanline;
        JDIMENSION n = cinfo->image_height - y;
        if (n > 16)
            n = 16;
        for (JDIMENSION i = 0; i < n; i++)
            rows[i] = const_cast<JSAMPROW>(image.row(y + i));
        jpeg_write_scanlines(cinfo, rows, n);
    }
    jpeg_finish_compress(cinfo);
    return Status::Ok;
}

Status run_start_encode(EncodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return Status::Failed;
    start_encode(job);
    return Status::Ok;
}

// Encodes one iMCU row of raw component data from raw_rows.
Status run_write_imcu(EncodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return Status::Failed;
    j_compress_ptr cinfo = &job->cinfo;
    jpeg_write_raw_data(cinfo, job->raw_rows, JDIMENSION(cinfo->max_v_samp_factor * DCTSIZE));
    return Status::Ok;
}

Status run_finish_encode(EncodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return Status::Failed;
    jpeg_finish_compress(&job->cinfo);
    return Status::Ok;
}

struct EncodeGuard {
    EncodeJob *job;
    ~EncodeGuard() {
        if (job->created)
            jpeg_destroy_compress(&job->cinfo);
        std::free(job->dest.buffer);
    }
};

} // namespace

namespace {

// Reads the header (in raw mode when scale_denom is set), checks it and fills meta.
void read_header(DecodeJob &job, const DecodeOptions &options, JpegMeta *meta) {
    check_decode(run_read_header(&job), job);
    const jpeg_decompress_struct &ci = job.cinfo;
    if (ci.data_precision != 8)
        throw Error(ErrorKind::Unsupported, std::to_string(ci.data_precision) + "-bit JPEG is not supported",
                    "Only JPEG images with 8-bit samples can be processed.");
    if (ci.image_width == 0 || ci.image_height == 0)
        throw Error(ErrorKind::InvalidData, "invalid image dimensions", "The JPEG declares an empty image.");
    check_pixel_limit(ci.image_width, ci.image_height, options.max_pixels);
    switch (ci.jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
    case JCS_CMYK:
    case JCS_YCCK: break;
    default:
        throw Error(ErrorKind::Unsupported, "unsupported JPEG colour space",
                    "The JPEG's " + std::to_string(ci.num_components) + " components have no known colour space.");
    }
    meta->color_space = ci.jpeg_color_space;
    meta->components = ci.num_components;
    for (int c = 0; c < ci.num_components && c < 4; c++) {
        meta->h_samp[c] = ci.num_components > 1 ? ci.comp_info[c].h_samp_factor : 1;
        meta->v_samp[c] = ci.num_components > 1 ? ci.comp_info[c].v_samp_factor : 1;
    }
    if (job.icc)
        meta->icc.assign(job.icc, job.icc + job.icc_size);
    for (jpeg_saved_marker_ptr m = ci.marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && !meta->orientation)
            meta->orientation = exif_orientation(m->data, m->data_length);
    }
    meta->has_jfif = ci.saw_JFIF_marker;
    meta->density_unit = ci.density_unit;
    meta->x_density = ci.X_density;
    meta->y_density = ci.Y_density;
}

void init_decode_job(DecodeJob &job, const uint8_t *data, size_t size, InterruptPoll poll) {
    init_error_manager(&job.err);
    job.cinfo.err = &job.err.pub;
    job.data = data;
    job.size = size;
    job.poll = poll;
    job.progress.progress_monitor = on_progress;
    job.interrupted = false;
}

// A minimal EXIF block carrying the orientation alone: no thumbnail, no other tag.
struct ExifOrientation {
    uint8_t bytes[32] = {'E',  'x',  'i', 'f', 0, 0,                   // APP1 identifier
                         'M',  'M',  0,   42,  0, 0, 0, 8,             // big-endian TIFF header, IFD0 at 8
                         0,    1,                                      // one entry
                         0x01, 0x12, 0,   3,   0, 0, 0, 1, 0, 0, 0, 0, // orientation, SHORT, count 1
                         0,    0,    0,   0};                          // no next IFD
    explicit ExifOrientation(int orientation) { bytes[25] = static_cast<uint8_t>(orientation); }
};

// Sets up the job and its output buffer. exif must outlive the start of compression.
void prepare_encode_job(EncodeJob &job, const JpegMeta &meta, int quality, InterruptPoll poll,
                        const ExifOrientation &exif) {
    init_error_manager(&job.err);
    job.cinfo.err = &job.err.pub;
    job.meta = &meta;
    job.quality = quality;
    job.poll = poll;
    job.exif = exif.bytes;
    job.exif_size = meta.orientation ? sizeof exif.bytes : 0;
    job.dest.capacity = 65536;
    job.dest.buffer = static_cast<JOCTET *>(std::malloc(job.dest.capacity));
    if (!job.dest.buffer)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "No memory for the JPEG output buffer.");
    job.dest.pub.next_output_byte = job.dest.buffer;
    job.dest.pub.free_in_buffer = job.dest.capacity;
    job.dest.pub.init_destination = init_memory_destination;
    job.dest.pub.empty_output_buffer = grow_memory_destination;
    job.dest.pub.term_destination = term_memory_destination;
}

} // namespace

Image decode_jpeg(const uint8_t *data, size_t size, const DecodeOptions &options, JpegMeta *meta) {
    DecodeJob job{};
    init_decode_job(job, data, size, options.poll);
    DecodeGuard guard{&job};
    read_header(job, options, meta);

    const jpeg_decompress_struct &ci = job.cinfo;
    Image image;
    image.width = ci.output_width;
    image.height = ci.output_height;
    image.channels = ci.output_components;
    image.depth = 8;
    image.allocate();
    job.pixels = image.row(0);
    job.row_bytes = image.stride();

    check_decode(run_read_pixels(&job), job);
    return image;
}

// ---- streaming planes --------------------------------------------------------------------

struct JpegPlaneReader::State {
    DecodeJob job{};
    DecodeGuard guard{&job};
    // One iMCU row of each component, as libjpeg's raw interface hands it over.
    std::vector<uint8_t> buffers[4];
    std::vector<JSAMPROW> rows[4];
    // The geometry, copied: jpeg_finish_decompress frees libjpeg's component descriptions.
    uint32_t width[4] = {}, height[4] = {};
    double step_x[4] = {}, step_y[4] = {};
    uint32_t rows_per_imcu[4] = {};
    uint32_t imcu = 0;          // iMCU rows decoded
    uint32_t row_count[4] = {}; // of the last one, that belong to the image
    bool finished = false;
};

JpegPlaneReader::JpegPlaneReader(const uint8_t *data, size_t size, const DecodeOptions &options, int scale_denom,
                                 JpegMeta *meta)
    : state_(new State) {
    DecodeJob &job = state_->job;
    init_decode_job(job, data, size, options.poll);
    job.scale_denom = scale_denom;
    read_header(job, options, meta);
    check_decode(run_start_raw(&job), job);
    const jpeg_decompress_struct &ci = job.cinfo;
    for (int c = 0; c < ci.num_components; c++) {
        const jpeg_component_info &comp = ci.comp_info[c];
        const size_t stride = size_t(comp.width_in_blocks) * size_t(comp.DCT_scaled_size);
        const size_t count = size_t(comp.v_samp_factor) * size_t(comp.DCT_scaled_size);
        state_->buffers[c].resize(stride * count);
        state_->rows[c].resize(count);
        for (size_t r = 0; r < count; r++)
            state_->rows[c][r] = state_->buffers[c].data() + stride * r;
        job.raw_rows[c] = state_->rows[c].data();
        state_->width[c] = comp.downsampled_width;
        state_->height[c] = comp.downsampled_height;
        state_->step_x[c] = double(ci.max_h_samp_factor * DCTSIZE) / (comp.h_samp_factor * comp.DCT_scaled_size);
        state_->step_y[c] = double(ci.max_v_samp_factor * DCTSIZE) / (comp.v_samp_factor * comp.DCT_scaled_size);
        state_->rows_per_imcu[c] = uint32_t(count);
    }
}

JpegPlaneReader::~JpegPlaneReader() = default;

uint32_t JpegPlaneReader::width() const noexcept {
    return state_->job.cinfo.image_width;
}
uint32_t JpegPlaneReader::height() const noexcept {
    return state_->job.cinfo.image_height;
}
int JpegPlaneReader::components() const noexcept {
    return state_->job.cinfo.num_components;
}
uint32_t JpegPlaneReader::plane_width(int c) const noexcept {
    return state_->width[c];
}
uint32_t JpegPlaneReader::plane_height(int c) const noexcept {
    return state_->height[c];
}
double JpegPlaneReader::step_x(int c) const noexcept {
    return state_->step_x[c];
}
double JpegPlaneReader::step_y(int c) const noexcept {
    return state_->step_y[c];
}

bool JpegPlaneReader::next() {
    State &s = *state_;
    DecodeJob &job = s.job;
    if (s.finished)
        return false;
    const jpeg_decompress_struct &ci = job.cinfo;
    if (ci.output_scanline >= ci.output_height) {
        check_decode(run_finish_decompress(&job), job);
        s.finished = true;
        std::fill(std::begin(s.row_count), std::end(s.row_count), 0u);
        return false;
    }
    if (job.poll && job.poll())
        throw_interrupted();
    check_decode(run_read_imcu(&job), job);
    for (int c = 0; c < ci.num_components; c++) {
        const uint32_t rows = s.rows_per_imcu[c];
        const uint32_t first = s.imcu * rows;
        s.row_count[c] = first >= s.height[c] ? 0 : std::min(rows, s.height[c] - first);
    }
    s.imcu++;
    return true;
}

uint32_t JpegPlaneReader::row_count(int c) const noexcept {
    return state_->row_count[c];
}
const uint8_t *JpegPlaneReader::row(int c, uint32_t r) const noexcept {
    return state_->rows[c][r];
}

JpegLayout jpeg_layout(uint32_t width, uint32_t height, const JpegMeta &meta) {
    JpegLayout layout;
    layout.width = width;
    layout.height = height;
    layout.components = meta.components;
    int max_h = 1, max_v = 1;
    for (int c = 0; c < meta.components; c++) {
        max_h = std::max(max_h, meta.h_samp[c]);
        max_v = std::max(max_v, meta.v_samp[c]);
    }
    const uint32_t mcus_across = (width + uint32_t(max_h) * DCTSIZE - 1) / (uint32_t(max_h) * DCTSIZE);
    const uint32_t mcus_down = (height + uint32_t(max_v) * DCTSIZE - 1) / (uint32_t(max_v) * DCTSIZE);
    for (int c = 0; c < meta.components; c++) {
        const uint32_t h = uint32_t(meta.h_samp[c]), v = uint32_t(meta.v_samp[c]);
        layout.comp_width[c] = (width * h + uint32_t(max_h) - 1) / uint32_t(max_h);
        layout.comp_height[c] = (height * v + uint32_t(max_v) - 1) / uint32_t(max_v);
        layout.padded_width[c] = mcus_across * h * DCTSIZE;
        layout.padded_height[c] = mcus_down * v * DCTSIZE;
    }
    return layout;
}

Buffer encode_jpeg(const Image &image, const JpegMeta &meta, int quality, InterruptPoll poll) {
    EncodeJob job{};
    job.image = &image;
    const ExifOrientation exif(meta.orientation);
    EncodeGuard guard{&job};
    prepare_encode_job(job, meta, quality, poll, exif);
    const Status status = run_encode(&job);
    if (status == Status::Interrupted)
        throw_interrupted();
    if (status != Status::Ok)
        throw_jpeg_error(job.err, false);
    return take_output(job.dest);
}

struct JpegPlaneWriter::State {
    EncodeJob job{};
    EncodeGuard guard{&job};
    ExifOrientation exif{0};
    JpegLayout layout;
    JpegMeta meta;
    std::vector<uint8_t> buffers[4]; // one iMCU row of each component
    std::vector<JSAMPROW> rows[4];
    uint32_t imcu = 0, imcus = 0;
};

JpegPlaneWriter::JpegPlaneWriter(const JpegLayout &layout, const JpegMeta &meta, int quality) : state_(new State) {
    State &s = *state_;
    s.layout = layout;
    s.meta = meta;
    s.exif = ExifOrientation(meta.orientation);
    EncodeJob &job = s.job;
    job.layout = &s.layout;
    prepare_encode_job(job, s.meta, quality, nullptr, s.exif);
    for (int c = 0; c < layout.components; c++) {
        const size_t count = size_t(meta.v_samp[c]) * DCTSIZE;
        s.buffers[c].resize(size_t(layout.padded_width[c]) * count);
        s.rows[c].resize(count);
        for (size_t r = 0; r < count; r++)
            s.rows[c][r] = s.buffers[c].data() + size_t(layout.padded_width[c]) * r;
        job.raw_rows[c] = s.rows[c].data();
    }
    if (run_start_encode(&job) != Status::Ok)
        throw_jpeg_error(job.err, false);
    s.imcu = 0;
    s.imcus = layout.components ? layout.padded_height[0] / (uint32_t(meta.v_samp[0]) * DCTSIZE) : 0;
}

JpegPlaneWriter::~JpegPlaneWriter() = default;

uint32_t JpegPlaneWriter::rows_per_step(int c) const noexcept {
    return uint32_t(state_->meta.v_samp[c]) * DCTSIZE;
}
uint8_t *JpegPlaneWriter::row(int c, uint32_t r) noexcept {
    return state_->rows[c][r];
}
bool JpegPlaneWriter::done() const noexcept {
    return state_->imcu >= state_->imcus;
}

void JpegPlaneWriter::write() {
    if (done())
        throw std::logic_error("JpegPlaneWriter: more rows written than the image has");
    if (run_write_imcu(&state_->job) != Status::Ok)
        throw_jpeg_error(state_->job.err, false);
    state_->imcu++;
}

Buffer JpegPlaneWriter::finish() {
    EncodeJob &job = state_->job;
    if (!done())
        throw std::logic_error("JpegPlaneWriter: finished before the last row");
    if (run_finish_encode(&job) != Status::Ok)
        throw_jpeg_error(job.err, false);
    return take_output(job.dest);
}

} // namespace bb
