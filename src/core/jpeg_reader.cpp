#include "jpeg_reader.hpp"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <string>

#include <jerror.h>

#include "exif.hpp"
#include "jpeg_read_ahead.hpp"
#include "jpeg_split_reader.hpp"
#include "probe.hpp"

namespace bb {
namespace jpeg {
namespace {

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

// The range source's methods, as jpeg_mem_src's but over several pieces of memory.
void range_init(j_decompress_ptr) {}
void range_term(j_decompress_ptr) {}

boolean range_fill(j_decompress_ptr cinfo) {
    auto *src = reinterpret_cast<RangeSource *>(cinfo->src);
    if (src->next < src->count) {
        const ByteRange &r = src->ranges[src->next++];
        src->pub.next_input_byte = src->data + r.at;
        src->pub.bytes_in_buffer = r.size;
        return TRUE;
    }
    // Past the end: never reached, as each stream ends with the file's end marker; were it
    // reached, the warning is fatal (jpeg_glue.cpp).
    static const JOCTET end_marker[2] = {0xFF, JPEG_EOI};
    WARNMS(cinfo, JWRN_JPEG_EOF);
    src->pub.next_input_byte = end_marker;
    src->pub.bytes_in_buffer = 2;
    return TRUE;
}

void range_skip(j_decompress_ptr cinfo, long count) {
    jpeg_source_mgr *src = cinfo->src;
    if (count <= 0)
        return;
    auto n = static_cast<size_t>(count);
    while (n > src->bytes_in_buffer) {
        n -= src->bytes_in_buffer;
        (*src->fill_input_buffer)(cinfo);
    }
    src->next_input_byte += n;
    src->bytes_in_buffer -= n;
}

void use_range_source(DecodeJob *job) {
    RangeSource &src = job->range_source;
    src.pub.init_source = range_init;
    src.pub.fill_input_buffer = range_fill;
    src.pub.skip_input_data = range_skip;
    src.pub.resync_to_restart = jpeg_resync_to_restart;
    src.pub.term_source = range_term;
    src.pub.next_input_byte = nullptr;
    src.pub.bytes_in_buffer = 0;
    src.data = job->data;
    src.ranges = job->ranges->data();
    src.count = job->ranges->size();
    src.next = 0;
    job->cinfo.src = &src.pub;
}

} // namespace

Status run_read_header(DecodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    jpeg_create_decompress(&job->cinfo);
    job->created = true;
    job->cinfo.client_data = job;
    use_coefficient_store(reinterpret_cast<j_common_ptr>(&job->cinfo), &job->coefficients, job->lender);
    job->cinfo.progress = &job->progress;
    if (job->ranges)
        use_range_source(job);
    else
        jpeg_mem_src(&job->cinfo, job->data, static_cast<unsigned long>(job->size));
    jpeg_save_markers(&job->cinfo, JPEG_APP0 + 1, 0xffff); // EXIF, for the orientation
    jpeg_save_markers(&job->cinfo, JPEG_APP0 + 2, 0xffff); // ICC profile chunks
    jpeg_read_header(&job->cinfo, TRUE);
    // Keep the file's colour space: blurring is linear, so no conversion is needed.
    job->cinfo.out_color_space = job->cinfo.jpeg_color_space;
    if (job->to_rgb && job->cinfo.jpeg_color_space == JCS_YCbCr)
        job->cinfo.out_color_space = JCS_RGB;
    if (job->scale_denom) {
        job->cinfo.raw_data_out = TRUE;
        job->cinfo.scale_num = 1;
        job->cinfo.scale_denom = static_cast<unsigned>(job->scale_denom);
        job->cinfo.do_block_smoothing = FALSE;
    }
    // With all scans read, block smoothing would not change a pixel; a decoder of part of
    // the scans must not take the missing ones for a file still arriving.
    if (job->buffered) {
        job->cinfo.buffered_image = TRUE;
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

Status run_consume_input(DecodeJob *volatile job, bool *at_end) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    const int result = jpeg_consume_input(&job->cinfo);
    if (result == JPEG_SUSPENDED)
        return Status::Failed; // our sources never suspend
    *at_end = result == JPEG_REACHED_EOI;
    return Status::Ok;
}

Status run_start_output(DecodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    jpeg_start_output(&job->cinfo, job->cinfo.input_scan_number);
    return Status::Ok;
}

// After the last row: reads the rest of the file up to its end marker.
Status run_finish_decompress(DecodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    if (job->cinfo.buffered_image)
        jpeg_finish_output(&job->cinfo);
    jpeg_finish_decompress(&job->cinfo);
    return Status::Ok;
}

Status run_read_coefficients(DecodeJob *volatile job, jvirt_barray_ptr **arrays) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    *arrays = jpeg_read_coefficients(&job->cinfo);
    return Status::Ok;
}

void check_decode(Status status, const DecodeJob &job) {
    if (status == Status::Interrupted)
        throw_interrupted();
    if (status != Status::Ok)
        throw_jpeg_error(job.err, true);
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

} // namespace jpeg

// ---- streaming planes --------------------------------------------------------------------

using namespace jpeg;

struct JpegPlaneReader::State {
    ScanSplit split; // the main decoder reads split.main when it is not empty
    DecodeJob job{};
    DecodeGuard guard{&job};
    // One iMCU row of each component, as libjpeg's raw interface hands it over.
    std::vector<uint8_t> buffers[4];
    std::vector<JSAMPROW> rows[4];
    // The geometry, copied: jpeg_finish_decompress frees libjpeg's component descriptions.
    uint32_t width[4] = {}, height[4] = {};
    double step_x[4] = {}, step_y[4] = {};
    uint32_t rows_per_imcu[4] = {};
    size_t stride[4] = {}; // bytes of a row of each component's iMCU row buffer
    int components = 0;
    uint32_t imcu = 0;          // iMCU rows decoded
    uint32_t row_count[4] = {}; // of the last one, that belong to the image
    bool finished = false;
    bool split_read = false;
    InterruptPoll poll = nullptr;           // the caller's, polled on its thread by next() (job.poll is libjpeg's)
    const JSAMPARRAY *ahead_rows = nullptr; // the current iMCU row, from the read-ahead
    // Destroyed first, as they use job: a split file's second decoder, the read-ahead.
    ScanWorkerPtr worker;
    ReadAheadPtr ahead;

    // The rows of the iMCU row just decoded that belong to the image.
    void count_rows() noexcept {
        for (int c = 0; c < components; c++) {
            const uint32_t rows = rows_per_imcu[c];
            const uint32_t first = imcu * rows;
            row_count[c] = first >= height[c] ? 0 : std::min(rows, height[c] - first);
        }
        imcu++;
    }
};

JpegPlaneReader::JpegPlaneReader(const uint8_t *data, size_t size, const DecodeOptions &options, int scale_denom,
                                 JpegMeta *meta)
    : state_(new State) {
    // A progressive file worth it has its scans read by two decoders at once; should that fail
    // anywhere, one decoder reads it again from the start, and reports what is wrong with it.
    bool split_read = false;
    if (options.threads > 1 && plan_scan_split(data, size, options.split_min_cost, &state_->split)) {
        DecodeJob &job = state_->job;
        init_decode_job(job, data, size, options.poll);
        job.scale_denom = scale_denom;
        job.ranges = &state_->split.main;
        job.buffered = true;
        read_header(job, options, meta);
        split_read = run_start_raw(&job) == Status::Ok &&
                     read_scans_split(job, state_->split, &state_->worker) == Status::Ok &&
                     run_start_output(&job) == Status::Ok;
        if (!split_read) {
            state_.reset(new State);
            *meta = JpegMeta();
        }
    }
    state_->split_read = split_read;
    DecodeJob &job = state_->job;
    if (!split_read) {
        init_decode_job(job, data, size, options.poll);
        job.scale_denom = scale_denom;
        read_header(job, options, meta);
        check_decode(run_start_raw(&job), job);
    }
    const jpeg_decompress_struct &ci = job.cinfo;
    state_->components = ci.num_components;
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
        state_->stride[c] = stride;
    }
    state_->poll = options.poll;
    // A second thread decodes the rows ahead of the pipeline, where it is worth its start and
    // the second thread is not taken by a split read already.
    if (options.threads > 1 && !split_read && uint64_t(ci.image_width) * ci.image_height >= options.read_ahead_pixels) {
        job.poll = nullptr; // libjpeg's progress monitor runs on the thread, which must not poll
        state_->ahead = start_read_ahead(job, state_->stride, state_->rows_per_imcu);
        if (!state_->ahead)
            job.poll = options.poll;
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
    return state_->components;
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
    if (s.ahead) {
        if (s.poll && s.poll())
            throw_interrupted();
        s.ahead_rows = next_rows(*s.ahead, s.poll);
        if (!s.ahead_rows) {
            s.finished = true;
            std::fill(std::begin(s.row_count), std::end(s.row_count), 0u);
            return false;
        }
        s.count_rows();
        return true;
    }
    const jpeg_decompress_struct &ci = job.cinfo;
    if (ci.output_scanline >= ci.output_height) {
        if (s.worker) {
            wait_for_end(*s.worker, s.poll);
            s.worker.reset();
        }
        check_decode(run_finish_decompress(&job), job);
        s.finished = true;
        std::fill(std::begin(s.row_count), std::end(s.row_count), 0u);
        return false;
    }
    if (s.poll && s.poll())
        throw_interrupted();
    if (s.worker)
        wait_for_row(*s.worker, ci.output_iMCU_row, s.poll);
    check_decode(run_read_imcu(&job), job);
    s.count_rows();
    return true;
}

bool JpegPlaneReader::split() const noexcept {
    return state_->split_read;
}

bool JpegPlaneReader::read_ahead() const noexcept {
    return state_->ahead != nullptr;
}

uint32_t JpegPlaneReader::row_count(int c) const noexcept {
    return state_->row_count[c];
}
const uint8_t *JpegPlaneReader::row(int c, uint32_t r) const noexcept {
    return state_->ahead_rows ? state_->ahead_rows[c][r] : state_->rows[c][r];
}

} // namespace bb
