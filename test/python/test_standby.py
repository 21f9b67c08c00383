"""Read replicas: a hot standby made with pg_basebackup -R from a cluster that holds images and
the extension serves applyblur and bytea_image_info in read-only transactions, with the same
bytes as the primary (rows written after the base backup included), the same SQLSTATEs for bad
input, and statement_timeout stopping a long blur."""
import os
import subprocess
import time
import unittest
import uuid

import numpy as np
import psycopg2

from bbtest import FIXTURES, ROOT, check_statement_timeout, encode, photo, png_header_only

NAMES_BEFORE = ["rgb420.jpg", "rgba16.png", "cmyk.jpg", "palette_trns.png"]
NAMES_AFTER = ["rgb444.jpg", "gray16.png", "interlaced.png", "progressive.jpg"]
# bad input stored in the table, and what each must raise (the same on both servers)
BAD = {
    "truncated.jpg": ((FIXTURES / "rgb420.jpg").read_bytes()[:300], "22P03"),
    "notes.txt": (b"these are not the pixels you are looking for", "22P03"),
    "twelve_bit.jpg": (bytes.fromhex("ffd8ffc1000b0c0010001001011100ffd9"), "0A000"),
    "bomb.png": (png_header_only(60000, 60000), "54000"),
}


def pgcluster(script):
    """Runs a function of test/lib/pgcluster.sh against the cluster of this run."""
    return subprocess.run(["bash", "-c", f"source {ROOT}/test/lib/pgcluster.sh; {script}"],
                          capture_output=True, text=True, check=True).stdout.split()


def connect(dbname, **server):
    conn = psycopg2.connect(dbname=dbname, **server)
    conn.autocommit = True
    return conn


def sqlstate(conn, query, args=()):
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            cur.fetchall()
        return None
    except psycopg2.Error as e:
        return e.pgcode


@unittest.skipUnless(os.environ.get("PG_CLUSTER_DIR"), "needs the throwaway cluster of test/run-tests")
class HotStandby(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = "bb_standby_" + uuid.uuid4().hex[:8]
        admin = connect("postgres")
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {cls.db}")
        admin.close()
        cls.primary = connect(cls.db)
        with cls.primary.cursor() as cur:
            cur.execute("CREATE EXTENSION bytea_blur")
            cls.insert(cur, NAMES_BEFORE)
            for name, (data, _) in BAD.items():
                cur.execute("INSERT INTO image_process_imagefile (image, image_data) VALUES (%s, %s)",
                            (name, psycopg2.Binary(data)))
            # a 48-megapixel photo for the timeout
            big = np.tile(photo(1000, 750, seed=21), (8, 8, 1))
            cur.execute("CREATE TABLE big_image AS SELECT %s::bytea AS data",
                        (psycopg2.Binary(encode(big, "JPEG", quality=85)),))
        cls.standby_dir, port = pgcluster("pg_standby_start")
        cls.standby_server = {"host": cls.standby_dir, "port": port}
        # rows written after the base backup reach the standby by streaming replication
        with cls.primary.cursor() as cur:
            cls.insert(cur, NAMES_AFTER)
        cls.wait_for_replay()
        cls.standby = connect(cls.db, **cls.standby_server)

    @classmethod
    def tearDownClass(cls):
        cls.standby.close()
        pgcluster(f"pg_standby_stop {cls.standby_dir}")
        cls.primary.close()
        admin = connect("postgres")
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE {cls.db}")
        admin.close()

    @staticmethod
    def insert(cur, names):
        for name in names:
            cur.execute("INSERT INTO image_process_imagefile (image, image_data) VALUES (%s, %s)",
                        (name, psycopg2.Binary((FIXTURES / name).read_bytes())))

    @classmethod
    def wait_for_replay(cls):
        with cls.primary.cursor() as cur:
            cur.execute("SELECT pg_current_wal_lsn()")
            target = cur.fetchone()[0]
        standby = connect("postgres", **cls.standby_server)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with standby.cursor() as cur:
                    cur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))
                    if cur.fetchone()[0]:
                        return
                time.sleep(0.05)
            raise AssertionError("the standby did not replay the primary's WAL within 60 s")
        finally:
            standby.close()

    def read_only(self, conn, query):
        """Runs query in a READ ONLY transaction and returns its rows."""
        conn.autocommit = False
        try:
            with conn.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                cur.execute(query)
                rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cur.fetchall()]
            conn.rollback()
            return rows
        finally:
            conn.autocommit = True

    def test_standby_is_in_recovery(self):
        with self.standby.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            self.assertTrue(cur.fetchone()[0])
            self.assertEqual(sqlstate(self.standby, "INSERT INTO image_process_imagefile (image) VALUES ('x')"),
                             "25006")  # read_only_sql_transaction

    def test_view_gives_the_same_bytes_as_the_primary(self):
        good = "SELECT img_id, img_binary, img_content_type FROM applyblur" \
               " WHERE img_id IN (SELECT id FROM image_process_imagefile WHERE image NOT IN %s) ORDER BY img_id"
        query = good % ("(" + ", ".join(f"'{n}'" for n in BAD) + ")")
        on_primary = self.read_only(self.primary, query)
        on_standby = self.read_only(self.standby, query)
        self.assertEqual(len(on_standby), len(NAMES_BEFORE) + len(NAMES_AFTER))
        self.assertEqual(on_standby, on_primary)

    def test_image_info_and_function_give_the_same_results(self):
        query = ("SELECT id, (bytea_image_info(image_data)).*, md5(bytea_blur(image_data, 2.5, 90))"
                 " FROM image_process_imagefile WHERE image IN ('rgb420.jpg', 'gray16.png', 'interlaced.png')"
                 " ORDER BY id")
        on_standby = self.read_only(self.standby, query)
        self.assertEqual(len(on_standby), 3)
        self.assertEqual(on_standby, self.read_only(self.primary, query))

    def test_bad_input_gives_the_same_sqlstates(self):
        for name, (data, expected) in BAD.items():
            query = "SELECT img_binary FROM applyblur WHERE img_id = (SELECT id FROM image_process_imagefile" \
                    " WHERE image = %s)"
            self.assertEqual(sqlstate(self.primary, query, (name,)), expected, name)
            self.assertEqual(sqlstate(self.standby, query, (name,)), expected, name)
        for args, expected in [((b"\xff\xd8\xff", 5.0), "22P03"), ((b"GIF89a", 5.0), "0A000"),
                               ((FIXTURES.joinpath("pixel.png").read_bytes(), -1.0), "22023")]:
            query = "SELECT bytea_blur(%s, %s)"
            params = (psycopg2.Binary(args[0]), args[1])
            self.assertEqual(sqlstate(self.standby, query, params), expected)
            self.assertEqual(sqlstate(self.primary, query, params), expected)
        with self.standby.cursor() as cur:  # the session is still usable
            cur.execute("SELECT 1")
            self.assertEqual(cur.fetchone()[0], 1)

    def test_statement_timeout_stops_a_long_blur(self):
        check_statement_timeout(
            self, self.standby, "SELECT length(bytea_blur(data, 1)) FROM big_image, generate_series(1, 10)",
            "standby: ")


if __name__ == "__main__":
    unittest.main()
