"""Server-side encryption at rest: SSE-S3, SSE-KMS with the built-in key service, SSE-C, bucket default encryption.

Each object's blobs are AES-256-GCM in independently authenticated chunks, so these tests also look at the data
folder: the plaintext must not be on disk, and a tampered blob must be refused, never returned.
"""
import base64
import hashlib
import os

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import empty_and_delete, make_client
from s3helpers import client_error

MARKER = b"martlet-plaintext-marker-7f3a9c"


def customer_key(seed: bytes = b"a") -> dict:
    """boto3's SSE-C parameters: a 32-character key, which boto3 sends base64-encoded with its MD5."""
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": hashlib.sha256(seed).hexdigest()[:32]}


def body(size: int) -> bytes:
    """`size` bytes with the marker repeated through them, so any stretch of plaintext on disk is found."""
    unit = MARKER + os.urandom(97)
    return (unit * (size // len(unit) + 1))[:size]


def blob_files(server) -> list:
    return [p for p in (server.data_dir / "blobs").rglob("*") if p.is_file()]


def test_sse_s3_round_trip_reports_and_ranges(s3, bucket):
    data = body(300_000)
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    assert put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), "SSE-S3 keeps the plaintext MD5 as its ETag, as AWS does"
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == "AES256" and head["ContentLength"] == len(data)
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["ServerSideEncryption"] == "AES256"
    assert got["Body"].read() == data
    for first, last in [(0, 0), (65_535, 65_537), (131_000, 299_999), (70_000, 200_000)]:
        part = s3.get_object(Bucket=bucket, Key="k", Range=f"bytes={first}-{last}")["Body"].read()
        assert part == data[first:last + 1], (first, last)


def test_plain_object_reports_no_encryption(s3, bucket):
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert "ServerSideEncryption" not in s3.head_object(Bucket=bucket, Key="plain")


def test_plaintext_never_reaches_the_disk(server_factory):
    srv = server_factory.start("plaintext")
    client = make_client(srv)
    client.create_bucket(Bucket="sealed")
    data = body(1_000_000)
    client.put_object(Bucket="sealed", Key="one", Body=data, ServerSideEncryption="AES256")
    client.put_object(Bucket="sealed", Key="small", Body=MARKER, ServerSideEncryption="AES256")
    files = blob_files(srv)
    assert len(files) == 2
    for path in files:
        assert MARKER not in path.read_bytes(), f"plaintext found in {path}"
    # The control: an unencrypted upload's marker is found the same way, so the search itself works.
    client.put_object(Bucket="sealed", Key="plain", Body=MARKER)
    assert any(MARKER in p.read_bytes() for p in blob_files(srv))


def test_bucket_default_encryption(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_encryption(Bucket=bucket)
    assert client_error(e.value) == (404, "ServerSideEncryptionConfigurationNotFoundError")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert rules[0]["BucketKeyEnabled"] is False
    put = s3.put_object(Bucket=bucket, Key="defaulted", Body=b"hello")
    assert put["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="defaulted")["Body"].read() == b"hello"
    s3.delete_bucket_encryption(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_encryption(Bucket=bucket)
    assert client_error(e.value)[0] == 404
    assert "ServerSideEncryption" not in s3.put_object(Bucket=bucket, Key="after", Body=b"x")


def test_bucket_encryption_refuses_malformed_rules(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "x"}}]})
    assert client_error(e.value) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "no-such-key"}}]})
    assert client_error(e.value) == (400, "KMS.NotFoundException")


@pytest.mark.parametrize("headers, code", [
    ({"x-amz-server-side-encryption": "aes:kms"}, "InvalidArgument"),
    ({"x-amz-server-side-encryption-aws-kms-key-id": "k"}, "InvalidArgument"),
    ({"x-amz-server-side-encryption": "AES256", "x-amz-server-side-encryption-aws-kms-key-id": "k"}, "InvalidArgument"),
    ({"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "no-such-key"}, "KMS.NotFoundException"),
    ({"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-context": "bm90IGpzb24="}, "InvalidArgument"),
], ids=["unknown-method", "kms-key-without-kms", "s3-with-kms-key", "unknown-kms-key", "context-not-json"])
def test_bad_encryption_headers_store_nothing(s3, bucket, headers, code):
    def add(params, **kwargs):
        params["headers"].update(headers)
    s3.meta.events.register("before-call.s3.PutObject", add)
    try:
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=bucket, Key="refused", Body=b"x")
    finally:
        s3.meta.events.unregister("before-call.s3.PutObject", add)
    assert client_error(e.value) == (400, code)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_sse_kms_default_key_and_named_key(s3, bucket, server):
    put = s3.put_object(Bucket=bucket, Key="default-key", Body=b"kms", ServerSideEncryption="aws:kms")
    assert put["ServerSideEncryption"] == "aws:kms"
    arn = put["SSEKMSKeyId"]
    assert arn.startswith("arn:aws:kms:us-east-1:") and ":key/" in arn
    assert put["ETag"] != '"%s"' % hashlib.md5(b"kms").hexdigest(), "an SSE-KMS ETag is not the plaintext MD5 (AWS)"
    head = s3.head_object(Bucket=bucket, Key="default-key")
    assert head["SSEKMSKeyId"] == arn and head["ServerSideEncryption"] == "aws:kms"
    # The same key by its ARN, by its id, and by the alias the default key has.
    key_id = arn.rsplit("/", 1)[1]
    for name in (arn, key_id, "alias/aws/s3"):
        again = s3.put_object(Bucket=bucket, Key="by-name", Body=b"kms2", ServerSideEncryption="aws:kms", SSEKMSKeyId=name,
                              SSEKMSEncryptionContext=base64.b64encode(b'{"app":"test"}').decode(), BucketKeyEnabled=True)
        assert again["SSEKMSKeyId"] == arn
        assert again["BucketKeyEnabled"] is True
    got = s3.get_object(Bucket=bucket, Key="by-name")
    assert got["Body"].read() == b"kms2" and got["SSEKMSKeyId"] == arn


def test_get_with_sse_headers_is_refused(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES256")

    def add(params, **kwargs):
        params["headers"]["x-amz-server-side-encryption"] = "AES256"
    s3.meta.events.register("before-call.s3.GetObject", add)
    try:
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket=bucket, Key="k")
    finally:
        s3.meta.events.unregister("before-call.s3.GetObject", add)
    assert client_error(e.value) == (400, "InvalidArgument")


def test_sse_c_round_trip_over_https(s3_tls, tls_bucket):
    key = customer_key()
    data = body(200_000)
    put = s3_tls.put_object(Bucket=tls_bucket, Key="c", Body=data, **key)
    assert put["SSECustomerAlgorithm"] == "AES256"
    assert put["SSECustomerKeyMD5"] == base64.b64encode(hashlib.md5(key["SSECustomerKey"].encode()).digest()).decode()
    assert put["ETag"] != '"%s"' % hashlib.md5(data).hexdigest()
    head = s3_tls.head_object(Bucket=tls_bucket, Key="c", **key)
    assert head["ContentLength"] == len(data) and head["SSECustomerAlgorithm"] == "AES256"
    assert s3_tls.get_object(Bucket=tls_bucket, Key="c", **key)["Body"].read() == data
    assert s3_tls.get_object(Bucket=tls_bucket, Key="c", Range="bytes=100000-100099", **key)["Body"].read() == data[100000:100100]


def test_sse_c_key_mistakes(s3_tls, tls_bucket):
    s3_tls.put_object(Bucket=tls_bucket, Key="c", Body=b"secret", **customer_key())
    with pytest.raises(ClientError) as e:
        s3_tls.get_object(Bucket=tls_bucket, Key="c")
    assert client_error(e.value) == (400, "InvalidRequest")
    with pytest.raises(ClientError) as e:
        s3_tls.get_object(Bucket=tls_bucket, Key="c", **customer_key(b"other"))
    assert client_error(e.value) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        s3_tls.head_object(Bucket=tls_bucket, Key="c")
    assert client_error(e.value)[0] == 400
    s3_tls.put_object(Bucket=tls_bucket, Key="plain", Body=b"p")
    with pytest.raises(ClientError) as e:
        s3_tls.get_object(Bucket=tls_bucket, Key="plain", **customer_key())
    assert client_error(e.value) == (400, "InvalidRequest")


def test_sse_c_bad_md5_is_refused(s3_tls, tls_bucket):
    key = customer_key()
    key["SSECustomerKeyMD5"] = base64.b64encode(hashlib.md5(b"wrong").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3_tls.put_object(Bucket=tls_bucket, Key="c", Body=b"x", **key)
    assert client_error(e.value) == (400, "InvalidArgument")
    assert s3_tls.list_objects_v2(Bucket=tls_bucket)["KeyCount"] == 0


def test_sse_c_over_plain_http_is_refused(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="c", Body=b"x", **customer_key())
    assert client_error(e.value) == (400, "InvalidRequest")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@pytest.mark.parametrize("size", [5_000, 500_000], ids=["read-whole", "streamed"])
@pytest.mark.single_node(reason="reads the serving process's log for the integrity failure")
def test_tampered_blob_is_detected(server_factory, size):
    srv = server_factory.start("tamper")
    client = make_client(srv, retries={"max_attempts": 1, "mode": "standard"})
    client.create_bucket(Bucket="tampered")
    data = body(size)
    client.put_object(Bucket="tampered", Key="k", Body=data, ServerSideEncryption="AES256")
    [path] = blob_files(srv)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    if size <= 65_536:
        with pytest.raises(ClientError) as e:
            client.get_object(Bucket="tampered", Key="k")
        assert client_error(e.value) == (500, "InternalError")
    else:
        try:
            got = client.get_object(Bucket="tampered", Key="k")["Body"].read()
        except Exception:  # the body is cut short once the status line is out
            got = None
        assert got != data and got is None, "a tampered blob's bytes must never be returned"
    assert "integrityFailure" in srv.stdout_path.read_text() + srv.stderr_path.read_text()


def test_post_form_upload_with_sse_fields(s3, bucket):
    """A browser form names the encryption in its fields, as a PUT does in its headers."""
    form = s3.generate_presigned_post(
        bucket, "posted", Fields={"x-amz-server-side-encryption": "AES256"},
        Conditions=[{"x-amz-server-side-encryption": "AES256"}])
    files = [(k, (None, v)) for k, v in form["fields"].items()] + [("file", ("a.bin", MARKER))]
    answer = requests.post(form["url"], files=files, allow_redirects=False)
    assert answer.status_code == 204, answer.text
    assert answer.headers["x-amz-server-side-encryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="posted")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == MARKER
    refused = s3.generate_presigned_post(bucket, "refused", Fields={"x-amz-server-side-encryption": "ROT13"},
                                         Conditions=[{"x-amz-server-side-encryption": "ROT13"}])
    files = [(k, (None, v)) for k, v in refused["fields"].items()] + [("file", ("a.bin", b"x"))]
    answer = requests.post(refused["url"], files=files, allow_redirects=False)
    assert answer.status_code == 400 and b"InvalidArgument" in answer.content
    assert s3.list_objects_v2(Bucket=bucket, Prefix="refused")["KeyCount"] == 0


def test_versions_keep_their_own_encryption(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one", ServerSideEncryption="AES256")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"two", ServerSideEncryption="aws:kms")["VersionId"]
    third = s3.put_object(Bucket=bucket, Key="k", Body=b"three")["VersionId"]
    for version, data, mode in ((first, b"one", "AES256"), (second, b"two", "aws:kms"), (third, b"three", None)):
        got = s3.get_object(Bucket=bucket, Key="k", VersionId=version)
        assert got["Body"].read() == data and got.get("ServerSideEncryption") == mode
