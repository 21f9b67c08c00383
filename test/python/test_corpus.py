"""Third-party conformance images (../shared/corpus): PngSuite, libpng's test PNGs and hostile
files, libjpeg-turbo's test JPEGs. Skipped when the folder is absent, as in a user's clone."""
import io
import unittest

import numpy as np
from PIL import Image

from bbtest import CORPUS, blur, connect, decode, psnr, read_png, scipy_blur, sqlstate_of

CLEAN_ERRORS = {"22P03", "0A000", "54000", "53200"}


@unittest.skipUnless(CORPUS.is_dir(), f"no conformance corpus at {CORPUS}")
class Corpus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = connect()

    def test_pngsuite(self):
        files = sorted((CORPUS / "png" / "pngsuite").glob("*.png"))
        self.assertGreater(len(files), 40)
        for path in files:
            with self.subTest(path.name):
                data = path.read_bytes()
                if path.name.startswith("x"):  # PngSuite's deliberately corrupt files
                    self.assertIn(sqlstate_of(self.conn, data), CLEAN_ERRORS)
                    continue
                out, _ = read_png(blur(self.conn, data, 0))
                ref = Image.open(io.BytesIO(data))
                self.assertEqual(out.shape[1::-1], ref.size)
                # at sigma 0 the pixels are the file's own, expanded to 8 bits where needed
                if ref.mode in ("RGB", "RGBA", "L", "LA") and out.dtype == np.uint8 and "transparency" not in ref.info:
                    np.testing.assert_array_equal(out.reshape(np.asarray(ref).shape), np.asarray(ref))

    def test_testpngs(self):
        files = sorted((CORPUS / "png" / "testpngs").glob("*.png"))
        self.assertGreater(len(files), 50)
        for path in files:
            with self.subTest(path.name):
                out, _ = read_png(blur(self.conn, path.read_bytes(), 2))
                with Image.open(path) as ref:
                    self.assertEqual(out.shape[1::-1], ref.size)

    def test_hostile_pngs_fail_cleanly_or_work(self):
        files = sorted((CORPUS / "png" / "testpngs" / "crashers").glob("*.png"))
        files += sorted((CORPUS / "png" / "testpngs" / "badpal").glob("*.png"))
        self.assertGreater(len(files), 10)
        for path in files:
            with self.subTest(path.name):
                state = sqlstate_of(self.conn, path.read_bytes())
                self.assertTrue(state is None or state in CLEAN_ERRORS, f"{path.name}: {state}")
        with self.conn.cursor() as cur:
            cur.execute("SELECT 1")
            self.assertEqual(cur.fetchone()[0], 1)

    def test_libjpeg_turbo_images(self):
        for name in ("testorig.jpg", "testimgint.jpg", "testimgari.jpg"):
            with self.subTest(name):
                data = (CORPUS / "jpeg" / name).read_bytes()
                src = decode(data)
                out = decode(blur(self.conn, data, 2, 95))
                self.assertEqual(out.shape, src.shape)
                self.assertGreater(psnr(out, np.clip(np.round(scipy_blur(src, 2)), 0, 255)), 30)
        self.assertEqual(sqlstate_of(self.conn, (CORPUS / "jpeg" / "monkey12.jpg").read_bytes()), "0A000")


if __name__ == "__main__":
    unittest.main()
