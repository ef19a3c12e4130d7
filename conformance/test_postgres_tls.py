"""TLS between a node and PostgreSQL (`sslmode` in the --index URL), against the test server, which offers TLS with
a self-signed certificate (scripts/with-postgres.sh): `require` encrypts every connection the node makes, `disable`
encrypts none, and `verify-full` refuses a certificate no trusted authority signed, so the node does not start.

Needs MARTLET_TEST_POSTGRES; runs in either pytest topology with nodes of its own."""

from __future__ import annotations

import subprocess
import time
from urllib.parse import urlsplit, urlunsplit

from cluster_helpers import psql
from conftest import make_client
from s3helpers import ServerStartError
from test_cluster_admin import Cluster, cluster, database  # noqa: F401 (fixtures)


def with_sslmode(url: str, mode: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query=f"sslmode={mode}"))


def encryption_of_connections(database: str) -> set[bool]:
    """Whether each of the other connections to `database` (the node's) is encrypted."""
    name = urlsplit(database).path.lstrip("/")
    rows = psql(with_sslmode(database, "disable"), f"""
        SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
        WHERE a.datname = '{name}' AND a.pid <> pg_backend_pid()""")
    return {row[0] == "t" for row in rows}


def test_require_encrypts_every_connection_and_disable_none(cluster, database):  # noqa: F811
    cluster.database = with_sslmode(database, "require")
    node = cluster.start("a")
    s3 = make_client(node)
    s3.create_bucket(Bucket="tls")
    s3.put_object(Bucket="tls", Key="k", Body=b"over TLS")
    assert s3.get_object(Bucket="tls", Key="k")["Body"].read() == b"over TLS"
    assert encryption_of_connections(database) == {True}
    node.stop()

    cluster.database = with_sslmode(database, "disable")
    node = cluster.start("b")  # a node's arguments are fixed when it is first made
    assert make_client(node).get_object(Bucket="tls", Key="k")["Body"].read() == b"over TLS"
    # The stopped node's server processes may take a moment to go.
    deadline = time.monotonic() + 10
    while encryption_of_connections(database) != {False} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert encryption_of_connections(database) == {False}


def test_verify_full_refuses_a_certificate_no_authority_signed(cluster, database):  # noqa: F811
    cluster.database = with_sslmode(database, "verify-full")
    try:
        node = cluster.start("a")
    except (ServerStartError, AssertionError, subprocess.TimeoutExpired):
        node = cluster.nodes["a"]
    deadline = time.monotonic() + 30
    while node.running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not node.running(), "a node trusted a self-signed database certificate"
    log = node.log_tail().lower()
    assert "certificate" in log or "tls" in log or "ssl" in log, log
