#!/usr/bin/env python3
"""Martlet beside the physical limit: nginx serving the same bytes from the same disk, driven by the same clients in
the same run, scenario by scenario, alternating servers.

- wrk (16 connections, 2 threads, --duration seconds; HEAD through ApacheBench, as wrk 4.1 cannot) over presigned URLs (SigV4 query auth; PUTs are presigned,
  so UNSIGNED-PAYLOAD): GET 4 KiB, GET 1 MiB, GET 64 MiB, HEAD, PUT 4 KiB, PUT 1 MiB, and a ListObjectsV2 page of
  1,000 keys (nginx: its JSON autoindex of a folder of 1,000 files). PUTs cycle through 1,000 keys each.
- boto3: upload_file and download_file of 1 GiB, and 2,000 x 16 KiB put_object/get_object on 16 threads. Against
  Martlet boto3 runs with its defaults (SigV4, CRC32 checksums, multipart above 8 MiB); nginx speaks no S3, so there
  the same client sends unsigned single PUTs (nginx takes no multipart upload) and the same ranged GETs, without
  checksums.

Every scenario's bodies are verified before it is timed, and wrk's non-2xx answers and socket errors are counted: a
scenario that answers errors fails the run. Prints each figure, its ratio to nginx, the CPU seconds each server spent
per 1,000 requests, and Martlet's peak RSS.

    make bench            # or: .venv/bin/python bench/compare.py [--duration 10] [--only get-4k,head]

Needs nginx (its dav module takes the PUTs), wrk and ApacheBench, all from Debian (make bench installs them).
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config

from bench import ACCESS, REPO, SECRET, free_port, peak_rss_mib, start_martlet, wait_for_port

BUCKET = "compare"
HERE = os.path.dirname(os.path.abspath(__file__))
WRK_SCRIPT = os.path.join(HERE, "compare.lua")

NGINX_CONF = """
{user}
worker_processes auto;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ application/octet-stream bin; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        client_max_body_size 0;
        location / {{
            dav_methods PUT;
            create_full_put_path on;
            autoindex on;
            autoindex_format json;
        }}
    }}
}}
"""


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def process_tree(pid):
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid] + [int(c) for c in children]


class Target:
    """One server under test: how to reach it, sign for it, and count its CPU."""

    def __init__(self, name, endpoint, process, client, transfer_client, presign, pids):
        self.name, self.endpoint, self.process = name, endpoint, process
        self.client, self.transfer_client, self.presign, self.pids = client, transfer_client, presign, pids


def wrk(url_paths, method, body_size, duration, host):
    """Runs wrk over the given paths (cycled); returns (requests/s, requests, non-2xx + socket errors)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(url_paths) + "\n")
        paths_file = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t2", "-c16", f"-d{duration}s", "--timeout", "60s", "--latency", "-s", WRK_SCRIPT, host, "--", paths_file, method,
             str(body_size)], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(paths_file)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        bad += sum(int(n) for n in errors.groups())
    return rate, total, bad


def ab_head(url, duration):
    """HEAD through ApacheBench (16 connections, keep-alive): wrk 4.1 waits for a body after a HEAD's Content-Length and
    completes no request at all."""
    done = subprocess.run(["ab", "-i", "-k", "-c", "16", "-t", str(duration), "-n", "2000000", url],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"ab failed: {done.stderr.strip()}")
    out = done.stdout
    rate = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    bad = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    return rate, total, bad + (int(non2xx.group(1)) if non2xx else 0)


def split_url(url):
    rest = url.split("://", 1)[1]
    slash = rest.index("/")
    return "http://" + rest[:slash], rest[slash:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the boto3 upload_file/download_file file")
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "martlet"),
                        help="the martlet binary to measure (another build, to compare before and after)")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    for tool, package in (("nginx", "nginx"), ("wrk", "wrk"), ("ab", "apache2-utils")):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"{tool} not found: apt-get install {package}")
    binary = args.binary
    with tempfile.TemporaryDirectory(prefix="martlet-compare-", dir=REPO) as scratch:
        run(args, only, binary, scratch)


def run(args, only, binary, scratch):
    data, root, tmp = (os.path.join(scratch, d) for d in ("data", "www", "nginx"))
    for d in (root, tmp):
        os.makedirs(d)
    m_port, n_port = free_port(), free_port()
    martlet = start_martlet(data, m_port, binary=binary)
    conf = os.path.join(tmp, "nginx.conf")
    # As root, nginx would hand its workers to `nobody`, who may not read the scratch folder.
    user = "user root;" if os.geteuid() == 0 else ""
    open(conf, "w").write(NGINX_CONF.format(user=user, tmp=tmp, port=n_port, root=root))
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    nginx = subprocess.Popen([nginx_bin, "-c", conf, "-p", tmp, "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(n_port, nginx, "nginx")
        m_endpoint, n_endpoint = f"http://127.0.0.1:{m_port}", f"http://127.0.0.1:{n_port}"
        signed = dict(endpoint_url=m_endpoint, region_name="us-east-1", aws_access_key_id=ACCESS, aws_secret_access_key=SECRET)
        m_client = boto3.client("s3", config=Config(max_pool_connections=32), **signed)
        m_presigner = boto3.client("s3", config=Config(signature_version="s3v4"), **signed)
        n_client = boto3.client("s3", endpoint_url=n_endpoint, region_name="us-east-1", config=Config(
            signature_version=UNSIGNED, max_pool_connections=32, request_checksum_calculation="when_required",
            response_checksum_validation="when_required", s3={"addressing_style": "path"}))
        martlet_target = Target(
            "martlet", m_endpoint, martlet, m_client, m_client,
            lambda op, **p: m_presigner.generate_presigned_url(op, Params={"Bucket": BUCKET, **p}, ExpiresIn=7200),
            lambda: [martlet.pid])
        nginx_target = Target(
            "nginx", n_endpoint, nginx, n_client, n_client,
            lambda op, **p: f"{n_endpoint}/{BUCKET}/{p.get('Key', p.get('Prefix', ''))}",
            lambda: process_tree(nginx.pid))
        targets = [martlet_target, nginx_target]
        m_client.create_bucket(Bucket=BUCKET)
        os.makedirs(os.path.join(root, BUCKET, "list"))
        objects = {"obj-4k": os.urandom(4096), "obj-1m": os.urandom(1 << 20), "obj-64m": os.urandom(64 << 20)}
        for key, body in objects.items():
            m_client.put_object(Bucket=BUCKET, Key=key, Body=body)
            open(os.path.join(root, BUCKET, key), "wb").write(body)
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: m_client.put_object(Bucket=BUCKET, Key=f"list/{i:04d}", Body=b"x"), range(1000)))
        for i in range(1000):
            open(os.path.join(root, BUCKET, "list", f"{i:04d}"), "wb").write(b"x")

        results = []
        wrk_scenarios = [
            ("get-4k", "GET 4 KiB", "GET", 0, "obj-4k"),
            ("get-1m", "GET 1 MiB", "GET", 0, "obj-1m"),
            ("get-64m", "GET 64 MiB", "GET", 0, "obj-64m"),
            ("head", "HEAD 4 KiB", "HEAD", 0, "obj-4k"),
            ("put-4k", "PUT 4 KiB", "PUT", 4096, None),
            ("put-1m", "PUT 1 MiB", "PUT", 1 << 20, None),
            ("list", "ListObjectsV2, 1,000 keys", "GET", 0, "list"),
        ]
        for name, label, method, size, key in wrk_scenarios:
            if only and name not in only:
                continue
            row = {"scenario": label}
            for target in targets:
                if method == "PUT":
                    urls = [target.presign("put_object", Key=f"put-{name}/{i:04d}") for i in range(1000)]
                elif key == "list":
                    urls = [target.presign("list_objects_v2", Prefix="list/")
                            if target.name == "martlet" else f"{target.endpoint}/{BUCKET}/list/"]
                else:
                    urls = [target.presign("head_object" if method == "HEAD" else "get_object", Key=key)]
                verify(target, method, urls[0], key, objects, size)
                host, _ = split_url(urls[0])
                paths = [split_url(u)[1] for u in urls]
                before = cpu_seconds(target.pids())
                if method == "HEAD":
                    rate, total, bad = ab_head(urls[0], args.duration)
                else:
                    rate, total, bad = wrk(paths, method, size, args.duration, host)
                cpu = cpu_seconds(target.pids()) - before
                if bad:
                    sys.exit(f"{label} on {target.name}: {bad} non-2xx answers or socket errors")
                row[target.name] = rate
                row[f"{target.name}-cpu"] = cpu / total * 1000
            results.append(row)
            print_row(row, "req/s")

        if not only or "boto3-big" in only:
            big = os.path.join(scratch, "big.bin")
            with open(big, "wb") as f:
                block = os.urandom(1 << 20)
                for _ in range(args.big_mib):
                    f.write(block)
            size = args.big_mib << 20
            for op in ("upload", "download"):
                row = {"scenario": f"boto3 {op}_file {args.big_mib} MiB"}
                for target in targets:
                    # nginx takes no multipart upload, so there upload_file sends one PUT; download_file's ranged
                    # GETs work on both, with the same defaults.
                    single_put = op == "upload" and target.name != "martlet"
                    config = TransferConfig(multipart_threshold=size + 1) if single_put else TransferConfig()
                    # Best of two: the first pass of a 1 GiB transfer also pays for the page cache's writeback of
                    # whatever the previous scenario wrote, which lands on whichever server runs first.
                    best = 0.0
                    for _ in range(2):
                        started = time.perf_counter()
                        if op == "upload":
                            target.transfer_client.upload_file(big, BUCKET, "big.bin", Config=config)
                        else:
                            target.transfer_client.download_file(BUCKET, "big.bin", big + ".back", Config=config)
                            if os.path.getsize(big + ".back") != size:
                                sys.exit(f"download_file from {target.name}: wrong size")
                            os.unlink(big + ".back")
                        best = max(best, size / (time.perf_counter() - started) / 1e6)
                    row[target.name] = best
                results.append(row)
                print_row(row, "MB/s")
            os.unlink(big)

        if not only or "boto3-small" in only:
            body = os.urandom(16 << 10)
            for op in ("put", "get"):
                row = {"scenario": f"boto3 {op}_object 16 KiB x 2,000, 16 threads"}
                for target in targets:
                    def one(i, target=target):
                        if op == "put":
                            target.client.put_object(Bucket=BUCKET, Key=f"small/{i:04d}", Body=body)
                        else:
                            assert target.client.get_object(Bucket=BUCKET, Key=f"small/{i:04d}")["Body"].read() == body
                    started = time.perf_counter()
                    before = cpu_seconds(target.pids())
                    with ThreadPoolExecutor(16) as pool:
                        list(pool.map(one, range(2000)))
                    row[target.name] = 2000 / (time.perf_counter() - started)
                    row[f"{target.name}-cpu"] = (cpu_seconds(target.pids()) - before) / 2000 * 1000
                results.append(row)
                print_row(row, "ops/s")

        print()
        print(f"Martlet peak RSS: {peak_rss_mib(martlet.pid):.1f} MiB")
        print(json.dumps(results))
    finally:
        martlet.terminate()
        nginx.terminate()
        martlet.wait(timeout=30)
        nginx.wait(timeout=30)


def verify(target, method, url, key, objects, size):
    """One request before timing: the answer must be right, not just fast."""
    import requests
    if method == "PUT":
        response = requests.put(url, data=b"v" * size)
        assert response.status_code in (200, 201, 204), (target.name, response.status_code, response.text[:200])
    elif method == "HEAD":
        response = requests.head(url)
        assert response.status_code == 200 and int(response.headers["Content-Length"]) == len(objects[key]), target.name
    elif key == "list":
        response = requests.get(url)
        count = response.text.count("<Key>") if target.name == "martlet" else len(json.loads(response.text))
        assert response.status_code == 200 and count == 1000, (target.name, count)
    else:
        response = requests.get(url)
        assert response.status_code == 200 and hashlib.md5(response.content).digest() == hashlib.md5(objects[key]).digest(), target.name


def print_row(row, unit):
    martlet, nginx = row.get("martlet", 0), row.get("nginx", 0)
    ratio = martlet / nginx if nginx else float("nan")
    cpu = ""
    if "martlet-cpu" in row:
        cpu = f"   CPU s/1000 req: martlet {row['martlet-cpu']:.3f}, nginx {row['nginx-cpu']:.3f}"
    print(f"{row['scenario']:44} martlet {martlet:10.0f}  nginx {nginx:10.0f} {unit:6} {ratio:6.2f}x{cpu}", flush=True)


if __name__ == "__main__":
    main()
