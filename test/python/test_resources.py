"""Memory: 1000 calls in one backend, mixing good images and every error class, leave its
private memory flat (but for one rise of the allocator's high-water mark); the peak memory of one call on a 48-megapixel JPEG stays within the
README's formula. Both read the backend's /proc/<pid>/status (the server runs here)."""
import struct
import sys
import unittest
import zlib
from pathlib import Path

import numpy as np
import psycopg2

from bbtest import FIXTURES, connect, encode, photo


def proc_status(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[key] = int(value.split()[0]) * 1024
    return fields


def png_claiming(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
            + chunk(b"IEND", b""))


class NoLeaks(unittest.TestCase):
    def test_private_memory_flat_over_1000_calls(self):
        conn = connect()
        pid = conn.get_backend_pid()
        good = [(FIXTURES / n).read_bytes() for n in ("rgb420.jpg", "rgba16.png", "cmyk.jpg", "interlaced.png")]
        truncated_jpeg = good[0][: len(good[0]) // 2]
        truncated_png = good[1][: len(good[1]) // 2]
        # a PNG blur at a large sigma is slow enough to be cancelled in the middle
        slow = encode(photo(1600, 1200, seed=8), "PNG")
        cases = [
            (g, 3.0, None) for g in good
        ] + [
            (truncated_jpeg, 5.0, "22P03"),
            (truncated_png, 5.0, "22P03"),
            (b"GIF89a\x01\x00\x01\x00", 5.0, "0A000"),
            (b"\xff\xd8\xff\xc1\x00\x0b\x0c\x00\x10\x00\x10\x01\x01\x11\x00\xff\xd9", 5.0, "0A000"),
            (png_claiming(60000, 60000), 5.0, "54000"),
            (good[0], -1.0, "22023"),
            # allocated 3.2 GB of pixels, then found the data truncated: freed on the error path
            (png_claiming(20000, 20000), 5.0, "22P03"),
            # cancelled halfway through a blur
            (slow, 40.0, "57014"),
        ]
        with conn.cursor() as cur:
            cur.execute("SET bytea_blur.max_pixels = 500000000")

        def run(rounds):
            seen = set()
            with conn.cursor() as cur:
                for i in range(rounds):
                    data, sigma, expected = cases[i % len(cases)]
                    if expected == "57014":
                        cur.execute("SET statement_timeout = '50ms'")
                    try:
                        cur.execute("SELECT length(bytea_blur(%s, %s))", (psycopg2.Binary(data), sigma))
                        state = None
                    except psycopg2.Error as e:
                        state = e.pgcode
                    if expected == "57014":
                        cur.execute("RESET statement_timeout")
                    self.assertEqual(state, expected)
                    seen.add(state)
            return seen

        run(120)  # warm up caches and allocator pools
        # 1000 calls in four rounds, the private memory read after each. A leak grows it in
        # every round. The allocator's high-water mark may rise once, in any round, and stay:
        # glibc raises its mmap threshold after freeing a large mapping, so that later buffers
        # of that size come from the heap and stay resident (seen once in the fresh-machine
        # gate: 15 MiB to 63 MiB in one round on PostgreSQL 18, where PostgreSQL 15's backend
        # had reached the same 63 MiB in its warm-up and stayed there over 1000 calls). So the
        # largest round's growth is left out, and the other three must add up to under 3 MiB
        # (a leak of 4 KiB a call would come to 3 MiB in them).
        sizes = [proc_status(pid)["RssAnon"]]
        seen = set()
        for _ in range(4):
            seen |= run(250)
            sizes.append(proc_status(pid)["RssAnon"])
        conn.close()
        self.assertEqual(seen, {None, "22P03", "0A000", "54000", "22023", "57014"})
        growths = [b - a for a, b in zip(sizes, sizes[1:])]
        print("\n    private memory (RssAnon) after the warm-up and each 250 calls: "
              + ", ".join(f"{size >> 10} KiB" for size in sizes), file=sys.stderr)
        steady = sum(growths) - max(growths)
        self.assertLess(steady, 3 << 20, f"backend private memory grew by {[g >> 10 for g in growths]} KiB "
                        "in four rounds of 250 calls: in more than one")


class PeakMemory(unittest.TestCase):
    def test_48_megapixel_jpeg_within_formula(self):
        width = 8000  # 8000 x 6000, three channels: the tiles below
        big = np.tile(photo(1000, 750, seed=31), (8, 8, 1))
        data = encode(big, "JPEG", quality=85)
        setup = connect()
        with setup.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS peak_image")
            cur.execute("CREATE TABLE peak_image AS SELECT %s::bytea AS data", (psycopg2.Binary(data),))
        conn = connect()
        pid = conn.get_backend_pid()
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            base = proc_status(pid)["VmHWM"]
            cur.execute("SELECT length(bytea_blur(data, 5.0, 75)) FROM peak_image")
            out_size = cur.fetchone()[0]
        peak = proc_status(pid)["VmHWM"] - base
        conn.close()
        with setup.cursor() as cur:
            cur.execute("DROP TABLE peak_image")
        setup.close()
        # The README's formula for a JPEG: the value and its detoasted copy, the output twice,
        # and rows, not planes: at most 50 float rows of each component at full width (4:2:0:
        # 1.5 samples a pixel). libjpeg's own memory and the allocator's slack are in the margin.
        samples = 1.5
        formula = 2 * len(data) + 2 * out_size + int(50 * width * samples * 4)
        print(f"\n    48 MP JPEG ({len(data) >> 20} MiB in, {out_size >> 20} MiB out): peak RSS growth "
              f"{peak >> 20} MiB, formula {formula >> 20} MiB", file=sys.stderr)
        self.assertLess(peak, formula + (32 << 20))  # libjpeg and the allocator


if __name__ == "__main__":
    unittest.main()
