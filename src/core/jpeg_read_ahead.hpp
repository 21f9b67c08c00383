// Decoding a JPEG's output rows on a second thread, ahead of the blur that takes them.
//
// After its header (and, for a progressive file, its scans) a JPEG's output pass turns the file
// into rows of samples: the entropy decoding and the IDCT of a baseline file, the IDCT of a
// progressive one. That is about half of a JPEG blur: 9 of the 19 ms of the 4 MP Path photo
// at sigma 5. The read-ahead runs it on a second thread up to kReadAheadRows iMCU rows ahead
// of the pipeline, which meanwhile averages, blurs, interpolates and encodes the rows before.
// The rows are the same and come in the same order; a fault in the file is reported at the
// row where one thread reports it, and the end of the file is read before the last next_rows
// returns, as on one thread.
//
// The thread touches nothing of the host's (libjpeg only, every signal blocked, no poll: the
// progress monitor's poll must be off in the job it decodes). Only the calling thread polls,
// while it waits; the read-ahead's destruction stops and joins the thread.
#pragma once
#include "no_postgres.hpp"

#include <memory>

#include "jpeg_reader.hpp"

namespace bb {
namespace jpeg {

// Rows decoded ahead at most, in iMCU rows (of 8 or 16 sample rows each).
constexpr int kReadAheadRows = 8;

class ReadAhead;

struct ReadAheadDeleter {
    void operator()(ReadAhead *ahead) const noexcept;
};
using ReadAheadPtr = std::unique_ptr<ReadAhead, ReadAheadDeleter>;

// Starts decoding job's output rows on a second thread, each iMCU row into buffers of
// rows[c] rows of stride[c] bytes per component. job is ready for run_read_imcu and its poll
// is null; until the read-ahead is destroyed nothing else may touch job. Returns null when
// no thread can be had (job is then untouched).
ReadAheadPtr start_read_ahead(DecodeJob &job, const size_t stride[4], const uint32_t rows[4]);

// The rows of each component (rows[c][r]) of the next iMCU row, valid until the next call; null
// after the last row, once the rest of the file has been read to its end. Polls for interrupts
// while it waits. Throws Error(Interrupted), or the decoding error that one thread would have
// thrown at this row.
const JSAMPARRAY *next_rows(ReadAhead &ahead, InterruptPoll poll);

} // namespace jpeg
} // namespace bb
