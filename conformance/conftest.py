"""Fixtures: the Martlet server processes under test and the clients that drive them.

The binary is MARTLET_BIN, else <repo>/.build/release/martlet. A missing binary ends the run with an error (never a
skip), so CI cannot go green without having tested anything.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from cluster_helpers import POSTGRES_ENV, MartletCluster, create_database, psql
from s3helpers import Certs, MartletServer, RawHTTP, RawS3, ServerStartError, free_port, make_certs

# Helper modules shared by test files assert on S3's answers too: have pytest rewrite their asserts like the tests' own
# (must run before any test module imports them).
pytest.register_assert_rewrite("checksum_test_helpers", "copy_helpers", "multipart_helpers", "access_helpers")

# The object lock fixtures (lock_bucket, lock_buckets) live beside their helpers.
pytest_plugins = ("object_lock_helpers", "access_helpers")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

ACCESS_KEY = "MARTLETCONFORMANCE01"
# '/' and '+' as in real AWS secrets, to catch anything that escapes or decodes the secret.
SECRET_KEY = "conformance/Secret+Key0123456789abcdefghij"
REGION = "us-east-1"


def pytest_addoption(parser):
    parser.addoption(
        "--topology", choices=("single", "cluster"), default="single",
        help="single (default): every server is one martlet process on SQLite. cluster: `server` and the servers of "
             "server_factory are two nodes on a fresh PostgreSQL database (from MARTLET_TEST_POSTGRES, see "
             "scripts/with-postgres.sh) and one shared data folder, behind haproxy, round robin; tests marked "
             "single_node are deselected.")


def pytest_configure(config):
    if config.getoption("--topology") == "cluster":
        # A cluster run without its database must fail, never quietly test nothing.
        if not os.environ.get(POSTGRES_ENV):
            raise pytest.UsageError(f"--topology cluster needs {POSTGRES_ENV} (a postgres:// URL of a superuser): "
                                    f"run it under ./scripts/with-postgres.sh")
        if not shutil.which("haproxy") and not os.access("/usr/sbin/haproxy", os.X_OK):
            raise pytest.UsageError("--topology cluster needs haproxy: run ./scripts/setup.sh --cluster")
    # Keep the developer's ~/.aws config and any proxy settings out of every client the suite starts.
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                "AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION", "AWS_CA_BUNDLE"):
        os.environ.pop(var, None)
    no_proxy = "127.0.0.1,localhost,.example.test,example.test"
    for var in ("NO_PROXY", "no_proxy"):
        os.environ[var] = (os.environ[var] + "," + no_proxy) if os.environ.get(var) else no_proxy


def pytest_collection_modifyitems(config, items):
    """In the cluster topology, tests that need one dedicated process (they read its log or data folder as one
    server writes it, or restart it) are left out."""
    if config.getoption("--topology") != "cluster":
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("single_node") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# --------------------------------------------------------------------------------------------------------------------
# The binary and server processes


def _binary() -> Path:
    return Path(os.environ.get("MARTLET_BIN") or REPO / ".build" / "release" / "martlet")


@pytest.fixture(scope="session")
def martlet_bin() -> Path:
    path = _binary()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.exit(
            f"martlet binary not found or not executable at {path}. Build it first "
            f"(swift build -c release) or point MARTLET_BIN at it.",
            returncode=3,
        )
    return path


class ServerPool:
    """Starts extra Martlet servers, each with its own data folder, and stops them all at teardown.

    In the cluster topology each server is a MartletCluster (its own database and data folder, two nodes, haproxy)
    unless the caller asks for a single node (`single=True`: TLS, a fixed website port).
    """

    def __init__(self, binary: Path, base: Path, topology: str = "single"):
        self.binary = binary
        self.base = base
        self.topology = topology
        self.servers: list[MartletServer | MartletCluster] = []
        self.databases: list[str] = []

    def start(self, name: str = "extra", *, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY,
              region: str = REGION, domain: str | None = None, tls: "Certs | None" = None,
              data_dir: Path | None = None, credentials_in_env: bool = False, start: bool = True,
              timeout: float = 20.0, extra_args: tuple[str, ...] = (), single: bool = False,
              nodes: tuple[str, ...] = ("a", "b")) -> MartletServer | MartletCluster:
        root = self.base / f"{name}-{len(self.servers)}"
        if self.topology == "cluster" and not single and tls is None:
            database = create_database(os.environ[POSTGRES_ENV])
            self.databases.append(database)
            cluster = MartletCluster(self.binary, root, database, access_key=access_key, secret_key=secret_key,
                                     region=region, domain=domain, node_names=nodes,
                                     credentials_in_env=credentials_in_env, data_dir=data_dir)
            cluster.extra_args = list(extra_args)
            self.servers.append(cluster)
            if start:
                self._start(cluster, max(timeout, 30.0))
            return cluster
        server = MartletServer(
            binary=self.binary,
            data_dir=data_dir or root / "data",
            log_dir=root / "logs",
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            domain=domain,
            certs_dir=tls.dir if tls else None,
            ca_file=tls.ca_file if tls else None,
            credentials_in_env=credentials_in_env,
        )
        server.extra_args = list(extra_args)
        self.servers.append(server)
        if start:
            self._start(server, timeout)
        return server

    @staticmethod
    def _start(server: MartletServer | MartletCluster, timeout: float) -> None:
        failure = None
        try:
            server.start(timeout=timeout)
        except ServerStartError as e:
            failure = str(e)
        if failure:
            pytest.fail(failure, pytrace=False)

    def stop_all(self) -> None:
        for server in self.servers:
            if isinstance(server, MartletCluster):
                server.shutdown()
            else:
                server.stop()
        # Best effort: the throwaway PostgreSQL server goes away with its run anyway.
        for database in self.databases:
            name = database.rsplit("/", 1)[1].split("?", 1)[0]
            try:
                psql(os.environ[POSTGRES_ENV], f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except Exception:  # noqa: BLE001
                pass


def _topology(config) -> str:
    return config.getoption("--topology")


@pytest.fixture(scope="session")
def topology(pytestconfig) -> str:
    """single or cluster (pytest --topology)."""
    return _topology(pytestconfig)


@pytest.fixture(scope="session")
def session_pool(martlet_bin, tmp_path_factory, topology):
    pool = ServerPool(martlet_bin, tmp_path_factory.mktemp("servers"), topology)
    yield pool
    pool.stop_all()


@pytest.fixture
def server_factory(martlet_bin, tmp_path_factory, topology):
    """Starts dedicated servers for one test (crash, restart, other credentials or regions); in the cluster
    topology, dedicated clusters."""
    pool = ServerPool(martlet_bin, tmp_path_factory.mktemp("dedicated"), topology)
    yield pool
    pool.stop_all()


@pytest.fixture(scope="session")
def server(session_pool) -> MartletServer | MartletCluster:
    """The shared plain-HTTP server most tests talk to: in the cluster topology, haproxy in front of two nodes (their
    MartletServers in `server.nodes`)."""
    return session_pool.start("main")


@pytest.fixture(scope="session")
def cluster(server, topology) -> MartletCluster:
    """The shared cluster, for tests that talk to its nodes one by one; skipped in the single topology."""
    if topology != "cluster":
        pytest.skip("needs --topology cluster (two nodes on PostgreSQL behind haproxy)")
    return server


@pytest.fixture(scope="session")
def website_server(session_pool) -> MartletServer:
    """A server with a website listener (its port in `website_port`) and website host names under `localhost`, which
    browsers resolve to this machine themselves."""
    port = free_port()
    server = session_pool.start("website", extra_args=("--website-address", f"127.0.0.1:{port}", "--website-domain", "localhost"),
                                single=True)
    server.website_port = port
    return server


# --------------------------------------------------------------------------------------------------------------------
# TLS


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("tls") / "certs")


@pytest.fixture(scope="session")
def tls_server(session_pool, certs) -> MartletServer:
    """A second shared server that speaks HTTPS (--certs-dir)."""
    return session_pool.start("tls", tls=certs)


# --------------------------------------------------------------------------------------------------------------------
# Clients


def make_client(server: MartletServer, **config_kwargs):
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        verify=server.verify,
        config=Config(**config_kwargs) if config_kwargs else None,
    )


@pytest.fixture(scope="session")
def s3(server):
    """boto3 with its default configuration (path-style for an IP endpoint, SigV4, CRC32 checksums)."""
    return make_client(server)


@pytest.fixture(scope="session")
def s3_tls(tls_server):
    """boto3 over HTTPS: PutObject then goes out as aws-chunked with an unsigned CRC32 trailer."""
    return make_client(tls_server)


@pytest.fixture(scope="session")
def s3_noretry(server):
    """boto3 that never retries: for tests where a retry would hide what the server did."""
    return make_client(server, retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="session")
def raw(server) -> RawS3:
    return server.raw()


@pytest.fixture
def sock(server):
    """Opens raw sockets to a server (the main one by default); all are closed after the test."""
    opened: list[RawHTTP] = []

    def connect(target: MartletServer | None = None, timeout: float = 10.0) -> RawHTTP:
        conn = RawHTTP.to(target or server, timeout=timeout)
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()


def bucket_name(request, prefix: str = "mt") -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    suffix = uuid.uuid4().hex[:10]
    room = 63 - len(prefix) - len(suffix) - 2
    return f"{prefix}-{slug[:room].strip('-')}-{suffix}".replace("--", "-")


def _delete_all_versions(client, name: str) -> None:
    """Removes every object version and delete marker (ListObjectVersions, then DeleteObjects by VersionId)."""
    entries, key_marker, version_marker = [], None, None
    while True:
        kwargs = {"Bucket": name}
        if key_marker is not None:
            kwargs["KeyMarker"] = key_marker
            if version_marker is not None:
                kwargs["VersionIdMarker"] = version_marker
        page = client.list_object_versions(**kwargs)
        entries += [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if not page.get("IsTruncated"):
            break
        markers = page.get("NextKeyMarker"), page.get("NextVersionIdMarker")
        if markers[0] is None or markers == (key_marker, version_marker):
            break  # a server that does not advance must not hang the clean-up
        key_marker, version_marker = markers
    for i in range(0, len(entries), 1000):
        client.delete_objects(Bucket=name, Delete={"Objects": entries[i:i + 1000], "Quiet": True})


def empty_and_delete(client, name: str) -> None:
    """Best effort: a clean-up failure must not mask the test's own result.

    Versioned buckets lose all their versions and delete markers first; the current-object pass after it covers a
    server without ListObjectVersions.
    """
    try:
        _delete_all_versions(client, name)
    except Exception:  # noqa: BLE001
        pass
    try:
        token = None
        while True:
            kwargs = {"Bucket": name}
            if token:
                kwargs["ContinuationToken"] = token
            page = client.list_objects_v2(**kwargs)
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=name, Key=obj["Key"])
            if not page.get("IsTruncated"):
                break
            token = page["NextContinuationToken"]
        client.delete_bucket(Bucket=name)
    except Exception:  # noqa: BLE001
        pass


@pytest.fixture
def bucket(request, s3):
    """A fresh, uniquely named bucket on the main server; emptied and deleted afterwards."""
    name = bucket_name(request)
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


@pytest.fixture
def tls_bucket(request, s3_tls):
    name = bucket_name(request, "mts")
    s3_tls.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3_tls, name)


# --------------------------------------------------------------------------------------------------------------------
# aws-cli


@pytest.fixture
def aws(request, server, tmp_path):
    """Runs aws-cli (`python -m awscli` of this interpreter, i.e. the venv's) against a Martlet server.

    aws("s3", "ls", tls=False, check=True) -> CompletedProcess with text stdout/stderr.
    tls=True targets the HTTPS server and trusts its CA through AWS_CA_BUNDLE. target= picks any other server.
    """

    def run(*args: str, tls: bool = False, target: MartletServer | None = None, check: bool = True,
            cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        srv = target or (request.getfixturevalue("tls_server") if tls else server)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": srv.access_key,
            "AWS_SECRET_ACCESS_KEY": srv.secret_key,
            "AWS_DEFAULT_REGION": srv.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "PYTHONIOENCODING": "utf-8",
        })
        if srv.certs_dir:
            env["AWS_CA_BUNDLE"] = str(srv.ca_file)
        cmd = [sys.executable, "-m", "awscli", "--endpoint-url", srv.endpoint, *args]
        proc = subprocess.run(cmd, env=env, cwd=cwd or tmp_path, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            pytest.fail(
                f"aws-cli failed ({proc.returncode}): {' '.join(args)}\n--- stdout\n{proc.stdout}\n"
                f"--- stderr\n{proc.stderr}\n--- server stderr (tail)\n{srv.log_tail(3000)}",
                pytrace=False,
            )
        return proc

    return run


# --------------------------------------------------------------------------------------------------------------------
# Diagnostics


@pytest.fixture(autouse=True)
def _main_server_alive(request):
    """A crashed shared server would turn every later test into a connection error: say so plainly."""
    yield
    if "server" in request.fixturenames:
        srv = request.getfixturevalue("server")
        if not srv.running():
            pytest.fail(f"the shared martlet server exited (status {srv.proc.returncode}) during this test\n"
                        f"--- stderr (tail)\n{srv.log_tail()}", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for name in ("server", "tls_server"):
            srv = item.funcargs.get(name)
            if isinstance(srv, (MartletServer, MartletCluster)):
                report.sections.append((f"{name} stderr (tail)", srv.log_tail(3000)))
