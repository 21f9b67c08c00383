#!/usr/bin/python3
"""Scale-out benchmark (not a test): a scan that blurs 200 photos, measured in one run on
  one node       a plain PostgreSQL server, one backend, no parallel plan;
  ceiling        the same server, two backends at once with half of the rows each: what this
                 machine's cores give two processes, which bounds every way of splitting work;
  citus-1        Citus, the table distributed over one worker (32 shards: the coordinator runs
                 the shards' tasks over several connections, so even one worker uses both cores);
  citus-2        Citus, two workers;
and the cost Citus adds to a single routed read (applyblur WHERE img_id = N), on the smallest
image (a 1x1 JPEG: nearly all of it is overhead) and on a 0.3 MP photo.
Runs are interleaved, so that each sees the same machine; medians are printed.

Environment (from test/bench/scaleout): BB_SINGLE_PORT, BB_CITUS_COORDINATOR (ports on
127.0.0.1), BB_CITUS_DB1 and BB_CITUS_DB2 (databases with one and two workers).
"""
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test" / "bench"))
from bench import encode, make_photo  # noqa: E402

ROWS = 200
ROUNDS = 3


def connect(port, db):
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=db)
    conn.autocommit = True
    return conn


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def load(conn, distribute, photo, pixel):
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS bytea_blur")
        cur.execute("TRUNCATE image_process_imagefile RESTART IDENTITY")
        if distribute:
            cur.execute("SELECT create_distributed_table('image_process_imagefile', 'id')")
        cur.execute("INSERT INTO image_process_imagefile (image, image_data)"
                    " SELECT 'photo' || g, %s FROM generate_series(1, %s) g", (psycopg2.Binary(photo), ROWS))
        cur.execute("INSERT INTO image_process_imagefile (image, image_data) VALUES ('pixel', %s) RETURNING id",
                    (psycopg2.Binary(pixel),))
        return cur.fetchone()[0]


def main():
    single_port = os.environ["BB_SINGLE_PORT"]
    coordinator = os.environ["BB_CITUS_COORDINATOR"]
    photo = encode(make_photo(640, 480), "JPEG")
    pixel = (ROOT / "test" / "fixtures" / "pixel.jpg").read_bytes()

    single = connect(single_port, "bench")
    citus = {n: connect(coordinator, os.environ[f"BB_CITUS_DB{n}"]) for n in (1, 2)}
    pixel_id = load(single, False, photo, pixel)
    for conn in citus.values():
        assert load(conn, True, photo, pixel) == pixel_id
    with single.cursor() as cur:
        cur.execute("SET max_parallel_workers_per_gather = 0")
    scan = f"SELECT sum(length(img_binary)) FROM applyblur WHERE img_id <= {ROWS}"
    half = "SELECT sum(length(img_binary)) FROM applyblur WHERE img_id BETWEEN %s AND %s"
    halves = [connect(single_port, "bench") for _ in range(2)]
    for h in halves:
        with h.cursor() as cur:
            cur.execute("SET max_parallel_workers_per_gather = 0")
            cur.execute(half, (1, 2))  # load the library

    def two_backends():
        threads = [threading.Thread(target=lambda c=c, r=r: c.cursor().execute(half, r))
                   for c, r in zip(halves, ((1, ROWS // 2), (ROWS // 2 + 1, ROWS)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # the same result everywhere before timing anything
    results = set()
    for conn in [single] + list(citus.values()):
        with conn.cursor() as cur:
            cur.execute("SELECT md5(string_agg(md5(img_binary), ',' ORDER BY img_id)) FROM applyblur")
            results.add(cur.fetchone()[0])
    assert len(results) == 1, "Citus and the single node disagree"

    times = {"one node": [], "ceiling": [], "citus-1": [], "citus-2": []}
    for conn in [single] + list(citus.values()):
        conn.cursor().execute(scan)  # warm up: library loaded, connections made
    for _ in range(ROUNDS):
        times["one node"].append(timed(lambda: single.cursor().execute(scan)))
        times["ceiling"].append(timed(two_backends))
        times["citus-1"].append(timed(lambda: citus[1].cursor().execute(scan)))
        times["citus-2"].append(timed(lambda: citus[2].cursor().execute(scan)))
    base = statistics.median(times["one node"])
    print(f"scan blurring {ROWS} x 0.3 MP JPEG at sigma 5 (medians of {ROUNDS} interleaved rounds):")
    for name, values in times.items():
        ms = statistics.median(values)
        print(f"  {name:9s} {ms:7.0f} ms   {base / ms:4.2f}x one node   {ROWS / ms * 1000:6.1f} images/s")

    routed = "SELECT img_binary FROM applyblur WHERE img_id = %s"
    print("a single routed read, applyblur WHERE img_id = N (median of 50):")
    for label, img_id in (("1x1 JPEG", pixel_id), ("0.3 MP JPEG", 1)):
        runs = {"one node": [], "citus-2": []}
        for _ in range(50):
            runs["one node"].append(timed(lambda: single.cursor().execute(routed, (img_id,))))
            runs["citus-2"].append(timed(lambda: citus[2].cursor().execute(routed, (img_id,))))
        one, dist = statistics.median(runs["one node"]), statistics.median(runs["citus-2"])
        print(f"  {label:11s} one node {one:6.2f} ms, through the Citus coordinator {dist:6.2f} ms:"
              f" Citus adds {dist - one:5.2f} ms")
    for conn in [single] + list(citus.values()) + halves:
        conn.close()


if __name__ == "__main__":
    main()
