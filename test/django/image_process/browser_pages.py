"""The application's pages in a real browser: headless Chromium opens the upload page of a live
server, a person's upload goes through the form, and the browser follows the redirect to the
page of the blurred copy. What it shows there must be the upload, blurred: the same displayed
size (EXIF orientation applied), the same mean colour and alpha, far less detail.

Run by test/django/run-flows in the fresh flow (`manage.py test image_process.browser_pages`);
not named test*.py, so that the other flows, which test the same views without a browser, do
not start one each.
"""
import sys
import tempfile
from pathlib import Path

import numpy as np
from django.test import LiveServerTestCase
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from .models import ImageFile
from .tests import encoded

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
from browser import chromium, data_url, measure_page_images, show_and_measure  # noqa: E402
from generate import exif_with_thumbnail, photo  # noqa: E402

# levels of 255 (see test/python/test_browser.py)
MEAN_TOLERANCE = 4.0


class BlurredPagesInChromium(LiveServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.driver = chromium()

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        super().tearDownClass()

    def upload_in_browser(self, name, data):
        """Uploads data as a person does (the form, a file chosen, the button); returns what the
        browser shows on the page it lands on, and that page's path."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            self.driver.get(self.live_server_url + "/upload/")
            self.driver.find_element(By.NAME, "image").send_keys(str(path))
            self.driver.find_element(By.TAG_NAME, "button").click()
            WebDriverWait(self.driver, 30).until(expected_conditions.url_contains("/blurred/"))
        (shown,) = measure_page_images(self.driver)
        return shown, self.driver.current_url[len(self.live_server_url):]

    def assert_shows_blurred(self, name, data, mime, size):
        shown, page = self.upload_in_browser(name, data)
        pk = int(page.rstrip("/").split("/")[-1])
        self.assertEqual(bytes(ImageFile.objects.get(pk=pk).image_data), data)
        (original,) = show_and_measure(self.driver, [data_url(data, mime)])
        self.assertTrue(shown["loaded"], f"{page} shows no image")
        self.assertEqual(shown["natural"], list(size))
        self.assertEqual(shown["natural"], original["natural"])
        self.assertAlmostEqual(shown["alpha"], original["alpha"], delta=MEAN_TOLERANCE)
        for channel in range(3):
            self.assertAlmostEqual(shown["colour"][channel], original["colour"][channel], delta=MEAN_TOLERANCE)
        self.assertLess(shown["detail"], 0.25 * original["detail"])

    def test_jpeg_with_exif_orientation(self):
        # stored 400x300 with orientation 6: a browser shows it 300 wide, 400 high
        thumbnail = encoded(photo(40, 30, seed=2), "JPEG", quality=80)
        data = encoded(photo(400, 300, seed=2), "JPEG", quality=90, exif=exif_with_thumbnail(6, thumbnail))
        self.assert_shows_blurred("portrait.jpg", data, "image/jpeg", (300, 400))

    def test_png_with_alpha(self):
        rgb = photo(320, 200, seed=3)
        alpha = np.linspace(40, 255, 320)[None, :].repeat(200, 0).astype(np.uint8)
        data = encoded(np.dstack([rgb, alpha]), "PNG")
        self.assert_shows_blurred("alpha.png", data, "image/png", (320, 200))

    def assert_jpeg_served_upright_as(self, fmt, seed):
        # the page of a JPEG upload's blur in another format (views.blurred_as): upright, as the
        # JPEG with EXIF orientation 6 shows
        thumbnail = encoded(photo(40, 30, seed=seed), "JPEG", quality=80)
        data = encoded(photo(400, 300, seed=seed), "JPEG", quality=90, exif=exif_with_thumbnail(6, thumbnail))
        _, page = self.upload_in_browser("portrait.jpg", data)
        self.driver.get(self.live_server_url + page.rstrip("/") + "." + fmt)
        (shown,) = measure_page_images(self.driver)
        (original,) = show_and_measure(self.driver, [data_url(data, "image/jpeg")])
        self.assertTrue(shown["loaded"])
        self.assertEqual(shown["natural"], [300, 400])
        for channel in range(3):
            self.assertAlmostEqual(shown["colour"][channel], original["colour"][channel], delta=MEAN_TOLERANCE)
        self.assertLess(shown["detail"], 0.25 * original["detail"])

    def test_jpeg_served_as_webp(self):
        self.assert_jpeg_served_upright_as("webp", 6)

    def test_jpeg_served_as_avif(self):
        self.assert_jpeg_served_upright_as("avif", 7)

    def test_avif(self):
        # an AVIF upload (avifenc's, rotated by irot: stored 67x45, shown 45x67) in Chromium
        data = (Path(__file__).resolve().parents[2] / "fixtures" / "rgb8_420.avif").read_bytes()
        shown, page = self.upload_in_browser("photo.avif", data)
        (original,) = show_and_measure(self.driver, [data_url(data, "image/avif")])
        self.assertTrue(shown["loaded"], f"{page} shows no image")
        self.assertEqual(shown["natural"], [45, 67])
        self.assertEqual(shown["natural"], original["natural"])
        for channel in range(3):
            self.assertAlmostEqual(shown["colour"][channel], original["colour"][channel], delta=MEAN_TOLERANCE)
        self.assertLess(shown["detail"], 0.5 * original["detail"])

    def test_webp(self):
        data = encoded(photo(320, 200, seed=4), "WEBP", quality=90)
        self.assert_shows_blurred("photo.webp", data, "image/webp", (320, 200))
