"""bytea_blur on a Citus cluster: a coordinator and two workers on this machine (test/citus/run
starts them), the image table distributed by id.

- CREATE EXTENSION on the coordinator reaches the workers; a worker added later gets it, and
  after a rebalance every image still reads through the view.
- A read by primary key is routed to the one worker that holds the row and the blur runs there;
  a scan runs on both workers; every result is byte-identical to a single node's.
- The table the extension makes itself can be distributed too (version 1.2 never makes it an
  extension member under Citus, so Citus treats it like Django's).
- A bad image on a worker reaches the client with its own SQLSTATE and message; the session
  stays usable; statement_timeout and pg_cancel_backend on the coordinator stop a blur running
  on a worker promptly, and the worker is idle again at once.

Environment (from test/citus/run): BB_CITUS_COORDINATOR and BB_CITUS_WORKERS (ports on
127.0.0.1, superuser postgres).
"""
import os
import re
import subprocess
import sys
import threading
import time
import unittest
import uuid
from pathlib import Path

import numpy as np
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from bbtest import FIXTURES, ROOT, encode, photo, png_header_only  # noqa: E402

HOST = "127.0.0.1"
COORDINATOR = os.environ.get("BB_CITUS_COORDINATOR")
WORKERS = os.environ.get("BB_CITUS_WORKERS", "").split()
# the version CREATE EXTENSION installs
VERSION = re.search(r"default_version = '([^']+)'", (ROOT / "bytea_blur.control").read_text()).group(1)
GOOD = ["rgb420.jpg", "rgb422.jpg", "rgb444.jpg", "progressive.jpg", "cmyk.jpg", "gray.jpg", "rgba8.png",
        "rgb16.png", "gray16.png", "palette_trns.png", "interlaced.png", "graya8.png"]
BAD = {  # name: (bytes, SQLSTATE)
    "truncated.jpg": ((FIXTURES / "rgb420.jpg").read_bytes()[:300], "22P03"),
    "bomb.png": (png_header_only(60000, 60000), "54000"),
    "anim.gif": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00", "0A000"),
}


def connect(port, dbname="postgres"):
    conn = psycopg2.connect(host=HOST, port=port, user="postgres", dbname=dbname)
    conn.autocommit = True
    return conn


def query(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else None


def error_of(conn, sql, args=None):
    """(SQLSTATE, message) of the error sql raises, or None."""
    try:
        query(conn, sql, args)
        return None
    except psycopg2.Error as e:
        return e.pgcode, e.diag.message_primary


def make_citus_db(name, worker_ports):
    """A database with citus on the coordinator and on each worker, the workers added."""
    for port in [COORDINATOR] + worker_ports:
        conn = connect(port)
        query(conn, f"CREATE DATABASE {name}")
        conn.close()
        conn = connect(port, name)
        query(conn, "CREATE EXTENSION citus")
        conn.close()
    conn = connect(COORDINATOR, name)
    query(conn, "SELECT citus_set_coordinator_host(%s, %s)", (HOST, int(COORDINATOR)))
    for port in worker_ports:
        query(conn, "SELECT citus_add_node(%s, %s)", (HOST, int(port)))
    return conn


def drop_citus_db(name, worker_ports):
    for port in [COORDINATOR] + worker_ports:
        conn = connect(port)
        query(conn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()


def insert(conn, name, data):
    return query(conn, "INSERT INTO image_process_imagefile (image, image_data) VALUES (%s, %s) RETURNING id",
                 (name, psycopg2.Binary(data)))[0][0]


def explain(conn, sql, args=None):
    query(conn, "SET citus.explain_all_tasks = on")
    return "\n".join(row[0] for row in query(conn, "EXPLAIN (VERBOSE, COSTS OFF) " + sql, args))


def task_nodes(plan):
    return [int(port) for port in re.findall(r"Node: host=\S+ port=(\d+)", plan)]


@unittest.skipUnless(COORDINATOR and len(WORKERS) >= 2, "needs the Citus cluster of test/citus/run")
class DistributedDjangoTable(unittest.TestCase):
    """The table as Django makes it, bytea_blur created on the coordinator, then distributed."""

    @classmethod
    def setUpClass(cls):
        cls.db = "bb_citus_" + uuid.uuid4().hex[:8]
        cls.conn = make_citus_db(cls.db, WORKERS)
        query(cls.conn, "CREATE TABLE image_process_imagefile (id serial NOT NULL PRIMARY KEY,"
                        " image varchar(100) NOT NULL, image_data bytea NULL)")
        query(cls.conn, "CREATE EXTENSION bytea_blur")
        query(cls.conn, "SELECT create_distributed_table('image_process_imagefile', 'id')")
        cls.ids = {name: insert(cls.conn, name, (FIXTURES / name).read_bytes()) for name in GOOD}
        cls.bad = {name: insert(cls.conn, name, data) for name, (data, _) in BAD.items()}
        big = np.tile(photo(1000, 750, seed=21), (8, 8, 1))  # 48 megapixels
        cls.big = insert(cls.conn, "big.jpg", encode(big, "JPEG", quality=85))

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        drop_citus_db(cls.db, WORKERS)

    def placement_port(self, img_id):
        return query(self.conn, "SELECT nodeport FROM citus_shards WHERE shardid ="
                                " get_shard_id_for_distribution_column('image_process_imagefile', %s)", (img_id,))[0][0]

    def test_create_extension_reached_the_workers(self):
        rows = query(self.conn, "SELECT nodeport, result FROM run_command_on_workers("
                                "$$SELECT extversion FROM pg_extension WHERE extname = 'bytea_blur'$$) ORDER BY 1")
        self.assertEqual(sorted(str(r[0]) for r in rows), sorted(WORKERS))
        self.assertEqual({r[1] for r in rows}, {VERSION})
        # Django's table stays Django's: adopted on the coordinator, a member nowhere
        self.assertEqual(query(self.conn, "SELECT count(*) FROM pg_depend WHERE objid ="
                                          " 'image_process_imagefile'::regclass AND deptype = 'e'")[0][0], 0)

    def test_read_by_primary_key_is_routed_and_blurred_on_its_worker(self):
        for name in ("rgb420.jpg", "rgba8.png", "gray16.png"):
            img_id = self.ids[name]
            plan = explain(self.conn, "SELECT img_binary FROM applyblur WHERE img_id = %s", (img_id,))
            self.assertIn("Task Count: 1", plan)
            self.assertEqual(task_nodes(plan), [self.placement_port(img_id)])
            worker_output = [line for line in plan.splitlines() if "Output: bytea_blur(" in line]
            self.assertEqual(len(worker_output), 1, plan)  # computed in the worker's scan

    def test_scan_runs_on_both_workers(self):
        plan = explain(self.conn, "SELECT img_id, img_binary FROM applyblur")
        shards = query(self.conn, "SELECT count(*) FROM citus_shards WHERE table_name = 'image_process_imagefile'::regclass")[0][0]
        self.assertIn(f"Task Count: {shards}", plan)
        self.assertEqual(set(task_nodes(plan)), {int(p) for p in WORKERS})

    def test_every_result_is_byte_identical_to_a_single_node(self):
        rows = query(self.conn, "SELECT img_id, img_binary, img_content_type FROM applyblur"
                                " WHERE img_id = ANY(%s) ORDER BY img_id", (list(self.ids.values()),))
        self.assertEqual(len(rows), len(GOOD))
        by_id = {v: k for k, v in self.ids.items()}
        for img_id, blurred, content_type in rows:
            data = (FIXTURES / by_id[img_id]).read_bytes()
            # a call with a constant runs on the coordinator itself: a single node's result
            local = query(self.conn, "SELECT bytea_blur(%s), (bytea_image_info(%s)).mime_type",
                          (psycopg2.Binary(data), psycopg2.Binary(data)))[0]
            self.assertEqual((bytes(blurred), content_type), (bytes(local[0]), local[1]), by_id[img_id])

    def test_output_format_is_passed_to_the_workers(self):
        # bytea_blur(..., format => 'webp') in a scan runs on the workers, named argument and
        # all, and gives what a single node gives; a refused conversion keeps its SQLSTATE.
        names = ["rgb420.jpg", "gray16.png", "rgba8.png"]
        ids = [self.ids[name] for name in names]
        sql = ("SELECT id, bytea_blur(image_data, 3, format => 'webp') FROM image_process_imagefile"
               " WHERE id = ANY(%s) ORDER BY id")
        plan = explain(self.conn, sql, (ids,))
        self.assertTrue(set(task_nodes(plan)) and set(task_nodes(plan)) <= {int(p) for p in WORKERS}, plan)
        worker_calls = [line for line in plan.splitlines() if "Output:" in line and "bytea_blur(" in line]
        self.assertTrue(worker_calls and all("'webp'" in line for line in worker_calls), plan)
        rows = dict(query(self.conn, sql, (ids,)))
        for name in names:
            data = (FIXTURES / name).read_bytes()
            local = query(self.conn, "SELECT bytea_blur(%s, 3, format => 'webp')", (psycopg2.Binary(data),))[0][0]
            self.assertEqual(bytes(rows[self.ids[name]]), bytes(local), name)
        remote = error_of(self.conn, "SELECT bytea_blur(image_data, format => 'jpeg') FROM image_process_imagefile"
                                     " WHERE id = %s", (self.ids["rgba8.png"],))
        self.assertEqual(remote[0], "0A000")

    def test_redaction_runs_on_the_workers(self):
        # bytea_blur_regions (1.5) in a scan runs on the workers with its box[] argument, and
        # gives what a single node gives; a bad box keeps its SQLSTATE.
        names = ["rgb420.jpg", "rgba8.png", "gray16.png"]
        ids = [self.ids[name] for name in names]
        sql = ("SELECT id, bytea_blur_regions(image_data, ARRAY[box(point(5, 5), point(30, 20))], 3)"
               " FROM image_process_imagefile WHERE id = ANY(%s) ORDER BY id")
        plan = explain(self.conn, sql, (ids,))
        self.assertTrue(set(task_nodes(plan)) and set(task_nodes(plan)) <= {int(p) for p in WORKERS}, plan)
        self.assertTrue(any("Output:" in line and "bytea_blur_regions(" in line for line in plan.splitlines()), plan)
        rows = dict(query(self.conn, sql, (ids,)))
        for name in names:
            data = (FIXTURES / name).read_bytes()
            local = query(self.conn, "SELECT bytea_blur_regions(%s, ARRAY[box(point(5, 5), point(30, 20))], 3)",
                          (psycopg2.Binary(data),))[0][0]
            self.assertEqual(bytes(rows[self.ids[name]]), bytes(local), name)
        remote = error_of(self.conn, "SELECT bytea_blur_regions(image_data, ARRAY[box(point('NaN', 0), point(1, 1))])"
                                     " FROM image_process_imagefile WHERE id = %s", (self.ids["rgb420.jpg"],))
        self.assertEqual(remote[0], "22023")

    def test_bad_image_on_a_worker_keeps_its_sqlstate_and_message(self):
        for name, (data, sqlstate) in BAD.items():
            remote = error_of(self.conn, "SELECT img_binary FROM applyblur WHERE img_id = %s", (self.bad[name],))
            local = error_of(self.conn, "SELECT bytea_blur(%s)", (psycopg2.Binary(data),))
            self.assertEqual(remote, local, name)
            self.assertEqual(remote[0], sqlstate, name)
            self.assertEqual(query(self.conn, "SELECT 1"), [(1,)])  # the session goes on
        # a scan over every row stops at the first bad one, with that row's error
        self.assertIn(error_of(self.conn, "SELECT count(img_binary) FROM applyblur")[0], {s for _, s in BAD.values()})

    def long_blur(self):
        """Ten full-resolution blurs of the 48 MP photo in one routed statement: seconds of work."""
        sums = " + ".join(f"length(bytea_blur(image_data, {1 + i / 100}))" for i in range(10))
        return f"SELECT {sums} FROM image_process_imagefile WHERE id = {self.big}"

    def assert_worker_idle(self):
        port = self.placement_port(self.big)
        worker = connect(port, self.db)
        try:
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                busy = query(worker, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                                     " AND query LIKE '%bytea_blur%' AND pid <> pg_backend_pid()")[0][0]
                if busy == 0:
                    return
                time.sleep(0.02)
            self.fail("the blur still runs on the worker")
        finally:
            worker.close()

    def test_statement_timeout_stops_a_blur_on_a_worker(self):
        query(self.conn, "SET statement_timeout = '150ms'")
        start = time.monotonic()
        state = error_of(self.conn, self.long_blur())
        elapsed_ms = (time.monotonic() - start) * 1000
        query(self.conn, "RESET statement_timeout")
        self.assertEqual(state[0], "57014", state)
        print(f"\n    Citus: statement_timeout 150 ms on the coordinator: error after {elapsed_ms:.0f} ms",
              file=sys.stderr)
        self.assertLess(elapsed_ms, 150 + 300)
        self.assert_worker_idle()

    def test_pg_cancel_backend_stops_a_blur_on_a_worker(self):
        client = connect(COORDINATOR, self.db)
        pid = client.get_backend_pid()
        result = {}

        def run():
            result["error"] = error_of(client, self.long_blur())
            result["end"] = time.monotonic()

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(0.3)
        cancelled = time.monotonic()
        query(self.conn, "SELECT pg_cancel_backend(%s)", (pid,))
        thread.join(30)
        self.assertEqual(result["error"][0], "57014", result)
        ms = (result["end"] - cancelled) * 1000
        print(f"\n    Citus: pg_cancel_backend on the coordinator: error {ms:.0f} ms after the cancel", file=sys.stderr)
        self.assertLess(ms, 300)
        self.assertEqual(query(client, "SELECT 1"), [(1,)])
        client.close()
        self.assert_worker_idle()


@unittest.skipUnless(COORDINATOR and len(WORKERS) >= 2, "needs the Citus cluster of test/citus/run")
class ExtensionMadeTableAndANewWorker(unittest.TestCase):
    """No table beforehand: CREATE EXTENSION makes it, it is distributed, then a third worker
    joins and the shards are rebalanced onto it."""

    def setUp(self):
        self.db = "bb_citus_" + uuid.uuid4().hex[:8]
        self.conn = make_citus_db(self.db, WORKERS)
        self.new_node = None

    def tearDown(self):
        self.conn.close()
        drop_citus_db(self.db, WORKERS)
        if self.new_node:
            subprocess.run(["bash", "-c", f"source {ROOT}/test/lib/pgcluster.sh; pg_node_stop {self.new_node[0]}"],
                           check=False)

    def images(self):
        return query(self.conn, "SELECT img_id, md5(img_binary) FROM applyblur ORDER BY img_id")

    def test_extension_made_table_distributes_and_survives_a_new_worker(self):
        query(self.conn, "CREATE EXTENSION bytea_blur")
        self.assertEqual(query(self.conn, "SELECT count(*) FROM pg_depend WHERE objid ="
                                          " 'image_process_imagefile'::regclass AND deptype = 'e'")[0][0], 0,
                         "under Citus the extension's table is not a member")
        for name in GOOD[:6]:
            insert(self.conn, name, (FIXTURES / name).read_bytes())
        query(self.conn, "SELECT create_distributed_table('image_process_imagefile', 'id')")
        query(self.conn, "SELECT truncate_local_data_after_distributing_table('image_process_imagefile')")
        for name in GOOD[6:]:
            insert(self.conn, name, (FIXTURES / name).read_bytes())
        before = self.images()
        self.assertEqual(len(before), len(GOOD))
        self.assertEqual(len(set(task_nodes(explain(self.conn, "SELECT img_binary FROM applyblur")))), 2)

        # a third worker: a new cluster, citus in the database, added on the coordinator
        out = subprocess.run(["bash", "-c", f"source {ROOT}/test/lib/pgcluster.sh; export PG_CONFIG={os.environ['PG_CONFIG']};"
                              " pg_node_start shared_preload_libraries=citus"],
                             capture_output=True, text=True, check=True).stdout.split()
        self.new_node = out
        port = out[1]
        conn = connect(port)
        query(conn, f"CREATE DATABASE {self.db}")
        conn.close()
        conn = connect(port, self.db)
        query(conn, "CREATE EXTENSION citus")
        conn.close()
        query(self.conn, "SELECT citus_add_node(%s, %s)", (HOST, int(port)))
        conn = connect(port, self.db)
        self.assertEqual(query(conn, "SELECT extversion FROM pg_extension WHERE extname = 'bytea_blur'"), [(VERSION,)])
        conn.close()
        query(self.conn, "SELECT citus_rebalance_start(shard_transfer_mode := 'block_writes')")
        query(self.conn, "SELECT citus_rebalance_wait()")
        moved = query(self.conn, "SELECT count(*) FROM citus_shards WHERE nodeport = %s", (int(port),))[0][0]
        self.assertGreater(moved, 0)
        self.assertEqual(self.images(), before)
        self.assertEqual(len(set(task_nodes(explain(self.conn, "SELECT img_binary FROM applyblur")))), 3)
        self.assertEqual(query(self.conn, "SELECT count(img_binary) FROM applyblur")[0][0], len(GOOD))


if __name__ == "__main__":
    unittest.main()
