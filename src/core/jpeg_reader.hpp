// Decoding with libjpeg, in phases: the header, then whole rows (decode_jpeg) or raw
// component planes one iMCU row at a time (JpegPlaneReader). Each phase's libjpeg calls run
// inside a run_* function that holds the setjmp (jpeg_glue.hpp).
#pragma once
#include "no_postgres.hpp"

#include "codecs.hpp"
#include "jpeg_coefficients.hpp"
#include "jpeg_glue.hpp"
#include "jpeg_scan_split.hpp"

namespace bb {
namespace jpeg {

// A libjpeg source that reads a list of the file's byte ranges as one stream: a decoder's
// share of a split file (jpeg_scan_split.hpp).
struct RangeSource {
    jpeg_source_mgr pub;
    const uint8_t *data;
    const ByteRange *ranges;
    size_t count;
    size_t next; // the range the next fill_input_buffer hands over
};

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
    bool interrupted;              // the progress monitor saw an interrupt and jumped out
    CoefficientStore coefficients; // a progressive or multi-scan file's, read whole
    // Set before run_read_header for one of two decoders of a split file: its ranges (else it
    // reads data whole), buffered-image mode (all scans consumed first, with
    // run_consume_input, then one output pass), and the store whose arrays it borrows.
    const std::vector<ByteRange> *ranges;
    RangeSource range_source;
    bool buffered;
    const CoefficientStore *lender;
    bool to_rgb; // interleaved decoding: YCbCr converted to RGB
};

// The phases, each inside its setjmp: the header (raw mode and scale when scale_denom is set),
// all rows into pixels, the start of raw decoding, one iMCU row into raw_rows, the rest of the
// file up to its end marker.
Status run_read_header(DecodeJob *volatile job);
Status run_read_pixels(DecodeJob *volatile job);
Status run_start_raw(DecodeJob *volatile job);
Status run_read_imcu(DecodeJob *volatile job);
// In buffered-image mode: reads input up to the next iMCU row, scan or end (*at_end set there);
// after the end, starts the one output pass.
Status run_consume_input(DecodeJob *volatile job, bool *at_end);
Status run_start_output(DecodeJob *volatile job);
Status run_finish_decompress(DecodeJob *volatile job);
// The whole file read into coefficient arrays (jpeg_read_coefficients, in the job's store),
// up to its end marker; *arrays is one per component.
Status run_read_coefficients(DecodeJob *volatile job, jvirt_barray_ptr **arrays);

// Turns what a run_* function returned into the exception it stands for.
void check_decode(Status status, const DecodeJob &job);

// Owns the libjpeg state across the phases so that every path, thrown or not, frees it.
struct DecodeGuard {
    DecodeJob *job;
    ~DecodeGuard() {
        if (job->created)
            jpeg_destroy_decompress(&job->cinfo);
        release_coefficient_store(&job->coefficients);
        std::free(job->icc);
    }
};

// Sets the job up to read data; poll is called between rows and inside libjpeg.
void init_decode_job(DecodeJob &job, const uint8_t *data, size_t size, InterruptPoll poll);
// Reads the header (in raw mode when scale_denom is set), checks it and fills meta.
void read_header(DecodeJob &job, const DecodeOptions &options, JpegMeta *meta);

} // namespace jpeg
} // namespace bb
