#include "large_memory.hpp"

#include <cstdint>
#include <cstdlib>

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
#include <sys/mman.h>
#define BB_MAP_LARGE 1
#endif

namespace bb {

#ifdef BB_MAP_LARGE
namespace {

constexpr size_t kHugePage = size_t(2) << 20;

size_t round_up(size_t n, size_t to) noexcept {
    return (n + to - 1) / to * to;
}

} // namespace

// Maps a huge page more than asked and gives the unaligned ends back, so that the region
// starts on a 2 MiB boundary and the kernel can back all of it with huge pages.
void *allocate_large(size_t bytes) noexcept {
    if (bytes < kLargeMemoryBytes)
        return bytes ? std::calloc(1, bytes) : nullptr;
    if (bytes > SIZE_MAX - 2 * kHugePage)
        return nullptr;
    const size_t size = round_up(bytes, kHugePage);
    void *mapped = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED)
        return nullptr;
    const auto start = reinterpret_cast<uintptr_t>(mapped);
    const uintptr_t aligned = round_up(start, kHugePage);
    if (aligned > start)
        munmap(mapped, aligned - start);
    const uintptr_t end = start + size + kHugePage;
    if (end > aligned + size)
        munmap(reinterpret_cast<void *>(aligned + size), end - (aligned + size));
    // Advice only: where transparent huge pages are off this fails and changes nothing.
    (void)madvise(reinterpret_cast<void *>(aligned), size, MADV_HUGEPAGE);
    return reinterpret_cast<void *>(aligned);
}

void free_large(void *p, size_t bytes) noexcept {
    if (bytes < kLargeMemoryBytes)
        std::free(p);
    else if (p)
        munmap(p, round_up(bytes, kHugePage));
}

#else
// Elsewhere, and under AddressSanitizer (which watches malloc'd memory, not mappings).
void *allocate_large(size_t bytes) noexcept {
    return bytes ? std::calloc(1, bytes) : nullptr;
}

void free_large(void *p, size_t) noexcept {
    std::free(p);
}
#endif

} // namespace bb
