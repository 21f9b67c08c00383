#!/usr/bin/python3
"""How strong a blur hides text from OCR: renders "Invoice 4711 Smith" in DejaVu Sans at several
sizes, blurs it with SciPy's Gaussian (the reference bytea_blur follows) at rising sigma, and
lets Tesseract read each (--psm 7, one line). Prints, per size, the largest sigma at which every
word is still read (case aside) and the smallest from which none is. The README's advice
(Redacting regions) rests on this table. Needs tesseract-ocr, fonts-dejavu-core, Pillow, SciPy.
    /usr/bin/python3 test/bench/ocr_threshold.py
"""
import subprocess
import tempfile

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = ["invoice", "4711", "smith"]
SIGMAS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16]


def read(arr):
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8)).save(f.name)
        return subprocess.run(["tesseract", f.name, "-", "--psm", "7"], capture_output=True, text=True,
                              check=True).stdout.lower().split()


def main():
    print(f"{'font px':>8}{'capitals px':>13}{'all read up to':>16}{'none from':>11}")
    for size in (20, 40, 60, 80):
        font = ImageFont.truetype(FONT, size)
        img = Image.new("RGB", (int(size * 12), int(size * 3)), "white")
        draw = ImageDraw.Draw(img)
        draw.text((size // 2, size), " ".join(WORDS).title(), fill="black", font=font)
        caps = draw.textbbox((0, 0), "I", font=font)
        arr = np.asarray(img).astype(np.float64)
        all_read, none_from = None, None
        for sigma in SIGMAS:
            words = read(ndimage.gaussian_filter(arr, (sigma, sigma, 0)) if sigma else arr)
            found = sum(w in words for w in WORDS)
            if found == len(WORDS) and none_from is None:
                all_read = sigma
            if found == 0 and none_from is None:
                none_from = sigma
        print(f"{size:>8}{caps[3] - caps[1]:>13}{all_read!s:>16}{none_from if none_from is not None else '> 16':>11}")


if __name__ == "__main__":
    main()
