#include "large_memory.hpp"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

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

// The mappings kept for recycling (large_memory.hpp), oldest first, under a spin lock: held
// for a few comparisons, never across a call that could block or jump.
struct Recycled {
    void *at;
    size_t size; // whole huge pages
};
std::atomic_flag recycled_lock = ATOMIC_FLAG_INIT;
Recycled recycled[kRecycledMappings];
int recycled_count = 0;
size_t recycled_total = 0;

class RecycledLock {
  public:
    RecycledLock() noexcept {
        while (recycled_lock.test_and_set(std::memory_order_acquire)) {
        }
    }
    ~RecycledLock() { recycled_lock.clear(std::memory_order_release); }
    RecycledLock(const RecycledLock &) = delete;
    RecycledLock &operator=(const RecycledLock &) = delete;
};

// Takes the kept mapping at i out of the list; the lock held.
Recycled remove_recycled(int i) noexcept {
    const Recycled taken = recycled[i];
    recycled_total -= taken.size;
    for (int j = i + 1; j < recycled_count; j++)
        recycled[j - 1] = recycled[j];
    recycled_count--;
    return taken;
}

// Gives mappings taken out of the list back to the system, once the lock is released.
void unmap_all(const Recycled *mappings, int count) noexcept {
    for (int i = 0; i < count; i++)
        munmap(mappings[i].at, mappings[i].size);
}

// Takes the kept mapping of size out of the list, or returns nullptr.
void *take_recycled(size_t size) noexcept {
    RecycledLock lock;
    for (int i = 0; i < recycled_count; i++)
        if (recycled[i].size == size)
            return remove_recycled(i).at;
    return nullptr;
}

// Keeps a mapping, the oldest one unmapped when the list or the bytes are full; false when
// it is too large to keep.
bool keep_recycled(void *at, size_t size) noexcept {
#ifdef MADV_FREE
    if (size > kRecycledBytes || madvise(at, size, MADV_FREE) != 0)
        return false;
    Recycled out[kRecycledMappings];
    int outs = 0;
    {
        RecycledLock lock;
        while (recycled_count > 0 && (recycled_count == kRecycledMappings || recycled_total + size > kRecycledBytes))
            out[outs++] = remove_recycled(0);
        recycled[recycled_count++] = Recycled{at, size};
        recycled_total += size;
    }
    unmap_all(out, outs);
    return true;
#else
    (void)at;
    (void)size;
    return false;
#endif
}

} // namespace

// Maps a huge page more than asked and gives the unaligned ends back, so that the region
// starts on a 2 MiB boundary and the kernel can back all of it with huge pages.
void *allocate_large(size_t bytes, LargeFill fill) noexcept {
    if (bytes < kLargeMemoryBytes)
        return bytes ? std::calloc(1, bytes) : nullptr;
    if (bytes > SIZE_MAX - 2 * kHugePage)
        return nullptr;
    const size_t size = round_up(bytes, kHugePage);
    if (fill == LargeFill::Any)
        if (void *kept = take_recycled(size))
            return kept;
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
    else if (p && !keep_recycled(p, round_up(bytes, kHugePage)))
        munmap(p, round_up(bytes, kHugePage));
}

size_t recycled_large_bytes() noexcept {
    RecycledLock lock;
    return recycled_total;
}

void release_recycled_memory() noexcept {
    Recycled out[kRecycledMappings];
    int outs = 0;
    {
        RecycledLock lock;
        while (recycled_count > 0)
            out[outs++] = remove_recycled(0);
    }
    unmap_all(out, outs);
}

void scribble_recycled_memory(unsigned char byte) noexcept {
    RecycledLock lock;
    for (int i = 0; i < recycled_count; i++)
        std::memset(recycled[i].at, byte, recycled[i].size);
}

#else
// Elsewhere, and under AddressSanitizer (which watches malloc'd memory, not mappings): calloc,
// nothing kept.
void *allocate_large(size_t bytes, LargeFill) noexcept {
    return bytes ? std::calloc(1, bytes) : nullptr;
}

void free_large(void *p, size_t) noexcept {
    std::free(p);
}

size_t recycled_large_bytes() noexcept {
    return 0;
}

void release_recycled_memory() noexcept {}

void scribble_recycled_memory(unsigned char) noexcept {}
#endif

} // namespace bb
