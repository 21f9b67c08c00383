"""Real photographs in the benchmark: camera photos from Debian's wallpaper packages (fetched by
test/bench/run into the cache, never committed), and PNGs made from one of them.

JPEG, each photo as its camera or publisher saved it, through SQL at sigma 5 and quality 75:
  bytea_blur   SELECT bytea_blur(data) from a table
  PL/Python    the original function, through SQL
  floor        libjpeg-turbo's own raw-plane decode + encode at quality 75, nothing between
               (test/bench/jpeg_floor.cpp): what any blur built on libjpeg pays
  OpenCV       cv2.imdecode + GaussianBlur(sigma 5) + cv2.imencode(quality 75), one thread
PNG, from the Path photo scaled to 1920x1280 (2.5 MP): 8-bit RGB, 16-bit RGB, grey, RGBA;
bytea_blur at sigma 5, 50 and 100 against OpenCV's pipeline (time and size).
Each ratio is given per photo and for the worst photo.
Interrupt checks: the longest time the core runs between two checks for a cancel, on every
photo above and on PNGs of up to 15 MP (test/bench/poll_gaps.cpp, the core without PostgreSQL).
"""
import io
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import psycopg2
from PIL import Image
from scipy import ndimage

from bench import median_ms

# name: path below the unpacked packages' root
PHOTOS = {
    "EveningGlow": "usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg",
    "FallenLeaf": "usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg",
    "Path": "usr/share/wallpapers/Path/contents/images/2560x1600.jpg",
    "ColorfulCups": "usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg",
    "BytheWater": "usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg",
    "OneStandsOut": "usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg",
    "ColdRipple": "usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg",
    "Flow": "usr/share/wallpapers/Flow/contents/images/5120x2880.jpg",
    "Kleiber": "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
}
RUNS = 5


def sampling(data):
    layers = Image.open(io.BytesIO(data)).layer
    h, v = layers[0][1], layers[0][2]
    if len(layers) == 1:
        return "grey"
    return {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0"}.get((h, v), f"{h}x{v}")


def psnr_against_scipy(cur, data, sigma=5.0):
    """PSNR of bytea_blur's output (quality 95, so that little of the error is the encoder's)
    against SciPy's float64 Gaussian (reflect, truncate 4) of the photo as Pillow decodes it."""
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.float64)
    cur.execute("SELECT bytea_blur(%s, %s, 95)", (psycopg2.Binary(data), sigma))
    out = np.asarray(Image.open(io.BytesIO(bytes(cur.fetchone()[0]))).convert("RGB")).astype(np.float64)
    ref = np.clip(np.round(ndimage.gaussian_filter(decoded, sigma=(sigma, sigma, 0), mode="reflect", truncate=4.0)),
                  0, 255)
    mse = np.mean((out - ref) ** 2)
    return 10 * np.log10(255 ** 2 / mse)


def png_bytes(arr, bits16=False):
    if bits16:
        ok, buf = cv2.imencode(".png", cv2.cvtColor(arr.astype(np.uint16) * 257, cv2.COLOR_RGB2BGR))
        return buf.tobytes()
    out = io.BytesIO()
    Image.fromarray(arr).save(out, "PNG")
    return out.getvalue()


def busy_cores(cur, names, each=12):
    """The price of the second thread when no core is idle: as many backends as cores (two here)
    blur the same photo at once, each call in turn, at bytea_blur.threads 1 and 2 (interleaved,
    three rounds); ms per image of all the backends together, the median round."""
    dsn = cur.connection.dsn
    backends = [psycopg2.connect(dsn) for _ in range(2)]
    for b in backends:
        b.autocommit = True
    query = "SELECT sum(length(bytea_blur(data))) FROM photo_images, generate_series(1, %s) WHERE name = %s"
    print()
    print(f"Two backends blurring at once on the two cores (ms per image, all backends together; {each} each)")
    head = f"{'photo':<14}{'threads 1':>10}{'threads 2':>10}{'2 / 1':>8}"
    print(head)
    print("-" * len(head))
    for name in names:
        times = {1: [], 2: []}
        for _ in range(3):
            for threads in (1, 2):
                for b in backends:
                    with b.cursor() as c:
                        c.execute("SET bytea_blur.threads = %s", (threads,))
                        c.execute(query, (1, name))  # warm
                runs = [threading.Thread(target=lambda b=b: b.cursor().execute(query, (each, name))) for b in backends]
                start = time.monotonic()
                for t in runs:
                    t.start()
                for t in runs:
                    t.join()
                times[threads].append((time.monotonic() - start) * 1000 / (each * len(backends)))
        one, two = statistics.median(times[1]), statistics.median(times[2])
        print(f"{name:<14}{one:>10.2f}{two:>10.2f}{two / one:>8.2f}")
    for b in backends:
        b.close()


def run(cur, root, floor_binary, gaps_binary=None):
    root = Path(root)
    cur.execute("DROP TABLE IF EXISTS photo_images; CREATE TABLE photo_images (name text PRIMARY KEY, data bytea)")
    cur.execute("ALTER TABLE photo_images ALTER COLUMN data SET STORAGE EXTERNAL")

    def sql_ms(expr, name, runs=RUNS):
        query = f"SELECT length({expr}) FROM photo_images WHERE name = %s"
        return median_ms(lambda: (cur.execute(query, (name,)), cur.fetchone()), runs)

    def sql_len(expr, name):
        cur.execute(f"SELECT length({expr}) FROM photo_images WHERE name = %s", (name,))
        return cur.fetchone()[0]

    print()
    print("Real photographs, JPEG at sigma 5 (ms, medians of 5; ratios: PL/Python over bytea_blur,")
    print("bytea_blur over the libjpeg floor, bytea_blur over OpenCV; PSNR of bytea_blur at quality 95")
    print("against SciPy's float64 blur of the decoded photo, dB; bb with bytea_blur.threads at its")
    print("default 2, bb-1t at 1)")
    head = (f"{'photo':<14}{'size':>11}{'samp':>7}{'MP':>6}{'bb':>8}{'bb-1t':>8}{'PL/Py':>8}{'floor':>8}{'OpenCV':>8}"
            f"{'xPL/Py':>8}{'/floor':>8}{'/OpenCV':>8}{'PSNR':>7}")
    print(head)
    print("-" * len(head))
    worst = {"xPL/Py": None, "/floor": None, "/OpenCV": None}
    worst_psnr = float("inf")
    for name, rel in PHOTOS.items():
        path = root / rel
        if not path.exists():
            print(f"{name:<14} missing: {path}")
            continue
        data = path.read_bytes()
        w, h = Image.open(io.BytesIO(data)).size
        mp = w * h / 1e6
        cur.execute("INSERT INTO photo_images VALUES (%s, %s)", (name, psycopg2.Binary(data)))
        runs = 3 if mp > 10 else RUNS
        bb = sql_ms("bytea_blur(data)", name, runs)
        cur.execute("SET bytea_blur.threads = 1")
        bb1 = sql_ms("bytea_blur(data)", name, runs)
        cur.execute("RESET bytea_blur.threads")
        pl = sql_ms("plpython_blur(data)", name, 1 if mp > 10 else 3)
        floor = float(subprocess.run([floor_binary, str(path), str(runs)], capture_output=True, text=True,
                                     check=True).stdout)
        buf = np.frombuffer(data, np.uint8)
        params = [cv2.IMWRITE_JPEG_QUALITY, 75]
        cv = median_ms(lambda: cv2.imencode(".jpg", cv2.GaussianBlur(cv2.imdecode(buf, cv2.IMREAD_COLOR), (0, 0), 5),
                                            params), runs)
        ratios = {"xPL/Py": pl / bb, "/floor": bb / floor, "/OpenCV": bb / cv}
        quality = psnr_against_scipy(cur, data) if mp <= 5.5 else float("nan")
        print(f"{name:<14}{f'{w}x{h}':>11}{sampling(data):>7}{mp:>6.1f}{bb:>8.1f}{bb1:>8.1f}{pl:>8.0f}{floor:>8.1f}{cv:>8.1f}"
              f"{ratios['xPL/Py']:>8.1f}{ratios['/floor']:>8.2f}{ratios['/OpenCV']:>8.2f}{quality:>7.1f}")
        worst_psnr = min(worst_psnr, quality) if mp <= 5.5 else worst_psnr
        if mp <= 5.5:  # the targets speak of 2-5 MP photos
            for k, v in ratios.items():
                bad = min if k == "xPL/Py" else max
                worst[k] = v if worst[k] is None else bad(worst[k], v)
    print(f"{'worst, 2-5 MP':<14}{'':>11}{'':>7}{'':>6}{'':>8}{'':>8}{'':>8}{'':>8}{'':>8}"
          f"{worst['xPL/Py']:>8.1f}{worst['/floor']:>8.2f}{worst['/OpenCV']:>8.2f}{worst_psnr:>7.1f}")
    busy_cores(cur, ["Path", "ColorfulCups", "Kleiber"])

    # PNGs from the Path photo at 2.5 MP
    source = root / PHOTOS["Path"]
    if not source.exists():
        return
    rgb = np.asarray(Image.open(source).convert("RGB").resize((1920, 1280), Image.LANCZOS))
    variants = {
        "RGB 8-bit": png_bytes(rgb),
        "RGB 16-bit": png_bytes(rgb, bits16=True),
        "grey 8-bit": png_bytes(np.asarray(Image.fromarray(rgb).convert("L"))),
        "RGBA 8-bit": png_bytes(np.dstack([rgb, np.tile(np.linspace(0, 255, 1920, dtype=np.uint8), (1280, 1))])),
    }
    print()
    print("Real photograph as PNG (Path, 1920x1280; ms, medians of 5; sizes in KB)")
    head = (f"{'PNG':<12}{'in KB':>8}{'bb s5':>8}{'bb s50':>8}{'bb s100':>8}{'OpenCV':>8}{'/OpenCV':>8}"
            f"{'s50/s5':>8}{'s100/s5':>8}{'out KB':>8}{'cv KB':>8}{'size':>7}")
    print(head)
    print("-" * len(head))
    for label, data in variants.items():
        name = "png " + label
        cur.execute("INSERT INTO photo_images VALUES (%s, %s)", (name, psycopg2.Binary(data)))
        s5 = sql_ms("bytea_blur(data, 5)", name)
        s50 = sql_ms("bytea_blur(data, 50)", name, 3)
        s100 = sql_ms("bytea_blur(data, 100)", name, 3)
        buf = np.frombuffer(data, np.uint8)
        cv = median_ms(lambda: cv2.imencode(".png", cv2.GaussianBlur(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), (0, 0), 5)),
                       RUNS)
        cv_kb = len(cv2.imencode(".png", cv2.GaussianBlur(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), (0, 0), 5))[1]) / 1024
        bb_kb = sql_len("bytea_blur(data, 5)", name) / 1024
        print(f"{label:<12}{len(data) / 1024:>8.0f}{s5:>8.1f}{s50:>8.1f}{s100:>8.1f}{cv:>8.1f}{s5 / cv:>8.2f}"
              f"{s50 / s5:>8.2f}{s100 / s5:>8.2f}{bb_kb:>8.0f}{cv_kb:>8.0f}{bb_kb / cv_kb:>7.2f}")
    # accuracy of the 8-bit RGB PNG against SciPy's float64 blur, for a range of sigmas
    diffs = []
    for sigma in (0.3, 1, 2, 5, 10, 20, 50, 100):
        cur.execute("SELECT bytea_blur(data, %s) FROM photo_images WHERE name = 'png RGB 8-bit'", (sigma,))
        out = np.asarray(Image.open(io.BytesIO(bytes(cur.fetchone()[0])))).astype(np.float64)
        ref = np.round(ndimage.gaussian_filter(rgb.astype(np.float64), sigma=(sigma, sigma, 0), mode="reflect",
                                               truncate=4.0))
        diffs.append(f"sigma {sigma:g}: {np.max(np.abs(out - ref)):.0f}")
    print("  max |bytea_blur - SciPy| on the 8-bit RGB PNG, in levels: " + ", ".join(diffs))

    if gaps_binary:
        poll_gaps(root, variants, gaps_binary)


def poll_gaps(root, variants, binary):
    """The longest stretch between two interrupt checks, per file and sigma, and the worst."""
    with tempfile.TemporaryDirectory() as tmp:
        files = [str(root / rel) for rel in PHOTOS.values() if (root / rel).exists()]
        for label, data in variants.items():
            path = Path(tmp) / (label.replace(" ", "-") + ".png")
            path.write_bytes(data)
            files.append(str(path))
        # the largest photo as PNGs: 8-bit RGB and RGBA beyond the one-call compression's 12 MiB
        flow = np.asarray(Image.open(root / PHOTOS["Flow"]).convert("RGB"))
        for label, arr in (("Flow RGB", flow), ("Flow RGBA", np.dstack([flow, flow[:, :, 1]]))):
            path = Path(tmp) / (label.replace(" ", "-") + ".png")
            Image.fromarray(arr).save(path, compress_level=1)
            files.append(str(path))
        print()
        print("Longest time between two interrupt checks (ms; a cancel or statement_timeout waits at most this)")
        head = f"{'file':<22}{'MP':>6}{'s5 gap':>8}{'s5 all':>8}{'s100 gap':>10}{'s100 all':>10}"
        print(head)
        print("-" * len(head))
        rows = {}
        for sigma in (5, 100):
            out = subprocess.run([binary, str(sigma)] + files, capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                path, gap, whole, _ = line.rsplit(" ", 3)
                rows.setdefault(path, []).append((float(gap), float(whole)))
        worst = 0.0
        for path, ((g5, w5), (g100, w100)) in rows.items():
            with Image.open(path) as im:
                mp = im.size[0] * im.size[1] / 1e6
            name = Path(path).stem if "/wallpapers/" not in path else path.split("/wallpapers/")[1].split("/")[0]
            name = name if "backgrounds" not in path else "Kleiber"
            name += ".png" if path.endswith(".png") else ".jpg"
            print(f"{name:<22}{mp:>6.1f}{g5:>8.1f}{w5:>8.0f}{g100:>10.1f}{w100:>10.0f}")
            worst = max(worst, g5, g100)
        print(f"worst gap: {worst:.1f} ms")
