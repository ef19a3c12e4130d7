"""Request documents are bounded before and while they are parsed: depth, element count, size, no DTDs.

Each of these once crashed the server (nesting), resolved a DTD entity, or kept memory; the server must answer
400 MalformedXML and keep serving.
"""

import base64
import hashlib
import threading
import uuid

import pytest
import requests

from hardening_helpers import rss_kib, wait_closed
from s3helpers import RawHTTP, error_fields, key_path


def md5_header(body: bytes) -> dict[str, str]:
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


NESTED = b"<a>" * 100_000 + b"</a>" * 100_000


def document_targets(s3, bucket):
    """(method, path, query) of every operation that parses a request document."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    return {
        "DeleteObjects": ("POST", key_path(bucket), {"delete": ""}),
        "PutBucketLifecycleConfiguration": ("PUT", key_path(bucket), {"lifecycle": ""}),
        "CompleteMultipartUpload": ("POST", key_path(bucket, "mp"), {"uploadId": upload}),
        "CreateBucket": ("PUT", "/nested-" + uuid.uuid4().hex, None),
        "PutBucketVersioning": ("PUT", key_path(bucket), {"versioning": ""}),
        "PutBucketTagging": ("PUT", key_path(bucket), {"tagging": ""}),
        "PutObjectLockConfiguration": ("PUT", key_path(bucket), {"object-lock": ""}),
    }


@pytest.mark.parametrize("operation", [
    "DeleteObjects", "PutBucketLifecycleConfiguration", "CompleteMultipartUpload", "CreateBucket",
    "PutBucketVersioning", "PutBucketTagging", "PutObjectLockConfiguration",
])
def test_deeply_nested_document_is_malformed_and_server_survives(server, s3, raw, bucket, operation):
    method, path, query = document_targets(s3, bucket)[operation]
    resp = raw.request(method, path, query=query, headers=md5_header(NESTED), body=NESTED)
    assert resp.status_code == 400, resp.content[:300]
    assert error_fields(resp.content)["Code"] == "MalformedXML"
    assert server.running(), "the server died parsing a nested document"
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert raw.request("GET", key_path(bucket)).status_code == 200


def test_doctype_with_external_entity_is_refused(s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    doc = (b'<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
           b"<Delete><Object><Key>keep</Key></Object><Object><Key>&e;</Key></Object></Delete>")
    resp = raw.request("POST", key_path(bucket), query={"delete": ""}, headers=md5_header(doc), body=doc)
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "MalformedXML"
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"x"  # nothing was deleted


def test_internal_entities_are_refused_too(raw, bucket):
    doc = (b'<?xml version="1.0"?><!DOCTYPE V [<!ENTITY s "Enabled">]>'
           b'<VersioningConfiguration><Status>&s;</Status></VersioningConfiguration>')
    resp = raw.request("PUT", key_path(bucket), query={"versioning": ""}, headers=md5_header(doc), body=doc)
    assert resp.status_code == 400
    assert error_fields(resp.content)["Code"] == "MalformedXML"


def test_complete_with_100000_parts_is_refused_without_keeping_memory(server, s3, raw, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="many")["UploadId"]
    etag = '"' + "0" * 32 + '"'
    doc = ("<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>" for n in range(1, 100_001))
        + "</CompleteMultipartUpload>").encode()
    before = rss_kib(server)
    for _ in range(3):
        resp = raw.request("POST", key_path(bucket, "many"), query={"uploadId": upload}, body=doc)
        assert resp.status_code == 400, resp.content[:300]
        assert error_fields(resp.content)["Code"] == "MalformedXML"
    grown = rss_kib(server) - before
    assert grown < 12 * 1024, f"RSS grew by {grown} KiB answering three oversized CompleteMultipartUpload requests"
    # The upload is untouched: a real Complete still works afterwards.
    part = s3.upload_part(Bucket=bucket, Key="many", UploadId=upload, PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(Bucket=bucket, Key="many", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})


def oversized_document() -> bytes:
    return b"<Delete>" + b"<Object><Key>k</Key></Object>" * (100 * 1024 * 1024 // 29) + b"</Delete>"


def test_oversized_body_with_connection_close_gets_its_answer(server, raw, bucket):
    # requests (urllib3) writes the whole body before reading: the server must keep reading (and dropping) it
    # after its early answer, or the client never sees that answer.
    body = oversized_document()
    prepared = raw.prepare("POST", key_path(bucket), query={"delete": ""}, headers={
        **md5_header(body), "Connection": "close"}, payload_hash="UNSIGNED-PAYLOAD")
    session = requests.Session()
    session.trust_env = False
    resp = session.post(prepared.url, headers=prepared.headers, data=body, timeout=30)
    assert resp.status_code == 400, resp.content[:300]
    assert error_fields(resp.content)["Code"] == "MalformedXML"


def test_oversized_body_answer_closes_the_connection(server, raw, bucket):
    # Without Connection: close the answer says close, and the server must then really close, not read the
    # rest of the body and wait.
    body = oversized_document()
    prepared = raw.prepare("POST", key_path(bucket), query={"delete": ""}, headers=md5_header(body),
                           payload_hash="UNSIGNED-PAYLOAD")
    with RawHTTP.to(server, timeout=30) as conn:
        headers = dict(prepared.headers)
        headers["Content-Length"] = str(len(body))
        conn.send_head("POST", prepared.target, headers)
        sender = threading.Thread(target=_send_quietly, args=(conn, body), daemon=True)
        sender.start()
        resp = conn.read_response(timeout=30)
        assert resp.status == 400, resp.body[:300]
        assert resp.header("connection") == "close"
        assert error_fields(resp.body)["Code"] == "MalformedXML"
        closed = wait_closed(conn, within=15)
        assert closed is not None, "the server kept the connection open after answering Connection: close"
        sender.join(timeout=15)


def _send_quietly(conn: RawHTTP, body: bytes) -> None:
    try:
        conn.send(body)
    except OSError:
        pass  # the server stopped reading and closed: expected once its linger bound is reached
