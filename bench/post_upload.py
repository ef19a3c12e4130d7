#!/usr/bin/env python3
"""A browser-style form upload of a large file (POST Object, as generate_presigned_post signs it) against a
PutObject of the same file through a presigned PUT, in the same run, with the same client (curl, which streams
both bodies from disk), alternating round by round. Reports MB/s of each and the server's peak RSS (VmHWM) over
the whole run, which must stay under 100 MiB however large the file.

    swift build -c release --product martlet && .venv/bin/python bench/post_upload.py [--size-mib 1024] [--rounds 3]

Needs curl. The file is written once to a temporary folder (on the same disk as the data folder). Results go in
closing notes, not in tests.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config

from bench import ACCESS, REPO, SECRET, free_port, peak_rss_mib, start_martlet

BUCKET = "post-bench"


def timed(command):
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    return elapsed, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("curl"):
        sys.exit("curl not found: apt-get install curl")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    size = args.size_mib * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="martlet-post-", dir=REPO) as scratch:
        source = os.path.join(scratch, "upload.bin")
        digest = hashlib.md5()
        with open(source, "wb") as f:
            block = os.urandom(1 << 20)
            for _ in range(args.size_mib):
                f.write(block)
                digest.update(block)
        data = os.path.join(scratch, "data")
        server = start_martlet(data, port)
        try:
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ACCESS,
                              aws_secret_access_key=SECRET, config=Config(signature_version="s3v4"))
            s3.create_bucket(Bucket=BUCKET)
            results = {"POST form": [], "presigned PUT": []}
            for round_number in range(args.rounds):
                form = s3.generate_presigned_post(BUCKET, f"post-{round_number}.bin",
                                                  Conditions=[["content-length-range", 0, size]], ExpiresIn=3600)
                post = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:"]
                for name, value in form["fields"].items():
                    post += ["--form-string", f"{name}={value}"]
                post += ["-F", f"file=@{source};type=application/octet-stream", form["url"]]
                put_url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": f"put-{round_number}.bin"},
                                                    ExpiresIn=3600)
                put = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:", "-T", source, put_url]
                for name, command, key, ok in (("POST form", post, f"post-{round_number}.bin", "204"),
                                               ("presigned PUT", put, f"put-{round_number}.bin", "200")):
                    elapsed, result = timed(command)
                    if result.stdout.strip() != ok:
                        sys.exit(f"{name}: answered {result.stdout!r} {result.stderr}")
                    etag = s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
                    if etag != digest.hexdigest():
                        sys.exit(f"{name}: stored ETag {etag} is not the file's MD5")
                    results[name].append(size / elapsed / 1e6)
                    s3.delete_object(Bucket=BUCKET, Key=key)
            peak = peak_rss_mib(server.pid)
            print(f"{args.size_mib} MiB file, {args.rounds} rounds, curl as the client")
            print(f"{'upload':16} {'median MB/s':>12}  {'all rounds'}")
            medians = {}
            for name, rates in results.items():
                medians[name] = sorted(rates)[len(rates) // 2]
                print(f"{name:16} {medians[name]:12.0f}  {', '.join(f'{r:.0f}' for r in rates)}")
            print(f"POST / PUT: {medians['POST form'] / medians['presigned PUT']:.2f}x; server peak RSS {peak:.1f} MiB")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
