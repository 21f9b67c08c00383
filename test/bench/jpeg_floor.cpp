// The floor of any blur built on libjpeg, for the benchmark: decode a JPEG to its raw
// component planes (no colour conversion, no upsampling) and encode those planes again at
// quality 75 with the same sampling, with nothing in between. bytea_blur works on the same
// planes, so this is what its decode and encode cost without the blur.
//   jpeg_floor FILE RUNS [decode]   prints the median milliseconds of RUNS decode+encode rounds
//                                   (with "decode": of the decode alone)
#include <cstddef>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first
#include <jpeglib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

// One decode + encode of data through raw planes (the decode alone when decode_only); returns
// the encoded size.
size_t round_trip(const std::vector<unsigned char> &data, bool decode_only = false) {
    jpeg_decompress_struct in{};
    jpeg_error_mgr in_err{};
    in.err = jpeg_std_error(&in_err);
    jpeg_create_decompress(&in);
    jpeg_mem_src(&in, data.data(), data.size());
    jpeg_read_header(&in, TRUE);
    in.raw_data_out = TRUE;
    jpeg_start_decompress(&in);

    jpeg_compress_struct out{};
    jpeg_error_mgr out_err{};
    out.err = jpeg_std_error(&out_err);
    jpeg_create_compress(&out);
    unsigned char *buf = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&out, &buf, &size);
    out.image_width = in.image_width;
    out.image_height = in.image_height;
    out.input_components = in.num_components;
    out.in_color_space = in.jpeg_color_space;
    jpeg_set_defaults(&out);
    jpeg_set_colorspace(&out, in.jpeg_color_space);
    for (int c = 0; c < in.num_components; ++c) {
        out.comp_info[c].h_samp_factor = in.comp_info[c].h_samp_factor;
        out.comp_info[c].v_samp_factor = in.comp_info[c].v_samp_factor;
    }
    jpeg_set_quality(&out, 75, TRUE);
    out.raw_data_in = TRUE;
    jpeg_start_compress(&out, TRUE);

    // One iMCU row of each component at a time, as libjpeg's raw interfaces take them.
    const int rows = in.max_v_samp_factor * DCTSIZE;
    std::vector<std::vector<unsigned char>> planes(in.num_components);
    std::vector<std::vector<JSAMPROW>> pointers(in.num_components);
    std::vector<JSAMPARRAY> arrays(in.num_components);
    for (int c = 0; c < in.num_components; ++c) {
        const jpeg_component_info &ci = in.comp_info[c];
        const size_t width = ci.width_in_blocks * DCTSIZE;
        const int height = ci.v_samp_factor * DCTSIZE;
        planes[c].resize(width * height);
        for (int y = 0; y < height; ++y)
            pointers[c].push_back(planes[c].data() + y * width);
        arrays[c] = pointers[c].data();
    }
    while (in.output_scanline < in.output_height) {
        jpeg_read_raw_data(&in, arrays.data(), rows);
        if (!decode_only)
            jpeg_write_raw_data(&out, arrays.data(), rows);
    }
    if (decode_only) {
        jpeg_finish_decompress(&in);
        jpeg_destroy_decompress(&in);
        jpeg_destroy_compress(&out);
        std::free(buf);
        return 0;
    }
    jpeg_finish_compress(&out);
    jpeg_finish_decompress(&in);
    jpeg_destroy_decompress(&in);
    jpeg_destroy_compress(&out);
    std::free(buf);
    return size;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 3 && !(argc == 4 && std::string(argv[3]) == "decode")) {
        std::fprintf(stderr, "usage: jpeg_floor FILE RUNS [decode]\n");
        return 2;
    }
    std::ifstream file(argv[1], std::ios::binary);
    const std::vector<unsigned char> data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const int runs = std::max(1, std::atoi(argv[2]));
    const bool decode_only = argc == 4;
    round_trip(data, decode_only); // warm up
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        round_trip(data, decode_only);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%.3f\n", ms[ms.size() / 2]);
    return 0;
}
