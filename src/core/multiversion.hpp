// Function multiversioning for the hot loops: on x86-64 GCC compiles a function marked with
// one of these macros once per listed target and picks the clone at load time. Sanitizer and
// clang builds keep one plain version.
//   BB_CLONES_AVX2     x86-64-v3 (AVX2, FMA) and the baseline
//   BB_CLONES_AVX512   x86-64-v4 (AVX-512) as well, for loops written for 16-float vectors
#pragma once
#include "no_postgres.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define BB_CLONES_AVX2 __attribute__((target_clones("arch=x86-64-v3", "default")))
#define BB_CLONES_AVX512 __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BB_CLONES_AVX2
#define BB_CLONES_AVX512
#endif
