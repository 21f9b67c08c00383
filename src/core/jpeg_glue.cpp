#include "jpeg_glue.hpp"

#include <string>

#include <jerror.h>

#include "errors.hpp"

namespace bb {
namespace jpeg {
namespace {

[[noreturn]] void on_error_exit(j_common_ptr cinfo) {
    auto *err = reinterpret_cast<ErrorManager *>(cinfo->err);
    err->msg_code = err->pub.msg_code;
    err->pub.format_message(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

// Warnings that mean the pixels are not what the file intended are fatal: a truncated or
// corrupt image must be an error, never a half-grey result.
void on_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0)
        return; // trace messages
    const int code = cinfo->err->msg_code;
    // libjpeg passes the coefficient: 0 for an AC scan without a DC scan before it
    if (code == JWRN_BOGUS_PROGRESSION && reinterpret_cast<ErrorManager *>(cinfo->err)->dc_elsewhere &&
        cinfo->err->msg_parm.i[1] == 0) {
        cinfo->err->num_warnings++;
        return;
    }
    switch (code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_TOO_MUCH_DATA: on_error_exit(cinfo);
    default: cinfo->err->num_warnings++;
    }
}

void on_output_message(j_common_ptr) {}

} // namespace

void init_error_manager(ErrorManager *err) {
    jpeg_std_error(&err->pub);
    err->pub.error_exit = on_error_exit;
    err->pub.emit_message = on_emit_message;
    err->pub.output_message = on_output_message;
    err->msg_code = 0;
    err->message[0] = '\0';
    err->dc_elsewhere = false;
    err->coefficients = nullptr;
}

[[noreturn]] void throw_jpeg_error(const ErrorManager &err, bool decoding) {
    if (err.msg_code == JERR_OUT_OF_MEMORY)
        throw Error(ErrorKind::OutOfMemory, "out of memory", "libjpeg could not allocate its working memory.");
    if (decoding)
        throw Error(ErrorKind::InvalidData, "corrupt JPEG data", std::string("libjpeg: ") + err.message + ".");
    throw Error(ErrorKind::InvalidData, "could not encode JPEG", std::string("libjpeg: ") + err.message + ".");
}

} // namespace jpeg
} // namespace bb
