"""Flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) on a single PutObject and its GET/HEAD.

PutObject: each algorithm as an `x-amz-checksum-*` header (a precomputed value, or boto3's own ChecksumAlgorithm
where botocore can compute it without awscrt), as an aws-chunked trailer (signed and unsigned), and over HTTPS with
boto3 defaults (STREAMING-UNSIGNED-PAYLOAD-TRAILER, CRC32). A wrong value is BadDigest and stores nothing; GET/HEAD
with ChecksumMode=ENABLED return the stored value and x-amz-checksum-type FULL_OBJECT, a ranged GET none.

Multipart checksums and GetObjectAttributes are in test_multipart_checksums.py; helpers shared with it in
checksum_test_helpers.py.

botocore computes CRC32C/CRC64NVME only with awscrt, which the suite does not install: those values come from the
pure-Python implementations in checksum_helpers.py.
"""

import pytest
from botocore.exceptions import ClientError

from checksum_helpers import checksum_b64, checksum_field, checksum_header
from checksum_test_helpers import ALGORITHMS, TRAILER_MODES, _assert_stored, _capture_headers, _checksum_headers
from s3helpers import client_error, error_fields, key_path, object_absent, quoted_etag, random_bytes

BOTO_NATIVE = ("CRC32", "SHA1", "SHA256")  # what botocore computes itself without awscrt


# --------------------------------------------------------------------------------------------------------------------
# PutObject: header


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_with_checksum_header(s3, bucket, algorithm):
    data = random_bytes(50_001)
    value = checksum_b64(algorithm, data)
    put = s3.put_object(Bucket=bucket, Key="obj", Body=data, **{checksum_field(algorithm): value})
    assert put["ETag"] == quoted_etag(data)
    assert put.get(checksum_field(algorithm)) == value
    _assert_stored(s3, bucket, "obj", algorithm, value, "FULL_OBJECT", data)


@pytest.mark.parametrize("algorithm", BOTO_NATIVE)
def test_put_with_sdk_checksum_algorithm(s3, bucket, algorithm):
    data = random_bytes(33_333)
    sent, done = _capture_headers(s3, "PutObject")
    try:
        s3.put_object(Bucket=bucket, Key="obj", Body=data, ChecksumAlgorithm=algorithm)
    finally:
        done()
    assert sent.get(checksum_header(algorithm)) == checksum_b64(algorithm, data)
    assert sent.get("x-amz-sdk-checksum-algorithm") == algorithm
    _assert_stored(s3, bucket, "obj", algorithm, checksum_b64(algorithm, data), "FULL_OBJECT", data)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_with_wrong_checksum_header_is_bad_digest(s3, bucket, algorithm):
    s3.put_object(Bucket=bucket, Key="existing", Body=b"original")
    data = random_bytes(20_000)
    wrong = checksum_b64(algorithm, data + b"!")
    for key in ("new", "existing"):
        with pytest.raises(ClientError) as info:
            s3.put_object(Bucket=bucket, Key=key, Body=data, **{checksum_field(algorithm): wrong})
        assert client_error(info.value) == (400, "BadDigest")
    assert object_absent(s3, bucket, "new")
    assert s3.get_object(Bucket=bucket, Key="existing")["Body"].read() == b"original"


def test_put_empty_object_with_checksum(s3, bucket):
    for algorithm in ALGORITHMS:
        value = checksum_b64(algorithm, b"")
        s3.put_object(Bucket=bucket, Key=algorithm, Body=b"", **{checksum_field(algorithm): value})
        _assert_stored(s3, bucket, algorithm, algorithm, value, "FULL_OBJECT", b"")


def test_get_without_checksum_mode_has_no_checksum(raw, s3, bucket):
    # Raw requests: boto3 >= 1.36 adds x-amz-checksum-mode: ENABLED to every GetObject by itself.
    data = b"quiet unless asked"
    s3.put_object(Bucket=bucket, Key="obj", Body=data, ChecksumSHA256=checksum_b64("SHA256", data))
    for method in ("GET", "HEAD"):
        resp = raw.request(method, key_path(bucket, "obj"))
        assert resp.status_code == 200
        assert "x-amz-checksum-sha256" not in resp.headers, method
        enabled = raw.request(method, key_path(bucket, "obj"), headers={"x-amz-checksum-mode": "ENABLED"})
        assert enabled.headers.get("x-amz-checksum-sha256") == checksum_b64("SHA256", data), method
        assert enabled.headers.get("x-amz-checksum-type") == "FULL_OBJECT", method


@pytest.mark.parametrize("algorithm", ["SHA256", "CRC32"])
def test_ranged_get_has_no_checksum(s3, bucket, algorithm):
    data = random_bytes(10_000)
    s3.put_object(Bucket=bucket, Key="obj", Body=data, **{checksum_field(algorithm): checksum_b64(algorithm, data)})
    got = s3.get_object(Bucket=bucket, Key="obj", Range="bytes=100-199", ChecksumMode="ENABLED")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == data[100:200]
    assert _checksum_headers(got) == {}  # the whole object's checksum does not describe a range


def test_two_checksum_headers_are_invalid(raw, s3, bucket):
    data = b"two algorithms"
    resp = raw.request("PUT", key_path(bucket, "obj"), body=data, headers={
        "x-amz-checksum-crc32": checksum_b64("CRC32", data), "x-amz-checksum-sha256": checksum_b64("SHA256", data)})
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "InvalidRequest"  # "Expecting a single x-amz-checksum- header"
    assert object_absent(s3, bucket, "obj")


@pytest.mark.parametrize("value", ["not base64!!", "AAAA", "A" * 60], ids=["not-base64", "too-short", "too-long"])
def test_malformed_checksum_value_is_invalid(raw, s3, bucket, value):
    resp = raw.request("PUT", key_path(bucket, "obj"), body=b"payload", headers={"x-amz-checksum-sha256": value})
    assert resp.status_code == 400, resp.content
    # AWS: InvalidRequest, "Value for x-amz-checksum-sha256 header is invalid."
    assert error_fields(resp.content)["Code"] == "InvalidRequest"
    assert object_absent(s3, bucket, "obj")


# --------------------------------------------------------------------------------------------------------------------
# PutObject: aws-chunked trailer


@pytest.mark.parametrize("mode", TRAILER_MODES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_with_checksum_trailer(s3, raw, bucket, algorithm, mode):
    data = random_bytes(150_000)
    value = checksum_b64(algorithm, data)
    prepared = raw.streaming_put(key_path(bucket, "obj"), data, mode=mode, chunk_size=64 * 1024,
                                 checksum_name=checksum_header(algorithm), checksum_value=value)
    resp = raw.send(prepared)
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_etag(data)
    assert resp.headers.get(checksum_header(algorithm)) == value
    _assert_stored(s3, bucket, "obj", algorithm, value, "FULL_OBJECT", data)


@pytest.mark.parametrize("mode", TRAILER_MODES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_with_wrong_checksum_trailer_is_bad_digest(s3, raw, bucket, algorithm, mode):
    data = random_bytes(70_000)
    prepared = raw.streaming_put(key_path(bucket, "obj"), data, mode=mode,
                                 checksum_name=checksum_header(algorithm),
                                 checksum_value=checksum_b64(algorithm, data[:-1]))
    resp = raw.send(prepared)
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "BadDigest"
    assert object_absent(s3, bucket, "obj")


# --------------------------------------------------------------------------------------------------------------------
# PutObject over HTTPS


def test_put_over_https_with_boto3_defaults(s3_tls, tls_bucket):
    data = random_bytes(300_000)
    sent, done = _capture_headers(s3_tls, "PutObject")
    try:
        s3_tls.put_object(Bucket=tls_bucket, Key="obj", Body=data)
    finally:
        done()
    # What this test is about: boto3 over TLS streams the body with an unsigned CRC32 trailer.
    assert sent.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER", sent
    assert sent.get("x-amz-trailer") == "x-amz-checksum-crc32", sent
    _assert_stored(s3_tls, tls_bucket, "obj", "CRC32", checksum_b64("CRC32", data), "FULL_OBJECT", data)


@pytest.mark.parametrize("algorithm", BOTO_NATIVE)
def test_put_over_https_sdk_algorithm_trailer(s3_tls, tls_bucket, algorithm):
    data = random_bytes(80_000)
    s3_tls.put_object(Bucket=tls_bucket, Key="obj", Body=data, ChecksumAlgorithm=algorithm)
    _assert_stored(s3_tls, tls_bucket, "obj", algorithm, checksum_b64(algorithm, data), "FULL_OBJECT", data)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_over_https_with_checksum_header(s3_tls, tls_bucket, algorithm):
    data = random_bytes(40_000)
    value = checksum_b64(algorithm, data)
    s3_tls.put_object(Bucket=tls_bucket, Key="obj", Body=data, **{checksum_field(algorithm): value})
    _assert_stored(s3_tls, tls_bucket, "obj", algorithm, value, "FULL_OBJECT", data)
