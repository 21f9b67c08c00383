"""What changes how an image displays is kept; everything else, EXIF thumbnails first, is dropped."""
import io
import unittest

from PIL import Image

from bbtest import FIXTURES, blur, connect, read_png


def huffman_tables(jpeg):
    """The Huffman tables defined before the first scan, by class << 4 | id: counts, symbols."""
    tables, p = {}, 2
    while p + 4 <= len(jpeg) and jpeg[p] == 0xFF and jpeg[p + 1] != 0xDA:
        length = jpeg[p + 2] << 8 | jpeg[p + 3]
        if jpeg[p + 1] == 0xC4:
            q = p + 4
            while q + 17 <= p + 2 + length:
                count = sum(jpeg[q + 1:q + 17])
                tables[jpeg[q]] = bytes(jpeg[q + 1:q + 17 + count])
                q += 17 + count
        p += 2 + length
    return tables


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

    def test_chroma_subsampling(self):
        """Below sigma 2 a file keeps its chroma subsampling; from 2 on, where the blur leaves no
        chroma detail that 4:2:0 could lose, it is written 4:2:0 (Pillow's 2)."""
        from PIL import JpegImagePlugin
        for name in ("rgb420.jpg", "rgb422.jpg", "rgb444.jpg"):
            src = (FIXTURES / name).read_bytes()
            before = JpegImagePlugin.get_sampling(Image.open(io.BytesIO(src)))
            for sigma in (0, 1, 1.9):
                after = JpegImagePlugin.get_sampling(Image.open(io.BytesIO(blur(self.conn, src, sigma))))
                self.assertEqual(after, before, (name, sigma))
            for sigma in (2, 5, 50):
                after = JpegImagePlugin.get_sampling(Image.open(io.BytesIO(blur(self.conn, src, sigma))))
                self.assertEqual(after, 2, (name, sigma))

    def test_huffman_tables_fit_the_image(self):
        """The blurred file's Huffman tables are its own (libjpeg's optimize_coding), not the
        standard ones of ITU T.81 K.3, which fit a blurred picture badly."""
        standard_luma_dc = bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]) + bytes(range(12))
        for name in ("rgb420.jpg", "rgb444.jpg", "gray.jpg", "sample.jpg"):
            out = blur(self.conn, (FIXTURES / name).read_bytes())
            tables = huffman_tables(out)
            self.assertIn(0x00, tables, name)
            self.assertNotEqual(tables[0x00], standard_luma_dc, name)

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
