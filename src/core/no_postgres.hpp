// Included first by every file of the pixel and codec core: the core must build and run
// without PostgreSQL, so including postgres.h before it is a compile-time error.
#pragma once

#ifdef POSTGRES_H
static_assert(false, "the bytea_blur core must not include postgres.h");
#endif
