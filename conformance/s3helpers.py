"""Plumbing for the conformance suite: server processes, a raw S3 client that signs with botocore's own signers
(so tests can tamper after signing), aws-chunked body builders, and a raw-socket HTTP client for the things
`requests` cannot do (partial bodies, `Expect: 100-continue` timing, hand-made chunked encodings).

Nothing here asserts S3 behaviour; the tests do.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence
from urllib.parse import quote, urlsplit
import xml.etree.ElementTree as ET

import requests
from botocore.auth import EMPTY_SHA256_HASH, SIGV4_TIMESTAMP, HmacV1Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"

STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


# --------------------------------------------------------------------------------------------------------------------
# Small pure helpers


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def crc32_b64(data: bytes) -> str:
    """The value S3 expects in `x-amz-checksum-crc32`: base64 of the big-endian CRC32."""
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def sha1_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data).digest()).decode()


def quoted_etag(data: bytes) -> str:
    return '"' + md5_hex(data) + '"'


def key_path(bucket: str, key: str = "") -> str:
    """Path-style request path with the key percent-encoded once, as S3 canonicalises it (`/` kept)."""
    return "/" + bucket + ("/" + quote(key, safe="/~") if key != "" else "")


def encode_query(query: Mapping[str, str | None] | Sequence[tuple[str, str | None]] | None) -> str:
    """`?k=v&flag` with RFC 3986 encoding; a None value yields a bare sub-resource name such as `?uploads`."""
    if not query:
        return ""
    items = query.items() if isinstance(query, Mapping) else query
    parts = []
    for k, v in items:
        ek = quote(k, safe="-_.~")
        parts.append(ek if v is None else ek + "=" + quote(str(v), safe="-_.~"))
    return "?" + "&".join(parts)


def random_bytes(n: int, seed: int | None = None) -> bytes:
    if seed is None:
        return os.urandom(n)
    import random

    return random.Random(seed).randbytes(n)


# --------------------------------------------------------------------------------------------------------------------
# XML


def strip_ns(elem: ET.Element) -> ET.Element:
    for e in elem.iter():
        if isinstance(e.tag, str) and e.tag.startswith("{"):
            e.tag = e.tag.split("}", 1)[1]
    return elem


def parse_xml(body: bytes | str) -> ET.Element:
    """Parses an S3 XML document and drops namespaces so tests can use plain tag names."""
    return strip_ns(ET.fromstring(body))


def error_fields(body: bytes | str) -> dict[str, str]:
    """The children of an S3 `<Error>` document as a dict (empty dict if the body is not one)."""
    if not body:
        return {}
    try:
        root = parse_xml(body)
    except ET.ParseError:
        return {}
    if root.tag != "Error":
        return {}
    return {child.tag: (child.text or "") for child in root}


# --------------------------------------------------------------------------------------------------------------------
# Server processes


def client_error(exc: ClientError) -> tuple[int, str]:
    """The HTTP status and S3 error code of a failed boto3 call."""
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]


def object_absent(s3, bucket: str, key: str) -> bool:
    """Whether HEAD finds no object; any answer but 200 or 404 fails the test."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response
        return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerStartError(RuntimeError):
    pass


@dataclass
class MartletServer:
    """One `martlet server` process. `start()` waits until the port accepts TCP connections."""

    binary: Path
    data_dir: Path
    log_dir: Path
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    domain: str | None = None
    certs_dir: Path | None = None
    ca_file: Path | None = None
    port: int = 0
    extra_args: Sequence[str] = ()
    # Pass the keys as MARTLET_ACCESS_KEY / MARTLET_SECRET_KEY instead of --access-key / --secret-key.
    credentials_in_env: bool = False
    # More environment variables for the server (MARTLET_* of the test runner's own are never passed on).
    extra_env: dict = field(default_factory=dict)
    proc: subprocess.Popen | None = field(default=None, repr=False)
    starts: int = 0

    @property
    def scheme(self) -> str:
        return "https" if self.certs_dir else "http"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def verify(self):
        """What to pass as `verify=` to boto3/requests for this server."""
        return str(self.ca_file) if self.certs_dir else True

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / "stdout.log"

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / "stderr.log"

    def command(self) -> list[str]:
        cmd = [
            str(self.binary), "server",
            "--address", f"127.0.0.1:{self.port}",
            "--data", str(self.data_dir),
            "--region", self.region,
        ]
        if not self.credentials_in_env:
            cmd += ["--access-key", self.access_key, "--secret-key", self.secret_key]
        if self.domain:
            cmd += ["--domain", self.domain]
        if self.certs_dir:
            cmd += ["--certs-dir", str(self.certs_dir)]
        cmd += list(self.extra_args)
        return cmd

    def start(self, timeout: float = 20.0) -> "MartletServer":
        if self.proc is not None and self.proc.poll() is None:
            raise ServerStartError("server already running")
        if not self.port:
            self.port = free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        marker = f"\n===== start #{self.starts}: {' '.join(self.command())}\n".encode()
        with open(self.stdout_path, "ab") as f:
            f.write(marker)
        with open(self.stderr_path, "ab") as f:
            f.write(marker)
        out = open(self.stdout_path, "ab")
        err = open(self.stderr_path, "ab")
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("MARTLET_")}
            if self.credentials_in_env:
                env["MARTLET_ACCESS_KEY"] = self.access_key
                env["MARTLET_SECRET_KEY"] = self.secret_key
            env.update(self.extra_env)
            self.proc = subprocess.Popen(self.command(), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         env=env)
        finally:
            out.close()
            err.close()
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                raise ServerStartError(
                    f"martlet exited with status {code} during start-up\ncommand: {' '.join(self.command())}\n"
                    f"--- stderr (tail) ---\n{self.log_tail()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.25):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise ServerStartError(
                    f"martlet did not accept TCP connections on port {self.port} within {timeout:.0f}s\n"
                    f"command: {' '.join(self.command())}\n--- stderr (tail) ---\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self) -> None:
        """Sends SIGTERM and returns at once."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int | None:
        """Waits for exit; returns the status, or None if still running after `timeout`."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout` seconds. Returns the exit status (negative for a signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: the crash case. Nothing gets a chance to flush."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self, timeout: float = 20.0) -> "MartletServer":
        """Stops (SIGTERM) if running and starts again on the same port and data folder."""
        self.stop()
        return self.start(timeout=timeout)

    def log_tail(self, n: int = 6000) -> str:
        try:
            return self.stderr_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return "(no stderr log)"

    def client(self, **config_kwargs):
        """A boto3 S3 client for this server; `config_kwargs` go to botocore's Config."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            verify=self.verify,
            config=Config(**config_kwargs) if config_kwargs else None,
        )

    def raw(self) -> "RawS3":
        return RawS3(self.endpoint, self.access_key, self.secret_key, self.region, verify=self.verify)

    def files_under(self, sub: str) -> list[Path]:
        root = self.data_dir / sub
        if not root.exists():
            return []
        return sorted(p for p in root.rglob("*") if p.is_file())


# --------------------------------------------------------------------------------------------------------------------
# Signing


class Signer(S3SigV4Auth):
    """botocore's S3 SigV4 signer with the clock and the payload hash under the caller's control.

    Everything else (canonical request, string to sign, key derivation) is botocore's own code, so the server is
    checked against an independent implementation.
    """

    def __init__(self, credentials: Credentials, region: str, *, when: dt.datetime | None = None,
                 payload_hash: str | None = None):
        super().__init__(credentials, "s3", region)
        self.when = when
        self.payload_hash = payload_hash
        self.timestamp = ""
        self.seed_signature = ""
        self.request: AWSRequest | None = None

    def payload(self, request):
        if self.payload_hash is not None:
            return self.payload_hash
        return super().payload(request)

    def add_auth(self, request):
        when = self.when or dt.datetime.now(dt.timezone.utc)
        self.timestamp = when.strftime(SIGV4_TIMESTAMP)
        request.context["timestamp"] = self.timestamp
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical)
        self.seed_signature = self.signature(string_to_sign, request)
        self._inject_signature_to_request(request, self.seed_signature)
        self.request = request

    # Chunk signatures, per AWS "sigv4-streaming" and "sigv4-streaming-trailers".
    def chunk_signature(self, previous: str, data: bytes) -> str:
        sts = "\n".join([
            "AWS4-HMAC-SHA256-PAYLOAD", self.timestamp, self.credential_scope(self.request), previous,
            EMPTY_SHA256_HASH, sha256_hex(data),
        ])
        return self.signature(sts, self.request)

    def trailer_signature(self, previous: str, canonical_trailer: bytes) -> str:
        sts = "\n".join([
            "AWS4-HMAC-SHA256-TRAILER", self.timestamp, self.credential_scope(self.request), previous,
            sha256_hex(canonical_trailer),
        ])
        return self.signature(sts, self.request)


@dataclass
class Prepared:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | Iterable[bytes] | None
    signer: Signer | None = None

    @property
    def target(self) -> str:
        """Request target (path + query) for a raw socket."""
        parts = urlsplit(self.url)
        return parts.path + ("?" + parts.query if parts.query else "")


class RawS3:
    """Sends arbitrary, optionally signed, S3 requests with `requests`.

    `path` is the already-encoded request path (use `key_path`). Headers given are signed (SigV4 signs every header
    it is handed); `after` headers are added after signing and so are unsigned or override signed values.
    """

    def __init__(self, endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1",
                 verify=True):
        self.endpoint = endpoint.rstrip("/")
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.verify = verify
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies from the environment for 127.0.0.1
        self.session.headers["Accept-Encoding"] = "identity"

    @property
    def netloc(self) -> str:
        return urlsplit(self.endpoint).netloc

    def prepare(self, method: str, path: str, query=None, headers: Mapping[str, str] | None = None,
                body: bytes = b"", *, auth: str | None = "v4", access_key: str | None = None,
                secret_key: str | None = None, region: str | None = None, when: dt.datetime | None = None,
                payload_hash: str | None = None, host: str | None = None) -> Prepared:
        url = self.endpoint + path + encode_query(query)
        hdrs = {"Host": host or self.netloc}
        hdrs.update(headers or {})
        req = AWSRequest(method=method, url=url, headers=hdrs, data=body if isinstance(body, bytes) else b"")
        creds = Credentials(access_key or self.access_key, secret_key or self.secret_key)
        signer = None
        if auth == "v4":
            signer = Signer(creds, region or self.region, when=when, payload_hash=payload_hash)
            signer.add_auth(req)
        elif auth == "v2":
            HmacV1Auth(creds).add_auth(req)
        elif auth is not None:
            raise ValueError(auth)
        return Prepared(method, url, {k: v for k, v in req.headers.items()}, body, signer)

    def send(self, prepared: Prepared, *, after: Mapping[str, str] | None = None, body=None,
             timeout: float = 60) -> requests.Response:
        headers = dict(prepared.headers)
        if after:
            for k in list(headers):
                if k.lower() in {a.lower() for a in after}:
                    del headers[k]
            headers.update(after)
        data = prepared.body if body is None else body
        resp = self.session.request(prepared.method, prepared.url, headers=headers, data=data,
                                    verify=self.verify, timeout=timeout, stream=True, allow_redirects=False)
        # Read the raw bytes: never let requests undo a Content-Encoding the object was stored with.
        # For HEAD this reads nothing but still lets urllib3 finish the response, so the pooled
        # connection can carry the next request.
        resp._content = resp.raw.read(decode_content=False)
        resp._content_consumed = True
        resp.close()
        return resp

    def request(self, method: str, path: str, query=None, headers=None, body: bytes = b"", *,
                after: Mapping[str, str] | None = None, send_body=None, timeout: float = 60,
                **sign_kwargs) -> requests.Response:
        """Signs (unless auth=None) and sends. `send_body` replaces the body after signing (tampering)."""
        prepared = self.prepare(method, path, query, headers, body, **sign_kwargs)
        return self.send(prepared, after=after, body=send_body, timeout=timeout)

    # ---- aws-chunked bodies ---------------------------------------------------------------------------------

    def streaming_put(self, path: str, data: bytes, *, mode: str = "signed", chunk_size: int = 64 * 1024,
                      checksum_name: str = "x-amz-checksum-crc32", checksum_value: str | None = None,
                      headers: Mapping[str, str] | None = None, http_chunked: bool = False,
                      corrupt_chunk: int | None = None, corrupt_signature: int | None = None,
                      corrupt_trailer_signature: bool = False) -> Prepared:
        """Builds a PUT with an aws-chunked body.

        mode: "signed" (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), "signed-trailer" (...-PAYLOAD-TRAILER) or
        "unsigned-trailer" (STREAMING-UNSIGNED-PAYLOAD-TRAILER). The trailer carries `checksum_name` with
        `checksum_value` (default: the correct CRC32 of `data`).
        corrupt_chunk=i flips one byte of chunk i's data *after* signing; corrupt_signature=i replaces chunk i's
        signature (the final empty chunk is index len(chunks)).
        http_chunked: send without Content-Length under `Transfer-Encoding: chunked` (the body is then an
        iterator), as boto3 does over HTTPS.
        """
        chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)]
        signed = mode in ("signed", "signed-trailer")
        trailer = mode in ("signed-trailer", "unsigned-trailer")
        payload_hash = {"signed": STREAMING_SIGNED, "signed-trailer": STREAMING_SIGNED_TRAILER,
                        "unsigned-trailer": STREAMING_UNSIGNED_TRAILER}[mode]
        if checksum_value is None:
            checksum_value = crc32_b64(data)
        canonical_trailer = f"{checksum_name}:{checksum_value}\n".encode()

        def encode(sigs: list[str], trailer_sig: str) -> bytes:
            out = bytearray()
            for i, chunk in enumerate(chunks + [b""]):
                if signed:
                    out += b"%x;chunk-signature=%s\r\n" % (len(chunk), sigs[i].encode())
                else:
                    out += b"%x\r\n" % len(chunk)
                if i < len(chunks):
                    payload = chunk
                    if corrupt_chunk == i:
                        payload = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
                    out += payload + b"\r\n"
            if trailer:
                out += canonical_trailer.replace(b"\n", b"\r\n")
                if signed:
                    out += b"x-amz-trailer-signature:" + trailer_sig.encode() + b"\r\n"
            out += b"\r\n"
            return bytes(out)

        hdrs = {
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(len(data)),
        }
        if trailer:
            hdrs["X-Amz-Trailer"] = checksum_name
        hdrs.update(headers or {})
        if not http_chunked:
            placeholder = encode(["0" * 64] * (len(chunks) + 1), "0" * 64)
            hdrs["Content-Length"] = str(len(placeholder))
        else:
            hdrs["Transfer-Encoding"] = "chunked"
        prepared = self.prepare("PUT", path, None, hdrs, b"", payload_hash=payload_hash)
        sigs: list[str] = []
        trailer_sig = ""
        if signed:
            signer = prepared.signer
            previous = signer.seed_signature
            for chunk in chunks + [b""]:
                previous = signer.chunk_signature(previous, chunk)
                sigs.append(previous)
            trailer_sig = signer.trailer_signature(previous, canonical_trailer)
            if corrupt_signature is not None:
                sigs[corrupt_signature] = "f" * 64 if sigs[corrupt_signature] != "f" * 64 else "e" * 64
            if corrupt_trailer_signature:
                trailer_sig = "0" * 64
        encoded = encode(sigs, trailer_sig)
        prepared.headers.pop("Transfer-Encoding", None)
        if http_chunked:
            # requests adds Transfer-Encoding itself for an iterator body.
            prepared.body = _pieces(encoded, 7919)
        else:
            prepared.body = encoded
        prepared.encoded = encoded  # type: ignore[attr-defined]
        return prepared


def _pieces(data: bytes, size: int):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def aws_chunked_unsigned(data: bytes, chunk_size: int, trailers: Sequence[tuple[str, str]] = ()) -> bytes:
    """An aws-chunked body without chunk signatures (the STREAMING-UNSIGNED-PAYLOAD-TRAILER form)."""
    out = bytearray()
    for i in range(0, len(data), chunk_size):
        chunk = data[i:i + chunk_size]
        out += b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    out += b"0\r\n"
    for name, value in trailers:
        out += f"{name}:{value}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


def http_chunked(data: bytes, chunk_size: int) -> bytes:
    """Plain HTTP/1.1 `Transfer-Encoding: chunked` framing."""
    out = bytearray()
    for i in range(0, len(data), chunk_size):
        chunk = data[i:i + chunk_size]
        out += b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    out += b"0\r\n\r\n"
    return bytes(out)


# --------------------------------------------------------------------------------------------------------------------
# Raw sockets


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes
    head: bytes  # the raw status line and header block

    def header(self, name: str, default=None):
        return self.headers.get(name.lower(), default)


class RawHTTP:
    """A blocking HTTP/1.1 client on a plain (or TLS) socket, byte for byte under the test's control."""

    def __init__(self, host: str, port: int, *, tls_ca: str | None = None, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            self.sock = ctx.wrap_socket(self.sock, server_hostname=host)
        self.buf = b""
        self.timeout = timeout

    @classmethod
    def to(cls, server: MartletServer, timeout: float = 10.0) -> "RawHTTP":
        return cls("127.0.0.1", server.port, tls_ca=str(server.ca_file) if server.certs_dir else None,
                   timeout=timeout)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_head(self, method: str, target: str, headers: Mapping[str, str]) -> None:
        lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send_prepared(self, prepared: Prepared, *, body: bytes | None = None,
                      extra: Mapping[str, str] | None = None) -> None:
        headers = dict(prepared.headers)
        headers.update(extra or {})
        payload = prepared.body if body is None else body
        if isinstance(payload, (bytes, bytearray)) and "content-length" not in {k.lower() for k in headers} \
                and "transfer-encoding" not in {k.lower() for k in headers}:
            headers["Content-Length"] = str(len(payload))
        self.send_head(prepared.method, prepared.target, headers)
        if isinstance(payload, (bytes, bytearray)) and payload:
            self.send(bytes(payload))

    def wait_readable(self, timeout: float) -> bool:
        """Whether bytes (or EOF) arrive within `timeout` seconds."""
        if self.buf:
            return True
        import select

        r, _, _ = select.select([self.sock], [], [], timeout)
        return bool(r)

    def _fill(self, timeout: float | None = None) -> bool:
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def _read_until(self, marker: bytes, timeout: float | None) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        while marker not in self.buf:
            remaining = None if deadline is None else max(0.001, deadline - time.monotonic())
            if not self._fill(remaining):
                raise ConnectionError(f"connection closed before {marker!r}; got {self.buf[:200]!r}")
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionError(f"connection closed with {len(self.buf)} of {n} body bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, *, head_request: bool = False, timeout: float | None = None) -> RawResponse:
        """Reads one response (a 1xx interim response counts as one)."""
        head = self._read_until(b"\r\n\r\n", timeout)
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)", lines[0])
        if not m:
            raise ConnectionError(f"bad status line {lines[0]!r}")
        status = int(m.group(1))
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            headers[name] = (headers[name] + ", " + value.strip()) if name in headers else value.strip()
        body = b""
        if status >= 200 and not head_request and status not in (204, 304):
            if "chunked" in headers.get("transfer-encoding", "").lower():
                while True:
                    size_line = self._read_until(b"\r\n", timeout)
                    size = int(size_line.split(b";")[0], 16)
                    if size == 0:
                        self._read_until(b"\r\n", timeout)  # (no trailers expected)
                        break
                    body += self._read_exact(size)
                    self._read_exact(2)
            elif "content-length" in headers:
                body = self._read_exact(int(headers["content-length"]))
            elif headers.get("connection", "").lower() == "close":
                while self._fill():
                    pass
                body, self.buf = self.buf, b""
        return RawResponse(status, m.group(2), headers, body, head)

    def read_final_response(self, **kw) -> RawResponse:
        while True:
            resp = self.read_response(**kw)
            if resp.status >= 200:
                return resp

    def read_all_until_close(self, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if not self._fill(max(0.01, deadline - time.monotonic())):
                    break
            except (socket.timeout, ConnectionError, OSError):
                break
        out, self.buf = self.buf, b""
        return out

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def http_date(when: dt.datetime) -> str:
    from email.utils import format_datetime

    return format_datetime(when.astimezone(dt.timezone.utc), usegmt=True)


# TLS


class Certs:
    def __init__(self, directory: Path, ca_file: Path):
        self.dir = directory
        self.ca_file = ca_file


def make_certs(directory: Path) -> Certs:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost signed by it.

    The server gets `public.crt` and `private.key` (PEM) in `directory`; clients trust `ca.crt`.
    """
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Martlet conformance test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (directory / "public.crt").write_bytes(cert.public_bytes(pem))
    (directory / "private.key").write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    ca_file = directory.parent / (directory.name + "-ca.crt")
    ca_file.write_bytes(ca_cert.public_bytes(pem))
    return Certs(directory, ca_file)
