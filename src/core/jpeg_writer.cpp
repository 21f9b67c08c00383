#include "jpeg_writer.hpp"

#include "chroma_error.hpp"
#include "jpeg_statistics.hpp"
#include "worker_thread.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
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
    cinfo->restart_interval = job->restart_interval;
    watch_progress(job);
    jpeg_start_compress(cinfo, TRUE);
    // ours, faster than libjpeg's (jpeg_statistics.hpp)
    job->gathering = gather_statistics(cinfo, job->counts, job->statistics_rows);
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

void check_encode(Status status, const EncodeJob &job) {
    if (status == Status::Interrupted)
        throw_interrupted();
    if (status != Status::Ok)
        throw_jpeg_error(job.err, false);
}

void prepare_encode_job(EncodeJob &job, const JpegMeta &meta, int quality, InterruptPoll poll,
                        const ExifOrientation &exif) {
    init_error_manager(&job.err);
    job.cinfo.err = &job.err.pub;
    job.meta = &meta;
    job.quality = quality;
    job.optimize = false;
    job.counts = nullptr;
    job.gathering = false;
    job.statistics_rows = StatisticsRows();
    job.restart_interval = 0;
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

namespace {

// One compressor's share of a JpegPlaneWriter's file: all of it, or with a split entropy
// coding the top or the bottom iMCU rows (a picture of their own height).
struct EncodePart {
    EncodeJob job{};
    EncodeGuard guard{&job};
    JpegLayout layout;
    JpegMeta meta;
};

// The MCUs of the one scan libjpeg writes for a picture of layout's size (jcmaster.c's
// per_scan_setup): a single component's scan is not interleaved, its MCU one block (libjpeg
// samples a single component 1x1, start_encode); the others' MCUs are the layout's.
uint64_t mcus_in_scan(const JpegLayout &layout, const JpegMeta &meta) {
    if (layout.components == 1)
        return ((uint64_t(layout.width) + DCTSIZE - 1) / DCTSIZE) * ((uint64_t(layout.height) + DCTSIZE - 1) / DCTSIZE);
    return uint64_t(layout.padded_width[0] / (uint32_t(meta.h_samp[0]) * DCTSIZE)) *
           (layout.padded_height[0] / (uint32_t(meta.v_samp[0]) * DCTSIZE));
}

// The offset of the first marker segment before the scan's data, in a file this code wrote
// (SOI first, no fill bytes), whose marker wanted accepts; 0 when there is none.
template <class Wanted> size_t find_segment(const JOCTET *data, size_t size, Wanted wanted) {
    size_t at = 2;
    while (at + 4 <= size && data[at] == 0xFF) {
        const int marker = data[at + 1];
        if (wanted(marker))
            return at;
        if (marker == 0xDA) // SOS: the entropy-coded data follows
            break;
        at += 2 + (size_t(data[at + 2]) << 8 | data[at + 3]);
    }
    return 0;
}

// The top part's file becomes the whole: its frame header given the whole picture's height,
// its EOI replaced by RST0, the bottom part's entropy-coded data (between its scan header and
// its EOI), and an EOI.
Buffer join_parts(MemoryDestination &top, const MemoryDestination &bottom, uint32_t height) {
    const size_t frame = find_segment(top.buffer, top.size, [](int m) { return m >= 0xC0 && m <= 0xC2; });
    const size_t scan = find_segment(bottom.buffer, bottom.size, [](int m) { return m == 0xDA; });
    const auto ends_in_eoi = [](const MemoryDestination &d) {
        return d.size >= 4 && d.buffer[d.size - 2] == 0xFF && d.buffer[d.size - 1] == 0xD9;
    };
    if (!frame || frame + 9 > top.size || !scan || !ends_in_eoi(top) || !ends_in_eoi(bottom))
        throw std::logic_error("JpegPlaneWriter: a part's file is not as libjpeg writes it");
    const size_t data = scan + 2 + (size_t(bottom.buffer[scan + 2]) << 8 | bottom.buffer[scan + 3]);
    if (data > bottom.size - 2)
        throw std::logic_error("JpegPlaneWriter: a part's file is not as libjpeg writes it");
    top.buffer[frame + 5] = JOCTET(height >> 8);
    top.buffer[frame + 6] = JOCTET(height & 0xFF);
    const size_t length = bottom.size - 2 - data;
    const size_t total = top.size + 2 + length; // EOI out, RST0 and EOI in
    if (total > top.capacity) {
        auto *grown = static_cast<JOCTET *>(std::realloc(top.buffer, total));
        if (!grown)
            throw Error(ErrorKind::OutOfMemory, "out of memory", "No memory for the JPEG output buffer.");
        top.buffer = grown;
        top.capacity = total;
    }
    JOCTET *at = top.buffer + top.size - 2;
    *at++ = 0xFF;
    *at++ = JOCTET(JPEG_RST0);
    std::memcpy(at, bottom.buffer + data, length);
    at += length;
    *at++ = 0xFF;
    *at++ = JOCTET(JPEG_EOI);
    top.size = total;
    return take_output(top);
}

} // namespace

struct JpegPlaneWriter::State {
    ExifOrientation exif{0};
    JpegLayout layout;
    JpegMeta meta;
    EncodePart parts[2];
    int part_count = 1;
    int threads = 1;
    HuffmanCounts counts{};          // a split file's, both parts'
    std::vector<uint8_t> buffers[4]; // one iMCU row of each component
    std::vector<JSAMPROW> rows[4];
    uint32_t imcu = 0, imcus = 0;
    uint32_t bottom_from = 0; // the first iMCU row of parts[1], when there are two
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
    encoding.split = encoding.optimize && uint64_t(width) * height >= kSplitEntropyPixels;
    if (encoding.optimize && uint64_t(width) * height >= kSampledStatisticsPixels)
        encoding.statistics_stride = kStatisticsRowStride;
    return encoding;
}

void use_optimised_tables(bool on) noexcept {
    optimised_tables.store(on, std::memory_order_relaxed);
}

JpegPlaneWriter::JpegPlaneWriter(const JpegLayout &layout, const JpegMeta &meta, int quality, bool optimize,
                                 InterruptPoll poll, bool split, int threads, uint32_t statistics_stride)
    : state_(new State) {
    if (statistics_stride == 0)
        throw std::logic_error("JpegPlaneWriter: a statistics stride of 0");
    State &s = *state_;
    s.layout = layout;
    s.meta = meta;
    s.exif = ExifOrientation(meta.orientation);
    s.threads = threads;
    for (int c = 0; c < layout.components; c++) {
        const size_t count = size_t(meta.v_samp[c]) * DCTSIZE;
        s.buffers[c].resize(size_t(layout.padded_width[c]) * count);
        s.rows[c].resize(count);
        for (size_t r = 0; r < count; r++)
            s.rows[c][r] = s.buffers[c].data() + size_t(layout.padded_width[c]) * r;
    }
    s.imcu = 0;
    s.imcus = layout.components ? layout.padded_height[0] / (uint32_t(meta.v_samp[0]) * DCTSIZE) : 0;
    // The parts: the top the larger half, so that the bottom has no more MCUs than the DRI.
    int max_v = 1;
    for (int c = 0; c < layout.components; c++)
        max_v = std::max(max_v, meta.v_samp[c]);
    const uint32_t top_imcus = (s.imcus + 1) / 2;
    const uint32_t top_height = top_imcus * uint32_t(max_v) * DCTSIZE; // image rows
    JpegLayout top_layout = layout;
    if (split && optimize && jpeg::fast_statistics_used() && s.imcus >= 2) {
        top_layout = jpeg_layout(layout.width, top_height, meta);
        if (mcus_in_scan(top_layout, meta) <= 65535)
            s.part_count = 2;
    }
    s.bottom_from = top_imcus;
    for (int p = 0; p < s.part_count; p++) {
        EncodePart &part = s.parts[p];
        part.meta = meta;
        if (p == 1) { // its headers are not kept
            part.meta.icc.clear();
            part.meta.orientation = 0;
        }
        part.layout = s.part_count == 1 ? layout
                      : p == 0          ? top_layout
                                        : jpeg_layout(layout.width, layout.height - top_height, meta);
        EncodeJob &job = part.job;
        job.layout = &part.layout;
        prepare_encode_job(job, part.meta, quality, poll, s.exif);
        job.optimize = optimize;
        job.statistics_rows.stride = statistics_stride;
        job.statistics_rows.first_row = p == 0 ? 0 : s.bottom_from;
        if (s.part_count == 2) {
            job.counts = &s.counts;
            job.restart_interval = p == 0 ? unsigned(mcus_in_scan(top_layout, meta)) : 0;
        }
        for (int c = 0; c < layout.components; c++)
            job.raw_rows[c] = s.rows[c].data();
        check_encode(run_start_encode(&job), job);
        if (s.part_count == 2 && (!job.gathering || uint64_t(job.cinfo.MCUs_per_row) * job.cinfo.MCU_rows_in_scan !=
                                                        mcus_in_scan(part.layout, meta)))
            throw std::logic_error("JpegPlaneWriter: a part's scan is not as the split counts it");
    }
    EncodeJob &job = s.parts[0].job;
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
    State &s = *state_;
    if (done())
        throw std::logic_error("JpegPlaneWriter: more rows written than the image has");
    EncodeJob &job = s.parts[s.part_count == 2 && s.imcu >= s.bottom_from ? 1 : 0].job;
    check_encode(run_write_imcu(&job), job);
    s.imcu++;
}

Buffer JpegPlaneWriter::finish() {
    State &s = *state_;
    if (!done())
        throw std::logic_error("JpegPlaneWriter: finished before the last row");
    EncodeJob &top = s.parts[0].job;
    if (s.part_count == 1) {
        check_encode(run_finish_encode(&top), top);
        return take_output(top.dest);
    }
    EncodeJob &bottom = s.parts[1].job;
    if (s.threads > 1) {
        // The bottom's pass beside, where the host's poll must not be called: the top's polls.
        bottom.poll = nullptr;
        run_beside([&bottom] { check_encode(run_finish_encode(&bottom), bottom); },
                   [&top] { check_encode(run_finish_encode(&top), top); }, top.poll);
    } else {
        check_encode(run_finish_encode(&top), top);
        check_encode(run_finish_encode(&bottom), bottom);
    }
    return join_parts(top.dest, bottom.dest, s.layout.height);
}

bool JpegPlaneWriter::split() const noexcept {
    return state_->part_count == 2;
}

} // namespace bb
