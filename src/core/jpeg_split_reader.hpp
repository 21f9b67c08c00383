// Reading a progressive JPEG's scans with two libjpeg decoders on two threads, split as
// plan_scan_split says (jpeg_scan_split.hpp, which also says why the result is the same).
//
// The calling thread reads the main stream's scans while the worker reads its own into the
// same coefficient arrays. Once the main decoder has read all of its scans, its output pass may
// begin while the worker is still in its last scan: an output iMCU row needs only the
// coefficients of that row, which that scan has finished once it is past the row. So the IDCT,
// the blur and the encoding of the top of the image overlap the decoding of the bottom.
//
// The worker's thread touches nothing of the host's: it runs libjpeg on its own decoder, with
// every signal blocked, and stops within one iMCU row of being told to. Only the calling
// thread polls for interrupts, and the ScanWorker's destruction stops and joins the thread.
#pragma once
#include "no_postgres.hpp"

#include <memory>

#include "jpeg_reader.hpp"

namespace bb {
namespace jpeg {

class ScanWorker;

struct ScanWorkerDeleter {
    void operator()(ScanWorker *worker) const noexcept;
};
using ScanWorkerPtr = std::unique_ptr<ScanWorker, ScanWorkerDeleter>;

// main reads split.main in buffered mode, its header read and decompression started
// (run_start_raw). Starts the worker on split.worker and reads main's scans. Ok: main has read
// every scan of its stream and *worker holds the worker, which may still be reading. Failed: a
// decoder failed, or no thread could be had; the caller decodes the file again with one
// decoder, which reports a fault as it always has. Throws Error(Interrupted) when main.poll
// says stop.
Status read_scans_split(DecodeJob &main, const ScanSplit &split, ScanWorkerPtr *worker);

// Waits until the worker has decoded everything output iMCU row `row` needs, polling for
// interrupts. Throws Error(Interrupted), or the worker's decoding error.
void wait_for_row(ScanWorker &worker, JDIMENSION row, InterruptPoll poll);

// Waits for the worker's end. Throws as wait_for_row does.
void wait_for_end(ScanWorker &worker, InterruptPoll poll);

} // namespace jpeg
} // namespace bb
