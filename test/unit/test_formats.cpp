// The format table (formats.hpp): one line a format, which the probe, the names, the limits and
// both pipelines (the same format out, or another) go through.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "formats.hpp"
#include "helpers.hpp"

namespace {

// An ICC profile's bytes: JPEG, WebP and AVIF carry them as they are. The PNG writer leaves
// out a profile libpng would refuse (icc_fits_iccp), as this one: pg_regress's iccp.png covers PNG.
std::vector<uint8_t> icc_bytes() {
    return std::vector<uint8_t>(200, 7);
}

// Each format's writer, given the same small RGB picture with a profile and an orientation.
std::vector<uint8_t> written_as(const bb::FormatEntry &entry) {
    bb::Pixels pixels;
    pixels.image = bbtest::make_image(17, 11, 3);
    pixels.icc = icc_bytes();
    pixels.orientation = 6;
    bb::BlurOptions options;
    return bbtest::bytes_of(entry.write(pixels, options));
}

} // namespace

TEST(Formats, EveryFormatIsOneCompleteLine) {
    std::set<bb::Format> formats;
    std::set<std::string> names;
    for (const bb::FormatEntry &entry : bb::format_table()) {
        SCOPED_TRACE(entry.name);
        EXPECT_TRUE(formats.insert(entry.format).second);
        EXPECT_TRUE(names.insert(entry.name).second);
        EXPECT_EQ(&bb::format_entry(entry.format), &entry);
        EXPECT_EQ(bb::parse_format_name(entry.name), entry.format);
        if (entry.alias) {
            EXPECT_EQ(bb::parse_format_name(entry.alias), entry.format);
        }
        EXPECT_STREQ(bb::format_name(entry.format), entry.name);
        EXPECT_STREQ(bb::mime_type(entry.format), entry.mime);
        EXPECT_EQ(std::string(entry.mime).rfind("image/", 0), 0u);
        EXPECT_TRUE(entry.title && entry.recognises && entry.probe && entry.blur && entry.read && entry.write);
    }
    EXPECT_EQ(formats.size(), 4u);
}

// A file one writer makes is recognised by its own line alone; the probe reads its size back,
// with the orientation applied where the format keeps no tag; its reader gets the pixels and
// the profile back; and the same-format blur keeps the format.
TEST(Formats, EachWritersFileIsItsOwnLinesAlone) {
    for (const bb::FormatEntry &entry : bb::format_table()) {
        SCOPED_TRACE(entry.name);
        const std::vector<uint8_t> file = written_as(entry);
        for (const bb::FormatEntry &other : bb::format_table())
            EXPECT_EQ(other.recognises(file.data(), file.size()), &other == &entry) << other.name;
        const bb::ImageInfo info = bb::probe(file.data(), file.size());
        EXPECT_EQ(info.format, entry.format);
        const bool tagged = entry.format == bb::Format::Jpeg; // JPEG keeps the orientation as a tag
        EXPECT_EQ(info.width, tagged ? 17u : 11u);
        EXPECT_EQ(info.height, tagged ? 11u : 17u);

        const bb::Pixels back = entry.read(file.data(), file.size(), bb::DecodeOptions());
        EXPECT_EQ(back.image.width, info.width);
        EXPECT_EQ(back.image.channels, 3);
        EXPECT_EQ(back.icc, entry.format == bb::Format::Png ? std::vector<uint8_t>() : icc_bytes());
        EXPECT_EQ(back.orientation, tagged ? 6 : back.orientation ? 1 : 0); // 1 or none: upright

        const std::vector<uint8_t> blurred =
            bbtest::bytes_of(entry.blur(file.data(), file.size(), info, bb::BlurOptions(), bb::DecodeOptions()));
        EXPECT_EQ(bb::probe(blurred.data(), blurred.size()).format, entry.format);
    }
}

TEST(Formats, MessagesListTheTable) {
    EXPECT_EQ(bb::format_list(&bb::FormatEntry::title, " and "), "JPEG, PNG, WebP and AVIF");
    EXPECT_EQ(bb::format_list(&bb::FormatEntry::name, " or ", [](const bb::FormatEntry &e) { return e.writes_alpha; }),
              "png, webp or avif");
    EXPECT_EQ(bb::format_list(&bb::FormatEntry::name, ", ", [](const bb::FormatEntry &) { return false; }), "");
}
