// libFuzzer target over the header parser behind bytea_image_info.
#include <cstddef>
#include <cstdint>

#include "probe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    try {
        const bb::ImageInfo info = bb::probe(data, size);
        bb::check_supported(info);
    } catch (const bb::Error &) {
    }
    return 0;
}
