#!/usr/bin/env python3
"""Index scaling: a bucket of 1,000,000 objects against one of 1,000, for issue 4's targets.

Loading a million objects through HTTP takes about an hour on two cores, so this loads the index directly: it
starts the release binary once to create the schema, a real seed object (whose blob every row shares) and a
versioned bucket with a lifecycle rule whose expiry is years away, stops it, writes the rows with sqlite3 in the
server's own format (objects, versions, blob_refs, lifecycle_due: nothing due), and starts it again. Then it
measures over keep-alive HTTP:

- GET of the latest version of a key with 10 versions (100 such keys among the million), and of a key in the
  1,000-object bucket;
- a 1,000-key ListObjectsV2 page from the middle of each bucket;
- the lifecycle pass with nothing due over the million (from the server's debug log).

    swift build -c release --product martlet && .venv/bin/python bench/million.py [--objects 1000000]

Coupled to the index schema on purpose: it is a benchmark, and breaks loudly if the schema moves.
"""
import argparse
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config

from bench import ACCESS, REPO, SECRET, free_port, signed_headers

SAMPLES = 300


def start(binary, data, port):
    log = open(os.path.join(data, "server.log"), "ab")
    process = subprocess.Popen(
        [binary, "server", "--address", f"127.0.0.1:{port}", "--data", data, "--access-key", ACCESS,
         "--secret-key", SECRET, "--log-level", "debug"], stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(200):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return process
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def client(port):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=ACCESS,
                        aws_secret_access_key=SECRET, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))


def load(data, objects, versioned_keys, versions_per_key, small):
    db = sqlite3.connect(os.path.join(data, "index.sqlite"))
    seed = db.execute("SELECT size, etag, last_modified, metadata, segments FROM objects WHERE key = CAST('seed' AS BLOB)").fetchone()
    size, etag, modified, metadata, segments = seed
    blob = segments.split(":")[0]
    far = int(time.time() * 1000) + 3650 * 86_400_000
    rows, version_rows, due_rows = [], [], []
    plain = objects - versioned_keys
    for i in range(plain):
        key = f"data/{i:08d}".encode()
        rows.append(("big", key, size, etag, modified, metadata, None, segments, None, "null"))
        version_rows.append(("big", key, 1, "null", 0, size, etag, modified, metadata, None, segments, None))
        due_rows.append((far, "big", key))
    for k in range(versioned_keys):
        key = f"hist/{k:04d}".encode()
        for seq in range(1, versions_per_key + 1):
            vid = f"{seq:016x}{k:016x}"
            version_rows.append(("big", key, seq, vid, 0, size, etag, modified + seq, metadata, None, segments, None))
        rows.append(("big", key, size, etag, modified + versions_per_key, metadata, None, segments, None, vid))
        due_rows.append((far, "big", key))
    for i in range(small):
        rows.append(("small", f"data/{i:08d}".encode(), size, etag, modified, metadata, None, segments, None, None))
    with db:
        db.executemany("INSERT INTO objects (bucket, key, size, etag, last_modified, metadata, checksum, segments, parts, version_id)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        db.executemany("INSERT INTO versions (bucket, key, seq, version_id, delete_marker, size, etag, last_modified, metadata,"
                       " checksum, segments, parts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", version_rows)
        db.executemany("INSERT OR IGNORE INTO lifecycle_due (due_at, bucket, key) VALUES (?,?,?)", due_rows)
        db.execute("UPDATE blob_refs SET ref_count = ref_count + ? WHERE blob_id = ?", (len(rows) + len(version_rows), blob))
    db.close()
    return len(rows) + len(version_rows)


def timed_requests(port, paths):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for path in paths:
        headers = signed_headers("GET", f"http://127.0.0.1:{port}{path}")
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        times.append(time.perf_counter() - start)
        assert response.status == 200, (path, response.status, body[:300])
    times.sort()
    return times[len(times) // 2] * 1000, sum(times) / len(times) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--binary", default=os.path.join(REPO, ".build/release/martlet"))
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="martlet-million-")
    port = free_port()
    server = start(args.binary, data, port)
    s3 = client(port)
    for bucket in ["big", "small"]:
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket="big", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="big", Key="seed", Body=b"x" * 1024)
    s3.put_object(Bucket="small", Key="seed", Body=b"x" * 1024)
    s3.put_bucket_lifecycle_configuration(Bucket="big", LifecycleConfiguration={"Rules": [
        {"ID": "decade", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 3650}}]})
    server.terminate()
    server.wait()
    began = time.time()
    written = load(data, args.objects, 100, 10, 1000)
    print(f"loaded {written} rows in {time.time() - began:.1f} s")
    port = free_port()
    server = start(args.binary, data, port)
    try:
        time.sleep(2)  # the first lifecycle pass runs at start
        results = {}
        big_keys = [f"/big/hist/{k % 100:04d}" for k in range(SAMPLES)]
        small_keys = [f"/small/data/{k % 1000:08d}" for k in range(SAMPLES)]
        results["get_latest_10_versions_big_ms"] = timed_requests(port, big_keys)
        results["get_small_ms"] = timed_requests(port, small_keys)
        middle = f"data/{args.objects // 2:08d}"
        results["list_page_big_ms"] = timed_requests(port, [f"/big?list-type=2&max-keys=1000&start-after={middle.replace('/', '%2F')}"] * 30)
        results["list_page_small_ms"] = timed_requests(port, ["/small?list-type=2&max-keys=1000"] * 30)
        log = open(os.path.join(data, "server.log")).read()
        passes = [float(m) for m in re.findall(r"evaluated=0 seconds=([0-9.e-]+).*lifecycle pass", log)]
        # The last pass of the second run with nothing due (the first run's passes are in the same log).
        results["lifecycle_pass_seconds"] = passes[-1] if passes else None
        results["peak_rss_mib"] = int(open(f"/proc/{server.pid}/status").read().split("VmHWM:")[1].split()[0]) / 1024
        for name, value in results.items():
            shown = f"median {value[0]:.2f} / mean {value[1]:.2f}" if isinstance(value, tuple) else value
            print(f"{name:34} {shown}")
        print(json.dumps(results))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
