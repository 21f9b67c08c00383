#include "jpeg_writer.hpp"

#include "chroma_error.hpp"
#include "jpeg_statistics.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include <jerror.h>

namespace bb {
namespace jpeg {
namespace {

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

// libjpeg calls this between iMCU rows of each pass; with optimised tables the last pass
// (the entropy coding of the whole image) runs inside jpeg_finish_compress. An interrupt
// leaves libjpeg the way its errors do, by the jump back to the run_* function.
void on_progress(j_common_ptr cinfo) {
    auto *job = static_cast<EncodeJob *>(cinfo->client_data);
    if (job->poll && job->poll()) {
        job->interrupted = true;
        std::longjmp(job->err.jump, 1);
    }
}

// Lets the poll interrupt libjpeg between iMCU rows (on_progress).
void watch_progress(EncodeJob *job) {
    if (job->poll) {
        job->cinfo.client_data = job;
        job->progress.progress_monitor = on_progress;
        job->cinfo.progress = &job->progress;
    }
}

// The metadata the policy keeps, right after jpeg_start_compress or jpeg_write_coefficients:
// the EXIF orientation and the ICC profile.
void write_metadata(EncodeJob *job) {
    if (job->exif_size)
        jpeg_write_marker(&job->cinfo, JPEG_APP0 + 1, job->exif, job->exif_size);
    if (!job->meta->icc.empty())
        jpeg_write_icc_profile(&job->cinfo, job->meta->icc.data(), static_cast<unsigned>(job->meta->icc.size()));
}

// Creates the compressor, sets it up like the decoded file and writes the headers. Called only
// from the run_* functions below, inside their setjmp.
void start_encode(EncodeJob *job) {
    j_compress_ptr cinfo = &job->cinfo;
    const JpegMeta &meta = *job->meta;
    const int components = job->layout ? job->layout->components : job->image->channels;
    jpeg_create_compress(cinfo);
    job->created = true;
    // With optimised tables libjpeg holds the image's coefficients (3 bytes a pixel at 4:2:0):
    // in huge pages, not in fresh 4 KiB pages each faulted in (jpeg_coefficients.hpp).
    if (job->optimize)
        use_coefficient_store(reinterpret_cast<j_common_ptr>(cinfo), &job->coefficients);
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
    cinfo->optimize_coding = job->optimize ? TRUE : FALSE;
    watch_progress(job);
    jpeg_start_compress(cinfo, TRUE);
    gather_statistics(cinfo); // ours, faster than libjpeg's (jpeg_statistics.hpp)
    write_metadata(job);
}

} // namespace

Buffer take_output(MemoryDestination &dest) {
    Buffer out;
    out.adopt(dest.buffer, dest.size);
    dest.buffer = nullptr;
    return out;
}

// Encodes interleaved pixels (the reference path).
Status run_encode(EncodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
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
        return job->interrupted ? Status::Interrupted : Status::Failed;
    start_encode(job);
    return Status::Ok;
}

// Encodes one iMCU row of raw component data from raw_rows.
Status run_write_imcu(EncodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    j_compress_ptr cinfo = &job->cinfo;
    jpeg_write_raw_data(cinfo, job->raw_rows, JDIMENSION(cinfo->max_v_samp_factor * DCTSIZE));
    return Status::Ok;
}

Status run_finish_encode(EncodeJob *volatile job) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    jpeg_finish_compress(&job->cinfo);
    return Status::Ok;
}

Status run_write_coefficients(EncodeJob *volatile job, j_decompress_ptr source, jvirt_barray_ptr *arrays) {
    if (setjmp(job->err.jump))
        return job->interrupted ? Status::Interrupted : Status::Failed;
    j_compress_ptr cinfo = &job->cinfo;
    jpeg_create_compress(cinfo);
    job->created = true;
    // The arrays are the decoder's, in its store: this encoder reads them through the store's
    // access method (libjpeg's own would take them for its own kind of array).
    use_coefficient_store(reinterpret_cast<j_common_ptr>(cinfo), &job->coefficients);
    cinfo->dest = &job->dest.pub;
    jpeg_copy_critical_parameters(source, cinfo);
    if (source->progressive_mode)
        jpeg_simple_progression(cinfo);
    cinfo->optimize_coding = TRUE;
    cinfo->restart_interval = source->restart_interval;
    watch_progress(job);
    jpeg_write_coefficients(cinfo, arrays);
    write_metadata(job);
    jpeg_finish_compress(cinfo);
    return Status::Ok;
}

void prepare_encode_job(EncodeJob &job, const JpegMeta &meta, int quality, InterruptPoll poll,
                        const ExifOrientation &exif) {
    init_error_manager(&job.err);
    job.cinfo.err = &job.err.pub;
    job.meta = &meta;
    job.quality = quality;
    job.optimize = false;
    job.poll = poll;
    job.interrupted = false;
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

} // namespace jpeg

// ---- streaming planes --------------------------------------------------------------------

using namespace jpeg;

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

struct JpegPlaneWriter::State {
    EncodeJob job{};
    EncodeGuard guard{&job};
    ExifOrientation exif{0};
    JpegLayout layout;
    JpegMeta meta;
    std::vector<uint8_t> buffers[4]; // one iMCU row of each component
    std::vector<JSAMPROW> rows[4];
    uint32_t imcu = 0, imcus = 0;
    // YCbCr: luma's answer to the chroma's quantisation error (chroma_error.hpp)
    std::unique_ptr<ChromaErrorCorrection> chroma_error;
    std::vector<float> correction; // one iMCU row of luma
    std::vector<float *> correction_rows;
};

namespace {
std::atomic<bool> optimised_tables{true};
} // namespace

JpegEncoding jpeg_encoding_for(const JpegMeta &input, uint32_t width, uint32_t height, double sigma) {
    JpegEncoding encoding;
    encoding.meta = input;
    JpegMeta &meta = encoding.meta;
    if (meta.components == 3 && meta.color_space == JCS_YCbCr && sigma >= kChroma420Sigma) {
        const int h[3] = {2, 1, 1}, v[3] = {2, 1, 1};
        for (int c = 0; c < 3; c++) {
            meta.h_samp[c] = h[c];
            meta.v_samp[c] = v[c];
        }
    }
    const JpegLayout layout = jpeg_layout(width, height, meta);
    uint64_t blocks = 0;
    for (int c = 0; c < layout.components; c++)
        blocks += uint64_t(layout.padded_width[c] / DCTSIZE) * (layout.padded_height[c] / DCTSIZE);
    encoding.optimize =
        optimised_tables.load(std::memory_order_relaxed) && blocks * sizeof(JBLOCK) <= kOptimizeBufferBytes;
    return encoding;
}

void use_optimised_tables(bool on) noexcept {
    optimised_tables.store(on, std::memory_order_relaxed);
}

JpegPlaneWriter::JpegPlaneWriter(const JpegLayout &layout, const JpegMeta &meta, int quality, bool optimize,
                                 InterruptPoll poll)
    : state_(new State) {
    State &s = *state_;
    s.layout = layout;
    s.meta = meta;
    s.exif = ExifOrientation(meta.orientation);
    EncodeJob &job = s.job;
    job.layout = &s.layout;
    prepare_encode_job(job, s.meta, quality, poll, s.exif);
    job.optimize = optimize;
    for (int c = 0; c < layout.components; c++) {
        const size_t count = size_t(meta.v_samp[c]) * DCTSIZE;
        s.buffers[c].resize(size_t(layout.padded_width[c]) * count);
        s.rows[c].resize(count);
        for (size_t r = 0; r < count; r++)
            s.rows[c][r] = s.buffers[c].data() + size_t(layout.padded_width[c]) * r;
        job.raw_rows[c] = s.rows[c].data();
    }
    const Status status = run_start_encode(&job);
    if (status == Status::Interrupted)
        throw_interrupted();
    if (status != Status::Ok)
        throw_jpeg_error(job.err, false);
    s.imcu = 0;
    s.imcus = layout.components ? layout.padded_height[0] / (uint32_t(meta.v_samp[0]) * DCTSIZE) : 0;
    // Both chroma components sampled alike, luma a whole factor finer (1, 2 or 4) along each axis.
    const int fx = meta.h_samp[0] / std::max(meta.h_samp[1], 1), fy = meta.v_samp[0] / std::max(meta.v_samp[1], 1);
    if (meta.components == 3 && meta.color_space == JCS_YCbCr && meta.h_samp[1] == meta.h_samp[2] &&
        meta.v_samp[1] == meta.v_samp[2] && fx * meta.h_samp[1] == meta.h_samp[0] &&
        fy * meta.v_samp[1] == meta.v_samp[0] && ChromaErrorCorrection::supports(fx, fy)) {
        const JQUANT_TBL *tables[3];
        for (int c = 0; c < 3; c++) {
            tables[c] = job.cinfo.quant_tbl_ptrs[job.cinfo.comp_info[c].quant_tbl_no];
            if (!tables[c])
                throw std::logic_error("JpegPlaneWriter: a component without its quantisation table");
        }
        s.chroma_error.reset(new ChromaErrorCorrection(tables[1]->quantval, tables[2]->quantval, fx, fy));
        const uint32_t rows = rows_per_step(0);
        s.correction.resize(size_t(rows) * layout.padded_width[0]);
        s.correction_rows.resize(rows);
        for (uint32_t r = 0; r < rows; r++)
            s.correction_rows[r] = s.correction.data() + size_t(layout.padded_width[0]) * r;
    }
}

const float *const *JpegPlaneWriter::first_component_correction() {
    State &s = *state_;
    if (!s.chroma_error)
        return nullptr;
    // Cb's and Cr's rows are sampled alike, so their buffers have one stride (the constructor).
    const uint32_t width = s.layout.padded_width[1];
    s.chroma_error->correct(s.buffers[1].data(), s.buffers[2].data(), width, rows_per_step(1), width,
                            s.correction.data(), s.layout.padded_width[0]);
    return s.correction_rows.data();
}

JpegPlaneWriter::~JpegPlaneWriter() = default;

const JpegLayout &JpegPlaneWriter::layout() const noexcept {
    return state_->layout;
}
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
    const Status status = run_write_imcu(&state_->job);
    if (status == Status::Interrupted)
        throw_interrupted();
    if (status != Status::Ok)
        throw_jpeg_error(state_->job.err, false);
    state_->imcu++;
}

Buffer JpegPlaneWriter::finish() {
    EncodeJob &job = state_->job;
    if (!done())
        throw std::logic_error("JpegPlaneWriter: finished before the last row");
    const Status status = run_finish_encode(&job);
    if (status == Status::Interrupted)
        throw_interrupted();
    if (status != Status::Ok)
        throw_jpeg_error(job.err, false);
    return take_output(job.dest);
}

} // namespace bb
