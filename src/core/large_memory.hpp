// Memory for the buffers of megabytes: decoded pixels, a progressive JPEG's coefficients, the
// compressed output. Every call gets such buffers fresh from the kernel, which faults each
// 4 KiB page in and zeroes it, about 1.6 us a page on this machine: libjpeg's decode of a
// progressive 4 MP photo took 28 ms in fresh memory and 21 ms in memory used before. Mapped
// here instead, 2 MiB aligned and marked for transparent huge pages, the memory arrives in
// 2 MiB pages, 512 times fewer faults. Where the kernel has no huge pages to give (or the
// system is not Linux) it is ordinary zeroed memory.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>

namespace bb {

// From this size up memory is mapped; below it calloc serves well, and a huge page would be
// mostly unused.
constexpr size_t kLargeMemoryBytes = size_t(4) << 20;

// Zero-filled memory of bytes, or nullptr when there is none (or bytes is 0). Release it with
// free_large(p, bytes), the same size, which tells it how it was allocated.
void *allocate_large(size_t bytes) noexcept;
void free_large(void *p, size_t bytes) noexcept;

} // namespace bb
