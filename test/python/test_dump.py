"""pg_dump and pg_restore keep every image: the extension registers the table it creates (and
its sequence) with pg_extension_config_dump."""
import os
import subprocess
import tempfile
import unittest
import uuid

import psycopg2

from bbtest import FIXTURES, connect, extension_last


def run(*args):
    subprocess.run(args, check=True, capture_output=True, text=True)


class DumpRestore(unittest.TestCase):
    def setUp(self):
        self.admin = connect("postgres")
        self.src = "bb_dump_src_" + uuid.uuid4().hex[:8]
        self.dst = "bb_dump_dst_" + uuid.uuid4().hex[:8]
        with self.admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {self.src}")
            cur.execute(f"CREATE DATABASE {self.dst}")

    def tearDown(self):
        with self.admin.cursor() as cur:
            for db in (self.src, self.dst):
                cur.execute(f"DROP DATABASE IF EXISTS {db}")
        self.admin.close()

    def images(self, db):
        conn = connect(db)
        with conn.cursor() as cur:
            cur.execute("SELECT id, image, md5(image_data) FROM image_process_imagefile ORDER BY id")
            rows = cur.fetchall()
            cur.execute("SELECT img_id, (bytea_image_info(img_binary)).format FROM applyblur ORDER BY img_id")
            blurred = cur.fetchall()
        conn.close()
        return rows, blurred

    def test_extension_created_table_survives_dump_and_restore(self):
        conn = connect(self.src)
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION bytea_blur")
            for name in ("rgb420.jpg", "rgba8.png", "gray16.png"):
                cur.execute("INSERT INTO image_process_imagefile (image, image_data) VALUES (%s, %s)",
                            (name, psycopg2.Binary((FIXTURES / name).read_bytes())))
            cur.execute("DELETE FROM image_process_imagefile WHERE image = 'rgba8.png'")
        conn.close()
        before = self.images(self.src)
        with tempfile.TemporaryDirectory() as tmp:
            dump = os.path.join(tmp, "images.dump")
            run("pg_dump", "-Fc", "-f", dump, self.src)
            run("pg_restore", "--exit-on-error", "-d", self.dst, dump)
        self.assertEqual(self.images(self.dst), before)
        self.assertEqual(len(before[0]), 2)
        conn = connect(self.dst)
        with conn.cursor() as cur:
            # the sequence was restored too: new rows do not collide with restored ones
            cur.execute("INSERT INTO image_process_imagefile (image) VALUES ('new') RETURNING id")
            self.assertEqual(cur.fetchone()[0], 4)
            cur.execute("SELECT count(*) FROM pg_depend WHERE objid = 'image_process_imagefile'::regclass"
                        " AND deptype = 'e'")
            self.assertEqual(cur.fetchone()[0], 1)
        conn.close()

    def test_plain_sql_dump_restores_with_psql(self):
        conn = connect(self.src)
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION bytea_blur")
            cur.execute("INSERT INTO image_process_imagefile (image, image_data) VALUES (%s, %s)",
                        ("pixel.png", psycopg2.Binary((FIXTURES / "pixel.png").read_bytes())))
        conn.close()
        with tempfile.TemporaryDirectory() as tmp:
            dump = os.path.join(tmp, "images.sql")
            run("pg_dump", "-f", dump, self.src)
            run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dst, "-f", dump)
        self.assertEqual(self.images(self.dst), self.images(self.src))

    def adopted_source(self):
        """A database where Django made the table before CREATE EXTENSION adopted it."""
        conn = connect(self.src)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE image_process_imagefile (id serial NOT NULL PRIMARY KEY,"
                        " image varchar(100) NOT NULL, image_data bytea NULL)")
            for name in ("gray.jpg", "palette_trns.png"):
                cur.execute("INSERT INTO image_process_imagefile (image, image_data) VALUES (%s, %s)",
                            (name, psycopg2.Binary((FIXTURES / name).read_bytes())))
            cur.execute("CREATE EXTENSION bytea_blur")
        conn.close()

    def test_adopted_table_restores_cleanly_with_the_extension_last(self):
        # The README's procedure: restore the table first, then the extension adopts it again.
        self.adopted_source()
        with tempfile.TemporaryDirectory() as tmp:
            dump = os.path.join(tmp, "images.dump")
            run("pg_dump", "-Fc", "-f", dump, self.src)
            toc = subprocess.run(["pg_restore", "-l", dump], check=True, capture_output=True, text=True).stdout
            listing = os.path.join(tmp, "restore.list")
            with open(listing, "w") as f:
                f.write("\n".join(extension_last(toc.splitlines())) + "\n")
            run("pg_restore", "--exit-on-error", "-L", listing, "-d", self.dst, dump)
        self.assertEqual(self.images(self.dst), self.images(self.src))
        conn = connect(self.dst)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_depend WHERE objid = 'image_process_imagefile'::regclass"
                        " AND deptype = 'e'")
            self.assertEqual(cur.fetchone()[0], 0, "the restored table must stay adopted, not a member")
        conn.close()

    def test_adopted_table_plain_restore_keeps_every_image(self):
        # Restored in pg_dump's order, the extension recreates the table before the dump's own
        # CREATE TABLE runs: pg_restore reports those objects as existing, and loads every row.
        self.adopted_source()
        with tempfile.TemporaryDirectory() as tmp:
            dump = os.path.join(tmp, "images.dump")
            run("pg_dump", "-Fc", "-f", dump, self.src)
            result = subprocess.run(["pg_restore", "-d", self.dst, dump], capture_output=True, text=True)
        self.assertIn("already exists", result.stderr)
        self.assertEqual(self.images(self.dst), self.images(self.src))


if __name__ == "__main__":
    unittest.main()
