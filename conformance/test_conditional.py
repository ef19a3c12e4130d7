"""Conditional writes (PutObject If-None-Match / If-Match) and concurrent writers of one key."""

import threading

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from s3helpers import client_error, md5_hex, quoted_etag, random_bytes


def test_if_none_match_star_creates_once(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="lock", Body=b"owner-1", IfNoneMatch="*")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="lock", Body=b"owner-2", IfNoneMatch="*")
    assert client_error(info.value) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="lock")["Body"].read() == b"owner-1"


def test_if_none_match_star_after_delete(s3, bucket):
    s3.put_object(Bucket=bucket, Key="lock", Body=b"1", IfNoneMatch="*")
    s3.delete_object(Bucket=bucket, Key="lock")
    s3.put_object(Bucket=bucket, Key="lock", Body=b"2", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="lock")["Body"].read() == b"2"


def test_if_match_etag(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="state", Body=b"v1")["ETag"]
    resp = s3.put_object(Bucket=bucket, Key="state", Body=b"v2", IfMatch=etag)
    assert resp["ETag"] == quoted_etag(b"v2")
    assert s3.get_object(Bucket=bucket, Key="state")["Body"].read() == b"v2"

    with pytest.raises(ClientError) as info:  # the old ETag no longer matches
        s3.put_object(Bucket=bucket, Key="state", Body=b"v3", IfMatch=etag)
    assert client_error(info.value) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="state")["Body"].read() == b"v2"


def test_if_match_on_missing_key(s3, bucket):
    # AWS conditional writes: If-Match on a key with no current object fails with 404 NoSuchKey.
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=quoted_etag(b"x"))
    assert client_error(info.value) == (404, "NoSuchKey")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="absent")


def test_if_none_match_with_an_etag_refuses_only_that_object(s3, bucket):
    # AWS documents If-None-Match: * for writes; an ETag takes its RFC 7232 meaning, as on GET.
    etag = s3.put_object(Bucket=bucket, Key="doc", Body=b"v1")["ETag"]
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="doc", Body=b"v2", IfNoneMatch=etag)
    assert client_error(info.value) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"v1"
    s3.put_object(Bucket=bucket, Key="doc", Body=b"v2", IfNoneMatch=quoted_etag(b"other"))
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"v2"


def test_if_match_star_needs_an_object(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="doc", Body=b"x", IfMatch="*")
    assert client_error(info.value) == (404, "NoSuchKey")
    s3.put_object(Bucket=bucket, Key="doc", Body=b"v1")
    s3.put_object(Bucket=bucket, Key="doc", Body=b"v2", IfMatch="*")
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"v2"


def test_conditional_put_sees_a_delete_marker_as_no_object(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    etag = s3.put_object(Bucket=bucket, Key="doc", Body=b"v1")["ETag"]
    s3.delete_object(Bucket=bucket, Key="doc")
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="doc", Body=b"v2", IfMatch=etag)
    assert client_error(info.value) == (404, "NoSuchKey")
    s3.put_object(Bucket=bucket, Key="doc", Body=b"v2", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"v2"


def _complete_one_part(s3, bucket, key, body, **conditions):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=body)
    return upload_id, lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]}, **conditions)


def test_complete_multipart_upload_evaluates_if_match_and_if_none_match(s3, bucket):
    _, complete = _complete_one_part(s3, bucket, "doc", b"x", IfMatch="*")
    with pytest.raises(ClientError) as info:
        complete()
    assert client_error(info.value) == (404, "NoSuchKey")

    first = _complete_one_part(s3, bucket, "doc", b"one", IfNoneMatch="*")[1]()
    _, complete = _complete_one_part(s3, bucket, "doc", b"two", IfNoneMatch="*")
    with pytest.raises(ClientError) as info:
        complete()
    assert client_error(info.value) == (412, "PreconditionFailed")
    _, complete = _complete_one_part(s3, bucket, "doc", b"two", IfMatch=quoted_etag(b"other"))
    with pytest.raises(ClientError) as info:
        complete()
    assert client_error(info.value) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"one"

    second = _complete_one_part(s3, bucket, "doc", b"two", IfMatch=first["ETag"])[1]()
    assert second["ETag"] != first["ETag"]
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"two"


@pytest.mark.slow
def test_concurrent_if_none_match_has_exactly_one_winner(server, bucket):
    threads = 20
    barrier = threading.Barrier(threads)
    results: list[tuple[int, bytes, str]] = []
    lock = threading.Lock()
    clients = [make_client(server, retries={"max_attempts": 1, "mode": "standard"}) for _ in range(threads)]

    def attempt(i: int):
        body = f"writer-{i:02d}".encode() * 1000
        barrier.wait()
        try:
            clients[i].put_object(Bucket=bucket, Key="contended", Body=body, IfNoneMatch="*")
            outcome = (200, body, "")
        except ClientError as e:
            status, code = client_error(e)
            outcome = (status, body, code)
        with lock:
            results.append(outcome)

    workers = [threading.Thread(target=attempt, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert len(results) == threads
    winners = [r for r in results if r[0] == 200]
    losers = [r for r in results if r[0] != 200]
    assert len(winners) == 1, [(s, c) for s, _, c in results]
    # AWS documents 409 ConditionalRequestConflict for a conditional write racing another one.
    assert all((s, c) in {(412, "PreconditionFailed"), (409, "ConditionalRequestConflict")} for s, _, c in losers)
    assert s3_get(clients[0], bucket, "contended") == winners[0][1]


def s3_get(client, bucket, key) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.mark.slow
def test_concurrent_unconditional_puts_all_succeed_with_one_intact_winner(server, bucket):
    threads = 10
    barrier = threading.Barrier(threads)
    bodies = [random_bytes(256 * 1024 + i) for i in range(threads)]
    statuses: list[int] = []
    clients = [make_client(server, retries={"max_attempts": 1, "mode": "standard"}) for _ in range(threads)]

    def put(i: int):
        barrier.wait()
        try:
            resp = clients[i].put_object(Bucket=bucket, Key="raced", Body=bodies[i])
            statuses.append(resp["ResponseMetadata"]["HTTPStatusCode"])
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            statuses.append(repr(e))

    workers = [threading.Thread(target=put, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert statuses == [200] * threads
    got = clients[0].get_object(Bucket=bucket, Key="raced")
    data = got["Body"].read()
    assert data in bodies
    assert got["ETag"] == '"' + md5_hex(data) + '"'
    assert clients[0].list_objects_v2(Bucket=bucket)["KeyCount"] == 1
