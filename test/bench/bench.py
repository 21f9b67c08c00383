#!/usr/bin/python3
"""bytea_blur against the other ways of doing the same job, measured in one run.

Contenders, on the same images (generated photo-like pictures at 0.3, 2.5 and 18 megapixels,
JPEG and PNG, colour and greyscale):
  plpython   the original: PL/Python, Pillow decode, SciPy gaussian_filter(sigma=(5, 5, 0)),
             Pillow JPEG encode at quality 75, through SQL (colour JPEG, as the original)
  pillow     in-process: Pillow decode, ImageFilter.GaussianBlur(5), encode
  opencv     in-process: cv2.imdecode, GaussianBlur(sigma 5), cv2.imencode
  cv-codec   in-process: cv2.imdecode + cv2.imencode alone, the codec floor
  bytea_blur through SQL, sigma 1, 5, 20 and 100
Times are medians of several runs, per image; JPEG output at quality 75.
First, real photographs (test/bench/photos.py): --photos measures only those.
"""
import io
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import psycopg2
from PIL import Image, ImageFilter
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test" / "fixtures"))
from generate import photo  # noqa: E402

QUICK = "--quick" in sys.argv
PHOTOS_ONLY = "--photos" in sys.argv
BYTES_ONLY = "--bytes" in sys.argv
REGIONS_ONLY = "--regions" in sys.argv
UPLOADS_ONLY = "--uploads" in sys.argv
SIZES = {"0.3MP": (640, 480), "2.5MP": (1920, 1280), "18MP": (5184, 3456)}
cv2.setNumThreads(1)  # one core, like one backend


def make_photo(width, height):
    tile = photo(min(width, 960), min(height, 640), seed=42)
    reps = (-(-height // tile.shape[0]), -(-width // tile.shape[1]), 1)
    return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])


def encode(arr, fmt):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def median_ms(fn, runs):
    fn()  # warm up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def runs_for(megapixels):
    return 3 if QUICK or megapixels > 10 else 7


PLPYTHON = """
CREATE OR REPLACE FUNCTION plpython_blur(data bytea) RETURNS bytea AS $$
import io
import numpy as np
from PIL import Image
from scipy import ndimage
image = Image.open(io.BytesIO(data))
pixels = np.asarray(image)
blurred = ndimage.gaussian_filter(pixels, sigma=(5, 5, 0))
out = io.BytesIO()
Image.fromarray(blurred).save(out, format='JPEG', quality=75)
return out.getvalue()
$$ LANGUAGE plpython3u IMMUTABLE STRICT;
"""


def main():
    conn = psycopg2.connect(dbname=os.environ.get("BB_TEST_DB", "bench"))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(PLPYTHON)
    if os.environ.get("BB_PHOTOS"):
        import output_bytes  # noqa: E402
        import photos  # noqa: E402  (real photographs; test/bench/run fetches them)
        import regions  # noqa: E402
        if REGIONS_ONLY:
            regions.run(cur, os.environ["BB_PHOTOS"], os.environ["BB_JPEG_FLOOR"])
            return
        if UPLOADS_ONLY:
            output_bytes.run(cur, os.environ["BB_PHOTOS"], os.environ.get("BB_SHARP"), uploads_only=True)
            return
        if not BYTES_ONLY:
            photos.run(cur, os.environ["BB_PHOTOS"], os.environ["BB_JPEG_FLOOR"], os.environ.get("BB_POLL_GAPS"))
        output_bytes.run(cur, os.environ["BB_PHOTOS"], os.environ.get("BB_SHARP"))
        if BYTES_ONLY:
            return
        regions.run(cur, os.environ["BB_PHOTOS"], os.environ["BB_JPEG_FLOOR"])
    else:
        print("real photographs: skipped (test/bench/run could not fetch Debian's wallpaper packages)")
    if PHOTOS_ONLY:
        return
    cur.execute("DROP TABLE IF EXISTS bench_images; CREATE TABLE bench_images (name text PRIMARY KEY, data bytea)")
    cur.execute("ALTER TABLE bench_images ALTER COLUMN data SET STORAGE EXTERNAL")  # no decompression cost

    def sql_ms(expr, name, runs):
        query = f"SELECT length({expr}) FROM bench_images WHERE name = %s"
        def go():
            cur.execute(query, (name,))
            cur.fetchone()
        return median_ms(go, runs)

    def sql_len(expr, name):
        cur.execute(f"SELECT length({expr}) FROM bench_images WHERE name = %s", (name,))
        return cur.fetchone()[0]

    rows = []
    for label, (w, h) in SIZES.items():
        mp = w * h / 1e6
        colour = make_photo(w, h)
        grey = np.ascontiguousarray(cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY))
        for kind, arr in (("colour", colour), ("grey", grey)):
            for fmt in ("JPEG", "PNG"):
                if QUICK and (label == "18MP" or kind == "grey"):
                    continue
                data = encode(arr, fmt)
                name = f"{label} {kind} {fmt}"
                cur.execute("INSERT INTO bench_images VALUES (%s, %s)", (name, psycopg2.Binary(data)))
                runs = runs_for(mp)
                ext = ".jpg" if fmt == "JPEG" else ".png"
                params = [cv2.IMWRITE_JPEG_QUALITY, 75] if fmt == "JPEG" else []
                buf = np.frombuffer(data, np.uint8)
                flag = cv2.IMREAD_COLOR if kind == "colour" else cv2.IMREAD_GRAYSCALE
                r = {"image": name, "mp": mp, "in_kb": len(data) / 1024}
                r["cv-codec"] = median_ms(lambda: cv2.imencode(ext, cv2.imdecode(buf, flag), params), runs)
                r["opencv"] = median_ms(
                    lambda: cv2.imencode(ext, cv2.GaussianBlur(cv2.imdecode(buf, flag), (0, 0), 5), params), runs)
                r["opencv_kb"] = len(cv2.imencode(ext, cv2.GaussianBlur(cv2.imdecode(buf, flag), (0, 0), 5), params)[1]) / 1024

                def pillow():
                    out = io.BytesIO()
                    Image.open(io.BytesIO(data)).filter(ImageFilter.GaussianBlur(5)).save(
                        out, fmt, **({"quality": 75} if fmt == "JPEG" else {}))
                r["pillow"] = median_ms(pillow, runs)
                if fmt == "JPEG" and kind == "colour":
                    r["plpython"] = sql_ms("plpython_blur(data)", name, runs)
                for sigma in (1, 5, 20, 100):
                    r[f"bb{sigma}"] = sql_ms(f"bytea_blur(data, {sigma})", name, runs)
                r["bb_kb"] = sql_len("bytea_blur(data)", name) / 1024
                rows.append(r)
                print(f"  measured {name}", file=sys.stderr)

    print()
    print("ms per image (median); MP/s for bytea_blur at sigma 5; ratios at sigma 5")
    head = (f"{'image':<20}{'in KB':>8}{'PL/Py':>9}{'Pillow':>9}{'OpenCV':>9}{'cv-codec':>9}"
            f"{'bb s1':>8}{'bb s5':>8}{'bb s20':>8}{'bb s100':>8}{'MP/s':>7}{'xPL/Py':>8}{'/codec':>7}"
            f"{'/OpenCV':>8}{'s100/s5':>8}{'out KB':>8}{'cv KB':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        pl = r.get("plpython")
        pl_ms = f"{pl:.1f}" if pl else "-"
        pl_ratio = f"{pl / r['bb5']:.1f}" if pl else "-"
        print(f"{r['image']:<20}{r['in_kb']:>8.0f}{pl_ms:>9}{r['pillow']:>9.1f}{r['opencv']:>9.1f}"
              f"{r['cv-codec']:>9.1f}{r['bb1']:>8.1f}{r['bb5']:>8.1f}{r['bb20']:>8.1f}{r['bb100']:>8.1f}"
              f"{r['mp'] / r['bb5'] * 1000:>7.0f}{pl_ratio:>8}"
              f"{r['bb5'] / r['cv-codec']:>7.2f}{r['bb5'] / r['opencv']:>8.2f}{r['bb100'] / r['bb5']:>8.2f}"
              f"{r['bb_kb']:>8.0f}{r['opencv_kb']:>8.0f}")

    # Parallel query: 200 images in one sequential scan.
    small = encode(make_photo(640, 480), "JPEG")
    # A filler column spreads the rows over many heap pages (the images themselves are TOASTed),
    # so that the workers, which take pages in turn, share the rows evenly.
    cur.execute("DROP TABLE IF EXISTS par_images; CREATE TABLE par_images (id int, data bytea, filler text)")
    cur.execute("ALTER TABLE par_images ALTER COLUMN data SET STORAGE EXTERNAL,"
                " ALTER COLUMN filler SET STORAGE PLAIN")
    cur.execute("INSERT INTO par_images SELECT g, %s, repeat('x', 2000) FROM generate_series(1, 200) g",
                (psycopg2.Binary(small),))
    cur.execute("ANALYZE par_images")
    # the heap of 200 rows is small: let the planner go parallel anyway
    cur.execute("SET min_parallel_table_scan_size = 0; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0")
    query = "SELECT sum(length(bytea_blur(data))) FROM par_images"
    half_query = query + " WHERE id BETWEEN %s AND %s"
    # The machine's own ceiling: two backends at once, each blurring half of the rows with a
    # serial plan. No parallel plan can beat it; on a virtual machine it can be well below 2x.
    others = [psycopg2.connect(dbname=os.environ.get("BB_TEST_DB", "bench")) for _ in range(2)]
    for other in others:
        other.autocommit = True
        with other.cursor() as c:
            c.execute("SET max_parallel_workers_per_gather = 0")
            c.execute(half_query, (1, 2))  # load the library, warm the caches

    def two_backends():
        threads = [threading.Thread(target=lambda c=c, r=r: c.cursor().execute(half_query, r))
                   for c, r in zip(others, ((1, 100), (101, 200)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # Interleaved, so that the three see the same machine (a virtual machine's speed drifts).
    serial, parallel, ceiling = [], [], []
    cur.execute("ALTER TABLE par_images SET (parallel_workers = 1)")
    for _ in range(3):
        cur.execute("SET max_parallel_workers_per_gather = 0")
        serial.append(median_ms(lambda: cur.execute(query), 1))
        cur.execute("RESET max_parallel_workers_per_gather")
        parallel.append(median_ms(lambda: cur.execute(query), 1))
        ceiling.append(median_ms(two_backends, 1))
    serial, parallel, ceiling = (statistics.median(v) for v in (serial, parallel, ceiling))
    cur.execute("EXPLAIN (ANALYZE, COSTS OFF) " + query)
    launched = [row[0].strip() for row in cur.fetchall() if "Workers Launched" in row[0]]
    print()
    print(f"parallel seq scan, 200 x 0.3MP JPEG at sigma 5: {serial:.0f} ms serial, {parallel:.0f} ms with "
          f"{launched[0] if launched else 'no workers'} (and the leader): {serial / parallel:.2f}x")
    print(f"  the machine's ceiling, two backends at once with half the rows each: {ceiling:.0f} ms, "
          f"{serial / ceiling:.2f}x; the parallel plan reaches {(serial / parallel - 1) / (serial / ceiling - 1):.0%} "
          f"of the ceiling's gain")
    for other in others:
        other.close()

    # Accuracy at sigma 5 on the 2.5MP colour photo.
    cur.execute("RESET max_parallel_workers_per_gather")
    arr = make_photo(1920, 1280)
    for fmt in ("JPEG", "PNG"):
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
        data = buf.getvalue()
        decoded = np.asarray(Image.open(io.BytesIO(data)))
        cur.execute("SELECT bytea_blur(%s, 5, 95)", (psycopg2.Binary(data),))
        out = np.asarray(Image.open(io.BytesIO(bytes(cur.fetchone()[0])))).astype(np.float64)
        ref = np.round(ndimage.gaussian_filter(decoded.astype(np.float64), sigma=(5, 5, 0), mode="reflect", truncate=4.0))
        if fmt == "PNG":
            print(f"accuracy, 2.5MP PNG at sigma 5: max |bytea_blur - SciPy| = {np.max(np.abs(out - ref)):.0f}")
        else:
            mse = np.mean((out - np.clip(ref, 0, 255)) ** 2)
            print(f"accuracy, 2.5MP JPEG (quality 95 in and out) at sigma 5: PSNR against SciPy {10 * np.log10(255 ** 2 / mse):.1f} dB")


if __name__ == "__main__":
    main()
