// Encoding with libjpeg, in phases: the headers, then whole rows (encode_jpeg) or raw
// component planes one iMCU row at a time (JpegPlaneWriter), into a buffer this code owns.
// Each phase's libjpeg calls run inside a run_* function that holds the setjmp (jpeg_glue.hpp).
#pragma once
#include "no_postgres.hpp"

#include "codecs.hpp"
#include "exif.hpp"
#include "jpeg_coefficients.hpp"
#include "jpeg_glue.hpp"
#include "jpeg_statistics.hpp"

namespace bb {
namespace jpeg {

// The compressed output, in a buffer this code owns. libjpeg's own jpeg_mem_dest records a
// reallocated buffer only when compression finishes, so after an error or an interrupt the
// caller would free the first, already freed, buffer and leak the current one.
struct MemoryDestination {
    jpeg_destination_mgr pub;
    JOCTET *buffer; // malloc'd; always the current buffer
    size_t capacity;
    size_t size; // set when compression finishes
};

// Hands the finished output over: the caller's Buffer owns it, the job's guard no longer does.
Buffer take_output(MemoryDestination &dest);

struct EncodeJob {
    jpeg_compress_struct cinfo;
    ErrorManager err;
    bool created;
    const Image *image;
    const JpegMeta *meta;
    int quality;
    bool optimize;                  // optimised Huffman tables: libjpeg buffers the image, writes it at the end
    CoefficientStore coefficients;  // where, with optimize
    HuffmanCounts *counts;          // with optimize: the counts shared by an image's parts, or null
    bool gathering;                 // the statistics are ours (gather_statistics), in counts if set
    StatisticsRows statistics_rows; // the MCU rows they count (all, unless set)
    unsigned restart_interval;      // in MCUs, 0 for none
    InterruptPoll poll;
    bool interrupted; // the poll said so inside libjpeg (its progress monitor)
    jpeg_progress_mgr progress;
    const uint8_t *exif;
    unsigned exif_size;
    MemoryDestination dest;
    // raw (planar) encoding
    const JpegLayout *layout; // null: interleaved encoding
    JSAMPARRAY raw_rows[4];   // one iMCU row of each component, set by the caller
};

// The phases, each inside its setjmp: all of an interleaved image (the reference path), the
// headers of raw encoding, one iMCU row from raw_rows, the end of the file (with optimised
// tables, the whole entropy coding: Status::Interrupted when the poll says so between rows).
Status run_encode(EncodeJob *volatile job);
Status run_start_encode(EncodeJob *volatile job);
Status run_write_imcu(EncodeJob *volatile job);
Status run_finish_encode(EncodeJob *volatile job);
// Transcoding: writes source's coefficient arrays (jpeg_read_coefficients') as a file with its
// quantisation tables, sampling and colour space (jpeg_copy_critical_parameters), progressive
// when it was, its restart interval, Huffman tables optimised for them, and the job's EXIF
// orientation and ICC profile: every coefficient as it is in the arrays.
Status run_write_coefficients(EncodeJob *volatile job, j_decompress_ptr source, jvirt_barray_ptr *arrays);

struct EncodeGuard {
    EncodeJob *job;
    ~EncodeGuard() {
        if (job->created)
            jpeg_destroy_compress(&job->cinfo);
        release_coefficient_store(&job->coefficients);
        std::free(job->dest.buffer);
    }
};

// Throws for a run_* function's status as it happened in job: Error(Interrupted), or libjpeg's
// error (check_decode's twin, jpeg_reader.hpp).
void check_encode(Status status, const EncodeJob &job);

// Sets up the job and its output buffer. exif must outlive the start of compression.
void prepare_encode_job(EncodeJob &job, const JpegMeta &meta, int quality, InterruptPoll poll,
                        const ExifOrientation &exif);

} // namespace jpeg
} // namespace bb
