// The one EXIF fact the core keeps: the orientation tag. Read from a JPEG's APP1 payload;
// written back as a minimal EXIF block, without thumbnail or any other tag.
#pragma once
#include "no_postgres.hpp"

#include <cstddef>
#include <cstdint>

namespace bb {

// Reads the orientation tag (0x0112) of IFD0 from an EXIF APP1 payload ("Exif\0\0" and the
// TIFF structure) or a WebP EXIF chunk (the TIFF structure alone); 0 when absent or malformed
// (the payload is untrusted: every offset is checked against n).
int exif_orientation(const uint8_t *p, size_t n);

// A minimal EXIF block carrying the orientation alone: no thumbnail, no other tag.
struct ExifOrientation {
    uint8_t bytes[32] = {'E',  'x',  'i', 'f', 0, 0,                   // APP1 identifier
                         'M',  'M',  0,   42,  0, 0, 0, 8,             // big-endian TIFF header, IFD0 at 8
                         0,    1,                                      // one entry
                         0x01, 0x12, 0,   3,   0, 0, 0, 1, 0, 0, 0, 0, // orientation, SHORT, count 1
                         0,    0,    0,   0};                          // no next IFD
    explicit ExifOrientation(int orientation) { bytes[25] = static_cast<uint8_t>(orientation); }
};

} // namespace bb
