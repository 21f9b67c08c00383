/*
 * Differences between the PostgreSQL major versions bytea_blur builds against (14 to 18),
 * kept in one place. Include after postgres.h and fmgr.h.
 */
#ifndef BYTEA_BLUR_COMPAT_H
#define BYTEA_BLUR_COMPAT_H

#if PG_VERSION_NUM < 140000
#error "bytea_blur requires PostgreSQL 14 or later (13 reached its end of life in November 2025)"
#endif

#ifndef BYTEA_BLUR_VERSION
#error "BYTEA_BLUR_VERSION must be defined (the Makefile passes the control file's version)"
#endif

/*
 * PostgreSQL 18 lets a module name itself and its version in its magic block, which
 * pg_get_loaded_modules() reports. Its macro fills the struct with designated initializers,
 * which C++ has only from C++20; GCC and Clang accept them in C++17 as an extension. The
 * pragma silences the note about that extension (-Wc++20-extensions, on with -Wpedantic) for
 * this one declaration that the server's macro dictates, and nowhere else.
 */
#if PG_VERSION_NUM >= 180000
#define BB_MODULE_MAGIC                                                                                                \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wc++20-extensions\"")                            \
        PG_MODULE_MAGIC_EXT(.name = "bytea_blur", .version = BYTEA_BLUR_VERSION);                                      \
    _Pragma("GCC diagnostic pop") extern int no_such_variable
#else
#define BB_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/* MarkGUCPrefixReserved replaced EmitWarningsOnPlaceholders in PostgreSQL 15. */
#if PG_VERSION_NUM >= 150000
#define BB_RESERVE_GUC_PREFIX(prefix) MarkGUCPrefixReserved(prefix)
#else
#define BB_RESERVE_GUC_PREFIX(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* PostgreSQL 16 moved the varlena macros to varatt.h, which postgres.h includes there. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#endif /* BYTEA_BLUR_COMPAT_H */
