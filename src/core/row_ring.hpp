// A ring of rows for the streaming blurs: a row filtered horizontally waits in a slot until the
// vertical pass has used it. Both FIR blurs keep one, of float (fir_blur) or of 16-bit
// fixed-point samples (fixed_blur). Slots start on 64-byte boundaries, so that a vertical pass
// reading the same column of many rows never loads across a cache line.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace bb {

template <typename T> class RowRing {
  public:
    // slots rows of samples each.
    RowRing(size_t samples, uint32_t slots)
        : samples_(samples), stride_((samples * sizeof(T) + 63) / 64 * 64 / sizeof(T)) {
        allocate(storage_, base_, slots);
        slots_ = slots;
    }

    uint32_t slots() const noexcept { return slots_; }
    // The slot that holds image row `row` (rows map onto slots modulo their number).
    T *slot(uint32_t row) noexcept { return base_ + size_t(row % slots_) * stride_; }
    const T *slot(uint32_t row) const noexcept { return base_ + size_t(row % slots_) * stride_; }

    // Doubles the slots, keeping rows [first, end) (end - first <= slots()) readable.
    void grow(uint32_t first, uint32_t end) {
        const uint32_t slots = slots_ * 2;
        std::vector<T> storage;
        T *base;
        allocate(storage, base, slots);
        for (uint32_t r = first; r < end; r++)
            std::memcpy(base + size_t(r % slots) * stride_, slot(r), samples_ * sizeof(T));
        storage_.swap(storage);
        base_ = base;
        slots_ = slots;
    }

  private:
    void allocate(std::vector<T> &storage, T *&base, uint32_t slots) const {
        const size_t align = 64 / sizeof(T);
        storage.assign(size_t(slots) * stride_ + align, T(0));
        const auto address = reinterpret_cast<uintptr_t>(storage.data());
        base = storage.data() + ((64 - address % 64) % 64) / sizeof(T);
    }

    size_t samples_, stride_;
    std::vector<T> storage_;
    T *base_ = nullptr;
    uint32_t slots_ = 0;
};

} // namespace bb
