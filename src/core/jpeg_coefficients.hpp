// Where libjpeg keeps a whole image's coefficients: a progressive or multi-scan JPEG is read
// whole into them (W·H·S·2 bytes) before its first row comes out, and an encoder with
// optimised Huffman tables holds them all before it writes the file. libjpeg's memory manager
// takes them from malloc, in fresh 4 KiB pages each faulted in and zeroed; this store takes
// them from allocate_large (huge pages, large_memory.hpp). On the progressive 4 MP ColorfulCups
// photo the core's whole blur went from 36-37 ms to 31 ms. The store replaces the methods of
// cinfo->mem that handle whole-image coefficient arrays (request, realize, access) and the one
// that frees the image's memory; libjpeg's own methods still serve everything else.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first
#include <jpeglib.h>

#include "jpeg_glue.hpp"

namespace bb {
namespace jpeg {

// Plain data, owned by the job beside the libjpeg object it serves (DecodeJob, EncodeJob).
struct CoefficientStore {
    jpeg_memory_mgr libjpeg; // the methods replaced, which the new ones fall back on
    jvirt_barray_ptr arrays; // requested so far, in libjpeg's image pool
    void *memory;            // all of them, from allocate_large (or the lender's)
    size_t bytes;
    // A second decoder of the same file (jpeg_scan_split.hpp) borrows the arrays of the
    // first, realized before it, instead of allocating its own.
    const CoefficientStore *lender;
    // Whether an array was requested zeroed: a decoder's are (its scans add to them), an
    // encoder's not (it writes every block, the padding too, before it reads one), so an
    // encoder's memory may be recycled (LargeFill::Any, large_memory.hpp).
    bool zeroed;
};

// Makes cinfo keep its coefficient arrays in store, or in lender's when lender is given;
// cinfo->err must be the ErrorManager (jpeg_glue.hpp) of the job that holds store. Call right
// after jpeg_create_decompress or jpeg_create_compress.
void use_coefficient_store(j_common_ptr cinfo, CoefficientStore *store,
                           const CoefficientStore *lender = nullptr) noexcept;

// The rows of blocks of an array of the store, once realized (after jpeg_read_coefficients),
// and its size: read and written directly, with no libjpeg call that could jump.
struct CoefficientRows {
    JBLOCKARRAY rows;
    JDIMENSION blocks_per_row;
    JDIMENSION row_count;
};
CoefficientRows coefficient_rows(jvirt_barray_ptr array) noexcept;

// Frees the arrays' memory, if any is left (libjpeg's jpeg_destroy does not call the freeing
// method that does it otherwise).
void release_coefficient_store(CoefficientStore *store) noexcept;

} // namespace jpeg
} // namespace bb
