/*
 * Differences between the PostgreSQL major versions bytea_blur builds against (13 to 17),
 * kept in one place. Include after postgres.h.
 */
#ifndef BYTEA_BLUR_COMPAT_H
#define BYTEA_BLUR_COMPAT_H

#if PG_VERSION_NUM < 130000
#error "bytea_blur requires PostgreSQL 13 or later"
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
