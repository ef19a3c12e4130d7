#!/usr/bin/env python3
"""Multipart figures for Martlet on loopback, with boto3's defaults (TransferConfig, checksums).

1. upload_file / download_file of a random file (--size, 1 GiB): MB/s, mean of --repeat runs; download checked by SHA-256.
2. The server's peak RSS (VmHWM) after those transfers, and at the end.
3. --parts parts of 5 MiB uploaded by 8 threads (MB/s), then CompleteMultipartUpload timed alone (s); then HEAD
   (size, ETag "-N") and a 1 MiB ranged GET in the middle, checked and timed.

Starts the release binary on a free port with a temporary data folder, like bench.py, unless --endpoint is given:

    make build && .venv/bin/python bench/multipart.py [--size 1G] [--repeat 2] [--parts 1000] [--phases transfer,complete]
    .venv/bin/python bench/multipart.py --endpoint http://127.0.0.1:9000 --access-key K --secret-key S [--pid PID]

Prints a table, then one JSON line. Results go in closing notes, not in tests.
"""
import argparse
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bench import ACCESS, REPO, SECRET, free_port, parse_size, peak_rss_mib

BLOCK, PART, RANGE, MB = 8 << 20, 5 << 20, 1 << 20, 1e6  # file block; S3's minimum non-last part; ranged GET


class Failure(Exception):
    pass


@contextlib.contextmanager
def step(name):
    """Turns an S3 or connection error (boto3 wraps some, e.g. in S3UploadFailedError) into one readable Failure."""
    try:
        yield
    except Exception as exc:
        error = exc
        while error is not None and not isinstance(error, (ClientError, BotoCoreError)):
            error = error.__cause__ or error.__context__
        if error is None:
            raise
        if isinstance(error, BotoCoreError):
            raise Failure(f"{name}: {error}") from exc
        info, status = error.response.get("Error", {}), error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        raise Failure(f"{name}: {error.operation_name} answered HTTP {status} {info.get('Code')}: {info.get('Message')}") from exc


@contextlib.contextmanager
def local_server(binary):
    if not os.access(binary, os.X_OK):
        raise Failure(f"no server binary at {binary}: run make build, or pass --endpoint")
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            [binary, "server", "--address", f"127.0.0.1:{port}", "--data", data,
             "--access-key", ACCESS, "--secret-key", SECRET, "--log-level", "error"],
            stdout=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if server.poll() is not None:
                    raise Failure(f"{binary} exited with status {server.returncode} before listening")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                raise Failure(f"{binary} did not listen on port {port} within 10 s")
            yield f"http://127.0.0.1:{port}", server.pid
        finally:
            server.terminate()
            server.wait(timeout=30)


def sha256_file(path, size=None):
    """Hashes the file at path; given a size, first fills it with that many random bytes, block by block."""
    digest = hashlib.sha256()
    with open(path, "rb" if size is None else "wb") as file:
        for offset in range(0, size or 0, BLOCK):
            block = os.urandom(min(BLOCK, size - offset))
            digest.update(block)
            file.write(block)
        while size is None and (block := file.read(BLOCK)):
            digest.update(block)
    return digest.hexdigest()


def transfers(s3, bucket, size, repeat, results):
    key = "transfer-object"
    with tempfile.TemporaryDirectory() as folder:
        source, target = os.path.join(folder, "upload"), os.path.join(folder, "download")
        digest = sha256_file(source, size)
        for _ in range(repeat):
            for name, call, args in (("upload", s3.upload_file, (source, bucket, key)),
                                     ("download", s3.download_file, (bucket, key, target))):
                started = time.perf_counter()
                with step(f"{name}_file"):
                    call(*args)
                results[f"{name}_mbps_runs"].append(size / (time.perf_counter() - started) / MB)
            if sha256_file(target) != digest:
                raise Failure("download_file: the downloaded file differs from the uploaded one")
            os.remove(target)
    with step("delete_object"):
        s3.delete_object(Bucket=bucket, Key=key)
    for name in ("upload", "download"):
        results[f"{name}_mbps"] = sum(results[f"{name}_mbps_runs"]) / repeat


def complete_multipart(s3, bucket, parts, results):
    key, body = "multipart-object", os.urandom(PART)
    with step("create_multipart_upload"):
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]

    def upload(number):
        answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        return {"ETag": answer["ETag"], "PartNumber": number}

    completed = False
    try:
        started = time.perf_counter()
        with step("upload_part"), ThreadPoolExecutor(max_workers=8) as pool:
            uploaded = list(pool.map(upload, range(1, parts + 1)))
        results["part_upload_seconds"] = time.perf_counter() - started
        results["part_upload_mbps"] = parts * PART / results["part_upload_seconds"] / MB
        started = time.perf_counter()
        with step("complete_multipart_upload"):
            s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": uploaded})
        results["complete_seconds"] = time.perf_counter() - started
        completed = True
    finally:
        if not completed:
            with contextlib.suppress(Exception):
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    with step("head_object"):
        head = s3.head_object(Bucket=bucket, Key=key)
    etag = head["ETag"].strip('"')
    if head["ContentLength"] != parts * PART or not etag.endswith(f"-{parts}"):
        raise Failure(f"HEAD after complete: size {head['ContentLength']}, ETag {etag}; expected {parts * PART}, '-{parts}'")
    md5s = hashlib.md5(body, usedforsecurity=False).digest() * parts  # S3's ETag: MD5 of the parts' MD5s, "-N"
    results["etag_is_md5_of_part_md5s"] = etag == hashlib.md5(md5s, usedforsecurity=False).hexdigest() + f"-{parts}"
    started = time.perf_counter()
    with step("head_object"):
        s3.head_object(Bucket=bucket, Key=key)
    results["head_ms"] = (time.perf_counter() - started) * 1000
    offset = parts * PART // 2 + 12345  # not aligned to a part, so it may straddle two
    started = time.perf_counter()
    with step("get_object (range)"):
        data = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={offset}-{offset + RANGE - 1}")["Body"].read()
    results["range_get_ms"] = (time.perf_counter() - started) * 1000
    if data != (body + body)[offset % PART: offset % PART + RANGE]:
        raise Failure(f"ranged GET at {offset}: {len(data)} bytes that differ from the uploaded ones")
    with step("delete_object"):
        s3.delete_object(Bucket=bucket, Key=key)


def report(results):
    size, parts, runs = results["size"], results["parts"], results["repeat"]
    rows = [(f"upload_file {size} (MB/s, mean of {runs})", "upload_mbps", ".1f"),
            (f"download_file {size} (MB/s, mean of {runs})", "download_mbps", ".1f"),
            ("server peak RSS after transfers (MiB)", "peak_rss_mib_after_transfers", ".1f"),
            (f"upload_part x{parts} of 5 MiB, 8 threads (MB/s)", "part_upload_mbps", ".1f"),
            (f"CompleteMultipartUpload of {parts} parts (s)", "complete_seconds", ".3f"),
            ("HeadObject (ms)", "head_ms", ".1f"),
            ("GetObject 1 MiB range (ms)", "range_get_ms", ".1f"),
            ("server peak RSS at end (MiB)", "peak_rss_mib_at_end", ".1f")]
    for label, name, fmt in rows:
        print(f"{label:<48} {format(results[name], fmt) if results.get(name) is not None else '-':>10}")
    print(json.dumps(results))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1G", help="size of the upload_file/download_file test file")
    parser.add_argument("--repeat", type=int, default=2, help="upload_file + download_file runs")
    parser.add_argument("--parts", type=int, default=1000, help="5 MiB parts for CompleteMultipartUpload")
    parser.add_argument("--phases", default="transfer,complete", help="which of transfer,complete to run")
    parser.add_argument("--binary", default=os.path.join(REPO, ".build/release/martlet"))
    parser.add_argument("--endpoint", help="a running server to use instead of starting the binary")
    parser.add_argument("--access-key", default=ACCESS)
    parser.add_argument("--secret-key", default=SECRET)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--pid", type=int, help="with --endpoint: the server's process id, to read its peak RSS")
    parser.add_argument("--bucket", default="bench-multipart")
    args = parser.parse_args()
    phases = args.phases.split(",")
    results = {"size": args.size, "repeat": args.repeat, "parts": args.parts, "upload_mbps_runs": [], "download_mbps_runs": []}
    server = contextlib.nullcontext((args.endpoint, args.pid)) if args.endpoint else local_server(args.binary)
    try:
        with server as (endpoint, pid):
            s3 = boto3.session.Session().client(
                "s3", endpoint_url=endpoint, region_name=args.region, aws_access_key_id=args.access_key,
                aws_secret_access_key=args.secret_key, config=Config(s3={"addressing_style": "path"}))
            with step("create_bucket"), contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
                s3.create_bucket(Bucket=args.bucket)
            if "transfer" in phases:
                transfers(s3, args.bucket, parse_size(args.size), args.repeat, results)
                results["peak_rss_mib_after_transfers"] = peak_rss_mib(pid) if pid else None
            if "complete" in phases:
                complete_multipart(s3, args.bucket, args.parts, results)
            results["peak_rss_mib_at_end"] = peak_rss_mib(pid) if pid else None
    except Failure as failure:
        results["error"] = str(failure)
        report(results)
        sys.exit(f"multipart.py: {failure}")
    report(results)


if __name__ == "__main__":
    main()
