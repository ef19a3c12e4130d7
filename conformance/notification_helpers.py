"""Real receivers for event notifications: an HTTP webhook that can be taken down and brought back on the same
port, and a Redis server of Debian's, each on a free port, stopped after the test."""
import json
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from s3helpers import free_port


class WebhookReceiver:
    """Collects the JSON bodies POSTed to it. `status` is what it answers; `stop()` closes the port (connection
    refused) and every open connection, and `start()` opens it again on the same one."""

    def __init__(self, tls=None):
        self.tls = tls
        self.port = free_port()
        self.messages: list[dict] = []
        self.headers: list[dict] = []
        self.status = 200
        self.lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None
        # Keep-alive connections outlive the listening socket: stop() must close them too, or a sender that kept
        # one from before would still deliver to a receiver that is meant to be down.
        self.connections: set = set()
        self.down = False
        self.start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/events"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver.connections.add(self.connection)

            def finish(self):
                with receiver.lock:
                    receiver.connections.discard(self.connection)
                super().finish()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.down:
                    # A request that raced stop() on an old connection: dropped unanswered, as a dead host would.
                    self.close_connection = True
                    return
                if receiver.status == 200:
                    with receiver.lock:
                        receiver.messages.append(json.loads(body))
                        receiver.headers.append(dict(self.headers))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.down = False
        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        if self.tls:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.dir / "public.crt", self.tls.dir / "private.key")
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.down = True
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        with self.lock:
            open_connections, self.connections = list(self.connections), set()
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def records(self) -> list[dict]:
        with self.lock:
            return [r for m in self.messages for r in m.get("Records", [])]

    def test_events(self) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if m.get("Event") == "s3:TestEvent"]

    def wait_for(self, count: int, timeout: float = 20.0, what=None) -> list[dict]:
        """Waits until at least `count` records (matching `what`, if given) have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            records = [r for r in self.records() if what is None or what(r)]
            if len(records) >= count or time.monotonic() > deadline:
                return records
            time.sleep(0.05)


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


class RedisServer:
    def __init__(self, directory: Path):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(directory), "--requirepass", "redis-secret"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis
        self.client = redis.Redis(host="127.0.0.1", port=self.port, password="redis-secret")
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://:redis-secret@127.0.0.1:{self.port}/0?stream=uploads"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def notification_config(arn: str, events=("s3:ObjectCreated:*",), prefix=None, suffix=None, rule_id="rule", kind="Queue"):
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v is not None]
    entry = {"Id": rule_id, f"{kind}Arn": arn, "Events": list(events)}
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    key = {"Queue": "QueueConfigurations", "Topic": "TopicConfigurations", "LambdaFunction": "LambdaFunctionConfigurations"}[kind]
    return {key: [entry]}


def webhook_arn(target_id: str = "hook", region: str = "us-east-1") -> str:
    return f"arn:martlet:sqs:{region}:{target_id}:webhook"
