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

// What the memory holds when it comes.
enum class LargeFill {
    Zeroed, // zeroes
    Any,    // anything: the caller writes every byte before it reads one
};

// Memory of bytes, or nullptr when there is none (or bytes is 0). Release it with
// free_large(p, bytes), the same size, which tells it how it was allocated. LargeFill::Any
// may get a mapping an earlier free_large kept (below), as it was left.
void *allocate_large(size_t bytes, LargeFill fill = LargeFill::Zeroed) noexcept;
void free_large(void *p, size_t bytes) noexcept;

// Recycling. Zeroing is most of what fresh memory costs: the kernel clears every page it maps
// in, 2 MiB pages as well (a 4 MP photo's blur to a JPEG with optimised tables spends 3-4 % of
// its time at one thread clearing the 12 MiB of coefficients libjpeg then writes over;
// `perf`). So free_large keeps the last kRecycledMappings mappings of up to kRecycledBytes in
// all, for the next LargeFill::Any request of the same size (in whole 2 MiB pages) in this
// process, and first marks them MADV_FREE: the kernel may still take their pages back when it
// is short of memory (they come back zeroed), and until then they cost nothing to reuse. A
// PostgreSQL backend that blurred a photo so keeps up to kRecycledBytes of such memory.
constexpr size_t kRecycledBytes = size_t(32) << 20;
constexpr int kRecycledMappings = 2;

// The bytes kept for recycling now; release_recycled_memory unmaps them.
size_t recycled_large_bytes() noexcept;
void release_recycled_memory() noexcept;
// For the tests: fills the kept mappings with byte, as anything may have left them.
void scribble_recycled_memory(unsigned char byte) noexcept;

} // namespace bb
