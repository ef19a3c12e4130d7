"""HTTP/1.1 details real clients depend on: Expect: 100-continue, chunked request bodies, keep-alive."""

import time

import pytest

from s3helpers import RawHTTP, error_fields, http_chunked, key_path, quoted_etag, random_bytes, sha256_hex


def test_expect_100_continue_is_answered_promptly(server, s3, raw, bucket):
    body = random_bytes(64 * 1024)
    prepared = raw.prepare("PUT", key_path(bucket, "expect"), headers={
        "Content-Length": str(len(body)), "Expect": "100-continue"}, body=body)
    with RawHTTP.to(server) as conn:
        conn.send_head("PUT", prepared.target, prepared.headers)
        started = time.monotonic()
        assert conn.wait_readable(1.0), "no response to Expect: 100-continue within 1 s"
        interim = conn.read_response(timeout=2)
        elapsed = time.monotonic() - started
        assert interim.status == 100, interim.head
        assert interim.head.startswith(b"HTTP/1.1 100 Continue")
        assert elapsed < 0.5, f"100 Continue took {elapsed:.3f}s"
        conn.send(body)
        final = conn.read_final_response()
    assert final.status == 200, final.body
    assert final.header("etag") == quoted_etag(body)
    assert s3.get_object(Bucket=bucket, Key="expect")["Body"].read() == body


@pytest.mark.parametrize("failure", ["bad-signature", "unknown-key", "anonymous"])
def test_expect_100_continue_refused_before_body(server, s3, raw, bucket, failure):
    body = random_bytes(256 * 1024)
    kwargs = {"bad-signature": {"secret_key": "not-the-secret"},
              "unknown-key": {"access_key": "AKIAUNKNOWN000000000"},
              "anonymous": {"auth": None}}[failure]
    prepared = raw.prepare("PUT", key_path(bucket, "refused"), headers={
        "Content-Length": str(len(body)), "Expect": "100-continue"}, body=body, **kwargs)
    with RawHTTP.to(server) as conn:
        conn.send_head("PUT", prepared.target, prepared.headers)
        assert conn.wait_readable(2.0), "no answer to a request that fails authentication"
        resp = conn.read_response(timeout=2)
    assert resp.status == 403, resp.head  # not 100: the body is refused unread
    assert error_fields(resp.body)["Code"] in ("SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied")
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="refused")


@pytest.mark.parametrize("failure", ["missing-bucket", "key-too-long", "bad-content-md5", "object-exists",
                                     "if-match-missing", "if-match-stale"])
def test_expect_100_continue_refused_when_the_put_cannot_succeed(server, s3, raw, bucket, failure):
    # A signed, well-formed PUT that will fail anyway must be refused before the client sends its body.
    body = random_bytes(256 * 1024)
    s3.put_object(Bucket=bucket, Key="exists", Body=b"already here")
    path, headers = {
        "missing-bucket": ("/no-such-bucket-" + bucket + "/k", {}),
        "key-too-long": (key_path(bucket, "k" * 1025), {}),
        "bad-content-md5": (key_path(bucket, "k"), {"Content-MD5": "not-base64-md5"}),
        "object-exists": (key_path(bucket, "exists"), {"If-None-Match": "*"}),
        "if-match-missing": (key_path(bucket, "absent"), {"If-Match": '"0123456789abcdef0123456789abcdef"'}),
        "if-match-stale": (key_path(bucket, "exists"), {"If-Match": '"0123456789abcdef0123456789abcdef"'}),
    }[failure]
    expected = {"missing-bucket": (404, "NoSuchBucket"), "key-too-long": (400, "KeyTooLongError"),
                "bad-content-md5": (400, "InvalidDigest"), "object-exists": (412, "PreconditionFailed"),
                "if-match-missing": (404, "NoSuchKey"), "if-match-stale": (412, "PreconditionFailed")}[failure]
    prepared = raw.prepare("PUT", path, headers={
        "Content-Length": str(len(body)), "Expect": "100-continue", **headers}, body=body)
    with RawHTTP.to(server) as conn:
        conn.send_head("PUT", prepared.target, prepared.headers)
        assert conn.wait_readable(2.0), "no answer to a PUT that cannot succeed"
        resp = conn.read_response(timeout=2)
    assert (resp.status, error_fields(resp.body)["Code"]) == expected, resp.head
    assert s3.get_object(Bucket=bucket, Key="exists")["Body"].read() == b"already here"


def test_many_small_boto3_puts_do_not_stall(s3, bucket):
    # botocore waits up to 1 s for "100 Continue" on every PutObject; a server that never sends it costs 20 s here.
    started = time.monotonic()
    for i in range(20):
        s3.put_object(Bucket=bucket, Key=f"small/{i:02d}", Body=random_bytes(100))
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"20 x 100-byte PutObject took {elapsed:.1f}s"
    assert s3.list_objects_v2(Bucket=bucket, Prefix="small/")["KeyCount"] == 20


@pytest.mark.martlet  # AWS answers 411 MissingContentLength to a plain chunked PutObject
@pytest.mark.parametrize("payload", ["signed", "unsigned"])
def test_transfer_encoding_chunked_without_content_length(server, s3, raw, bucket, payload):
    body = random_bytes(100000)
    prepared = raw.prepare("PUT", key_path(bucket, "te-plain"), body=body,
                           payload_hash=None if payload == "signed" else "UNSIGNED-PAYLOAD")
    headers = dict(prepared.headers)
    headers["Transfer-Encoding"] = "chunked"
    with RawHTTP.to(server) as conn:
        conn.send_head("PUT", prepared.target, headers)
        conn.send(http_chunked(body, 3000))
        resp = conn.read_final_response()
    assert resp.status == 200, resp.body
    assert s3.get_object(Bucket=bucket, Key="te-plain")["Body"].read() == body


def test_signed_payload_hash_checked_for_chunked_body(server, s3, raw, bucket):
    body = random_bytes(5000)
    prepared = raw.prepare("PUT", key_path(bucket, "te-bad"), body=body, payload_hash=sha256_hex(b"other"))
    headers = dict(prepared.headers)
    headers["Transfer-Encoding"] = "chunked"
    with RawHTTP.to(server) as conn:
        conn.send_head("PUT", prepared.target, headers)
        conn.send(http_chunked(body, 1000))
        resp = conn.read_final_response()
    assert resp.status in (400, 411), resp.body
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="te-bad")


def test_keep_alive_serves_several_requests_on_one_connection(server, s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="ka", Body=b"keep alive")
    with RawHTTP.to(server) as conn:
        for _ in range(3):
            conn.send_prepared(raw.prepare("GET", key_path(bucket, "ka")))
            resp = conn.read_final_response()
            assert resp.status == 200
            assert resp.body == b"keep alive"
        conn.send_prepared(raw.prepare("HEAD", key_path(bucket, "ka")))
        head = conn.read_final_response(head_request=True)
        assert head.status == 200
        assert head.header("content-length") == "10"
        conn.send_prepared(raw.prepare("GET", key_path(bucket, "missing")))
        assert conn.read_final_response().status == 404
        conn.send_prepared(raw.prepare("GET", key_path(bucket, "ka")))
        assert conn.read_final_response().body == b"keep alive"


def test_pipelined_requests(server, s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="p1", Body=b"one")
    s3.put_object(Bucket=bucket, Key="p2", Body=b"two")
    with RawHTTP.to(server) as conn:
        for key in ("p1", "p2"):
            p = raw.prepare("GET", key_path(bucket, key))
            conn.send_head("GET", p.target, p.headers)
        assert conn.read_final_response().body == b"one"
        assert conn.read_final_response().body == b"two"


def test_http_1_0_clients_keep_alive_only_when_they_ask(server, s3, raw, bucket):
    """HTTP/1.0 (ApacheBench, older proxies): keep-alive is echoed when asked for, and otherwise the server closes
    after the response, since a 1.0 client reads a response without a length to the close."""
    s3.put_object(Bucket=bucket, Key="old", Body=b"one dot oh")
    prepared = raw.prepare("GET", key_path(bucket, "old"))
    request = "".join(f"{k}: {v}\r\n" for k, v in prepared.headers.items())
    with RawHTTP.to(server) as conn:
        for _ in range(2):
            conn.send(f"GET {prepared.target} HTTP/1.0\r\nConnection: keep-alive\r\n{request}\r\n".encode("latin-1"))
            response = conn.read_final_response()
            assert response.status == 200 and response.body == b"one dot oh"
            assert response.header("connection").lower() == "keep-alive"
    with RawHTTP.to(server) as conn:
        conn.send(f"GET {prepared.target} HTTP/1.0\r\n{request}\r\n".encode("latin-1"))
        response = conn.read_final_response()
        assert response.status == 200 and response.header("connection").lower() == "close"
        assert conn.wait_readable(2.0) and not conn._fill(2.0), "the server kept a plain HTTP/1.0 connection open"
