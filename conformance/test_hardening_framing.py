"""Broken request framing is the client's fault: a 4xx with AWS's code, nothing stored, nothing logged as an error.

Each case once answered 500 InternalError and logged at error level.
"""

import socket
import time

import pytest

from hardening_helpers import error_lines, send_head_and_body
from s3helpers import RawHTTP, error_fields, key_path, object_absent

CHUNKED = {"Transfer-Encoding": "chunked"}

CASES = {
    # name: (extra headers, raw body, half-close after sending, expected status, expected code)
    "chunk-size-larger-than-data": (CHUNKED, b"FFFF\r\nhello", True, 400, "IncompleteBody"),
    "negative-chunk-size": (CHUNKED, b"-5\r\nhello\r\n0\r\n\r\n", False, 400, "BadRequest"),
    "non-hex-chunk-size": (CHUNKED, b"zz\r\nhello\r\n0\r\n\r\n", False, 400, "BadRequest"),
    "overflowing-chunk-size": (CHUNKED, b"FFFFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", False, 400, "BadRequest"),
    "no-final-chunk": (CHUNKED, b"5\r\nhello\r\n", True, 400, "IncompleteBody"),
    "gzip-transfer-coding": ({"Transfer-Encoding": "gzip"}, b"hello", False, 501, "NotImplemented"),
    "gzip-then-chunked": ({"Transfer-Encoding": "gzip, chunked"}, b"5\r\nhello\r\n0\r\n\r\n", False, 501,
                          "NotImplemented"),
    "short-content-length": ({"Content-Length": "1000"}, b"0123456789", True, 400, "IncompleteBody"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_body_framing_is_a_client_error(server, s3, raw, bucket, case):
    extra, body, half_close, status, code = CASES[case]
    key = "framing-" + case
    prepared = raw.prepare("PUT", key_path(bucket, key), payload_hash="UNSIGNED-PAYLOAD")
    with RawHTTP.to(server) as conn:
        send_head_and_body(conn, prepared, body, extra)
        if half_close:
            conn.sock.shutdown(socket.SHUT_WR)
        resp = conn.read_final_response(timeout=10)
    assert resp.status == status, resp.body[:300]
    assert error_fields(resp.body)["Code"] == code
    request_id = resp.header("x-amz-request-id")
    assert request_id
    assert object_absent(s3, bucket, key)
    assert server.running()
    time.sleep(0.1)
    assert error_lines(server, request_id) == [], "a client's broken body was logged as a server error"


def test_client_disconnect_mid_upload_is_not_an_internal_error(server, s3, raw, bucket):
    before = len(error_lines(server))
    prepared = raw.prepare("PUT", key_path(bucket, "gone"), payload_hash="UNSIGNED-PAYLOAD")
    for _ in range(3):
        conn = RawHTTP.to(server)
        send_head_and_body(conn, prepared, b"x" * 100_000, {"Content-Length": str(1 << 20)})
        conn.close()
    time.sleep(0.5)
    assert object_absent(s3, bucket, "gone")
    assert error_lines(server)[before:] == []
    assert not list((server.data_dir / "tmp").glob("*")) if (server.data_dir / "tmp").exists() else True


def test_aws_chunked_body_cut_short_is_incomplete(server, s3, raw, bucket):
    data = b"a" * 200_000
    prepared = raw.streaming_put(key_path(bucket, "cut"), data, mode="unsigned-trailer")
    encoded = prepared.encoded
    with RawHTTP.to(server) as conn:
        headers = dict(prepared.headers)
        conn.send_head("PUT", prepared.target, headers)
        conn.send(encoded[: len(encoded) // 2])
        conn.sock.shutdown(socket.SHUT_WR)
        resp = conn.read_final_response(timeout=10)
    assert resp.status == 400, resp.body[:300]
    assert error_fields(resp.body)["Code"] == "IncompleteBody"
    assert object_absent(s3, bucket, "cut")
    assert error_lines(server, resp.header("x-amz-request-id")) == []


def test_malformed_request_head_gets_an_s3_error(server):
    with RawHTTP.to(server) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n")
        resp = conn.read_response(timeout=5)
    assert resp.status == 400
    assert resp.header("x-amz-request-id")
    assert error_fields(resp.body)["Code"] == "BadRequest"
