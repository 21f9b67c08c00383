"""What a person sees: every kind of output bytea_blur writes, shown by a real browser (headless
Chromium), beside the input it came from.

For each input of test/fixtures that bytea_blur blurs (every JPEG, PNG, WebP and AVIF kind:
subsampled and 4:4:4, greyscale, CMYK and YCCK, progressive, 8, 10, 12 and 16 bits, palettes
with and without transparency, interlaced, with alpha, with an ICC profile, EXIF orientation or
an AVIF rotation), and for a larger photo in each format, the browser must:
  - load the blurred copy (it decodes it without error);
  - show it at the input's displayed size, the EXIF orientation applied as the browser applies
    it to the input (and, for the JPEG with orientation 6, as Pillow's exif_transpose gives it);
  - show the same mean colour (premultiplied: as it shows over any background) and the same
    mean alpha as it shows for the input;
  - show it blurred: the detail of what it displays (second differences along rows) falls well
    below the input's.
The same for each input blurred into each other format (bytea_blur's format argument), where
the size shown must be the input's as EXIF orientation displays it (Pillow's exif_transpose):
Chromium applies a JPEG's orientation but ignores a WebP's, so a JPEG's blur written as WebP
must come out upright in its pixels. (Pillow here reads no AVIF: an AVIF input's displayed size
is the one Chromium shows for it, its irot applied; its clean aperture, which Chromium ignores,
is applied as the standard says: shown_by_a_viewer.)
"""
import io
import unittest

from PIL import Image, ImageOps

import bbtest
from bbtest import FIXTURES, connect, encode, photo
from browser import MIME, chromium, data_url, show_and_measure
import generate  # test/fixtures/generate.py, on the path through bbtest

# The inputs bytea_blur refuses are tested elsewhere (test_hostile, blur_avif).
REFUSED = {"sequence.avif"}

# Mean colour and alpha of the blurred copy against the input, as the browser shows both, in
# levels of 255: the Gaussian reflected at the borders moves the mean of a small image a little
# (3 levels on the 33x21 YCCK fixture), and a lossy format adds its own error. A wrong colour
# space, channel order or alpha would be tens of levels off.
MEAN_TOLERANCE = 4.0


def shows(measured, channel):
    """The mean of a channel as it shows over any background: its alpha-weighted mean colour
    times its mean alpha (a difference in colour under low alpha barely shows)."""
    return measured["colour"][channel] * measured["alpha"] / 255


def avif_with_alpha(conn, data):
    info = bbtest.image_info(conn, data)
    return info["format"] == "avif" and info["channels"] in (2, 4)


def alpha_shown_from(conn, out, url):
    """The data: URL whose display the alpha and colour checks measure. An AVIF with alpha is
    measured through its pixels written as PNG (bytea_blur's conversion at sigma 0): Chromium
    shows every AVIF's alpha as if it were limited range (an alpha of 40 shows as 28, also in
    sharp's AVIF, though the AV1 alpha stream says full range and libavif decodes 40), so the
    AVIF's own display would measure Chromium's reading, not the file."""
    if avif_with_alpha(conn, out):
        return data_url(bbtest.blur(conn, out, 0.0, 75, "png"), "image/png")
    return url


def shown_by_a_viewer(conn, name, data):
    """The data: URL of an input as a viewer shows it. Chromium ignores an AVIF's clean aperture
    (clap), which the standard applies (ISO/IEC 23000-22, 7.3.6.7) and so do bytea_blur's
    conversions: clap.avif is shown as its pixels written as PNG at sigma 0 (the aperture, as
    libavif decodes it: its lossy coding moves the mean red about 4 levels off generate.py's photo).
    Its size is checked against generate.py's own aperture. AVIF to AVIF keeps the clap: its
    output's colours are measured so too, as a viewer that applies the clap shows them (Chromium
    shows the whole stored picture, where bytea_blur writes the aperture's reflection, blurred,
    around the aperture: test_every_output_shows_as_its_input_blurred)."""
    if name == "clap.avif":
        return data_url(bbtest.blur(conn, data, 0.0, 75, "png"), "image/png")
    return data_url(data, MIME["." + name.rsplit(".", 1)[1]])


def displayed_size(data):
    """The size a viewer shows: EXIF orientation applied (Pillow)."""
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data))).size


class BrowserShowsEveryOutput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = connect()
        cls.driver = chromium()
        # an opaque origin: data: images drawn on its canvases do not taint them
        cls.driver.get("data:text/html,<!doctype html><body></body>")

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.conn.close()

    def inputs(self):
        """(name, bytes) of every input: the fixtures bytea_blur blurs, and a 640x427 photo in
        each format (large enough for a blur to show, as an upload would be)."""
        for path in sorted(FIXTURES.iterdir()):
            if path.suffix in MIME and path.name not in REFUSED:
                yield path.name, path.read_bytes()
        big = photo(640, 427, seed=5)
        yield "photo.jpg", encode(big, "JPEG", quality=90)
        yield "photo.png", encode(big, "PNG")
        yield "photo.webp", encode(big, "WEBP", quality=90)
        # Pillow writes no AVIF here: bytea_blur's own conversion at sigma 0 (no blur)
        yield "photo.avif", bbtest.blur(self.conn, encode(big, "PNG"), 0.0, 90, "avif")

    def test_every_output_shows_as_its_input_blurred(self):
        cases = [(name, data, bbtest.blur(self.conn, data, 5.0)) for name, data in self.inputs()]
        self.assertGreaterEqual(len(cases), 35)
        urls = []
        for name, data, out in cases:
            mime = MIME["." + name.rsplit(".", 1)[1]]
            urls += [data_url(data, mime), alpha_shown_from(self.conn, data, shown_by_a_viewer(self.conn, name, data)),
                     data_url(out, mime), alpha_shown_from(self.conn, out, shown_by_a_viewer(self.conn, name, out))]
        shown = show_and_measure(self.driver, urls)
        for i, (name, data, out) in enumerate(cases):
            before_shown, before, after, colours = shown[4 * i:4 * i + 4]
            with self.subTest(name):
                self.assertTrue(before_shown["loaded"], "the browser cannot show the input")
                self.assertTrue(after["loaded"], "the browser cannot show the blurred copy")
                self.assertEqual(after["natural"], before_shown["natural"])
                self.assertEqual(after["shown"], after["natural"])
                if name.endswith(".jpg"):
                    self.assertEqual(tuple(after["natural"]), displayed_size(data))
                self.assertAlmostEqual(colours["alpha"], before["alpha"], delta=MEAN_TOLERANCE)
                for channel in range(3):
                    self.assertAlmostEqual(shows(colours, channel), shows(before, channel),
                                           delta=MEAN_TOLERANCE, msg=f"channel {channel}")
                self.assertLess(after["detail"], 0.5 * before_shown["detail"] + 0.05)
                if name == "clap.avif":
                    # What Chromium shows, the aperture's reflection around it: the aperture's
                    # colours, not the magenta border stored around it in the input.
                    for channel in range(3):
                        self.assertAlmostEqual(shows(after, channel), shows(colours, channel),
                                               delta=MEAN_TOLERANCE, msg=f"channel {channel}, as Chromium shows it")
        rotated = next(after for (name, _, _), after in zip(cases, shown[2::4]) if name == "rgb420.jpg")
        self.assertEqual(rotated["natural"], [45, 67], "EXIF orientation 6 is applied")
        turned = next(after for (name, _, _), after in zip(cases, shown[2::4]) if name == "rgb8_420.avif")
        self.assertEqual(turned["natural"], [45, 67], "the AVIF's irot (90 degrees) is applied")

    # inputs whose blur a target refuses (alpha to JPEG, CMYK to another format): blur_format.sql
    def converts_to(self, data, target):
        if data[12:16] == b"VP8X" and data[20] & 0x02:  # an animated WebP stays WebP
            return False
        info = bbtest.image_info(self.conn, data)
        if info["format"] == "jpeg" and info["channels"] == 4:
            return False
        return not (target == "jpeg" and info["channels"] in (2, 4))

    def test_every_output_in_another_format_shows_as_its_input_blurred(self):
        cases = []
        for name, data in self.inputs():
            own = name.rsplit(".", 1)[1]
            for target in ("jpeg", "png", "webp", "avif"):
                if target != {"jpg": "jpeg"}.get(own, own) and self.converts_to(data, target):
                    cases.append((name, target, data, bbtest.blur(self.conn, data, 5.0, 75, target)))
        self.assertGreaterEqual(len(cases), 90)
        urls = []
        for name, target, data, out in cases:
            before_url = shown_by_a_viewer(self.conn, name, data)
            urls += [before_url, alpha_shown_from(self.conn, data, before_url), data_url(out, f"image/{target}"),
                     alpha_shown_from(self.conn, out, data_url(out, f"image/{target}"))]
        shown = show_and_measure(self.driver, urls)
        for i, (name, target, data, out) in enumerate(cases):
            before, before_colours, after, colours = shown[4 * i:4 * i + 4]
            with self.subTest(name, target=target):
                self.assertTrue(after["loaded"], "the browser cannot show the blurred copy")
                self.assertEqual(tuple(after["natural"]),
                                 tuple(before["natural"]) if name.endswith(".avif") else displayed_size(data))
                self.assertEqual(after["shown"], after["natural"])
                self.assertAlmostEqual(colours["alpha"], before_colours["alpha"], delta=MEAN_TOLERANCE)
                for channel in range(3):
                    self.assertAlmostEqual(shows(colours, channel), shows(before_colours, channel),
                                           delta=MEAN_TOLERANCE, msg=f"channel {channel}")
                self.assertLess(after["detail"], 0.5 * before["detail"] + 0.05)
                if name == "clap.avif":
                    aperture = generate.clean_aperture_picture()[1]
                    self.assertEqual(after["natural"], [aperture.shape[1], aperture.shape[0]])


if __name__ == "__main__":
    unittest.main()
