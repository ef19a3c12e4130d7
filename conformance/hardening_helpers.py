"""Shared by the hardening tests: the server's memory, its log, and signed requests with odd bodies."""

from __future__ import annotations

import re
import time
from pathlib import Path

from s3helpers import MartletServer, RawHTTP


def rss_kib(server: MartletServer) -> int:
    """The server process's resident set, in KiB."""
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


def error_lines(server: MartletServer, request_id: str | None = None) -> list[str]:
    """Log lines at error level (or above), optionally only those naming a request id."""
    lines = server.stderr_path.read_text(errors="replace").splitlines()
    found = [line for line in lines if re.search(r" (error|critical) ", line)]
    return [line for line in found if request_id in line] if request_id else found


def wait_closed(conn: RawHTTP, within: float) -> float | None:
    """Seconds until the server closes the connection (EOF or reset), or None if it stays open `within` seconds.

    Bytes the server sends meanwhile are read and dropped."""
    started = time.monotonic()
    deadline = started + within
    while time.monotonic() < deadline:
        try:
            conn.sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = conn.sock.recv(65536)
        except TimeoutError:
            return None
        except OSError:
            return time.monotonic() - started
        if not data:
            return time.monotonic() - started
    return None


def send_head_and_body(conn: RawHTTP, prepared, body: bytes, extra: dict[str, str]) -> None:
    """Sends a signed request's head with `extra` headers (unsigned) and then `body`, byte for byte."""
    headers = {k: v for k, v in prepared.headers.items() if k.lower() not in {e.lower() for e in extra}}
    headers.update(extra)
    conn.send_head(prepared.method, prepared.target, headers)
    if body:
        conn.send(body)
