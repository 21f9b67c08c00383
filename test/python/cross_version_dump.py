"""Moving to a new PostgreSQL major version: a database dumped from the old server and restored
on the new one with the new version's pg_restore keeps every stored image, and the applyblur
view gives the very same bytes there.

The dump is taken with the old server's own pg_dump. PostgreSQL's documentation prefers the
newer pg_dump, but Debian 12's PostgreSQL 15.20 keeps an internal column option (pg_attver) on
every table column that only its own pg_dump leaves out: PostgreSQL 18's pg_dump copies it into
the dump and PostgreSQL 18 then refuses the CREATE TABLE ('unrecognized parameter
"pg_attver"'). The README says so.

Needs two clusters, so test/run-tests runs it apart from the suites, after the per-version
runs: the old one through PGHOST/PGPORT with its programs in BB_OLD_BINDIR, the new one through
BB_NEW_PGHOST/BB_NEW_PGPORT with its programs in BB_NEW_BINDIR.
"""
import os
import subprocess
import tempfile
import unittest
import uuid

import psycopg2

from bbtest import FIXTURES, extension_last

NEW = {"host": os.environ.get("BB_NEW_PGHOST"), "port": os.environ.get("BB_NEW_PGPORT")}
NEW_BINDIR = os.environ.get("BB_NEW_BINDIR", "")
OLD_BINDIR = os.environ.get("BB_OLD_BINDIR", "")


def connect(dbname, **server):
    conn = psycopg2.connect(dbname=dbname, **{k: v for k, v in server.items() if v})
    conn.autocommit = True
    return conn


def new_tool(name, *args, **kwargs):
    env = dict(os.environ, PGHOST=NEW["host"], PGPORT=NEW["port"])
    return subprocess.run([os.path.join(NEW_BINDIR, name), *args], env=env, capture_output=True, text=True,
                          **kwargs)


@unittest.skipUnless(NEW["host"] and NEW["port"] and NEW_BINDIR and OLD_BINDIR, "needs an old and a new cluster (test/run-tests)")
class DumpOnOldRestoreOnNew(unittest.TestCase):
    def setUp(self):
        self.db = "bb_major_" + uuid.uuid4().hex[:8]
        for server in ({}, NEW):
            conn = connect("postgres", **server)
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE {self.db}")
            conn.close()

    def tearDown(self):
        for server in ({}, NEW):
            conn = connect("postgres", **server)
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {self.db}")
            conn.close()

    def state(self, **server):
        """The stored images, their blurred copies through the view, and the server's version."""
        conn = connect(self.db, **server)
        with conn.cursor() as cur:
            cur.execute("SELECT id, image, md5(image_data) FROM image_process_imagefile ORDER BY id")
            rows = cur.fetchall()
            cur.execute("SELECT img_id, md5(img_binary), img_content_type FROM applyblur ORDER BY img_id")
            blurred = cur.fetchall()
            cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'bytea_blur'")
            extversion = cur.fetchone()[0]
            cur.execute("SHOW server_version_num")
            version = int(cur.fetchone()[0]) // 10000
        conn.close()
        return rows, blurred, extversion, version

    def store(self, names, django_table_first):
        conn = connect(self.db)
        with conn.cursor() as cur:
            if django_table_first:  # the table as Django's migrations make it, then adopted
                cur.execute("CREATE TABLE image_process_imagefile (id serial NOT NULL PRIMARY KEY,"
                            " image varchar(100) NOT NULL, image_data bytea NULL)")
            else:
                cur.execute("CREATE EXTENSION bytea_blur")
            for name in names:
                cur.execute("INSERT INTO image_process_imagefile (image, image_data) VALUES (%s, %s)",
                            (name, psycopg2.Binary((FIXTURES / name).read_bytes())))
            if django_table_first:
                cur.execute("CREATE EXTENSION bytea_blur")
        conn.close()

    def move(self, adopted_table):
        with tempfile.TemporaryDirectory() as tmp:
            dump = os.path.join(tmp, "images.dump")
            # the old server's own pg_dump (see above)
            out = subprocess.run([os.path.join(OLD_BINDIR, "pg_dump"), "-Fc", "-f", dump, self.db],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            args = ["--exit-on-error", "-d", self.db]
            if adopted_table:  # the README's order: the extension last
                toc = new_tool("pg_restore", "-l", dump, check=True).stdout.splitlines()
                listing = os.path.join(tmp, "restore.list")
                with open(listing, "w") as f:
                    f.write("\n".join(extension_last(toc)) + "\n")
                args = ["-L", listing] + args
            out = new_tool("pg_restore", *args, dump)
            self.assertEqual(out.returncode, 0, out.stderr)

    def test_extension_made_table_moves_to_the_new_version(self):
        self.store(["rgb420.jpg", "rgba8.png", "gray16.png", "cmyk.jpg"], django_table_first=False)
        before = self.state()
        self.move(adopted_table=False)
        after = self.state(**NEW)
        self.assertLess(before[3], after[3], "the second cluster must be the newer version")
        self.assertEqual(after[:3], before[:3])
        self.assertEqual(len(after[1]), 4)

    def test_django_made_table_moves_to_the_new_version(self):
        self.store(["gray.jpg", "palette_trns.png"], django_table_first=True)
        before = self.state()
        self.move(adopted_table=True)
        after = self.state(**NEW)
        self.assertEqual(after[:3], before[:3])
        conn = connect(self.db, **NEW)
        with conn.cursor() as cur:  # still Django's table, adopted again: not an extension member
            cur.execute("SELECT count(*) FROM pg_depend WHERE objid = 'image_process_imagefile'::regclass"
                        " AND deptype = 'e'")
            self.assertEqual(cur.fetchone()[0], 0)
        conn.close()


if __name__ == "__main__":
    unittest.main()
