// The core's glue to libjpeg, shared by the JPEG reader and writer. libjpeg reports a fatal
// error by calling error_exit, which must not return: ours jumps back to the setjmp of the
// run_* function that made the libjpeg call. Those functions (jpeg_reader.hpp,
// jpeg_writer.hpp) hold the setjmp, own no C++ object and report what happened as a Status;
// the C++ around them turns it into an exception.
#pragma once
#include "no_postgres.hpp"

#include <csetjmp>
#include <cstddef>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first
#include <jpeglib.h>

namespace bb {
namespace jpeg {

// What a run_* function reports. Interrupted: the poll said so between rows, or inside
// libjpeg through its progress monitor.
enum class Status { Ok, Failed, Interrupted };

struct CoefficientStore; // jpeg_coefficients.hpp

struct ErrorManager {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
    int msg_code;
    char message[JMSG_LENGTH_MAX];
    // Set for a decoder that reads the AC scans of a file whose DC scans another decoder reads
    // (jpeg_scan_split.hpp): libjpeg's warning that an AC scan comes before any DC scan of its
    // component is then expected, and only that one.
    bool dc_elsewhere;
    // Where the libjpeg object keeps whole-image coefficient arrays (jpeg_coefficients.hpp),
    // when it uses our store: a progressive decoder's, an encoder's with optimised tables.
    CoefficientStore *coefficients;
};

// Sets err up as the error manager of a libjpeg object: fatal errors, and the warnings that
// mean the pixels are not what the file intended, jump to err->jump.
void init_error_manager(ErrorManager *err);

// Throws the Error for the message libjpeg left in err.
[[noreturn]] void throw_jpeg_error(const ErrorManager &err, bool decoding);

} // namespace jpeg
} // namespace bb
