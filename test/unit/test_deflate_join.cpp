#include <gtest/gtest.h>

#include <libdeflate.h>
#include <zlib.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "deflate_join.hpp"

namespace {

// Data that compresses like filtered scanlines: runs, repeats and noise.
std::vector<uint8_t> sample_data(size_t n, uint32_t seed) {
    std::vector<uint8_t> data(n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        const uint32_t r = seed >> 16;
        data[i] = (i / 1000) % 3 == 0 ? uint8_t(r) : (i / 1000) % 3 == 1 ? uint8_t(i % 7) : uint8_t(r % 4);
    }
    return data;
}

std::vector<uint8_t> compress(const uint8_t *data, size_t n, int level) {
    std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor *)> c(libdeflate_alloc_compressor(level),
                                                                                libdeflate_free_compressor);
    std::vector<uint8_t> out(libdeflate_deflate_compress_bound(c.get(), n));
    out.resize(libdeflate_deflate_compress(c.get(), data, n, out.data(), out.size()));
    return out;
}

// Inflates a raw deflate stream with zlib, an independent decoder.
std::vector<uint8_t> zlib_inflate(const std::vector<uint8_t> &in, size_t expected) {
    std::vector<uint8_t> out(expected + 16);
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, -15), Z_OK);
    z.next_in = const_cast<Bytef *>(in.data());
    z.avail_in = uInt(in.size());
    z.next_out = out.data();
    z.avail_out = uInt(out.size());
    EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
    EXPECT_EQ(z.avail_in, 0u); // the stream ends where the data does
    out.resize(z.total_out);
    inflateEnd(&z);
    return out;
}

std::vector<uint8_t> join(const std::vector<uint8_t> &data, size_t piece, int level) {
    std::vector<std::vector<uint8_t>> pieces;
    size_t capacity = 0;
    for (size_t at = 0; at < data.size() || pieces.empty(); at += piece) {
        const size_t n = std::min(piece, data.size() - at);
        pieces.push_back(compress(data.data() + at, n, level));
        capacity += pieces.back().size() + 5;
    }
    std::vector<uint8_t> out(capacity);
    bb::DeflateJoiner joiner(out.data());
    for (size_t i = 0; i < pieces.size(); i++)
        joiner.append(pieces[i].data(), pieces[i].size(), i + 1 == pieces.size());
    out.resize(joiner.bytes());
    return out;
}

} // namespace

TEST(DeflateExtent, FindsTheLastBlockAndTheEnd) {
    for (int level : {0, 1, 6, 12}) // 0: stored blocks only
        for (size_t n : {size_t(0), size_t(1), size_t(70000), size_t(400000)}) {
            const std::vector<uint8_t> data = sample_data(n, uint32_t(n) + 1);
            const std::vector<uint8_t> stream = compress(data.data(), data.size(), level);
            const bb::DeflateExtent e = bb::deflate_extent(stream.data(), stream.size());
            EXPECT_EQ((e.end_bit + 7) / 8, stream.size()) << "level " << level << " n " << n;
            ASSERT_LT(e.last_block_bit, e.end_bit);
            EXPECT_EQ((stream[e.last_block_bit / 8] >> (e.last_block_bit % 8)) & 1, 1) << "the final flag";
        }
}

TEST(DeflateJoin, JoinedPiecesInflateToTheWhole) {
    const std::vector<uint8_t> data = sample_data(900001, 3);
    std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor *)> d(libdeflate_alloc_decompressor(),
                                                                                    libdeflate_free_decompressor);
    for (int level : {0, 1, 6})
        for (size_t piece : {size_t(3), size_t(777), size_t(65536), size_t(300000), size_t(2000000)}) {
            const std::vector<uint8_t> joined =
                join(piece == 3 ? std::vector<uint8_t>(data.begin(), data.begin() + 5000) : data, piece, level);
            const size_t expected = piece == 3 ? 5000 : data.size();
            std::vector<uint8_t> out(expected);
            size_t got = 0;
            ASSERT_EQ(
                libdeflate_deflate_decompress(d.get(), joined.data(), joined.size(), out.data(), out.size(), &got),
                LIBDEFLATE_SUCCESS)
                << "level " << level << " piece " << piece;
            const std::vector<uint8_t> whole(data.begin(), data.begin() + long(expected));
            EXPECT_EQ(got, expected);
            EXPECT_TRUE(out == whole);
            EXPECT_TRUE(zlib_inflate(joined, expected) == whole) << "level " << level << " piece " << piece;
        }
}

TEST(DeflateJoin, EmptyInput) {
    const std::vector<uint8_t> joined = join({}, 4096, 1);
    EXPECT_TRUE(zlib_inflate(joined, 0).empty());
}

TEST(DeflateExtent, RefusesMalformedStreams) {
    const std::vector<uint8_t> data = sample_data(100000, 9);
    const std::vector<uint8_t> stream = compress(data.data(), data.size(), 6);
    for (size_t keep : {size_t(0), size_t(1), stream.size() / 2, stream.size() - 2})
        EXPECT_THROW(bb::deflate_extent(stream.data(), keep), std::runtime_error) << keep;
    const uint8_t reserved[2] = {0x07, 0x00}; // final, type 3
    EXPECT_THROW(bb::deflate_extent(reserved, sizeof reserved), std::runtime_error);
    const uint8_t bad_stored[5] = {0x01, 0x05, 0x00, 0x00, 0x00}; // length 5, complement wrong
    EXPECT_THROW(bb::deflate_extent(bad_stored, sizeof bad_stored), std::runtime_error);
}
