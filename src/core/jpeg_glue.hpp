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

// JPEG's magnitude category of a coefficient or a DC difference: the bits of |v| (T.81 F.1.2).
inline int magnitude_bits(int v) noexcept {
    const unsigned a = unsigned(v < 0 ? -v : v);
    return a ? 32 - __builtin_clz(a) : 0;
}

// Zigzag position k to natural (row-major) position, as the coded data orders coefficients:
// libjpeg's jpeg_natural_order (declared only in its internal jpegint.h), as a constant the
// compiler can see (test_jpeg_encoding.cpp checks the two are the same).
constexpr int kNaturalOrder[64] = {0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
                                   12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
                                   35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
                                   58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

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
