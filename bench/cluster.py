#!/usr/bin/env python3
"""What several nodes cost: GET 4 KiB, PUT 4 KiB and a ListObjectsV2 page of 1,000 keys, in requests/s and CPU per
request, for one node on SQLite, one node on PostgreSQL, and two nodes on PostgreSQL behind haproxy, in one run, with
nginx serving the same 4 KiB file as the physical limit. On a 2-core machine a second node cannot add throughput: the
figure that matters is the cost, Martlet's CPU and the database's, per request. Then a listing's cost in a bucket of
1,000 objects against one of 1,000,000 (rows loaded straight into PostgreSQL), which must be about the same.

    ./scripts/with-postgres.sh .venv/bin/python bench/cluster.py [--duration 10] [--million]

Needs the release binary (swift build -c release --product martlet), MARTLET_TEST_POSTGRES (scripts/with-postgres.sh
provides it), and wrk, nginx and haproxy from Debian (./scripts/setup.sh --bench --cluster).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import boto3
from botocore.config import Config

from bench import ACCESS, REPO, SECRET, free_port, wait_for_port
from compare import NGINX_CONF, cpu_seconds, process_tree, split_url, wrk

BUCKET = "cluster"
KEYS = 1000
SIZE = 4096


def psql(url, sql):
    done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        sys.exit(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def database_url(base, name):
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}?sslmode=disable"


def postgres_pids(base):
    port = base.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
    found = subprocess.run(["pgrep", "-f", "--", f"-p {port} "], capture_output=True, text=True).stdout.split()
    pids = []
    for pid in found:
        pids += process_tree(int(pid))
    return pids


def start_node(binary, data, port, index=None, node=None):
    command = [binary, "server", "--address", f"127.0.0.1:{port}", "--data", data, "--access-key", ACCESS,
               "--secret-key", SECRET, "--log-level", "warning", "--no-access-log"]
    if index:
        command += ["--index", index, "--node-id", node]
    env = dict(os.environ, MARTLET_MASTER_KEY="11" * 32)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_for_port(port, process)
    return process


def start_haproxy(directory, ports):
    port = free_port()
    servers = "\n".join(f"    server n{i} 127.0.0.1:{p}" for i, p in enumerate(ports))
    config = os.path.join(directory, "haproxy.cfg")
    with open(config, "w") as f:
        # Keep-alive on both sides, each client connection balanced round robin: what a load balancer in front of
        # S3 clients does.
        f.write(f"""global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend s3
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
    http-reuse safe
{servers}
""")
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    process = subprocess.Popen([binary, "-db", "-f", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process, "haproxy")
    return process, port


def start_nginx(directory):
    root = os.path.join(directory, "root")
    os.makedirs(root)
    with open(os.path.join(root, "k.bin"), "wb") as f:
        f.write(os.urandom(SIZE))
    port = free_port()
    conf = os.path.join(directory, "nginx.conf")
    user = "user root;" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(user=user, tmp=directory, port=port, root=root))
    process = subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_for_port(port, process, "nginx")
    return process, port


def client(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS, aws_secret_access_key=SECRET,
                        region_name="us-east-1", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


def measure(name, endpoint, martlet_pids, database_pids, duration):
    """`database_pids` is called before and after each scenario: the database forks a backend per new connection, and
    one born during the run has spent all its CPU on it."""
    s3 = client(endpoint)
    s3.create_bucket(Bucket=BUCKET)
    body = os.urandom(SIZE)
    for i in range(KEYS):
        s3.put_object(Bucket=BUCKET, Key=f"k{i:04d}", Body=body)
    get_paths = [split_url(s3.generate_presigned_url("get_object", {"Bucket": BUCKET, "Key": f"k{i:04d}"}, 3600))[1]
                 for i in range(KEYS)]
    put_paths = [split_url(s3.generate_presigned_url("put_object", {"Bucket": BUCKET, "Key": f"p{i:04d}"}, 3600))[1]
                 for i in range(KEYS)]
    list_path = split_url(s3.generate_presigned_url("list_objects_v2", {"Bucket": BUCKET, "MaxKeys": 1000}, 3600))[1]
    rows = {}
    for scenario, paths, method, size in (("GET 4 KiB", get_paths, "GET", 0), ("PUT 4 KiB", put_paths, "PUT", SIZE),
                                          ("ListObjectsV2 1,000", [list_path], "GET", 0)):
        before = (cpu_seconds(martlet_pids), cpu_seconds(database_pids()))
        rate, total, bad = wrk(paths, method, size, duration, endpoint)
        after = (cpu_seconds(martlet_pids), cpu_seconds(database_pids()))
        if bad:
            sys.exit(f"{name} {scenario}: {bad} failed requests")
        rows[scenario] = {
            "rate": rate, "requests": total,
            "martlet_us": (after[0] - before[0]) / total * 1e6,
            "database_us": (after[1] - before[1]) / total * 1e6,
        }
        print(f"  {name:28} {scenario:20} {rate:9.0f} req/s   Martlet {rows[scenario]['martlet_us']:6.0f} µs/req"
              f"   PostgreSQL {rows[scenario]['database_us']:6.0f} µs/req", flush=True)
    return rows


def listing_cost(endpoint, base_url, database, rounds=200):
    """A 1,000-key page from the middle of a bucket of 10^3 objects and of one of 10^6, median latency."""
    s3 = client(endpoint)
    url = database_url(base_url, database)
    results = {}
    for bucket, count in (("small", 1_000), ("large", 1_000_000)):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="seed", Body=b"x")
        where = f"bucket = '{bucket}' AND key = 'seed'::bytea"
        metadata = psql(url, f"SELECT metadata FROM objects WHERE {where}")
        segments = psql(url, f"SELECT segments FROM objects WHERE {where}")
        psql(url, f"""INSERT INTO objects (bucket, key, size, etag, last_modified, metadata, segments)
            SELECT '{bucket}', convert_to('key/' || lpad(i::text, 8, '0'), 'UTF8'), 1, 'e', 0,
                   '{metadata}', '{segments}' FROM generate_series(1, {count}) AS i""")
        psql(url, "ANALYZE objects")
        # The small bucket's 1,000 keys from its start; the large one's from its middle.
        start_after = "key/" if count <= 1_000 else f"key/{count // 2:08d}"
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            page = s3.list_objects_v2(Bucket=bucket, StartAfter=start_after, MaxKeys=1000)
            times.append(time.perf_counter() - t)
            assert len(page["Contents"]) == 1000
        times.sort()
        results[count] = times[len(times) // 2] * 1000
        print(f"  ListObjectsV2 page of 1,000 from a bucket of {count:>9,}: median {results[count]:.2f} ms", flush=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "martlet"))
    parser.add_argument("--million", action="store_true", help="also compare a listing in 10^3 and 10^6 objects")
    args = parser.parse_args()
    base = os.environ.get("MARTLET_TEST_POSTGRES")
    if not base:
        sys.exit("run me under ./scripts/with-postgres.sh (MARTLET_TEST_POSTGRES is not set)")
    if not postgres_pids(base):
        sys.exit("cannot find the PostgreSQL server's processes")
    results = {}
    with tempfile.TemporaryDirectory(prefix="martlet-cluster-bench-") as scratch:
        print("nginx, the physical limit (GET 4 KiB of one file):", flush=True)
        nginx, nginx_port = start_nginx(os.path.join(scratch, "nginx"))
        try:
            before = cpu_seconds(process_tree(nginx.pid))
            rate, total, bad = wrk(["/k.bin"], "GET", 0, args.duration, f"http://127.0.0.1:{nginx_port}")
            cost = (cpu_seconds(process_tree(nginx.pid)) - before) / total * 1e6
            results["nginx"] = {"GET 4 KiB": {"rate": rate, "martlet_us": cost, "database_us": 0}}
            print(f"  {'nginx':28} {'GET 4 KiB':20} {rate:9.0f} req/s   nginx   {cost:6.0f} µs/req", flush=True)
        finally:
            nginx.terminate()
            nginx.wait()

        print("One node, SQLite:", flush=True)
        port = free_port()
        node = start_node(args.binary, os.path.join(scratch, "sqlite"), port)
        try:
            results["sqlite"] = measure("1 node, SQLite", f"http://127.0.0.1:{port}", [node.pid], lambda: [], args.duration)
        finally:
            node.terminate()
            node.wait()

        print("One node, PostgreSQL:", flush=True)
        database = "bench_" + uuid.uuid4().hex[:12]
        psql(base, f"CREATE DATABASE {database}")
        port = free_port()
        node = start_node(args.binary, os.path.join(scratch, "pg1"), port, database_url(base, database), "a")
        try:
            results["postgres-1"] = measure("1 node, PostgreSQL", f"http://127.0.0.1:{port}", [node.pid],
                                            lambda: postgres_pids(base), args.duration)
            if args.million:
                results["listing_ms"] = listing_cost(f"http://127.0.0.1:{port}", base, database)
        finally:
            node.terminate()
            node.wait()

        print("Two nodes, PostgreSQL, haproxy:", flush=True)
        database = "bench_" + uuid.uuid4().hex[:12]
        psql(base, f"CREATE DATABASE {database}")
        ports = [free_port(), free_port()]
        shared = os.path.join(scratch, "pg2")
        nodes = [start_node(args.binary, shared, p, database_url(base, database), f"n{i}") for i, p in enumerate(ports)]
        proxy, proxy_port = start_haproxy(scratch, ports)
        try:
            results["postgres-2"] = measure(
                "2 nodes, PostgreSQL, haproxy", f"http://127.0.0.1:{proxy_port}", [n.pid for n in nodes],
                lambda: postgres_pids(base), args.duration)
            haproxy_cost = cpu_seconds([proxy.pid])
            results["haproxy_cpu_s"] = haproxy_cost
        finally:
            proxy.terminate()
            for n in nodes:
                n.terminate()
            for n in nodes + [proxy]:
                n.wait()

    sqlite, postgres = results["sqlite"], results["postgres-1"]
    print("\nPostgreSQL against SQLite, one node (CPU per request, Martlet + PostgreSQL):")
    for scenario in sqlite:
        a = sqlite[scenario]["martlet_us"]
        b = postgres[scenario]["martlet_us"] + postgres[scenario]["database_us"]
        print(f"  {scenario:20} {b / a:5.2f}x  ({a:.0f} -> {b:.0f} µs; Martlet alone {postgres[scenario]['martlet_us']:.0f} µs)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
