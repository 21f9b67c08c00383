#include "exif.hpp"

#include <cstring>

namespace bb {
namespace {

uint32_t tiff_u32(const uint8_t *p, bool big) {
    return big ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
               : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
}
uint16_t tiff_u16(const uint8_t *p, bool big) {
    return big ? uint16_t(p[0] << 8 | p[1]) : uint16_t(p[1] << 8 | p[0]);
}

} // namespace

int exif_orientation(const uint8_t *p, size_t n) {
    // JPEG's APP1 payload starts "Exif\0\0"; WebP's EXIF chunk is the TIFF structure itself
    const bool prefixed = n >= 6 && std::memcmp(p, "Exif\0\0", 6) == 0;
    const uint8_t *tiff = prefixed ? p + 6 : p;
    const size_t len = prefixed ? n - 6 : n;
    if (len < 8)
        return 0;
    bool big;
    if (!std::memcmp(tiff, "MM\0*", 4))
        big = true;
    else if (!std::memcmp(tiff, "II*\0", 4))
        big = false;
    else
        return 0;
    const uint32_t ifd = tiff_u32(tiff + 4, big);
    if (ifd > len || len - ifd < 2)
        return 0;
    const unsigned count = tiff_u16(tiff + ifd, big);
    for (unsigned i = 0; i < count; i++) {
        const size_t entry = size_t(ifd) + 2 + size_t(i) * 12;
        if (entry + 12 > len)
            return 0;
        if (tiff_u16(tiff + entry, big) == 0x0112 && tiff_u16(tiff + entry + 2, big) == 3) {
            const int value = tiff_u16(tiff + entry + 8, big);
            return value >= 1 && value <= 8 ? value : 0;
        }
    }
    return 0;
}

} // namespace bb
