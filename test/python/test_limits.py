"""Limits: oversized images are refused from their header in well under a millisecond, an
allocation failure is 53200, and a long blur stops promptly on a timeout or a cancel (57014)."""
import struct
import subprocess
import sys
import threading
import time
import unittest

import numpy as np
import psycopg2

from bbtest import ROOT, check_statement_timeout, connect, encode, photo, png_header_only


def jpeg_header_only(width, height):
    """A JPEG whose frame header (SOF0) declares width x height."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + bytes([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
    return b"\xff\xd8\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"


class HeaderLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = connect()

    def average_refusal_ms(self, data, calls=500):
        with self.conn.cursor() as cur:
            cur.execute("""
                CREATE OR REPLACE FUNCTION pg_temp.refusal_ms(img bytea, n int) RETURNS float8
                LANGUAGE plpgsql AS $$
                DECLARE t0 timestamptz := clock_timestamp();
                BEGIN
                    FOR i IN 1..n LOOP
                        BEGIN
                            PERFORM bytea_blur(img);
                            RAISE 'not refused';
                        EXCEPTION WHEN program_limit_exceeded THEN NULL;
                        END;
                    END LOOP;
                    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000 / n;
                END $$""")
            cur.execute("SELECT pg_temp.refusal_ms(%s, %s)", (psycopg2.Binary(data), calls))
            return cur.fetchone()[0]

    def test_png_bomb_refused_from_header_fast(self):
        bomb = png_header_only(60000, 60000)
        self.assertLess(len(bomb), 4096)
        ms = self.average_refusal_ms(bomb)
        print(f"\n    60000x60000 PNG refused in {ms * 1000:.0f} us per call", file=sys.stderr)
        self.assertLess(ms, 0.5, f"{ms:.3f} ms per refusal (including a subtransaction)")

    def test_jpeg_bomb_refused_from_header_fast(self):
        ms = self.average_refusal_ms(jpeg_header_only(65000, 65000))
        print(f"\n    65000x65000 JPEG refused in {ms * 1000:.0f} us per call", file=sys.stderr)
        self.assertLess(ms, 0.5, f"{ms:.3f} ms per refusal (including a subtransaction)")


class OutOfMemory(unittest.TestCase):
    """A cluster whose address space is capped (ulimit -v): an image that fits under the pixel
    limit but not in memory is 53200, and the server lives on."""

    def test_allocation_failure_is_53200(self):
        script = f"""
            ulimit -v 3000000
            source {ROOT}/test/lib/pgcluster.sh
            pg_cluster_start >/dev/null && echo "$PGHOST $PGPORT $PG_CLUSTER_DIR"
        """
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.split()
        host, port, cluster_dir = out
        try:
            conn = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CREATE EXTENSION bytea_blur")
                cur.execute("SET bytea_blur.max_pixels = 2147483647")
                with self.assertRaises(psycopg2.Error) as ctx:
                    cur.execute("SELECT bytea_blur(%s)", (psycopg2.Binary(png_header_only(30000, 30000)),))
                self.assertEqual(ctx.exception.pgcode, "53200", ctx.exception.pgerror)
                cur.execute("SELECT 1")
                self.assertEqual(cur.fetchone()[0], 1)
            conn.close()
        finally:
            subprocess.run(["bash", "-c", f"source {ROOT}/test/lib/pgcluster.sh; PG_CLUSTER_DIR={cluster_dir};"
                            " pg_cluster_stop"], check=False)


def cancel_after(conn, worker, table, sigma, delay, repeat=1, args=""):
    """Runs bytea_blur(table's image, sigma[, args]) repeat times in one statement on worker and
    cancels it from conn after delay seconds. Returns the outcome ('finished', a SQLSTATE, or the
    name of a connection error) and the milliseconds from the cancel to the end of the statement."""
    pid = worker.get_backend_pid()
    result = {}

    def blur():
        try:
            with worker.cursor() as cur:
                cur.execute(f"SELECT length(bytea_blur(data, %s{args})) FROM {table}, generate_series(1, %s)",
                            (sigma, repeat))
            result["state"] = "finished"
        except psycopg2.Error as e:
            result["state"] = e.pgcode or type(e).__name__
        result["end"] = time.monotonic()

    thread = threading.Thread(target=blur)
    thread.start()
    time.sleep(delay)
    cancelled_at = time.monotonic()
    with conn.cursor() as cur:
        cur.execute("SELECT pg_cancel_backend(%s)", (pid,))
    thread.join(30)
    return result.get("state"), (result.get("end", cancelled_at) - cancelled_at) * 1000


def create_big_jpeg_table(conn, table, seed, **jpeg_options):
    """A table of one 48-megapixel (8000 x 6000) photo-like JPEG."""
    big = np.tile(photo(1000, 750, seed=seed), (8, 8, 1))
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} AS SELECT %s::bytea AS data",
                    (psycopg2.Binary(encode(big, "JPEG", **jpeg_options)),))


class Cancellation(unittest.TestCase):
    """A blur of a 48-megapixel photo stops within 300 ms of a timeout or a cancel."""

    @classmethod
    def setUpClass(cls):
        cls.conn = connect()
        create_big_jpeg_table(cls.conn, "big_image", 21, quality=85)

    @classmethod
    def tearDownClass(cls):
        with cls.conn.cursor() as cur:
            cur.execute("DROP TABLE big_image")
        cls.conn.close()

    def test_statement_timeout(self):
        # sigma 1 keeps the planes at full size; ten blurs, so that the statement surely outlasts
        # the timeout however fast the machine (one took under 150 ms on two threads)
        check_statement_timeout(
            self, self.conn, "SELECT length(bytea_blur(data, 1)) FROM big_image, generate_series(1, 10)", "")
        with self.conn.cursor() as cur:
            cur.execute("SELECT 1")
            self.assertEqual(cur.fetchone()[0], 1)

    def test_pg_cancel_backend(self):
        worker = connect()
        # sigma 1 keeps every plane at full size; ten blurs in one statement, so that the cancel
        # surely lands in the middle of one however fast the machine
        state, ms = cancel_after(self.conn, worker, "big_image", 1, 0.3, repeat=10)
        self.assertEqual(state, "57014")
        print(f"\n    pg_cancel_backend: error {ms:.0f} ms after the cancel", file=sys.stderr)
        self.assertLess(ms, 300)
        with worker.cursor() as cur:
            cur.execute("SELECT 1")
            self.assertEqual(cur.fetchone()[0], 1)
        worker.close()

    def test_cancel_at_many_points(self):
        # Cancels land in the decoder, the blur, the resampling and the encoder in turn; each
        # must end in 57014 or a finished blur, and no backend may die. (An encoder buffer freed
        # twice after a cancel was found this way.)
        outcomes = set()
        for delay in [0.03 * i for i in range(1, 21)]:
            worker = connect()
            state, _ = cancel_after(self.conn, worker, "big_image", 30, delay)
            self.assertIn(state, {"57014", "finished"}, f"cancel after {delay:.2f} s")
            outcomes.add(state)
            worker.close()
        self.assertIn("57014", outcomes)


class ProgressiveCancellation(unittest.TestCase):
    """A progressive 48-megapixel JPEG at sigma 5: its scans are read by two decoders on two
    threads (bytea_blur.threads, default 2). Cancels that land while the second thread decodes,
    while the first waits for it, and in the output pass each end the statement within 300 ms
    with 57014 (or the blur finishes), and the backend lives on; at one thread the same."""

    @classmethod
    def setUpClass(cls):
        cls.conn = connect()
        create_big_jpeg_table(cls.conn, "big_progressive", 22, quality=90, progressive=True)
        with cls.conn.cursor() as cur:
            start = time.monotonic()
            cur.execute("SELECT length(bytea_blur(data)) FROM big_progressive")
            cls.blur_seconds = time.monotonic() - start

    @classmethod
    def tearDownClass(cls):
        with cls.conn.cursor() as cur:
            cur.execute("DROP TABLE big_progressive")
        cls.conn.close()

    def cancels(self, threads):
        outcomes = set()
        for i in range(1, 13):
            delay = self.blur_seconds * i / 12
            worker = connect()
            with worker.cursor() as cur:
                cur.execute("SET bytea_blur.threads = %s", (threads,))
            state, ms = cancel_after(self.conn, worker, "big_progressive", 5, delay)
            self.assertIn(state, {"57014", "finished"}, f"cancel after {delay:.3f} s")
            if state == "57014":
                self.assertLess(ms, 300, f"cancel after {delay:.3f} s")
            outcomes.add(state)
            with worker.cursor() as cur:
                cur.execute("SELECT 1")
                self.assertEqual(cur.fetchone()[0], 1)
            worker.close()
        self.assertIn("57014", outcomes)

    def test_cancels_on_two_threads(self):
        self.cancels(2)

    def test_cancels_on_one_thread(self):
        self.cancels(1)

    def test_statement_timeout(self):
        check_statement_timeout(
            self, self.conn, "SELECT length(bytea_blur(data, 1)) FROM big_progressive, generate_series(1, 5)",
            "progressive JPEG on two threads: ")


class AvifCancellation(unittest.TestCase):
    """A 4-megapixel photo written as AVIF (sigma 0) spends most of its time in libavif's AV1 encoder, which
    has no hook for a cancel: it runs on a worker thread while the backend polls, so a cancel or a
    timeout that lands inside it ends the statement within 100 ms, and the next AVIF blur runs
    (after the encoder left running has finished)."""

    @classmethod
    def setUpClass(cls):
        cls.conn = connect()
        with cls.conn.cursor() as cur:
            cur.execute("CREATE TABLE big_for_avif AS SELECT %s::bytea AS data",
                        (psycopg2.Binary(encode(photo(2400, 1600, seed=23), "JPEG", quality=95)),))
            start = time.monotonic()
            cur.execute("SELECT length(bytea_blur(data, 0, 90, 'avif')) FROM big_for_avif")
            cls.blur_seconds = time.monotonic() - start

    @classmethod
    def tearDownClass(cls):
        with cls.conn.cursor() as cur:
            cur.execute("DROP TABLE big_for_avif")
        cls.conn.close()

    def test_statement_timeout_inside_the_encoder(self):
        self.assertGreater(self.blur_seconds, 0.3, "too fast to time out inside the encoder")
        check_statement_timeout(
            self, self.conn, "SELECT length(bytea_blur(data, 0, 90, 'avif')) FROM big_for_avif",
            f"AVIF encode of {self.blur_seconds * 1000:.0f} ms: ", timeout_ms=200, late_ms=100)
        with self.conn.cursor() as cur:
            cur.execute("SELECT (bytea_image_info(bytea_blur(data, 0, 90, 'avif'))).format FROM big_for_avif")
            self.assertEqual(cur.fetchone()[0], "avif")

    def test_cancels(self):
        worst = 0
        for i in range(1, 6):
            worker = connect()
            delay = self.blur_seconds * i / 6
            state, ms = cancel_after(self.conn, worker, "big_for_avif", 0, delay, args=", 90, 'avif'")
            self.assertIn(state, {"57014", "finished"}, f"cancel after {delay:.3f} s")
            if state == "57014":
                worst = max(worst, ms)
            with worker.cursor() as cur:
                cur.execute("SELECT 1")
                self.assertEqual(cur.fetchone()[0], 1)
            worker.close()
        print(f"\n    pg_cancel_backend during an AVIF blur: error at most {worst:.0f} ms after the cancel",
              file=sys.stderr)
        self.assertLess(worst, 100)


if __name__ == "__main__":
    unittest.main()
