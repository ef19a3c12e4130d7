"""The cluster topology: several `martlet server` nodes over one PostgreSQL database and one shared data folder, with
Debian's haproxy in front of them, round robin per request.

`MartletCluster` answers to what tests use of a `MartletServer` (endpoint, port, credentials, data_dir, raw(),
client(), start/stop/kill/restart of every node), so `pytest --topology cluster` can hand it out as `server` and
from `server_factory`; `nodes` are the nodes themselves, for tests that talk to one node directly.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit, urlunsplit

from s3helpers import MartletServer, RawS3, ServerStartError, free_port

POSTGRES_ENV = "MARTLET_TEST_POSTGRES"

def data_args(server) -> list[str]:
    """What an offline `martlet admin` command needs to reach a server's index: its data folder, and for a cluster
    the shared database too (the folder holds no index)."""
    args = ["--data", str(server.data_dir)]
    if isinstance(server, MartletCluster):
        args += ["--index", server.database_url]
    return args


def create_database(admin_url: str) -> str:
    """Creates a fresh, uniquely named database on the server of `admin_url` (a superuser's URL) and returns a URL
    to it, so every cluster starts from an empty index."""
    name = "martlet_" + uuid.uuid4().hex[:16]
    done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", admin_url, "-c", f"CREATE DATABASE {name}"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise ServerStartError(f"CREATE DATABASE {name} failed ({done.returncode}): {done.stderr.strip()}")
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path="/" + name))


def psql(url: str, sql: str) -> list[list[str]]:
    """Runs one statement; the rows, each as its columns' text (psql's unaligned output)."""
    done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed ({done.returncode}) on {sql!r}: {done.stderr.strip()}")
    return [line.split("\t") for line in done.stdout.splitlines() if line]


class HAProxy:
    """haproxy in front of the nodes' ports: HTTP mode, round robin per request (one request per connection), a
    refused connection retried on the other node, timeouts long enough for large uploads and slow tests."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def config_path(self) -> Path:
        return self.directory / "haproxy.cfg"

    @property
    def log_path(self) -> Path:
        return self.directory / "haproxy.log"

    def config(self, backends: Sequence[tuple[str, int]]) -> str:
        # No health checks: a node that is down refuses the connection and the request is redispatched to the
        # other one, while a check would keep a restarted node marked down (503) until its next probe.
        servers = "\n".join(f"    server {name} 127.0.0.1:{port}" for name, port in backends)
        return f"""global
    maxconn 4096

defaults
    mode http
    # Requests the suite sends on purpose (odd bytes in keys, odd headers) must reach Martlet to be judged there.
    option accept-invalid-http-request
    option accept-invalid-http-response
    # One request per connection on both sides: every request is balanced on its own (so consecutive ones really
    # alternate), and a client that got an early error to `Expect: 100-continue` and then sends its next request
    # without the body (botocore does) cannot have that request taken for the unsent body: haproxy keeping the
    # client connection alive did exactly that, and Martlet's `Connection: close` does not reach the client
    # through it.
    option httpclose
    http-reuse never
    # A node that refuses the connection (killed) gets the request's retry on the other node.
    retries 3
    option redispatch 1
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-request 300s
    timeout http-keep-alive 60s
    timeout tunnel 300s

frontend s3
    bind 127.0.0.1:{self.port}
    default_backend nodes

backend nodes
    balance roundrobin
{servers}
"""

    def start(self, backends: Sequence[tuple[str, int]], timeout: float = 10.0) -> None:
        binary = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)
        if binary is None:
            raise ServerStartError("haproxy is not installed: run ./scripts/setup.sh --cluster")
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        self.config_path.write_text(self.config(backends))
        with open(self.log_path, "ab") as log:
            # -db: stay in the foreground, so the fixture owns the process and its exit.
            self.proc = subprocess.Popen([binary, "-db", "-f", str(self.config_path)], stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ServerStartError(f"haproxy exited with status {self.proc.returncode} during start-up\n"
                                       f"{self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.25):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(f"haproxy did not listen on port {self.port} within {timeout:.0f}s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class MartletCluster:
    """Nodes `a`, `b`... of one cluster (one database, one data folder, one set of credentials) behind haproxy.

    Settings a test changes before `start()` (extra_args, extra_env, credentials_in_env) apply to every node.
    """

    def __init__(self, binary: Path, root: Path, database_url: str, *, access_key: str, secret_key: str,
                 region: str = "us-east-1", domain: str | None = None, node_names: Sequence[str] = ("a", "b"),
                 credentials_in_env: bool = False, data_dir: Path | None = None):
        self.binary = binary
        self.root = root
        self.database_url = database_url
        self.data_dir = data_dir or root / "data"
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.domain = domain
        self.credentials_in_env = credentials_in_env
        self.extra_args: list[str] = []
        self.extra_env: dict = {}
        self.certs_dir = None
        self.ca_file = None
        self.lb = HAProxy(root / "haproxy")
        self.nodes = [self._node(name) for name in node_names]
        self.starts = 0

    def _node(self, name: str) -> MartletServer:
        node = MartletServer(binary=self.binary, data_dir=self.data_dir, log_dir=self.root / f"node-{name}",
                             access_key=self.access_key, secret_key=self.secret_key, region=self.region,
                             domain=self.domain, credentials_in_env=self.credentials_in_env)
        node.name = name
        return node

    # What tests read of a server: the load balancer's address, the cluster's credentials.

    scheme = "http"
    verify = True

    @property
    def port(self) -> int:
        return self.lb.port

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.lb.port}"

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.lb.port}"

    @property
    def proc(self) -> subprocess.Popen | None:
        """The first node that exited, else the first node's process (for the suite's "server died" report)."""
        for node in self.nodes:
            if node.proc is not None and node.proc.poll() is not None:
                return node.proc
        return self.nodes[0].proc

    def node_args(self, node: MartletServer) -> list[str]:
        return ["--index", self.database_url, "--node-id", node.name, *self.extra_args]

    def start(self, timeout: float = 30.0) -> "MartletCluster":
        """Starts every node that is not running (one after another: the first creates the schema and, without
        MARTLET_MASTER_KEY, the shared master.key), then haproxy if it is not running."""
        self.starts += 1
        for node in self.nodes:
            if node.running():
                continue
            node.extra_args = self.node_args(node)
            node.extra_env = dict(self.extra_env)
            node.credentials_in_env = self.credentials_in_env
            node.access_key, node.secret_key, node.region, node.domain = (self.access_key, self.secret_key,
                                                                          self.region, self.domain)
            node.start(timeout=timeout)
        if self.lb.proc is None or self.lb.proc.poll() is not None:
            self.lb.start([(node.name, node.port) for node in self.nodes])
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until every node answers its readiness probe (its index reachable and migrated)."""
        import requests

        deadline = time.monotonic() + timeout
        for node in self.nodes:
            while True:
                try:
                    if requests.get(node.endpoint + "/_martlet/health/ready", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise ServerStartError(f"node {node.name} not ready within {timeout:.0f}s\n{node.log_tail()}")
                time.sleep(0.05)

    def running(self) -> bool:
        return all(node.running() for node in self.nodes)

    def terminate(self) -> None:
        for node in self.nodes:
            node.terminate()

    def wait(self, timeout: float) -> int | None:
        statuses = [node.wait(timeout) for node in self.nodes]
        return None if None in statuses else statuses[0]

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stops every node (haproxy stays, so a restart keeps the address)."""
        statuses = [node.stop(timeout) for node in self.nodes]
        return statuses[0]

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()

    def restart(self, timeout: float = 30.0) -> "MartletCluster":
        self.stop()
        return self.start(timeout=timeout)

    def shutdown(self) -> None:
        self.stop()
        self.lb.stop()

    @property
    def stderr_path(self) -> Path:
        return self.nodes[0].stderr_path

    def log_tail(self, n: int = 6000) -> str:
        return "\n".join(f"--- node {node.name}\n{node.log_tail(n // len(self.nodes))}" for node in self.nodes)

    def client(self, **config_kwargs):
        return MartletServer.client(self, **config_kwargs)

    def raw(self) -> RawS3:
        return RawS3(self.endpoint, self.access_key, self.secret_key, self.region, verify=True)

    def files_under(self, sub: str) -> list[Path]:
        return MartletServer.files_under(self, sub)
