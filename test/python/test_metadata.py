"""What changes how an image displays is kept; everything else, EXIF thumbnails first, is dropped."""
import io
import unittest

from PIL import Image

from bbtest import FIXTURES, blur, connect, read_png


class JpegMetadata(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = connect()
        cls.src = (FIXTURES / "rgb420.jpg").read_bytes()
        cls.out = Image.open(io.BytesIO(blur(cls.conn, cls.src)))
        cls.orig = Image.open(io.BytesIO(cls.src))

    def test_icc_profile_kept(self):
        self.assertTrue(self.orig.info.get("icc_profile"))
        self.assertEqual(self.out.info.get("icc_profile"), self.orig.info["icc_profile"])

    def test_orientation_kept(self):
        self.assertEqual(self.orig.getexif().get(0x0112), 6)
        self.assertEqual(self.out.getexif().get(0x0112), 6)

    def test_thumbnail_and_other_tags_dropped(self):
        exif = self.out.getexif()
        self.assertEqual(set(exif.keys()), {0x0112})
        self.assertFalse(exif.get_ifd(1) if hasattr(exif, "get_ifd") else None)
        self.assertNotIn(b"\xff\xd8\xff", blur(self.conn, self.src)[3:])

    def test_subsampling_kept(self):
        from PIL import JpegImagePlugin
        for name in ("rgb420.jpg", "rgb422.jpg", "rgb444.jpg"):
            src = (FIXTURES / name).read_bytes()
            before = JpegImagePlugin.get_sampling(Image.open(io.BytesIO(src)))
            after = JpegImagePlugin.get_sampling(Image.open(io.BytesIO(blur(self.conn, src))))
            self.assertEqual(before, after, name)

    def test_colour_spaces_kept(self):
        for name, mode in (("gray.jpg", "L"), ("cmyk.jpg", "CMYK"), ("ycck.jpg", "CMYK"), ("progressive.jpg", "RGB")):
            out = Image.open(io.BytesIO(blur(self.conn, (FIXTURES / name).read_bytes())))
            self.assertEqual(out.mode, mode, name)


class PngMetadata(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = connect()

    def test_display_chunks_kept_text_dropped(self):
        out = blur(self.conn, (FIXTURES / "meta.png").read_bytes())
        _, chunks = read_png(out)
        for kind in ("gAMA", "cHRM", "sRGB", "pHYs"):
            self.assertIn(kind, chunks)
        self.assertNotIn("tEXt", chunks)
        info = Image.open(io.BytesIO(out)).info
        self.assertAlmostEqual(info["gamma"], 0.45455, places=4)
        self.assertAlmostEqual(info["dpi"][0], 72, delta=0.1)

    def test_iccp_kept(self):
        src = (FIXTURES / "iccp.png").read_bytes()
        out = blur(self.conn, src)
        self.assertEqual(Image.open(io.BytesIO(out)).info.get("icc_profile"),
                         Image.open(io.BytesIO(src)).info.get("icc_profile"))


if __name__ == "__main__":
    unittest.main()
