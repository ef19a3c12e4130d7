"""Crash safety of multipart uploads, each test on its own server and data folder: kill -9 while
CompleteMultipartUpload assembles a 200-part (1000 MiB) upload, kill -9 while UploadPartCopy copies a large object
into a part, and kill -9 with uploads pending.

After every restart the object is either entirely there (right size, bytes and ETag) or absent (404); a Complete
that was answered 200 is never lost; the upload is either completed (NoSuchUpload) or still listed with all its
parts, completable and abortable. Once everything is deleted and aborted, no file may be left in the data folder
besides the index (orphaned blobs are collected at start-up, `tmp/` is emptied).
"""

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from s3helpers import UNSIGNED_PAYLOAD, key_path, quoted_etag, random_bytes

pytestmark = [pytest.mark.slow, pytest.mark.crash, pytest.mark.martlet]

MiB = 1024 * 1024
PART = 5 * MiB
N_PARTS = 200
COMPLETE_KILL_DELAYS = [0.002, 0.01, 0.03, 0.08]  # seconds after sending Complete
COPY_SOURCE_SIZE = 128 * MiB
COPY_KILL_DELAYS = [0.005, 0.03, 0.1, 0.3]
ROUND_BUDGET = 60.0  # seconds: no new 1000 MiB upload is started after this


# --------------------------------------------------------------------------------------------------------------------
# Helpers


class StampedParts:
    """N distinct parts of PART bytes: one random buffer with the part number in its last 8 bytes, so they are cheap
    to build, hash (md5 of the shared prefix is computed once) and compare."""

    def __init__(self, n: int, seed: int):
        self.n = n
        self.base = random_bytes(PART - 8, seed=seed)
        self._prefix_md5 = hashlib.md5(self.base)

    @staticmethod
    def stamp(number: int) -> bytes:
        return number.to_bytes(8, "big")

    def body(self, number: int) -> bytes:
        return self.base + self.stamp(number)

    def digest(self, number: int) -> bytes:
        h = self._prefix_md5.copy()
        h.update(self.stamp(number))
        return h.digest()

    def etag(self, number: int) -> str:
        return '"' + self.digest(number).hex() + '"'

    @property
    def size(self) -> int:
        return self.n * PART

    @property
    def object_etag(self) -> str:
        digests = b"".join(self.digest(i) for i in range(1, self.n + 1))
        return f'"{hashlib.md5(digests).hexdigest()}-{self.n}"'


def _wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _client(srv):
    return make_client(srv, retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120)


def _stored_files(srv) -> list:
    """Every file in the data folder except the SQLite index, the server's key file and its lock file, which are no
    object's."""
    return sorted(p for p in srv.data_dir.rglob("*")
                  if p.is_file() and not p.name.startswith("index.sqlite") and p.name not in ("master.key", "server.lock"))


def _assert_no_leftovers(srv) -> None:
    """Call with every object deleted and every upload completed or aborted."""
    assert _wait_for(lambda: srv.files_under("tmp") == []), f"files left in tmp/: {srv.files_under('tmp')[:10]}"
    assert _wait_for(lambda: _stored_files(srv) == []), \
        f"{len(_stored_files(srv))} files left with nothing stored (orphans): {_stored_files(srv)[:10]}"


def _complete_xml(parts: list[tuple[int, str]]) -> bytes:
    body = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>" for n, etag in parts)
    return (f'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{body}'
            f"</CompleteMultipartUpload>").encode()


def _upload_stamped_parts(srv, bucket: str, key: str, upload_id: str, parts: StampedParts, workers: int = 4):
    """UploadPart 1..N with UNSIGNED-PAYLOAD (no client-side hashing of 1000 MiB), a few at a time."""

    def work(numbers):
        raw = srv.raw()
        for number in numbers:
            resp = raw.request("PUT", key_path(bucket, key), {"partNumber": str(number), "uploadId": upload_id},
                               body=parts.body(number), payload_hash=UNSIGNED_PAYLOAD)
            assert resp.status_code == 200, (number, resp.status_code, resp.content[:300])
            assert resp.headers["ETag"] == parts.etag(number), number

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, [range(w + 1, parts.n + 1, workers) for w in range(workers)]))


def _read_exact(stream, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = stream.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def _stamped_object_present(s3, bucket: str, key: str, parts: StampedParts) -> bool:
    """False if the key is absent; True if it holds exactly the N parts in order (asserts so otherwise)."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response
        return False
    assert head["ContentLength"] == parts.size, f"torn object: {head['ContentLength']} bytes"
    assert head["ETag"] == parts.object_etag
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    for number in range(1, parts.n + 1):
        chunk = _read_exact(body, PART)
        assert len(chunk) == PART, f"object ends inside part {number}"
        assert chunk[-8:] == parts.stamp(number), f"part {number} is out of place"
        assert chunk[:-8] == parts.base, f"part {number} bytes differ"
    assert body.read() == b""
    return True


def _all_parts(s3, bucket: str, key: str, upload_id: str) -> list[tuple[int, str, int]]:
    out = []
    for page in s3.get_paginator("list_parts").paginate(Bucket=bucket, Key=key, UploadId=upload_id):
        out += [(p["PartNumber"], p["ETag"], p["Size"]) for p in page.get("Parts", [])]
    return out


def _pending_ids(s3, bucket: str) -> list[str]:
    return [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def _no_such_upload(s3, bucket: str, key: str, upload_id: str) -> bool:
    try:
        s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]) == \
            (404, "NoSuchUpload")
    return False


def _send_in_thread(srv, method: str, path: str, query, *, body: bytes = b"", headers=None) -> tuple:
    """Starts a raw request in a thread; returns (thread, result dict with status/body or error)."""
    result: dict = {}

    def run():
        try:
            resp = srv.raw().request(method, path, query, headers=headers, body=body, timeout=120)
            result["status"] = resp.status_code
            result["body"] = resp.content
        except Exception as e:  # noqa: BLE001 - the server is killed under us
            result["error"] = repr(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _succeeded(result: dict, root_tag: bytes) -> bool:
    # S3 may answer 200 and put an <Error> in the body: only the result document is success.
    return result.get("status") == 200 and root_tag in result.get("body", b"")


# --------------------------------------------------------------------------------------------------------------------
# Tests


@pytest.mark.timeout(400)
@pytest.mark.single_node(reason="checks tmp/ and blobs/ hold no leftovers after a restart; a cluster keeps freed blobs for --blob-grace")
def test_kill_9_during_complete_multipart_upload(server_factory):
    srv = server_factory.start("mpu-crash-complete")
    s3 = _client(srv)
    s3.create_bucket(Bucket="crash")
    parts = StampedParts(N_PARTS, seed=200)
    xml = _complete_xml([(i, parts.etag(i)) for i in range(1, N_PARTS + 1)])
    started = time.monotonic()
    upload_id = None
    outcomes = []

    for delay in COMPLETE_KILL_DELAYS:
        if upload_id is None:
            if outcomes and time.monotonic() - started > ROUND_BUDGET:
                break
            upload_id = s3.create_multipart_upload(Bucket="crash", Key="big")["UploadId"]
            _upload_stamped_parts(srv, "crash", "big", upload_id, parts)

        thread, result = _send_in_thread(srv, "POST", key_path("crash", "big"), {"uploadId": upload_id}, body=xml)
        time.sleep(delay)
        srv.kill()
        thread.join(30)
        srv.start()
        s3 = _client(srv)

        present = _stamped_object_present(s3, "crash", "big", parts)
        if _succeeded(result, b"CompleteMultipartUploadResult"):
            assert present, f"Complete answered 200 {delay}s in, but the object is gone after kill -9"
        elif "status" in result:
            assert not present, f"Complete answered {result['status']} but the object was stored"
        if present:
            assert _no_such_upload(s3, "crash", "big", upload_id), "object completed but its upload lives on"
            assert upload_id not in _pending_ids(s3, "crash")
            outcomes.append(f"{delay}: completed")
            s3.delete_object(Bucket="crash", Key="big")
            upload_id = None
        else:
            listed = _all_parts(s3, "crash", "big", upload_id)
            assert listed == [(i, parts.etag(i), PART) for i in range(1, N_PARTS + 1)], \
                f"pending upload lost parts in the crash: {len(listed)} of {N_PARTS} listed"
            assert _pending_ids(s3, "crash") == [upload_id]
            outcomes.append(f"{delay}: pending")

    if upload_id is not None:
        # An upload that survived a crash mid-Complete must still complete, without the kill this time.
        resp = srv.raw().request("POST", key_path("crash", "big"), {"uploadId": upload_id}, body=xml, timeout=120)
        assert resp.status_code == 200, resp.content[:500]
        assert _stamped_object_present(s3, "crash", "big", parts)
        assert _pending_ids(s3, "crash") == []
        s3.delete_object(Bucket="crash", Key="big")
    assert outcomes, "no round ran"
    _assert_no_leftovers(srv)


@pytest.mark.timeout(300)
@pytest.mark.single_node(reason="checks tmp/ and blobs/ hold no leftovers after a restart; a cluster keeps freed blobs for --blob-grace")
def test_kill_9_during_upload_part_copy(server_factory):
    srv = server_factory.start("mpu-crash-copy")
    s3 = _client(srv)
    s3.create_bucket(Bucket="crash")
    source = random_bytes(COPY_SOURCE_SIZE, seed=128)
    source_etag = quoted_etag(source)
    resp = srv.raw().request("PUT", key_path("crash", "source"), body=source, payload_hash=UNSIGNED_PAYLOAD,
                             timeout=120)
    assert resp.status_code == 200, resp.content
    upload_id = s3.create_multipart_upload(Bucket="crash", Key="copy")["UploadId"]
    full_part = [(1, source_etag, COPY_SOURCE_SIZE)]
    have_part = False

    for delay in COPY_KILL_DELAYS:
        thread, result = _send_in_thread(srv, "PUT", key_path("crash", "copy"),
                                         {"partNumber": "1", "uploadId": upload_id},
                                         headers={"x-amz-copy-source": "/crash/source"})
        time.sleep(delay)
        srv.kill()
        thread.join(30)
        srv.start()
        s3 = _client(srv)

        listed = _all_parts(s3, "crash", "copy", upload_id)  # the upload itself always survives
        if _succeeded(result, b"CopyPartResult") or have_part:
            assert listed == full_part, f"kill {delay}s into UploadPartCopy: part 1 is {listed}"
        else:
            assert listed in ([], full_part), f"kill {delay}s into UploadPartCopy left a torn part: {listed}"
        have_part = listed == full_part
        assert s3.head_object(Bucket="crash", Key="source")["ETag"] == source_etag
        assert srv.files_under("tmp") == [], "tmp/ not emptied at start-up"

    if not have_part:
        copied = s3.upload_part_copy(Bucket="crash", Key="copy", UploadId=upload_id, PartNumber=1,
                                     CopySource={"Bucket": "crash", "Key": "source"})
        assert copied["CopyPartResult"]["ETag"] == source_etag
    s3.complete_multipart_upload(Bucket="crash", Key="copy", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": source_etag}]})
    for key, etag in [("copy", f'"{hashlib.md5(hashlib.md5(source).digest()).hexdigest()}-1"'),
                      ("source", source_etag)]:
        got = s3.get_object(Bucket="crash", Key=key)
        assert got["ETag"] == etag, key
        assert hashlib.md5(got["Body"].read()).hexdigest() == source_etag.strip('"'), key
    s3.delete_object(Bucket="crash", Key="copy")
    s3.delete_object(Bucket="crash", Key="source")
    _assert_no_leftovers(srv)


@pytest.mark.single_node(reason="checks tmp/ and blobs/ hold no leftovers after a restart; a cluster keeps freed blobs for --blob-grace")
def test_pending_uploads_survive_kill_9(server_factory):
    srv = server_factory.start("mpu-crash-pending")
    s3 = _client(srv)
    s3.create_bucket(Bucket="crash")
    kept_id = s3.create_multipart_upload(Bucket="crash", Key="kept", ContentType="text/x-kept",
                                         Metadata={"origin": "before-crash"})["UploadId"]
    dropped_id = s3.create_multipart_upload(Bucket="crash", Key="dropped")["UploadId"]
    bodies = [random_bytes(PART, seed=1), random_bytes(PART, seed=2), random_bytes(1234, seed=3)]
    for number, body in enumerate(bodies, 1):
        s3.upload_part(Bucket="crash", Key="kept", UploadId=kept_id, PartNumber=number, Body=body)
        s3.upload_part(Bucket="crash", Key="dropped", UploadId=dropped_id, PartNumber=number, Body=body)
    before = _all_parts(s3, "crash", "kept", kept_id)
    assert [p[0] for p in before] == [1, 2, 3]

    srv.kill()
    srv.start()
    s3 = _client(srv)
    # Give the start-up orphan sweep time to run: it must not take the parts of pending uploads for orphans.
    time.sleep(1.0)
    assert _all_parts(s3, "crash", "kept", kept_id) == before
    assert _all_parts(s3, "crash", "dropped", dropped_id) == before
    assert sorted(_pending_ids(s3, "crash")) == sorted([kept_id, dropped_id])

    s3.complete_multipart_upload(Bucket="crash", Key="kept", UploadId=kept_id, MultipartUpload={"Parts": [
        {"PartNumber": n, "ETag": etag} for n, etag, _ in before]})
    got = s3.get_object(Bucket="crash", Key="kept")
    assert got["Body"].read() == b"".join(bodies)
    assert got["ContentType"] == "text/x-kept"
    assert got["Metadata"] == {"origin": "before-crash"}
    digests = b"".join(hashlib.md5(b).digest() for b in bodies)
    assert got["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-3"'
    assert s3.abort_multipart_upload(Bucket="crash", Key="dropped", UploadId=dropped_id)[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _pending_ids(s3, "crash") == []
    s3.delete_object(Bucket="crash", Key="kept")
    _assert_no_leftovers(srv)
