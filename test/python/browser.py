"""A real browser for the tests: headless Chromium (Debian's chromium and chromium-driver)
driven through Selenium (python3-selenium), and what it displays, measured in the page.

Used by test_browser.py (every output format) and by the Django application's page test
(test/django/image_process/browser_pages.py). Not a test module itself.
"""
import base64
import shutil

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

# Debian installs the driver here; Chromium is found by the driver itself.
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

MIME = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".avif": "image/avif"}


def chromium():
    """A headless Chromium. Its colour management is pinned to sRGB, so that what it shows does
    not depend on the machine's display profile; no sandbox, since CI runs as root in a chroot."""
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--force-color-profile=srgb", "--force-device-scale-factor=1", "--window-size=1600,1200"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(60)
    return driver


# Measures images as the page shows them. For each <img> given (by id), once it has loaded or
# failed: whether it loaded, its natural size (Chromium applies EXIF orientation to it), its laid
# out size in CSS pixels, and over the pixels the browser decoded (drawn on a canvas at natural
# size): the mean alpha, the mean colour weighted by alpha (what shows over any background), and
# the mean absolute second difference along rows of the premultiplied colour, |p[x-1] - 2 p[x] +
# p[x+1]| (detail: zero on a smooth ramp, lower is blurrier).
_STATS_JS = r"""
const ids = arguments[0], done = arguments[arguments.length - 1];
function stats(img) {
  if (!img.complete || img.naturalWidth === 0) return {loaded: false};
  const w = img.naturalWidth, h = img.naturalHeight, r = img.getBoundingClientRect();
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, w, h).data;
  let a = 0, c = [0, 0, 0], rough = 0, pairs = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4, al = d[i + 3];
      a += al;
      for (let k = 0; k < 3; k++) c[k] += d[i + k] * al;
      if (x > 0 && x < w - 1) {
        for (let k = 0; k < 3; k++)
          rough += Math.abs(d[i - 4 + k] * d[i - 1] - 2 * d[i + k] * al + d[i + 4 + k] * d[i + 7]) / 255;
        pairs += 3;
      }
    }
  }
  return {loaded: true, natural: [w, h], shown: [Math.round(r.width), Math.round(r.height)],
          alpha: a / (w * h), colour: c.map(v => a > 0 ? v / a : 0), detail: pairs ? rough / pairs : 0};
}
Promise.all(ids.map(id => {
  const img = document.getElementById(id);
  return img.decode().catch(() => null);
})).then(() => done(ids.map(id => stats(document.getElementById(id)))));
"""


def data_url(data, mime):
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def show_and_measure(driver, images):
    """Puts each image (a URL, say a data: URL) on the page the driver shows, as an <img> with no
    size given, and returns the measurements of each in order (see _STATS_JS)."""
    ids = [f"bb_img_{i}" for i in range(len(images))]
    driver.execute_script(
        """const urls = arguments[0], ids = arguments[1];
           document.body.replaceChildren();
           urls.forEach((u, i) => { const img = document.createElement('img');
                                    img.id = ids[i]; img.src = u; img.style.display = 'block';
                                    document.body.appendChild(img); });""",
        list(images), ids)
    return driver.execute_async_script(_STATS_JS, ids)


def measure_page_images(driver):
    """The measurements of every <img> of the page the driver shows (an image document, such as
    a view that returns image bytes, is one <img>)."""
    ids = driver.execute_script(
        "return Array.from(document.images).map((img, i) => img.id || (img.id = 'bb_page_' + i));")
    return driver.execute_async_script(_STATS_JS, ids)
