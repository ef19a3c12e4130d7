#!/usr/bin/env python3
"""PUT/GET throughput and server peak memory for Martlet, on loopback.

Starts the release binary on a free port with a temporary data folder, then for each object size PUTs and GETs
objects with a lean SigV4-signed HTTP client (botocore signs; the bodies stream through http.client so the
client is not the bottleneck), and reads the server's peak RSS (VmHWM) from /proc after each size.

    make build && .venv/bin/python bench/bench.py            # 4 KiB, 1 MiB, 1 GiB
    .venv/bin/python bench/bench.py --sizes 4K,64M --count 50

Results go in closing notes, not in tests.
"""
import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCESS, SECRET = "BENCHACCESSKEY", "bench-secret-key"
CHUNK = 1 << 20


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnsignedPayloadAuth(S3SigV4Auth):
    """Signs headers only, so the client need not hash the body before sending it."""

    def payload(self, request):
        return "UNSIGNED-PAYLOAD"


def wait_for_port(port, process, name="martlet"):
    """Returns once `port` accepts connections; exits if `process` dies first or nothing listens within 10 s."""
    for _ in range(200):
        if process.poll() is not None:
            sys.exit(f"{name} exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{name} did not start")


def start_martlet(data, port, binary=None, log_level="warning"):
    """The release binary serving `data` on 127.0.0.1:`port` with the benchmark keys, once it accepts connections."""
    binary = binary or os.path.join(REPO, ".build", "release", "martlet")
    process = subprocess.Popen(
        [binary, "server", "--address", f"127.0.0.1:{port}", "--data", data, "--access-key", ACCESS,
         "--secret-key", SECRET, "--log-level", log_level], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process


def signed_headers(method, url, extra=None):
    request = AWSRequest(method=method, url=url, headers=dict(extra or {}))
    UnsignedPayloadAuth(Credentials(ACCESS, SECRET), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Body:
    """A readable of `size` bytes made of one repeated 1 MiB block, so the client holds 1 MiB, not the object."""

    def __init__(self, size):
        self.left = size
        self.block = os.urandom(min(size, CHUNK))

    def read(self, n=-1):
        if self.left <= 0:
            return b""
        piece = self.block[: min(self.left, len(self.block), n if n > 0 else CHUNK)]
        self.left -= len(piece)
        return piece


def put(conn, port, path, size):
    url = f"http://127.0.0.1:{port}{path}"
    headers = signed_headers("PUT", url, {"Content-Length": str(size)})
    conn.request("PUT", path, body=Body(size), headers=headers)
    response = conn.getresponse()
    text = response.read()
    assert response.status == 200, (response.status, text)


def get(conn, port, path, size):
    url = f"http://127.0.0.1:{port}{path}"
    conn.request("GET", path, headers=signed_headers("GET", url))
    response = conn.getresponse()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    received = 0
    while True:
        n = response.readinto(view)
        if not n:
            break
        received += n
    assert response.status == 200 and received == size, (response.status, received)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="4K,1M,1G")
    parser.add_argument("--count", type=int, default=0, help="objects per size (default: scaled to the size)")
    parser.add_argument("--binary", default=os.path.join(REPO, ".build/release/martlet"))
    args = parser.parse_args()

    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = start_martlet(data, port, binary=args.binary, log_level="error")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, blocksize=CHUNK)
            conn.request("PUT", "/bench", headers=signed_headers("PUT", f"http://127.0.0.1:{port}/bench"))
            conn.getresponse().read()
            print(f"{'size':>8} {'count':>6} {'PUT/s':>9} {'PUT MB/s':>9} {'GET/s':>9} {'GET MB/s':>9} {'peak RSS MiB':>13}")
            for text in args.sizes.split(","):
                size = parse_size(text)
                count = args.count or max(3, min(500, (256 << 20) // max(size, 1)))
                started = time.perf_counter()
                for i in range(count):
                    put(conn, port, f"/bench/{text}-{i}", size)
                put_seconds = time.perf_counter() - started
                started = time.perf_counter()
                for i in range(count):
                    get(conn, port, f"/bench/{text}-{i}", size)
                get_seconds = time.perf_counter() - started
                print(f"{text:>8} {count:>6} {count / put_seconds:>9.1f} {count * size / put_seconds / 1e6:>9.1f} "
                      f"{count / get_seconds:>9.1f} {count * size / get_seconds / 1e6:>9.1f} {peak_rss_mib(server.pid):>13.1f}")
                sys.stdout.flush()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
