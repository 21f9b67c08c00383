"""Hostile input: truncations at many lengths, bit flips, headers that lie about their size,
oversize and malformed chunks, unrecognised formats, random bytes. Each gives a documented
SQLSTATE (never XX000); no backend crashes and the postmaster is the same afterwards."""
import os
import random
import re
import struct
import unittest
import zlib
from pathlib import Path

from bbtest import CORPUS, FIXTURES, connect, sqlstate_of

DOCUMENTED = {"22P03", "0A000", "54000", "53200"}
FIXTURE_NAMES = ["rgb420.jpg", "progressive.jpg", "gray.jpg", "cmyk.jpg", "ycck.jpg",
                 "rgb8.png", "rgba16.png", "interlaced.png", "palette_trns.png", "gray1.png",
                 "lossy.webp", "rgba_lossless.webp", "rgba_lossy.webp",
                 "rgb8_420.avif", "rgba8_422.avif", "gray12.avif", "rgb10_444.avif", "clap.avif"]


def postmaster_pid():
    cluster = os.environ.get("PG_CLUSTER_DIR")
    if not cluster:
        return None
    return Path(cluster, "data", "postmaster.pid").read_text().split("\n")[0]


def server_log_crashes():
    # PG_SERVER_LOG and PG_CRASH_PATTERN come from test/lib/pgcluster.sh
    log, pattern = os.environ.get("PG_SERVER_LOG"), os.environ.get("PG_CRASH_PATTERN")
    if not log or not pattern:
        return []
    crashed = re.compile(pattern)
    return [l for l in Path(log).read_text(errors="replace").splitlines() if crashed.search(l)]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = connect()
        cls.pid = postmaster_pid()
        cls.crashes = len(server_log_crashes())

    def tearDown(self):
        # the connection survived (a backend crash would have ended every session) ...
        with self.conn.cursor() as cur:
            cur.execute("SELECT 1")
            self.assertEqual(cur.fetchone()[0], 1)
        # ... the postmaster is the same, and its log reports no crash
        self.assertEqual(postmaster_pid(), self.pid)
        self.assertEqual(len(server_log_crashes()), self.crashes)

    def assert_clean(self, data, allowed=DOCUMENTED, may_succeed=False, label="", fmt=None):
        state = sqlstate_of(self.conn, data, fmt=fmt)
        if state is None:
            self.assertTrue(may_succeed, f"{label}: accepted")
        else:
            self.assertIn(state, allowed, label)
        return state

    def test_truncations_at_many_lengths(self):
        for name in FIXTURE_NAMES:
            data = (FIXTURES / name).read_bytes()
            lengths = sorted(set(list(range(0, 64)) + list(range(64, len(data) - 1, max(1, len(data) // 60)))))
            for n in lengths:
                if name.endswith(".jpg") and n >= len(data) - 2:
                    continue  # only the EOI marker missing: libjpeg decodes the whole image
                self.assert_clean(data[:n], {"22P03"}, label=f"{name}[:{n}]")

    def test_truncations_and_bit_flips_written_in_another_format(self):
        # The same damage through every conversion (bytea_blur's format argument), whose decoders
        # read whole images: a truncation is 22P03 (or the conversion's own 0A000), a flip any
        # documented outcome.
        rng = random.Random(99)
        for name in FIXTURE_NAMES:
            data = (FIXTURES / name).read_bytes()
            for fmt in ("jpeg", "png", "webp", "avif"):
                for n in sorted(set(range(0, len(data) - 2, max(1, len(data) // 12)))):
                    self.assert_clean(data[:n], {"22P03", "0A000"}, label=f"{name}[:{n}] as {fmt}", fmt=fmt)
                for _ in range(8):
                    flipped = bytearray(data)
                    flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
                    self.assert_clean(bytes(flipped), may_succeed=True, label=f"{name} flipped, as {fmt}", fmt=fmt)

    def test_bit_flips(self):
        rng = random.Random(1234)
        outcomes = {}
        for name in FIXTURE_NAMES:
            data = bytearray((FIXTURES / name).read_bytes())
            for _ in range(40):
                flipped = bytearray(data)
                for _ in range(rng.randint(1, 4)):
                    i = rng.randrange(len(flipped))
                    flipped[i] ^= 1 << rng.randrange(8)
                state = self.assert_clean(bytes(flipped), may_succeed=True, label=name)
                outcomes[state] = outcomes.get(state, 0) + 1
        self.assertIn("22P03", outcomes)  # corruption is detected, not only survived

    def test_headers_that_lie_about_dimensions(self):
        ihdr = lambda w, h: chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
        idat = chunk(b"IDAT", zlib.compress(b"\0" * 4000))
        sig = b"\x89PNG\r\n\x1a\n"
        self.assertEqual(sqlstate_of(self.conn, sig + ihdr(60000, 60000) + idat + chunk(b"IEND", b"")), "54000")
        self.assertEqual(sqlstate_of(self.conn, sig + ihdr(0, 100) + idat + chunk(b"IEND", b"")), "22P03")
        self.assertEqual(sqlstate_of(self.conn, sig + ihdr(100, 0) + idat + chunk(b"IEND", b"")), "22P03")
        # under the limit but with far too little data: truncated, not a grey image
        self.assertEqual(sqlstate_of(self.conn, sig + ihdr(3000, 3000) + idat + chunk(b"IEND", b"")), "22P03")
        jpeg = bytearray((FIXTURES / "rgb444.jpg").read_bytes())  # no EXIF thumbnail: one SOF
        sof = jpeg.index(b"\xff\xc0")
        big = bytearray(jpeg)
        big[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
        self.assertEqual(sqlstate_of(self.conn, bytes(big)), "54000")
        zero = bytearray(jpeg)
        zero[sof + 7:sof + 9] = b"\0\0"
        self.assertEqual(sqlstate_of(self.conn, bytes(zero)), "22P03")
        larger = bytearray(jpeg)
        larger[sof + 5:sof + 9] = struct.pack(">HH", 4000, 4000)  # lies: the data is for 67x45
        self.assertEqual(sqlstate_of(self.conn, bytes(larger)), "22P03")

    def test_malformed_chunks(self):
        base = (FIXTURES / "rgb8.png").read_bytes()
        head, rest = base[:33], base[33:]
        for kind in (b"tEXt", b"iCCP", b"zTXt", b"sPLT", b"PLTE", b"tRNS", b"gAMA", b"cHRM", b"pHYs", b"IDAT"):
            for payload in (b"", b"\xff" * 7, b"\0" * 300):
                self.assert_clean(head + chunk(kind, payload) + rest, may_succeed=True, label=kind.decode())
            # a chunk that declares 1 GB in a few bytes
            self.assert_clean(head + struct.pack(">I", 0x3FFFFFFF) + kind + b"xx" + rest, {"22P03"})

    def test_unrecognised_and_random_bytes(self):
        rng = random.Random(99)
        for n in (1, 2, 3, 7, 100, 5000):
            self.assert_clean(bytes(rng.randrange(256) for _ in range(n)), {"22P03", "0A000"})
        for prefix in (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"):
            for n in (0, 10, 1000):
                self.assert_clean(prefix + bytes(rng.randrange(256) for _ in range(n)), {"22P03", "0A000"})

    def test_webp_chunks(self):
        """WebP's RIFF chunks: a truncation at every chunk boundary (and inside each header), every
        chunk's size past the end, a canvas or an image header that declares far more pixels than
        the file holds, and animations: a thousand frames of a 67x45 canvas (every frame's
        pixels count against bytea_blur.max_pixels: 54000 under a limit of 1000000, from the
        container, before any frame is decoded), a frame outside the canvas (22P03)."""
        def chunks(data):
            pos, out = 12, []
            while pos + 8 <= len(data):
                size = struct.unpack("<I", data[pos + 4:pos + 8])[0]
                out.append((pos, data[pos:pos + 4], size))
                pos += 8 + size + (size & 1)
            return out
        for name in ("lossy.webp", "rgba_lossy.webp", "rgba_lossless.webp"):
            data = (FIXTURES / name).read_bytes()
            found = chunks(data)
            self.assertGreaterEqual(len(found), 1, name)
            for pos, kind, size in found:
                for n in (pos, pos + 4, pos + 8, pos + 8 + size // 2):
                    if n < len(data):
                        self.assert_clean(data[:n], {"22P03"}, label=f"{name}[:{n}] in {kind}")
                grown = bytearray(data)
                grown[pos + 4:pos + 8] = struct.pack("<I", 0x7FFFFFF0)
                self.assert_clean(bytes(grown), {"22P03"}, label=f"{name}: {kind} size past the end")
            riff = bytearray(data)
            riff[4:8] = struct.pack("<I", 0x7FFFFFF0)
            self.assert_clean(bytes(riff), {"22P03"}, label=f"{name}: RIFF size past the end")
        # VP8L's header declaring 16384 x 16384 in a file of a few hundred bytes
        vp8l = bytearray((FIXTURES / "lossless.webp").read_bytes())
        at = vp8l.index(b"VP8L") + 8
        self.assertEqual(vp8l[at], 0x2F)
        bits = 16383 | (16383 << 14) | ((vp8l[at + 4] >> 4) << 28)
        vp8l[at + 1:at + 5] = struct.pack("<I", bits)
        self.assertEqual(sqlstate_of(self.conn, bytes(vp8l)), "54000")
        # VP8X's canvas declaring 16777216 x 16777216 around a small image
        still = (FIXTURES / "lossless.webp").read_bytes()
        body = still[12:]
        vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0, 0, 0, 0]) + (0xFFFFFF).to_bytes(3, "little") * 2
        canvas = b"RIFF" + struct.pack("<I", 4 + len(vp8x) + len(body)) + b"WEBP" + vp8x + body
        self.assert_clean(canvas, {"22P03", "54000"}, label="VP8X canvas")
        # animations: a thousand frames; a frame placed outside the canvas
        frame = lambda x, y: (b"ANMF" + struct.pack("<I", 16 + len(body)) + x.to_bytes(3, "little") +
                              y.to_bytes(3, "little") + (66).to_bytes(3, "little") + (44).to_bytes(3, "little") +
                              (100).to_bytes(3, "little") + b"\0" + body)
        anim_head = lambda w, h: (b"VP8X" + struct.pack("<I", 10) + bytes([0x02, 0, 0, 0]) +
                                  (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little") +
                                  b"ANIM" + struct.pack("<I", 6) + b"\0\0\0\0\0\0")
        riff = lambda payload: b"RIFF" + struct.pack("<I", 4 + len(payload)) + b"WEBP" + payload
        thousand = riff(anim_head(67, 45) + frame(0, 0) * 1000)
        with self.conn.cursor() as cur:
            cur.execute("SET bytea_blur.max_pixels = 1000000")
            try:
                self.assertEqual(sqlstate_of(self.conn, thousand), "54000", "1000 frames")
            finally:
                cur.execute("RESET bytea_blur.max_pixels")
        self.assertEqual(sqlstate_of(self.conn, riff(anim_head(67, 45) + frame(5000, 5000))), "22P03",
                         "a frame outside the canvas")

    def test_avif_boxes(self):
        """AVIF's ISO BMFF boxes (ftyp, meta and the boxes inside it, mdat): a truncation at every
        box boundary and inside each header, every box's size past the end, an image spatial
        extent (ispe) that declares far more pixels than the file holds (54000 from the
        container, before the AV1 payload is decoded) or fewer than the AV1 payload has (the
        payload's size is held to bytea_blur.max_pixels by the AV1 decoder)."""
        containers = {b"meta": 4, b"iprp": 0, b"ipco": 0, b"iinf": 6, b"dinf": 0}  # header bytes before children

        def boxes(data, start, end, depth=0):
            pos, out = start, []
            while pos + 8 <= end:
                size, kind = struct.unpack(">I", data[pos:pos + 4])[0], data[pos + 4:pos + 8]
                if size < 8 or pos + size > end:
                    break
                out.append((pos, kind, size))
                if kind in containers and kind != b"iinf":
                    out += boxes(data, pos + 8 + containers[kind], pos + size, depth + 1)
                pos += size
            return out
        for name in ("rgb8_420.avif", "rgba8_422.avif", "gray12.avif"):
            data = (FIXTURES / name).read_bytes()
            found = boxes(data, 0, len(data))
            kinds = {kind for _, kind, _ in found}
            self.assertTrue({b"ftyp", b"meta", b"mdat", b"ispe", b"iloc"} <= kinds, (name, kinds))
            for pos, kind, size in found:
                for n in (pos, pos + 4, pos + 8, pos + size // 2):
                    if 0 < n < len(data):
                        self.assert_clean(data[:n], {"22P03"}, label=f"{name}[:{n}] in {kind}")
                grown = bytearray(data)
                grown[pos:pos + 4] = struct.pack(">I", 0x7FFFFFF0)
                # the last box, mdat, is only read where iloc points: its size may lie
                self.assert_clean(bytes(grown), {"22P03"}, may_succeed=kind == b"mdat",
                                  label=f"{name}: {kind} size past the end")
            ispe = next(pos for pos, kind, _ in found if kind == b"ispe")
            for w, h in ((16000, 16000), (30000, 30000), (65535, 3)):  # over max_pixels, libavif's limits
                huge = bytearray(data)
                huge[ispe + 12:ispe + 20] = struct.pack(">II", w, h)
                self.assertEqual(sqlstate_of(self.conn, bytes(huge)), "54000", f"{name}: ispe {w}x{h}")
            # an ispe smaller than the AV1 payload: libavif shows the declared 40x30 of it; under a
            # limit the declared size passes, the AV1 decoder (given the limit) refuses the payload
            other = bytearray(data)
            other[ispe + 12:ispe + 20] = struct.pack(">II", 40, 30)
            self.assertIsNone(sqlstate_of(self.conn, bytes(other)), f"{name}: ispe 40x30")
            with self.conn.cursor() as cur:
                cur.execute("SET bytea_blur.max_pixels = 1200")
                try:
                    self.assert_clean(bytes(other), {"22P03", "54000"}, label=f"{name}: a 67x45 payload in 40x30")
                finally:
                    cur.execute("RESET bytea_blur.max_pixels")

    @unittest.skipUnless((CORPUS / "png" / "testpngs" / "crashers").is_dir(), "no conformance corpus")
    def test_libpng_crashers(self):
        for path in sorted((CORPUS / "png" / "testpngs" / "crashers").glob("*.png")):
            self.assert_clean(path.read_bytes(), may_succeed=True, label=path.name)


if __name__ == "__main__":
    unittest.main()
