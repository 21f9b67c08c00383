"""Helpers shared by the Python test suites: connections, images, references.

The runner (test/run-tests) starts a throwaway cluster and exports PGHOST/PGPORT/PGUSER and
BB_TEST_DB, a database where the extension is installed.
"""
import io
import os
import struct
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import psycopg2
from PIL import Image
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test" / "fixtures"))
from generate import photo, raw_png  # noqa: E402  (the fixtures' own image makers)

FIXTURES = ROOT / "test" / "fixtures"
CORPUS = Path(os.environ.get("BYTEA_BLUR_CORPUS", ROOT.parent / "shared" / "corpus"))


def connect(dbname=None):
    conn = psycopg2.connect(dbname=dbname or os.environ.get("BB_TEST_DB", "bytea_blur_test"))
    conn.autocommit = True
    return conn


def blur(conn, data, sigma=5.0, quality=75, fmt=None):
    """bytea_blur(data, sigma, quality), or with fmt its output format argument."""
    with conn.cursor() as cur:
        if fmt is None:
            cur.execute("SELECT bytea_blur(%s, %s, %s)", (psycopg2.Binary(data), sigma, quality))
        else:
            cur.execute("SELECT bytea_blur(%s, %s, %s, %s)", (psycopg2.Binary(data), sigma, quality, fmt))
        return bytes(cur.fetchone()[0])


def image_info(conn, data):
    """bytea_image_info(data) as a dict: format, mime_type, width, height, channels, bit_depth."""
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM bytea_image_info(%s)", (psycopg2.Binary(data),))
        return dict(zip([c.name for c in cur.description], cur.fetchone()))


def sqlstate_of(conn, data, sigma=5.0, quality=75, fmt=None):
    """The SQLSTATE bytea_blur raises for data (written in fmt, if given), or None when it
    succeeds."""
    try:
        blur(conn, data, sigma, quality, fmt)
    except psycopg2.Error as e:
        return e.pgcode
    return None


def encode(arr, fmt="PNG", **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **kw)
    return buf.getvalue()


def decode(data):
    """Pixels of an 8-bit JPEG, PNG or WebP, as Pillow decodes them."""
    return np.asarray(Image.open(io.BytesIO(data)))


def read_png(data):
    """An independent decoder for the non-interlaced PNGs bytea_blur writes, 16-bit included:
    returns (pixels as uint8 or uint16 array of shape (h, w, channels), chunk types)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, types = 8, b"", []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        types.append(kind.decode("latin-1"))
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert interlace == 0
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    bpp = channels * depth // 8
    stride = width * bpp
    raw = zlib.decompress(idat)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, np.int32)
        for i in range(stride):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 0:
                pred = 0
            elif ftype == 1:
                pred = a
            elif ftype == 2:
                pred = b
            elif ftype == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[i] = (line[i] + pred) & 0xFF
        out[y] = cur
        prev = cur
    if depth == 16:
        pixels = out.view(">u2").astype(np.uint16).reshape(height, width, channels)
    else:
        pixels = out.reshape(height, width, channels)
    return pixels, types


def scipy_blur(arr, sigma):
    """The reference: SciPy's float64 Gaussian per channel, reflect borders, cut at 4 sigma."""
    arr = np.asarray(arr, np.float64)
    sig = (sigma, sigma, 0) if arr.ndim == 3 else (sigma, sigma)
    return ndimage.gaussian_filter(arr, sigma=sig, mode="reflect", truncate=4.0)


def psnr(a, b, peak=255.0):
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(peak * peak / mse)


def server_pid(conn):
    """The postmaster's PID: it changes only if the cluster restarted after a crash."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_catalog.pg_postmaster_start_time()")
        return cur.fetchone()[0]


def png_header_only(width, height, color_type=6, depth=16):
    """A valid PNG layout that declares width x height but carries almost no data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def error_after_timeout(conn, query, timeout_ms=150):
    """Runs query under statement_timeout; returns (SQLSTATE or None, elapsed milliseconds)."""
    with conn.cursor() as cur:
        cur.execute(f"SET statement_timeout = '{timeout_ms}ms'")
        start = time.monotonic()
        state = None
        try:
            cur.execute(query)
        except psycopg2.Error as e:
            state = e.pgcode
        elapsed_ms = (time.monotonic() - start) * 1000
        cur.execute("RESET statement_timeout")
    return state, elapsed_ms


def check_statement_timeout(test, conn, query, label, timeout_ms=150, late_ms=300):
    """Runs query under statement_timeout (error_after_timeout) and checks that it ends in the
    timeout's error (57014) within late_ms of the timeout, printing label and the times. It tries
    again, at most three tries in all, until two have ended in time: the core's longest stretch
    without a poll is a few milliseconds (test/bench/poll_gaps), so a missing poll is late on
    every try, while a machine that stalls once is late on one (the fresh-machine gate runs two
    releases' suites side by side on two cores; one try there took 4457 ms)."""
    results, in_time = [], 0
    while len(results) < 3 and in_time < 2:
        results.append(error_after_timeout(conn, query, timeout_ms))
        in_time += results[-1][1] < timeout_ms + late_ms
    times = ", ".join(f"{ms:.0f}" for _, ms in results)
    print(f"\n    {label}statement_timeout {timeout_ms} ms: error after {times} ms", file=sys.stderr)
    test.assertEqual({state for state, _ in results}, {"57014"}, results)
    test.assertGreaterEqual(in_time, 2, results)


def extension_last(toc_lines):
    """A pg_restore -l listing reordered so that the extension and its comment come last: the
    README's clean restore of a table Django made, which the extension then adopts."""
    ext = [line for line in toc_lines if " EXTENSION - bytea_blur" in line]
    comment = [line for line in toc_lines if "COMMENT - EXTENSION bytea_blur" in line]
    rest = [line for line in toc_lines if line not in ext and line not in comment]
    return rest + ext + comment
