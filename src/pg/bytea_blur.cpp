// The SQL entry points. The only file that includes postgres.h: it calls the core inside
// guarded() helpers that catch every C++ exception into a plain struct, and raises the
// PostgreSQL error only from frames that own no C++ object, after the catch block is left.

// The core's headers come first: they refuse to be included after postgres.h.
#include "../core/pipeline.hpp"
#include "../core/probe.hpp"
#include "../core/regions.hpp"

#include <cstring>
#include <new>
#include <string>
#include <vector>

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/geo_decls.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "compat.h"

BB_MODULE_MAGIC;

void _PG_init(void);
PG_FUNCTION_INFO_V1(bytea_blur);
PG_FUNCTION_INFO_V1(bytea_blur_regions);
PG_FUNCTION_INFO_V1(bytea_image_info);
}

namespace {

int max_pixels_guc = 100000000;
int threads_guc = 2;

// A core failure, copied out of the exception so that nothing C++ outlives the catch block.
struct CoreFailure {
    int sqlstate;
    char message[256];
    char detail[1024];
};

int sqlstate_for(bb::ErrorKind kind) noexcept {
    switch (kind) {
    case bb::ErrorKind::InvalidData: return ERRCODE_INVALID_BINARY_REPRESENTATION;
    case bb::ErrorKind::Unsupported: return ERRCODE_FEATURE_NOT_SUPPORTED;
    case bb::ErrorKind::TooLarge: return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
    case bb::ErrorKind::OutOfMemory: return ERRCODE_OUT_OF_MEMORY;
    case bb::ErrorKind::InvalidParameter: return ERRCODE_INVALID_PARAMETER_VALUE;
    case bb::ErrorKind::Interrupted: return ERRCODE_QUERY_CANCELED;
    }
    return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
}

void capture(CoreFailure *failure, int sqlstate, const char *message, const char *detail) noexcept {
    failure->sqlstate = sqlstate;
    strlcpy(failure->message, message, sizeof failure->message);
    strlcpy(failure->detail, detail, sizeof failure->detail);
}

// Runs body and reports whether it returned; any exception is captured into failure.
template <typename Body> bool guarded(CoreFailure *failure, Body &&body) noexcept {
    try {
        body();
        return true;
    } catch (const bb::Error &e) {
        capture(failure, sqlstate_for(e.kind()), e.what(), e.detail().c_str());
    } catch (const std::bad_alloc &) {
        capture(failure, ERRCODE_OUT_OF_MEMORY, "out of memory", "An allocation in the image core failed.");
    } catch (const std::exception &e) {
        capture(failure, ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, "image processing failed", e.what());
    } catch (...) {
        capture(failure, ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, "image processing failed", "Unknown exception.");
    }
    return false;
}

// Raises the captured failure as a PostgreSQL error. An interruption first lets PostgreSQL
// raise its own error (statement timeout, cancel request, termination).
[[noreturn]] void raise_failure(const CoreFailure *failure) {
    if (failure->sqlstate == ERRCODE_QUERY_CANCELED)
        CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(failure->sqlstate), errmsg("%s", failure->message),
                    failure->detail[0] ? errdetail("%s", failure->detail) : 0));
    pg_unreachable();
}

// Read by the core between rows: only a flag test, never a longjmp.
bool interrupt_requested() {
    return InterruptPending && (QueryCancelPending || ProcDiePending) && INTERRUPTS_CAN_BE_PROCESSED();
}

// The encoded result, owned by a memory context callback until it is copied into a bytea,
// so that an error raised in between (out of memory in palloc) still frees it.
struct ResultHolder {
    bb::Buffer *bytes;
    MemoryContextCallback callback;
};

void free_result(void *arg) {
    auto *holder = static_cast<ResultHolder *>(arg);
    delete holder->bytes;
    holder->bytes = nullptr;
}

ResultHolder *new_result_holder() {
    auto *holder = static_cast<ResultHolder *>(palloc0(sizeof(ResultHolder)));
    holder->callback.func = free_result;
    holder->callback.arg = holder;
    MemoryContextRegisterResetCallback(CurrentMemoryContext, &holder->callback);
    return holder;
}

// The options of one call: its sigma and quality, the settings' limit and threads.
bb::BlurOptions call_options(double sigma, int quality) {
    bb::BlurOptions options;
    options.sigma = sigma;
    options.quality = quality;
    options.max_pixels = uint64_t(max_pixels_guc);
    options.poll = interrupt_requested;
    // A parallel query's processes already take the cores: each stays on its own thread.
    options.threads = IsInParallelMode() ? 1 : threads_guc;
    return options;
}

// format: the output format's name as given in SQL (not NUL-terminated), or null for the
// input's own format.
bool run_blur(const uint8_t *data, size_t size, double sigma, int quality, const char *format, size_t format_size,
              ResultHolder *holder, CoreFailure *failure) noexcept {
    // guarded() catches everything the lambda throws (cppcheck 2.17 sees a throw escape).
    // cppcheck-suppress throwInNoexceptFunction
    return guarded(failure, [&] {
        bb::BlurOptions options = call_options(sigma, quality);
        if (format)
            options.output = bb::parse_format_name(std::string(format, format_size));
        bb::Buffer out = bb::blur_image(data, size, options);
        // std::bad_alloc is caught by guarded().
        holder->bytes = new bb::Buffer(std::move(out)); // NOLINT(bugprone-unhandled-exception-at-new)
    });
}

// corners: count boxes of four doubles each (x1, y1, x2, y2), copied out of SQL's box[].
bool run_blur_regions(const uint8_t *data, size_t size, const double *corners, size_t count, double sigma, int quality,
                      ResultHolder *holder, CoreFailure *failure) noexcept {
    // cppcheck-suppress throwInNoexceptFunction
    return guarded(failure, [&] {
        const bb::BlurOptions options = call_options(sigma, quality);
        std::vector<bb::Box> boxes(count);
        for (size_t i = 0; i < count; i++)
            boxes[i] = bb::Box{corners[4 * i], corners[4 * i + 1], corners[4 * i + 2], corners[4 * i + 3]};
        bb::Buffer out = bb::blur_regions(data, size, boxes, options);
        holder->bytes = new bb::Buffer(std::move(out)); // NOLINT(bugprone-unhandled-exception-at-new)
    });
}

bool run_probe(const uint8_t *data, size_t size, bb::ImageInfo *info, CoreFailure *failure) noexcept {
    return guarded(failure, [&] { *info = bb::probe(data, size); });
}

// Copies the result out of the holder into a new bytea and frees the holder's buffer.
bytea *result_bytea(ResultHolder *holder) {
    const size_t size = holder->bytes->size();
    if (size > MaxAllocSize - VARHDRSZ)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("blurred image too large"),
                        errdetail("The encoded result has %zu bytes; a bytea holds at most 1 GB.", size)));
    bytea *result = static_cast<bytea *>(palloc(size + VARHDRSZ));
    SET_VARSIZE(result, size + VARHDRSZ);
    memcpy(VARDATA(result), holder->bytes->data(), size);
    free_result(holder);
    return result;
}

} // namespace

extern "C" {

void _PG_init(void) {
    DefineCustomIntVariable("bytea_blur.max_pixels", "Largest image, in pixels, that bytea_blur processes.",
                            "Images with more pixels (width times height) are refused from their header, "
                            "before any pixel memory is allocated. Valid range: 1 to 2147483647.",
                            &max_pixels_guc, 100000000, 1, INT_MAX, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("bytea_blur.threads", "Threads one bytea_blur call may use.",
                            "1 keeps every call on its backend's own thread. 2 lets a progressive JPEG's "
                            "scans, or a large JPEG's rows, be decoded and a PNG compressed on two threads at once. "
                            "Valid range: 1 to 2.",
                            &threads_guc, 2, 1, 2, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    BB_RESERVE_GUC_PREFIX("bytea_blur");
}

// bytea_blur(data bytea, sigma float8, quality int4 [, format text]) returns bytea: the image
// blurred and re-encoded in its own format, or in format when that is not null. Version 1.2's
// SQL declares three arguments and STRICT; 1.3's four, not STRICT: a null data, sigma or
// quality gives null, a null format the input's own.
Datum bytea_blur(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
        PG_RETURN_NULL();
    bytea *input = PG_GETARG_BYTEA_PP(0);
    const double sigma = PG_GETARG_FLOAT8(1);
    const int32 quality = PG_GETARG_INT32(2);
    text *format = PG_NARGS() > 3 && !PG_ARGISNULL(3) ? PG_GETARG_TEXT_PP(3) : nullptr;
    ResultHolder *holder = new_result_holder();
    CoreFailure failure;

    if (!run_blur(reinterpret_cast<const uint8_t *>(VARDATA_ANY(input)), VARSIZE_ANY_EXHDR(input), sigma, quality,
                  format ? VARDATA_ANY(format) : nullptr, format ? VARSIZE_ANY_EXHDR(format) : 0, holder, &failure))
        raise_failure(&failure);

    bytea *result = result_bytea(holder);
    PG_FREE_IF_COPY(input, 0);
    PG_RETURN_BYTEA_P(result);
}

// bytea_blur_regions(data bytea, regions box[], sigma float8, quality int4) returns bytea (STRICT):
// the blur inside the boxes, in pixels of the displayed image. A null box in the array is an
// error; the array's dimensions do not matter, only its boxes.
Datum bytea_blur_regions(PG_FUNCTION_ARGS) {
    bytea *input = PG_GETARG_BYTEA_PP(0);
    ArrayType *regions = PG_GETARG_ARRAYTYPE_P(1);
    const double sigma = PG_GETARG_FLOAT8(2);
    const int32 quality = PG_GETARG_INT32(3);
    Datum *elements;
    bool *nulls;
    int count;
    if (ARR_ELEMTYPE(regions) != BOXOID)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("regions must be an array of box")));
    deconstruct_array(regions, BOXOID, sizeof(BOX), false, TYPALIGN_DOUBLE, &elements, &nulls, &count);
    double *corners = static_cast<double *>(palloc(sizeof(double) * 4 * size_t(count > 0 ? count : 1)));
    for (int i = 0; i < count; i++) {
        if (nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("regions must not contain a null box"),
                            errdetail("Element %d of the array is null.", i + 1)));
        const BOX *box = DatumGetBoxP(elements[i]);
        corners[4 * i] = box->low.x;
        corners[4 * i + 1] = box->low.y;
        corners[4 * i + 2] = box->high.x;
        corners[4 * i + 3] = box->high.y;
    }
    ResultHolder *holder = new_result_holder();
    CoreFailure failure;
    if (!run_blur_regions(reinterpret_cast<const uint8_t *>(VARDATA_ANY(input)), VARSIZE_ANY_EXHDR(input), corners,
                          size_t(count), sigma, quality, holder, &failure))
        raise_failure(&failure);
    bytea *result = result_bytea(holder);
    pfree(corners);
    PG_FREE_IF_COPY(input, 0);
    PG_RETURN_BYTEA_P(result);
}

// bytea_image_info(data bytea) returns (format, mime_type, width, height, channels,
// bit_depth), read from the headers alone.
Datum bytea_image_info(PG_FUNCTION_ARGS) {
    bytea *input = PG_GETARG_BYTEA_PP(0);
    TupleDesc desc;
    bb::ImageInfo info;
    CoreFailure failure;

    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("bytea_image_info must be called in a context that accepts a record")));
    if (!run_probe(reinterpret_cast<const uint8_t *>(VARDATA_ANY(input)), VARSIZE_ANY_EXHDR(input), &info, &failure))
        raise_failure(&failure);

    Datum values[6];
    bool nulls[6] = {false, false, false, false, false, false};
    values[0] = CStringGetTextDatum(bb::format_name(info.format));
    values[1] = CStringGetTextDatum(bb::mime_type(info.format));
    values[2] = Int32GetDatum(static_cast<int32>(info.width));
    values[3] = Int32GetDatum(static_cast<int32>(info.height));
    values[4] = Int32GetDatum(info.channels);
    values[5] = Int32GetDatum(info.bit_depth);
    desc = BlessTupleDesc(desc);
    PG_FREE_IF_COPY(input, 0);
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

} // extern "C"
