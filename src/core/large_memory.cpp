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
    auto *base = static_cast<char *>(mapped);
    const size_t head = (kHugePage - reinterpret_cast<uintptr_t>(base) % kHugePage) % kHugePage;
    char *aligned = base + head;
    if (head > 0)
        munmap(base, head);
    munmap(aligned + size, kHugePage - head); // a page at least: head is a whole number of pages
    // Advice only: where transparent huge pages are off this fails and changes nothing.
    (void)madvise(aligned, size, MADV_HUGEPAGE);
    return aligned;
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
