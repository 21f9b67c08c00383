"""Bytes per blurred image: what a site sends to browsers for each blurred copy, beside its
fidelity and its time, for every way of doing the job, in one run, on the real photographs.

JPEG, each photo as its camera or publisher saved it, at sigma 5 and quality 75:
  bytea_blur   SELECT bytea_blur(data), bytea_blur.threads 2 (the default) and 1
  sharp        Node's sharp (libvips), one thread: blur(5), jpeg({quality: 75}) (4:2:0 and
               optimised Huffman tables, its defaults), keeping the ICC profile as bytea_blur
               does; test/bench/sharp_blur.js
  OpenCV       cv2.imdecode + GaussianBlur(sigma 5) + cv2.imencode(quality 75)
  Pillow       ImageFilter.GaussianBlur(5) + save(quality 75)
  seed         the original PL/Python function (SciPy's blur, Pillow's encoder at quality 75)
PNG, each photo scaled to 1920x1280 and saved by Pillow as 8-bit RGB, at sigma 5: the same
peers (the seed writes JPEG only).
WebP, each photo's JPEG blurred and served as WebP at quality 75 (a site that stores JPEGs and
sends WebP): bytea_blur(data, format => 'webp') at bytea_blur.threads 2 and 1 (the time
ratio is one thread's), sharp's webp({quality: 75}) (libwebp, effort 4, one thread) and
Pillow's save(WEBP, quality 75, method 4), each beside bytea_blur's own JPEG of the first table.
AVIF, the same: bytea_blur(data, format => 'avif') (libavif with aom, speed 8, 4:2:0) beside
sharp's avif({quality: 75, chromaSubsampling: '4:2:0'}) (libheif with aom, effort 4, one
thread). Pillow here has no AVIF. AVIF outputs are decoded for PSNR by libavif's avifdec. The
two quality scales are not the same: compare bytes with PSNR.
WebP and AVIF uploads: each photo as a phone or an image CDN would hand it over, a lossy WebP
(Pillow, quality 90, method 4) and an AVIF (avifenc from the JPEG: 8-bit 4:2:0, quantizers
5-15, speed 6), blurred at sigma 5 in its own format at quality 75: bytea_blur(data) at
bytea_blur.threads 2 and 1 (the time ratio is one thread's), sharp (one thread, webp({quality:
75}) or avif({quality: 75, chromaSubsampling: '4:2:0'})) and, for WebP, Pillow (GaussianBlur(5),
save(WEBP, quality 75, method 4)). With --uploads, only these tables.
PSNR: of the decoded output against SciPy's float64 Gaussian (sigma 5, reflect, truncate 4) of
the input as Pillow decodes it, rounded, in dB: the blur's error and the encoder's together.
"""
import io
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import psycopg2
from PIL import Image, ImageFilter
from scipy import ndimage

from bench import median_ms
from photos import PHOTOS, sampling

RUNS = 5


def decoded_rgb(data):
    """8-bit RGB pixels of a JPEG, PNG or WebP (Pillow) or an AVIF (libavif's avifdec)."""
    if data[4:8] != b"ftyp":
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.avif", Path(tmp) / "out.png"
        src.write_bytes(data)
        subprocess.run(["avifdec", "--depth", "8", str(src), str(dst)], check=True, capture_output=True)
        return np.asarray(Image.open(dst).convert("RGB"))


def psnr(out_bytes, reference):
    out = decoded_rgb(out_bytes).astype(np.float64)
    mse = np.mean((out - reference) ** 2)
    return 10 * np.log10(255 ** 2 / mse) if mse else float("inf")


def scipy_reference(data, sigma=5.0):
    decoded = decoded_rgb(data).astype(np.float64)
    return np.clip(np.round(ndimage.gaussian_filter(decoded, sigma=(sigma, sigma, 0), mode="reflect",
                                                    truncate=4.0)), 0, 255)


def table(title, head):
    """Prints a table's title lines and its head underlined."""
    print()
    print(title)
    print(head)
    print("-" * len(head))


def sharp(sharp_dir, data, suffix, runs, target=None):
    """sharp's median ms and its output (in the input's format, or in target), or None where
    Node or sharp is missing."""
    if not sharp_dir:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / ("in" + suffix), Path(tmp) / "out"
        src.write_bytes(data)
        script = Path(__file__).with_name("sharp_blur.js")
        done = subprocess.run(["node", str(script), sharp_dir, str(src), "5", "75", str(runs), str(dst)]
                              + ([target] if target else []), capture_output=True, text=True)
        if done.returncode != 0:
            print(f"    sharp failed: {done.stderr.strip()[-200:]}")
            return None
        return float(done.stdout.split()[0]), dst.read_bytes()


def webp_upload(jpeg):
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(out, "WEBP", quality=90, method=4)
    return out.getvalue()


def avif_upload(jpeg):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.jpg", Path(tmp) / "out.avif"
        src.write_bytes(jpeg)
        subprocess.run(["avifenc", "-s", "6", "-y", "420", "--min", "5", "--max", "15", str(src), str(dst)],
                       check=True, capture_output=True)
        return dst.read_bytes()


def run(cur, root, sharp_dir=None, uploads_only=False):
    root = Path(root)
    cur.execute("DROP TABLE IF EXISTS byte_images; CREATE TABLE byte_images (name text PRIMARY KEY, data bytea)")
    cur.execute("ALTER TABLE byte_images ALTER COLUMN data SET STORAGE EXTERNAL")

    def bb(name, threads, runs, target=None):
        cur.execute("SET bytea_blur.threads = %s", (threads,))
        query = "SELECT bytea_blur(data, 5, 75, %s) FROM byte_images WHERE name = %s"
        ms = median_ms(lambda: (cur.execute(query, (target, name)), cur.fetchone()), runs)
        cur.execute(query, (target, name))
        out = bytes(cur.fetchone()[0])
        cur.execute("RESET bytea_blur.threads")
        return ms, out

    def seed(name):
        cur.execute("SELECT plpython_blur(data) FROM byte_images WHERE name = %s", (name,))
        return bytes(cur.fetchone()[0])

    inputs = []
    for name, rel in PHOTOS.items():
        path = root / rel
        if path.exists():
            inputs.append((name, path.read_bytes()))
    if not inputs:
        print("output bytes: skipped (no photographs)")
        return

    def peers(data, ref, runs, suffix, target, pillow_save):
        """sharp's (ms, output) for one input, and the columns of sharp and of Pillow (where
        pillow_save writes the format): KB, PSNR against ref, ms."""
        sh = sharp(sharp_dir, data, suffix, runs, target)
        cols = f"{len(sh[1]) / 1024:>7.0f}{psnr(sh[1], ref):>6.1f}{sh[0]:>8.1f}" if sh else f"{'-':>7}{'-':>6}{'-':>8}"
        if pillow_save:
            def pillow():
                out = io.BytesIO()
                pillow_save(Image.open(io.BytesIO(data)).filter(ImageFilter.GaussianBlur(5)), out)
                return out.getvalue()
            pil_ms = median_ms(pillow, runs)
            pil_out = pillow()
            cols += f"{len(pil_out) / 1024:>7.0f}{psnr(pil_out, ref):>6.1f}{pil_ms:>7.1f}"
        return sh, cols

    def uploaded_as(label, suffix, make, pillow_save=None):
        """The photos as label uploads (make: the photo's JPEG to that file) blurred in their own
        format: bytea_blur (two threads and one; the time ratio is one thread's), sharp, and
        Pillow where it writes the format."""
        table(f"Bytes per blurred image, the photographs uploaded as {label}, blurred at sigma 5 in {label} at\n"
              "quality 75 (KB; PSNR against SciPy's blur of the decoded upload, dB; ms, medians; ratios:\n"
              "bytea_blur over sharp, bytes and one thread's time)",
              f"{'photo':<13}{'in KB':>7}{'bb KB':>7}{'dB':>6}{'ms':>7}{'1t ms':>7}{'sharp':>7}{'dB':>6}{'ms':>8}"
              + (f"{'Pillow':>7}{'dB':>6}{'ms':>7}" if pillow_save else "") + f"{'/sharp':>7}{'/sh ms':>7}")
        worst = {"bytes": 0.0, "ms": 0.0}
        for name, jpeg in inputs:
            w, h = Image.open(io.BytesIO(jpeg)).size
            runs = 3 if w * h > 10e6 else RUNS
            data = make(jpeg)
            label_name = f"{suffix} {name}"
            cur.execute("INSERT INTO byte_images VALUES (%s, %s)", (label_name, psycopg2.Binary(data)))
            ref = scipy_reference(data)
            bb_ms, bb_out = bb(label_name, 2, runs)
            bb1_ms = bb(label_name, 1, runs)[0]
            sh, cols = peers(data, ref, runs, suffix, None, pillow_save)
            r_bytes = len(bb_out) / len(sh[1]) if sh else float("nan")
            r_ms = bb1_ms / sh[0] if sh else float("nan")
            print(f"{name:<13}{len(data) / 1024:>7.0f}{len(bb_out) / 1024:>7.0f}{psnr(bb_out, ref):>6.1f}{bb_ms:>7.1f}"
                  f"{bb1_ms:>7.1f}{cols}{r_bytes:>7.2f}{r_ms:>7.2f}")
            worst = {"bytes": max(worst["bytes"], r_bytes), "ms": max(worst["ms"], r_ms)}
        print(f"worst: bytes /sharp {worst['bytes']:.2f}, time (one thread) /sharp {worst['ms']:.2f}")

    if uploads_only:
        uploaded_as("WebP", ".webp", webp_upload, lambda img, out: img.save(out, "WEBP", quality=75, method=4))
        uploaded_as("AVIF", ".avif", avif_upload)  # Pillow here reads and writes no AVIF
        cur.execute("DROP TABLE byte_images")
        return

    table("Bytes per blurred image, real photographs, JPEG at sigma 5, quality 75 (KB; PSNR against\n"
          "SciPy's blur, dB; ms, medians; bb/sharp: bytea_blur's bytes over sharp's)",
          f"{'photo':<13}{'samp':>6}{'bb KB':>7}{'dB':>6}{'ms':>7}{'1t ms':>7}{'sharp':>7}{'dB':>6}{'ms':>7}"
          f"{'OpenCV':>7}{'dB':>6}{'Pillow':>7}{'dB':>6}{'seed':>7}{'dB':>6}{'bb/sharp':>9}")
    worst = {"ratio": 0.0, "db": float("inf"), "name": ""}
    jpeg_bytes = {}
    for name, data in inputs:
        w, h = Image.open(io.BytesIO(data)).size
        runs = 3 if w * h > 10e6 else RUNS
        cur.execute("INSERT INTO byte_images VALUES (%s, %s)", (name, psycopg2.Binary(data)))
        ref = scipy_reference(data)
        bb_ms, bb_out = bb(name, 2, runs)
        bb1_ms, _ = bb(name, 1, runs)
        sh = sharp(sharp_dir, data, ".jpg", runs)
        buf = np.frombuffer(data, np.uint8)
        cv_out = cv2.imencode(".jpg", cv2.GaussianBlur(cv2.imdecode(buf, cv2.IMREAD_COLOR), (0, 0), 5),
                              [cv2.IMWRITE_JPEG_QUALITY, 75])[1].tobytes()
        pil = io.BytesIO()
        Image.open(io.BytesIO(data)).filter(ImageFilter.GaussianBlur(5)).save(pil, "JPEG", quality=75)
        seed_out = seed(name)
        sh_kb = f"{len(sh[1]) / 1024:>7.0f}{psnr(sh[1], ref):>6.1f}{sh[0]:>7.1f}" if sh else f"{'-':>7}{'-':>6}{'-':>7}"
        ratio = len(bb_out) / len(sh[1]) if sh else float("nan")
        jpeg_bytes[name] = len(bb_out)
        db = psnr(bb_out, ref)
        print(f"{name:<13}{sampling(data):>6}{len(bb_out) / 1024:>7.0f}{db:>6.1f}{bb_ms:>7.1f}{bb1_ms:>7.1f}{sh_kb}"
              f"{len(cv_out) / 1024:>7.0f}{psnr(cv_out, ref):>6.1f}{len(pil.getvalue()) / 1024:>7.0f}"
              f"{psnr(pil.getvalue(), ref):>6.1f}{len(seed_out) / 1024:>7.0f}{psnr(seed_out, ref):>6.1f}{ratio:>9.2f}")
        if ratio > worst["ratio"]:
            worst.update(ratio=ratio, name=name)
        worst["db"] = min(worst["db"], db)
    print(f"worst: bb/sharp {worst['ratio']:.2f} ({worst['name']}), bytea_blur's PSNR {worst['db']:.1f} dB")

    def served_as(target, label, pillow_save=None, one_thread=False):
        """The photos' JPEGs blurred and served in target: bytea_blur (two threads, and one with
        one_thread: then the time ratio is one thread's), sharp, and Pillow where it writes it."""
        table(f"Bytes per blurred image, the JPEG photographs blurred at sigma 5 and served as {label} at quality\n"
              "75 (KB; PSNR against SciPy's blur, dB; ms, medians; ratios: bytea_blur over sharp, and\n"
              f"bytea_blur's {label} over its own JPEG of the first table)",
              f"{'photo':<13}{'bb KB':>7}{'dB':>6}{'ms':>7}" + (f"{'1t ms':>7}" if one_thread else "")
              + f"{'sharp':>7}{'dB':>6}{'ms':>8}" + (f"{'Pillow':>7}{'dB':>6}{'ms':>7}" if pillow_save else "")
              + f"{'/sharp':>7}{'/sh ms':>7}{'/jpeg':>6}")
        worst = {"bytes": 0.0, "ms": 0.0, "jpeg": 0.0}
        for name, data in inputs:
            w, h = Image.open(io.BytesIO(data)).size
            runs = 3 if w * h > 10e6 else RUNS
            ref = scipy_reference(data)
            bb_ms, bb_out = bb(name, 2, runs, target)
            bb1_ms = bb(name, 1, runs, target)[0] if one_thread else None
            sh, peer_cols = peers(data, ref, runs, ".jpg", target, pillow_save)
            cols = (f"{bb1_ms:>7.1f}" if one_thread else "") + peer_cols
            r_bytes = len(bb_out) / len(sh[1]) if sh else float("nan")
            r_ms = (bb1_ms if one_thread else bb_ms) / sh[0] if sh else float("nan")
            r_jpeg = len(bb_out) / jpeg_bytes[name]
            print(f"{name:<13}{len(bb_out) / 1024:>7.0f}{psnr(bb_out, ref):>6.1f}{bb_ms:>7.1f}{cols}"
                  f"{r_bytes:>7.2f}{r_ms:>7.2f}{r_jpeg:>6.2f}")
            worst = {"bytes": max(worst["bytes"], r_bytes), "ms": max(worst["ms"], r_ms),
                     "jpeg": max(worst["jpeg"], r_jpeg)}
        print(f"worst: bytes /sharp {worst['bytes']:.2f}, time{' (one thread)' if one_thread else ''} /sharp "
              f"{worst['ms']:.2f}, {label} over JPEG {worst['jpeg']:.2f}")

    served_as("webp", "WebP", lambda img, out: img.save(out, "WEBP", quality=75, method=4), one_thread=True)
    served_as("avif", "AVIF", one_thread=True)  # Pillow here writes no AVIF
    uploaded_as("WebP", ".webp", webp_upload, lambda img, out: img.save(out, "WEBP", quality=75, method=4))
    uploaded_as("AVIF", ".avif", avif_upload)  # Pillow here reads and writes no AVIF

    table("Bytes per blurred image, the photographs as 1920x1280 8-bit RGB PNGs, sigma 5 (KB; PSNR\n"
          "against SciPy's blur, dB; ms, medians; ratios: bytea_blur over OpenCV and over sharp)",
          f"{'photo':<13}{'in KB':>7}{'bb KB':>7}{'dB':>6}{'ms':>7}{'sharp':>7}{'dB':>6}{'ms':>7}{'OpenCV':>7}"
          f"{'dB':>6}{'ms':>7}{'Pillow':>7}{'/OpenCV':>8}{'/cv ms':>7}{'/sharp':>7}")
    worst = {"cv": 0.0, "sharp": 0.0, "ms": 0.0}
    for name, data in inputs:
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize((1920, 1280), Image.LANCZOS))
        png = io.BytesIO()
        Image.fromarray(rgb).save(png, "PNG")
        png = png.getvalue()
        label = f"png {name}"
        cur.execute("INSERT INTO byte_images VALUES (%s, %s)", (label, psycopg2.Binary(png)))
        ref = scipy_reference(png)
        bb_ms, bb_out = bb(label, 2, RUNS)
        sh = sharp(sharp_dir, png, ".png", RUNS)
        buf = np.frombuffer(png, np.uint8)
        cv_ms = median_ms(lambda: cv2.imencode(".png", cv2.GaussianBlur(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED),
                                                                        (0, 0), 5)), RUNS)
        cv_out = cv2.imencode(".png", cv2.GaussianBlur(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), (0, 0), 5))[1].tobytes()
        pil = io.BytesIO()
        Image.open(io.BytesIO(png)).filter(ImageFilter.GaussianBlur(5)).save(pil, "PNG")
        sh_cols = f"{len(sh[1]) / 1024:>7.0f}{psnr(sh[1], ref):>6.1f}{sh[0]:>7.1f}" if sh else f"{'-':>7}{'-':>6}{'-':>7}"
        r_cv, r_ms = len(bb_out) / len(cv_out), bb_ms / cv_ms
        r_sh = len(bb_out) / len(sh[1]) if sh else float("nan")
        print(f"{name:<13}{len(png) / 1024:>7.0f}{len(bb_out) / 1024:>7.0f}{psnr(bb_out, ref):>6.1f}{bb_ms:>7.1f}"
              f"{sh_cols}{len(cv_out) / 1024:>7.0f}{psnr(cv_out, ref):>6.1f}{cv_ms:>7.1f}"
              f"{len(pil.getvalue()) / 1024:>7.0f}{r_cv:>8.2f}{r_ms:>7.2f}{r_sh:>7.2f}")
        worst = {"cv": max(worst["cv"], r_cv), "sharp": max(worst["sharp"], r_sh), "ms": max(worst["ms"], r_ms)}
    print(f"worst: bytes /OpenCV {worst['cv']:.2f}, /sharp {worst['sharp']:.2f}; time /OpenCV {worst['ms']:.2f}")
    cur.execute("DROP TABLE byte_images")
