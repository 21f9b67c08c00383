// Reading a progressive JPEG's scans with two libjpeg decoders on two threads, split as
// plan_scan_split says (jpeg_scan_split.hpp, which also says why the result is the same).
//
// The second thread touches nothing of the host's: it runs libjpeg on its own decoder, with
// every signal blocked, and stops within one iMCU row of being told to. Only the calling
// thread polls for interrupts, and it joins the second thread before it returns or throws.
#pragma once
#include "no_postgres.hpp"

#include "jpeg_reader.hpp"

namespace bb {
namespace jpeg {

// main reads split.main in buffered mode, its header read and decompression started
// (run_start_raw). Reads main's scans on this thread while a second decoder reads
// split.worker's on another into main's coefficient arrays (on this thread, after main's, if
// no thread can be had). Ok: every scan is read, and main is ready for run_start_output.
// Failed: a decoder failed; the caller decodes the file again with one decoder, which reports
// the fault as it always has. Throws Error(Interrupted) when main.poll says stop.
Status read_scans_split(DecodeJob &main, const ScanSplit &split);

} // namespace jpeg
} // namespace bb
