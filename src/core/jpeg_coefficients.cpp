#include "jpeg_coefficients.hpp"

#include <cstdint>
#include <cstdlib>

#include <jerror.h>

#include "large_memory.hpp"

// libjpeg declares this type and leaves it to its memory manager; ours is a coefficient array
// held whole in memory.
struct jvirt_barray_control {
    JBLOCKARRAY rows; // a pointer to each row of blocks, set when realized
    JDIMENSION blocks_per_row;
    JDIMENSION row_count;
    JDIMENSION max_access; // most rows libjpeg may ask for at once
    jvirt_barray_control *next;
};

namespace bb {
namespace jpeg {
namespace {

CoefficientStore &store_of(j_common_ptr cinfo) noexcept {
    return *reinterpret_cast<ErrorManager *>(cinfo->err)->coefficients;
}

// Ends the decode the way libjpeg's own errors do (jpeg_glue.cpp): error_exit jumps back to
// the run_* function, and this frame owns nothing.
[[noreturn]] void fail(j_common_ptr cinfo, int code) {
    cinfo->err->msg_code = code;
    cinfo->err->msg_parm.i[0] = 0;
    (*cinfo->err->error_exit)(cinfo);
    std::abort(); // error_exit does not return
}

jvirt_barray_ptr request_arrays(j_common_ptr cinfo, int pool_id, boolean pre_zero, JDIMENSION blocks_per_row,
                                JDIMENSION row_count, JDIMENSION max_access) {
    if (pool_id != JPOOL_IMAGE)
        fail(cinfo, JERR_BAD_POOL_ID);
    CoefficientStore &store = store_of(cinfo);
    store.zeroed = store.zeroed || pre_zero;
    auto *array =
        static_cast<jvirt_barray_ptr>((*cinfo->mem->alloc_small)(cinfo, JPOOL_IMAGE, sizeof(jvirt_barray_control)));
    *array = jvirt_barray_control{nullptr, blocks_per_row, row_count, max_access, store.arrays};
    store.arrays = array;
    return array;
}

// Lays the arrays out over the lender's, which must have the same shapes: the same frame, read
// from the same bytes.
void borrow_arrays(j_common_ptr cinfo, CoefficientStore &store) {
    jvirt_barray_ptr theirs = store.lender->arrays;
    for (jvirt_barray_ptr a = store.arrays; a; a = a->next, theirs = theirs->next) {
        if (!theirs || !theirs->rows || theirs->blocks_per_row != a->blocks_per_row ||
            theirs->row_count != a->row_count)
            fail(cinfo, JERR_BAD_VIRTUAL_ACCESS);
        a->rows = theirs->rows; // in the lender's pool, which outlives this decoder
    }
    if (theirs)
        fail(cinfo, JERR_BAD_VIRTUAL_ACCESS);
}

// All the arrays in one piece of memory, zeroed if libjpeg asked for any of them zeroed, else
// perhaps an earlier call's (CoefficientStore::zeroed); each row's pointer in libjpeg's image
// pool.
void realize_arrays(j_common_ptr cinfo) {
    CoefficientStore &store = store_of(cinfo);
    (*store.libjpeg.realize_virt_arrays)(cinfo); // the sample arrays, which are libjpeg's
    if (!store.arrays || store.memory)
        return;
    if (store.lender) {
        borrow_arrays(cinfo, store);
        return;
    }
    size_t bytes = 0;
    for (jvirt_barray_ptr a = store.arrays; a; a = a->next) {
        const size_t row_bytes = size_t(a->blocks_per_row) * sizeof(JBLOCK);
        if (a->row_count && row_bytes > (SIZE_MAX - bytes) / a->row_count)
            fail(cinfo, JERR_OUT_OF_MEMORY);
        bytes += row_bytes * a->row_count;
    }
    store.memory = allocate_large(bytes, store.zeroed ? LargeFill::Zeroed : LargeFill::Any);
    if (!store.memory)
        fail(cinfo, JERR_OUT_OF_MEMORY);
    store.bytes = bytes;
    auto *next = static_cast<uint8_t *>(store.memory);
    for (jvirt_barray_ptr a = store.arrays; a; a = a->next) {
        a->rows =
            static_cast<JBLOCKARRAY>((*cinfo->mem->alloc_small)(cinfo, JPOOL_IMAGE, sizeof(JBLOCKROW) * a->row_count));
        for (JDIMENSION r = 0; r < a->row_count; r++, next += size_t(a->blocks_per_row) * sizeof(JBLOCK))
            a->rows[r] = reinterpret_cast<JBLOCKROW>(next);
    }
}

JBLOCKARRAY access_array(j_common_ptr cinfo, jvirt_barray_ptr array, JDIMENSION start_row, JDIMENSION row_count,
                         boolean) {
    if (!array->rows || start_row > array->row_count || row_count > array->row_count - start_row ||
        row_count > array->max_access)
        fail(cinfo, JERR_BAD_VIRTUAL_ACCESS);
    return array->rows + start_row;
}

void free_pool(j_common_ptr cinfo, int pool_id) {
    CoefficientStore &store = store_of(cinfo);
    if (pool_id == JPOOL_IMAGE) {
        release_coefficient_store(&store);
        store.arrays = nullptr; // their descriptions go with the pool
    }
    (*store.libjpeg.free_pool)(cinfo, pool_id);
}

} // namespace

void use_coefficient_store(j_common_ptr cinfo, CoefficientStore *store, const CoefficientStore *lender) noexcept {
    reinterpret_cast<ErrorManager *>(cinfo->err)->coefficients = store;
    jpeg_memory_mgr *mem = cinfo->mem;
    *store = CoefficientStore{*mem, nullptr, nullptr, 0, lender, false};
    mem->request_virt_barray = request_arrays;
    mem->realize_virt_arrays = realize_arrays;
    mem->access_virt_barray = access_array;
    mem->free_pool = free_pool;
}

CoefficientRows coefficient_rows(jvirt_barray_ptr array) noexcept {
    return CoefficientRows{array->rows, array->rows ? array->blocks_per_row : 0, array->rows ? array->row_count : 0};
}

void release_coefficient_store(CoefficientStore *store) noexcept {
    free_large(store->memory, store->bytes);
    store->memory = nullptr;
    store->bytes = 0;
}

} // namespace jpeg
} // namespace bb
