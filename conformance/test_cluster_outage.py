"""A node whose PostgreSQL index becomes unreachable: it reports not ready and fails requests at once with
503 ServiceUnavailable (which SDKs retry) instead of holding each one for the connection pool's 15 s, and serves again
on its own once the database is back. The database is "lost" by cutting a TCP forwarder between the node and it.

Needs MARTLET_TEST_POSTGRES (scripts/with-postgres.sh); runs in either pytest topology with a node of its own."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import make_client
from test_cluster_admin import Cluster, cluster, database  # noqa: F401 (fixtures)


class Forwarder:
    """Forwards a local port to the database; `cut()` closes the port and every connection through it, `mend()`
    listens on the same port again."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = 0
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def mend(self) -> "Forwarder":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        if self.listener is not None:
            # shutdown wakes the thread blocked in accept(), which would otherwise keep the port bound.
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            connections, self.connections = self.connections, []
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{port}"))


def ready_status(node) -> int:
    try:
        return requests.get(node.endpoint + "/_martlet/health/ready", timeout=5).status_code
    except requests.RequestException:
        return 0


def wait_for(probe, within: float) -> bool:
    deadline = time.monotonic() + within
    while not probe():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_node_that_loses_its_database_answers_503_at_once_and_recovers(cluster, database):  # noqa: F811
    parts = urlsplit(database)
    forwarder = Forwarder(parts.hostname, parts.port).mend()
    try:
        cluster.database = through(database, forwarder.port)
        node = cluster.start("a")
        s3 = make_client(node, retries={"max_attempts": 1})
        s3.create_bucket(Bucket="outage")
        s3.put_object(Bucket="outage", Key="k", Body=b"before")

        forwarder.cut()
        assert wait_for(lambda: ready_status(node) == 503, within=8), "the node still says it is ready"
        started = time.monotonic()
        with pytest.raises(ClientError) as failure:
            s3.get_object(Bucket="outage", Key="k")
        took = time.monotonic() - started
        assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert failure.value.response["Error"]["Code"] == "ServiceUnavailable"
        assert took < 1.0, f"a request waited {took:.1f} s for a database the node knew was gone"
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket="outage", Key="k", Body=b"during")
        assert refused.value.response["Error"]["Code"] == "ServiceUnavailable"

        forwarder.mend()
        assert wait_for(lambda: ready_status(node) == 200, within=30), f"not ready again\n{node.log_tail()}"
        assert s3.get_object(Bucket="outage", Key="k")["Body"].read() == b"before", "nothing written while it was down"
        s3.put_object(Bucket="outage", Key="k", Body=b"after")
        assert s3.get_object(Bucket="outage", Key="k")["Body"].read() == b"after"
    finally:
        forwarder.cut()
