"""Redaction (bytea_blur_regions), measured beside the other ways of doing the same job in one
run: one 256x256 box in the middle of each real photograph and of a generated 20-megapixel
JPEG, at sigma 5 and bytea_blur.threads 1, against
  whole      bytea_blur of the whole image (threads 1): what an application pays today to hide
             anything, and the usual "blur, crop, paste, re-encode" is dearer still
  floor      libjpeg-turbo's raw decode + encode (test/bench/jpeg_floor.cpp): what any pixel
             blur built on libjpeg pays, and what re-encodes every block
  jpegtran   `jpegtran -copy all` (libjpeg-turbo-progs): a lossless coefficient copy, the
             cheapest whole-file rewrite there is
  PIL paste  Pillow: decode, crop the box (and 4 sigma around it), blur it, paste it back,
             encode at quality 75: the usual application code, which re-encodes every pixel
Times are medians of 5 (3 above 10 MP), ms; regions/whole and regions/floor the issue's goals
(at most 0.5 each). Through SQL for bytea_blur: each call includes its query's overhead.
"""
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import psycopg2
from PIL import Image, ImageFilter

from bench import median_ms
from photos import PHOTOS


def generated_20mp():
    """A generated 5472x3648 JPEG at quality 90 (a 20-megapixel camera's size), 4:2:0."""
    rng = np.random.default_rng(5)
    small = rng.integers(0, 256, (3648 // 16 + 1, 5472 // 16 + 1, 3)).astype(np.uint8)
    img = Image.fromarray(small).resize((5472, 3648), Image.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def run(cur, root, floor_binary):
    root = Path(root)
    jpegtran = shutil.which("jpegtran")
    cur.execute("DROP TABLE IF EXISTS region_images; CREATE TABLE region_images (name text PRIMARY KEY, data bytea)")
    cur.execute("ALTER TABLE region_images ALTER COLUMN data SET STORAGE EXTERNAL")
    cur.execute("SET bytea_blur.threads = 1")
    images = {name: (root / rel).read_bytes() for name, rel in PHOTOS.items() if (root / rel).exists()}
    images["generated 20MP"] = generated_20mp()
    print()
    print("Redaction: one 256x256 box at sigma 5, bytea_blur.threads 1 (ms, medians; see test/bench/regions.py)")
    head = (f"{'image':<16}{'size':>11}{'regions':>9}{'whole':>8}{'floor':>8}{'jpegtran':>9}{'PIL paste':>10}"
            f"{'/whole':>8}{'/floor':>8}")
    print(head)
    print("-" * len(head))
    for name, data in images.items():
        w, h = Image.open(io.BytesIO(data)).size
        runs = 3 if w * h > 10e6 else 5
        cur.execute("INSERT INTO region_images VALUES (%s, %s)", (name, psycopg2.Binary(data)))
        x, y = w // 2 - 128, h // 2 - 128

        def sql(expr):
            return median_ms(lambda: (cur.execute(f"SELECT length({expr}) FROM region_images WHERE name = %s",
                                                  (name,)), cur.fetchone()), runs)

        regions = sql(f"bytea_blur_regions(data, ARRAY[box(point({x},{y}),point({x + 256},{y + 256}))], 5)")
        whole = sql("bytea_blur(data, 5)")
        path = Path("/tmp") / f"bb_regions_{abs(hash(name))}.jpg"
        path.write_bytes(data)
        floor = float(subprocess.run([floor_binary, str(path), str(runs)], capture_output=True, text=True,
                                     check=True).stdout)
        tran = (median_ms(lambda: subprocess.run([jpegtran, "-copy", "all", "-outfile", "/dev/null", str(path)],
                                                 check=True), runs) if jpegtran else float("nan"))
        path.unlink()

        def paste():
            img = Image.open(io.BytesIO(data))
            img.load()
            margin = 20
            crop = img.crop((x - margin, y - margin, x + 256 + margin, y + 256 + margin)).filter(
                ImageFilter.GaussianBlur(5))
            img.paste(crop.crop((margin, margin, margin + 256, margin + 256)), (x, y))
            out = io.BytesIO()
            img.save(out, "JPEG", quality=75)

        pil = median_ms(paste, runs)
        print(f"{name:<16}{f'{w}x{h}':>11}{regions:>9.1f}{whole:>8.1f}{floor:>8.1f}{tran:>9.1f}{pil:>10.1f}"
              f"{regions / whole:>8.2f}{regions / floor:>8.2f}")
    cur.execute("RESET bytea_blur.threads")
