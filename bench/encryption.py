#!/usr/bin/env python3
"""Encryption at rest: 1 GiB PUT and GET unencrypted, SSE-S3 and SSE-C in the same run, and a 1 MiB ranged GET from
the middle of an encrypted 1 GiB object.

Plain HTTP compares unencrypted with SSE-S3; HTTPS (needed for SSE-C) compares all three, TLS included in each.
Each figure is the best of `--rounds`; the modes take turns within a round and the disk is synced before each PUT. The ranged GET reports its latency and the bytes the server read from disk
for it (/proc/PID/io rchar), which shows that only the chunks holding the range are read and opened.

    .venv/bin/python bench/encryption.py [--size-mib 1024] [--rounds 2] [--binary .build/release/martlet]
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "conformance"))
from bench import ACCESS, CHUNK, SECRET, Body, free_port, signed_headers, wait_for_port, peak_rss_mib  # noqa: E402
from s3helpers import make_certs  # noqa: E402

CUSTOMER_KEY = hashlib.sha256(b"bench").digest()
MODES = {
    "plain": {},
    "sse-s3": {"x-amz-server-side-encryption": "AES256"},
    "sse-c": {"x-amz-server-side-encryption-customer-algorithm": "AES256",
              "x-amz-server-side-encryption-customer-key": base64.b64encode(CUSTOMER_KEY).decode(),
              "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(CUSTOMER_KEY).digest()).decode()},
}


def read_key(mode):
    return MODES["sse-c"] if mode == "sse-c" else {}


class Target:
    def __init__(self, port, tls_context):
        self.port, self.tls = port, tls_context

    def connection(self):
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls, timeout=600)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def url(self, path):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def call(self, method, path, headers=None, body=None):
        conn = self.connection()
        conn.request(method, path, body=body, headers=signed_headers(method, self.url(path), headers))
        response = conn.getresponse()
        received = 0
        view = memoryview(bytearray(CHUNK))
        while True:
            n = response.readinto(view)
            if not n:
                break
            received += n
        conn.close()
        assert 200 <= response.status < 300, (method, path, response.status)
        return received


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def rchar(pid):
    with open(f"/proc/{pid}/io") as io:
        for line in io:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--binary", default=str(HERE.parent / ".build/release/martlet"))
    args = parser.parse_args()
    size = args.size_mib << 20
    results = {}
    with tempfile.TemporaryDirectory(prefix="martlet-bench-enc-") as work:
        work = Path(work)
        certs = make_certs(work / "certs")
        context = ssl.create_default_context(cafile=str(certs.ca_file))
        for scheme, modes in (("http", ["plain", "sse-s3"]), ("https", ["plain", "sse-s3", "sse-c"])):
            port = free_port()
            command = [args.binary, "server", "--address", f"127.0.0.1:{port}", "--data", str(work / scheme),
                       "--access-key", ACCESS, "--secret-key", SECRET, "--log-level", "warning"]
            if scheme == "https":
                command += ["--certs-dir", str(certs.dir)]
            (work / scheme).mkdir()
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for_port(port, server)
                target = Target(port, context if scheme == "https" else None)
                target.call("PUT", "/bench")
                rates = {mode: ([], []) for mode in modes}
                # Modes take turns within each round, and the disk is synced before each PUT, so that no mode
                # pays for another's page-cache writeback.
                for round_ in range(args.rounds):
                    for mode in modes:
                        path = f"/bench/{mode}-{round_}"
                        os.sync()
                        seconds, _ = timed(lambda: target.call(
                            "PUT", path, {**MODES[mode], "Content-Length": str(size)}, Body(size)))
                        rates[mode][0].append(size / seconds / 1e6)
                        seconds, got = timed(lambda: target.call("GET", path, read_key(mode)))
                        assert got == size
                        rates[mode][1].append(size / seconds / 1e6)
                for mode in modes:
                    results[f"{scheme} {mode}"] = {"put_mb_s": max(rates[mode][0]), "get_mb_s": max(rates[mode][1])}
                    if mode != "plain":
                        middle = size // 2 + 12_345
                        header = {**read_key(mode), "Range": f"bytes={middle}-{middle + (1 << 20) - 1}"}
                        latencies, reads = [], []
                        for _ in range(20):
                            before = rchar(server.pid)
                            seconds, got = timed(lambda: target.call("GET", f"/bench/{mode}-0", header))
                            reads.append(rchar(server.pid) - before)
                            assert got == 1 << 20
                            latencies.append(seconds * 1000)
                        latencies.sort()
                        results[f"{scheme} {mode}"]["ranged_1mib_ms_median"] = latencies[len(latencies) // 2]
                        results[f"{scheme} {mode}"]["ranged_1mib_bytes_read"] = min(reads)
                results[f"{scheme} peak_rss_mib"] = peak_rss_mib(server.pid)
            finally:
                server.terminate()
                server.wait(timeout=30)
    for name, figures in results.items():
        print(name, figures)
    for scheme in ("http", "https"):
        base = results[f"{scheme} plain"]
        for mode in ("sse-s3", "sse-c"):
            if f"{scheme} {mode}" in results:
                r = results[f"{scheme} {mode}"]
                print(f"{scheme} {mode}: PUT {r['put_mb_s'] / base['put_mb_s']:.2f}x, GET {r['get_mb_s'] / base['get_mb_s']:.2f}x of unencrypted")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
