"""Durability: interrupted uploads, kill -9 in the middle of writes, readers racing an overwriter, and a graceful
stop with an upload in flight. Each test that restarts or kills gets its own server and data folder.

Relies on the data folder layout: `<data>/tmp/` holds uploads in progress, `<data>/blobs/` one file per stored blob
(a single-part object has exactly one).
"""

import hashlib
import os
import random
import threading
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import make_client
from s3helpers import RawHTTP, key_path, md5_hex, random_bytes

pytestmark = pytest.mark.martlet  # they look inside the data folder or restart the process


def _wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _object_count(s3, bucket) -> int:
    total, token = 0, None
    while True:
        kwargs = {"Bucket": bucket}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        total += page["KeyCount"]
        if not page["IsTruncated"]:
            return total
        token = page["NextContinuationToken"]


def _assert_no_leftovers(server, s3, bucket):
    """After a restart: nothing in tmp/, and exactly one blob per stored object (no orphans)."""
    objects = _object_count(s3, bucket)
    assert _wait_for(lambda: server.files_under("tmp") == []), \
        f"files left in tmp/: {server.files_under('tmp')[:10]}"
    blobs_match = _wait_for(lambda: len(server.files_under("blobs")) == objects)
    assert blobs_match, (f"{len(server.files_under('blobs'))} blob files for {objects} objects "
                         f"(orphans not collected)")


def test_interrupted_upload_leaves_nothing(server_factory):
    srv = server_factory.start("interrupted")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="durable")
    for i in range(3):
        s3.put_object(Bucket="durable", Key=f"kept-{i}", Body=random_bytes(50000 + i))

    full = random_bytes(1024 * 1024)
    prepared = srv.raw().prepare("PUT", key_path("durable", "partial"), body=full,
                                 headers={"Content-Length": str(len(full))})
    conn = RawHTTP.to(srv)
    conn.send_head("PUT", prepared.target, prepared.headers)
    conn.send(full[:100 * 1024])
    time.sleep(0.3)
    conn.close()
    time.sleep(0.5)

    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket="durable", Key="partial")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="durable")["Contents"]] == ["kept-0", "kept-1", "kept-2"]
    assert srv.running(), f"server died after a client disconnect\n{srv.log_tail()}"

    srv.restart()
    s3 = make_client(srv)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="durable")["Contents"]] == ["kept-0", "kept-1", "kept-2"]
    for i in range(3):
        assert len(s3.get_object(Bucket="durable", Key=f"kept-{i}")["Body"].read()) == 50000 + i
    _assert_no_leftovers(srv, s3, "durable")


def test_interrupted_aws_chunked_upload_leaves_nothing(server_factory):
    srv = server_factory.start("interrupted-chunked")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="durable")
    s3.put_object(Bucket="durable", Key="kept", Body=b"kept")
    data = random_bytes(512 * 1024)
    prepared = srv.raw().streaming_put(key_path("durable", "partial"), data, mode="signed")
    conn = RawHTTP.to(srv)
    conn.send_head("PUT", prepared.target, prepared.headers)
    conn.send(prepared.encoded[: len(prepared.encoded) // 2])
    time.sleep(0.3)
    conn.close()
    time.sleep(0.5)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="durable")["Contents"]] == ["kept"]
    srv.restart()
    s3 = make_client(srv)
    _assert_no_leftovers(srv, s3, "durable")


def test_overwrite_and_delete_free_blobs(server_factory):
    srv = server_factory.start("gc")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="gc-bucket")
    for generation in range(3):
        for i in range(4):
            s3.put_object(Bucket="gc-bucket", Key=f"k{i}", Body=random_bytes(10000 + generation))
    s3.delete_object(Bucket="gc-bucket", Key="k3")
    assert _wait_for(lambda: len(srv.files_under("blobs")) == 3), \
        f"{len(srv.files_under('blobs'))} blob files for 3 objects after overwrites and a delete"
    srv.restart()
    _assert_no_leftovers(srv, make_client(srv), "gc-bucket")


@pytest.mark.slow
@pytest.mark.crash
@pytest.mark.parametrize("threads,sizes", [
    pytest.param(20, (64 * 1024, 4 * 1024 * 1024), id="20-large"),
    # Small bodies: the index commits dominate, and concurrent PUTs share them (group commit).
    pytest.param(64, (1, 8 * 1024), id="64-small"),
])
def test_kill_9_during_concurrent_puts(server_factory, threads, sizes):
    srv = server_factory.start("crash")
    make_client(srv).create_bucket(Bucket="crash")
    acked: dict[str, str] = {}  # key -> md5 of a PUT answered 200
    attempted: dict[str, str] = {}  # key -> md5 of every PUT started
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def writer(t: int):
        client = make_client(srv, retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2,
                             read_timeout=20)
        rnd = random.Random(t)
        n = 0
        while not stop.is_set():
            key = f"t{t:02d}/obj-{n:04d}"
            body = os.urandom(rnd.randint(*sizes))
            digest = md5_hex(body)
            with lock:
                attempted[key] = digest
            try:
                resp = client.put_object(Bucket="crash", Key=key, Body=body)
            except Exception:  # noqa: BLE001 - the server is being killed under us
                return
            if resp["ResponseMetadata"]["HTTPStatusCode"] == 200:
                if resp["ETag"] != f'"{digest}"':
                    errors.append(f"{key}: ETag {resp['ETag']} for md5 {digest}")
                with lock:
                    acked[key] = digest
            n += 1

    workers = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(threads)]
    for w in workers:
        w.start()
    # Let the writers get going (some PUTs answered, others mid-body), then pull the plug.
    _wait_for(lambda: len(acked) >= 30, timeout=20, interval=0.05)
    time.sleep(0.3)
    srv.kill()
    stop.set()
    for w in workers:
        w.join(30)
    assert not errors, errors
    assert len(acked) >= 30, f"only {len(acked)} PUTs were answered before the kill"

    srv.start()
    s3 = make_client(srv, retries={"max_attempts": 1, "mode": "standard"})
    present = set()
    token = None
    while True:
        kwargs = {"Bucket": "crash"}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        present |= {o["Key"] for o in page.get("Contents", [])}
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]

    missing = sorted(set(acked) - present)
    assert not missing, f"{len(missing)} acknowledged PUTs lost by the crash, e.g. {missing[:5]}"
    assert present <= set(attempted), f"unexpected keys: {sorted(present - set(attempted))[:5]}"
    for key in sorted(present):
        got = s3.get_object(Bucket="crash", Key=key)
        data = got["Body"].read()
        digest = hashlib.md5(data).hexdigest()
        # Acknowledged: byte-identical. Unanswered: absent or complete — never torn.
        assert digest == attempted[key], f"{key}: stored bytes (md5 {digest}, {len(data)} B) are torn"
        assert got["ETag"] == f'"{digest}"', key
    _assert_no_leftovers(srv, s3, "crash")


@pytest.mark.slow
def test_readers_never_see_a_torn_overwrite(server, s3, bucket):
    size = 8 * 1024 * 1024
    bodies = [random_bytes(size, seed=1), random_bytes(size, seed=2)]
    digests = {md5_hex(b) for b in bodies}
    s3.put_object(Bucket=bucket, Key="hot", Body=bodies[0])
    done = threading.Event()
    problems: list[str] = []
    reads = [0]

    def overwriter():
        client = make_client(server, retries={"max_attempts": 1, "mode": "standard"})
        try:
            for i in range(8):
                client.put_object(Bucket=bucket, Key="hot", Body=bodies[(i + 1) % 2])
        except Exception as e:  # noqa: BLE001
            problems.append(f"writer: {e!r}")
        finally:
            done.set()

    def reader():
        client = make_client(server, retries={"max_attempts": 1, "mode": "standard"})
        while not done.is_set():
            try:
                got = client.get_object(Bucket=bucket, Key="hot")
                data = got["Body"].read()
            except Exception as e:  # noqa: BLE001
                problems.append(f"reader: {e!r}")
                return
            digest = hashlib.md5(data).hexdigest()
            if digest not in digests:
                problems.append(f"torn read: {len(data)} bytes, md5 {digest}")
            elif got["ETag"] != f'"{digest}"':
                problems.append(f"ETag {got['ETag']} does not describe the body (md5 {digest})")
            reads[0] += 1

    threads = [threading.Thread(target=overwriter)] + [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    assert not problems, problems[:5]
    assert reads[0] > 0


@pytest.mark.slow
@pytest.mark.crash
def test_sigterm_with_upload_in_flight(server_factory):
    srv = server_factory.start("graceful")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="graceful")
    size = 32 * 1024 * 1024
    data = random_bytes(size, seed=32)
    prepared = srv.raw().prepare("PUT", key_path("graceful", "big"), body=data,
                                 headers={"Content-Length": str(size)})
    conn = RawHTTP.to(srv, timeout=20)
    conn.send_head("PUT", prepared.target, prepared.headers)
    piece = 1024 * 1024
    status = None
    sent_all = True
    terminated_at = None
    try:
        for i in range(0, size, piece):
            if i == 4 * piece:
                srv.terminate()
                terminated_at = time.monotonic()
            conn.send(data[i:i + piece])
            time.sleep(0.03)
    except OSError:
        sent_all = False
    if terminated_at is None:
        srv.terminate()
        terminated_at = time.monotonic()
    if sent_all:
        try:
            status = conn.read_final_response(timeout=15).status
        except (OSError, ConnectionError):
            status = None
    conn.close()
    code = srv.wait(timeout=max(0.5, 10 - (time.monotonic() - terminated_at)))
    assert code is not None, "server still running 10 s after SIGTERM"
    assert code == 0, f"exit status {code} after SIGTERM\n{srv.log_tail()}"

    srv.start()
    s3 = make_client(srv)
    try:
        stored = s3.get_object(Bucket="graceful", Key="big")["Body"].read()
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        stored = None
    if status == 200:
        assert stored == data, "upload answered 200 during shutdown but the stored bytes differ"
    elif status is not None:
        assert stored is None, f"upload answered {status} but the object was stored"
    else:
        # No answer at all (connection closed): like a crash, absent or complete, never torn.
        assert stored is None or stored == data, "torn object after shutdown"
    _assert_no_leftovers(srv, s3, "graceful")


@pytest.mark.crash
def test_sigterm_with_idle_keep_alive_connection(server_factory):
    srv = server_factory.start("idle")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="idle")
    conn = RawHTTP.to(srv)
    conn.send_prepared(srv.raw().prepare("GET", key_path("idle"), {"list-type": "2"}))
    assert conn.read_final_response().status == 200  # the connection now sits idle, kept alive
    started = time.monotonic()
    srv.terminate()
    code = srv.wait(timeout=10)
    conn.close()
    assert code is not None, "an idle keep-alive connection kept the server from stopping"
    assert code == 0
    assert time.monotonic() - started < 10


@pytest.mark.crash
def test_restart_keeps_everything(server_factory):
    srv = server_factory.start("restart")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="restart")
    bodies = {f"k/{i}": random_bytes(1000 * (i + 1)) for i in range(10)}
    for key, body in bodies.items():
        s3.put_object(Bucket="restart", Key=key, Body=body, ContentType="text/x-restart", Metadata={"i": key})
    before = s3.list_objects_v2(Bucket="restart")["Contents"]
    srv.restart()
    s3 = make_client(srv)
    after = s3.list_objects_v2(Bucket="restart")["Contents"]
    assert after == before
    for key, body in bodies.items():
        got = s3.get_object(Bucket="restart", Key=key)
        assert got["Body"].read() == body
        assert got["ContentType"] == "text/x-restart"
        assert got["Metadata"] == {"i": key}
    assert "restart" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("via", ["flags", "env"])
def test_credentials_from_flags_or_environment(server_factory, via):
    srv = server_factory.start(f"creds-{via}", access_key="OTHERACCESSKEY000001", secret_key="other/secret+key",
                               credentials_in_env=(via == "env"))
    s3 = make_client(srv)
    s3.create_bucket(Bucket="creds")
    s3.put_object(Bucket="creds", Key="k", Body=b"v")
    assert s3.get_object(Bucket="creds", Key="k")["Body"].read() == b"v"
    import boto3

    wrong = boto3.client("s3", endpoint_url=srv.endpoint, region_name=srv.region,
                         aws_access_key_id=srv.access_key, aws_secret_access_key="different",
                         config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    with pytest.raises(ClientError) as info:
        wrong.get_object(Bucket="creds", Key="k")
    assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
