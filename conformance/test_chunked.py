"""aws-chunked uploads (signed chunks, signed and unsigned trailers), flexible checksums, and what boto3 and
aws-cli actually send over HTTPS."""

import random
import time

import pytest
from botocore.exceptions import ClientError

from s3helpers import (
    crc32_b64, error_fields, http_chunked, key_path, md5_hex, object_absent, quoted_etag, random_bytes, RawHTTP,
    sha1_b64, sha256_b64,
)


def _stored(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


# --------------------------------------------------------------------------------------------------------------------
# STREAMING-AWS4-HMAC-SHA256-PAYLOAD


SHAPES = [
    # (body size, chunk size)
    (200 * 1024 + 17, 64 * 1024),
    (3 * 8192, 8192),  # a whole number of chunks
    (100, 64 * 1024),  # a single short chunk
    (0, 64 * 1024),  # only the final empty chunk
]


@pytest.mark.parametrize("size, chunk", SHAPES, ids=[f"{s}b-in-{c}b-chunks" for s, c in SHAPES])
def test_signed_streaming_upload(s3, raw, bucket, size, chunk):
    data = random_bytes(size)
    prepared = raw.streaming_put(key_path(bucket, "streamed"), data, mode="signed", chunk_size=chunk)
    resp = raw.send(prepared)
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_etag(data)
    got = s3.get_object(Bucket=bucket, Key="streamed")
    assert got["Body"].read() == data
    assert got["ContentLength"] == size
    assert "aws-chunked" not in got["ResponseMetadata"]["HTTPHeaders"].get("content-encoding", "")


def test_signed_streaming_keeps_real_content_encoding(s3, raw, bucket):
    data = random_bytes(20000)
    prepared = raw.streaming_put(key_path(bucket, "gz"), data, mode="signed", chunk_size=8192,
                                 headers={"Content-Encoding": "aws-chunked,gzip"})
    assert raw.send(prepared).status_code == 200
    got = s3.get_object(Bucket=bucket, Key="gz")
    assert got["ContentEncoding"] == "gzip"
    assert got["Body"].read() == data


@pytest.mark.parametrize("corruption", ["chunk-data", "chunk-signature", "final-chunk-signature"])
def test_signed_streaming_tampered(s3, raw, bucket, corruption):
    data = random_bytes(3 * 64 * 1024 + 5)
    kwargs = {"chunk-data": {"corrupt_chunk": 1},
              "chunk-signature": {"corrupt_signature": 2},
              "final-chunk-signature": {"corrupt_signature": 4}}[corruption]
    prepared = raw.streaming_put(key_path(bucket, "tampered"), data, mode="signed", **kwargs)
    resp = raw.send(prepared)
    assert resp.status_code == 403, resp.content
    assert error_fields(resp.content)["Code"] == "SignatureDoesNotMatch"
    assert object_absent(s3, bucket, "tampered")


def test_signed_streaming_tampered_does_not_replace_existing(s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"original")
    prepared = raw.streaming_put(key_path(bucket, "keep"), random_bytes(100000), mode="signed",
                                 corrupt_chunk=0)
    assert raw.send(prepared).status_code == 403
    assert _stored(s3, bucket, "keep") == b"original"


def test_signed_streaming_decoded_length_mismatch(s3, raw, bucket):
    data = random_bytes(70000)
    prepared = raw.streaming_put(key_path(bucket, "short"), data, mode="signed",
                                 headers={"X-Amz-Decoded-Content-Length": str(len(data) + 10)})
    resp = raw.send(prepared)
    assert 400 <= resp.status_code < 500, resp.status_code
    assert object_absent(s3, bucket, "short")


def test_signed_streaming_inside_http_chunked(s3, raw, bucket):
    # aws-chunked framing carried in Transfer-Encoding: chunked with no Content-Length (what SDKs do over TLS).
    data = random_bytes(150000)
    prepared = raw.streaming_put(key_path(bucket, "te"), data, mode="signed", http_chunked=True)
    resp = raw.send(prepared)
    assert resp.status_code == 200, resp.content
    assert _stored(s3, bucket, "te") == data


def test_signed_streaming_in_fragments_over_raw_socket(server, s3, raw, bucket):
    # Chunk headers, CRLFs and signatures split across TCP segments at awkward places.
    data = random_bytes(100000)
    prepared = raw.streaming_put(key_path(bucket, "fragments"), data, mode="signed-trailer", chunk_size=8192)
    encoded = prepared.encoded
    rnd = random.Random(7)
    cuts = sorted({3, 10, 40, 85, 86, 87, len(encoded) - 40, len(encoded) - 3,
                   *(rnd.randrange(1, len(encoded)) for _ in range(25))})
    with RawHTTP.to(server) as conn:
        conn.send_head("PUT", prepared.target, prepared.headers)
        start = 0
        for cut in cuts + [len(encoded)]:
            conn.send(encoded[start:cut])
            start = cut
            time.sleep(0.005)
        resp = conn.read_final_response()
    assert resp.status == 200, resp.body
    assert _stored(s3, bucket, "fragments") == data


# --------------------------------------------------------------------------------------------------------------------
# Trailers


@pytest.mark.parametrize("mode", ["signed-trailer", "unsigned-trailer"])
def test_trailer_checksum_good(s3, raw, bucket, mode):
    data = random_bytes(150000)
    prepared = raw.streaming_put(key_path(bucket, "trailer"), data, mode=mode)
    resp = raw.send(prepared)
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_etag(data)
    got = s3.get_object(Bucket=bucket, Key="trailer", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == crc32_b64(data)


@pytest.mark.parametrize("mode", ["signed-trailer", "unsigned-trailer"])
def test_trailer_checksum_other_algorithms(s3, raw, bucket, mode):
    data = random_bytes(20000)
    for name, value, field in [("x-amz-checksum-sha256", sha256_b64(data), "ChecksumSHA256"),
                               ("x-amz-checksum-sha1", sha1_b64(data), "ChecksumSHA1")]:
        prepared = raw.streaming_put(key_path(bucket, name), data, mode=mode, checksum_name=name,
                                     checksum_value=value)
        resp = raw.send(prepared)
        assert resp.status_code == 200, (name, resp.content)
        got = s3.get_object(Bucket=bucket, Key=name, ChecksumMode="ENABLED")
        assert got["Body"].read() == data
        assert got[field] == value


@pytest.mark.parametrize("mode", ["signed-trailer", "unsigned-trailer"])
def test_trailer_checksum_bad(s3, raw, bucket, mode):
    data = random_bytes(150000)
    prepared = raw.streaming_put(key_path(bucket, "bad-trailer"), data, mode=mode,
                                 checksum_value=crc32_b64(data + b"!"))
    resp = raw.send(prepared)
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "BadDigest"
    assert object_absent(s3, bucket, "bad-trailer")


def test_signed_trailer_bad_trailer_signature(s3, raw, bucket):
    data = random_bytes(30000)
    prepared = raw.streaming_put(key_path(bucket, "bad-trailer-sig"), data, mode="signed-trailer",
                                 corrupt_trailer_signature=True)
    resp = raw.send(prepared)
    assert resp.status_code == 403, resp.content
    assert error_fields(resp.content)["Code"] == "SignatureDoesNotMatch"
    assert object_absent(s3, bucket, "bad-trailer-sig")


def test_unsigned_trailer_inside_http_chunked_over_raw_socket(server, s3, raw, bucket):
    # Byte for byte what boto3 sends over HTTPS, but on plain HTTP so the framing is visible.
    data = random_bytes(70000)
    prepared = raw.streaming_put(key_path(bucket, "boto-shape"), data, mode="unsigned-trailer",
                                 http_chunked=True)
    headers = dict(prepared.headers)
    headers["Transfer-Encoding"] = "chunked"
    with RawHTTP.to(server) as conn:
        conn.send_head("PUT", prepared.target, headers)
        conn.send(http_chunked(prepared.encoded, 4099))
        resp = conn.read_final_response()
    assert resp.status == 200, resp.body
    assert _stored(s3, bucket, "boto-shape") == data


# --------------------------------------------------------------------------------------------------------------------
# Real clients over HTTPS


@pytest.mark.parametrize("size", [0, 11, 1024 * 1024 + 3], ids=["empty", "11b", "1MiB+3"])
def test_boto3_put_over_https_stores_exact_bytes(s3_tls, tls_bucket, size):
    data = random_bytes(size)
    put = s3_tls.put_object(Bucket=tls_bucket, Key="tls", Body=data)
    assert put["ETag"] == quoted_etag(data)
    got = s3_tls.get_object(Bucket=tls_bucket, Key="tls")
    assert got["Body"].read() == data
    assert got["ContentLength"] == size
    assert "aws-chunked" not in got["ResponseMetadata"]["HTTPHeaders"].get("content-encoding", "")


def test_boto3_put_over_https_with_content_encoding(s3_tls, tls_bucket):
    # boto3 sends "Content-Encoding: gzip,aws-chunked": only the aws-chunked part is transport framing.
    s3_tls.put_object(Bucket=tls_bucket, Key="gz", Body=b"pretend this is gzip", ContentEncoding="gzip")
    got = s3_tls.get_object(Bucket=tls_bucket, Key="gz")
    assert got["ContentEncoding"] == "gzip"
    assert got["Body"].read() == b"pretend this is gzip"


def test_boto3_upload_file_over_https(s3_tls, tls_bucket, tmp_path):
    data = random_bytes(5 * 1024 * 1024)
    (tmp_path / "up.bin").write_bytes(data)
    s3_tls.upload_file(str(tmp_path / "up.bin"), tls_bucket, "up.bin")
    s3_tls.download_file(tls_bucket, "up.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == data
    head = s3_tls.head_object(Bucket=tls_bucket, Key="up.bin", ChecksumMode="ENABLED")
    assert head["ETag"] == quoted_etag(data)
    assert head["ChecksumCRC32"] == crc32_b64(data)


@pytest.mark.parametrize("algorithm, field, fn", [("SHA256", "ChecksumSHA256", sha256_b64),
                                                  ("SHA1", "ChecksumSHA1", sha1_b64)])
def test_boto3_checksum_algorithms_over_https(s3_tls, tls_bucket, algorithm, field, fn):
    data = random_bytes(40000)
    s3_tls.put_object(Bucket=tls_bucket, Key="alg", Body=data, ChecksumAlgorithm=algorithm)
    got = s3_tls.get_object(Bucket=tls_bucket, Key="alg", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got[field] == fn(data)


def test_aws_cli_cp_over_https(aws, s3_tls, tls_bucket, tmp_path):
    data = random_bytes(3 * 1024 * 1024 + 1)
    src = tmp_path / "cli-src.bin"
    src.write_bytes(data)
    aws("s3", "cp", str(src), f"s3://{tls_bucket}/cli/obj.bin", tls=True)
    assert s3_tls.get_object(Bucket=tls_bucket, Key="cli/obj.bin")["Body"].read() == data
    aws("s3", "cp", f"s3://{tls_bucket}/cli/obj.bin", str(tmp_path / "cli-dst.bin"), tls=True)
    assert (tmp_path / "cli-dst.bin").read_bytes() == data


# --------------------------------------------------------------------------------------------------------------------
# Checksum headers over plain HTTP


def test_boto3_sends_crc32_header_over_http(s3, bucket):
    data = random_bytes(5000)
    put = s3.put_object(Bucket=bucket, Key="crc", Body=data)
    assert put["ChecksumCRC32"] == crc32_b64(data)  # the server echoes the checksum it verified
    assert s3.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")["ChecksumCRC32"] == crc32_b64(data)


@pytest.mark.parametrize("param, wrong", [
    ("ChecksumCRC32", crc32_b64(b"something else")),
    ("ChecksumSHA256", sha256_b64(b"something else")),
    ("ChecksumSHA1", sha1_b64(b"something else")),
])
def test_wrong_checksum_header_is_bad_digest(s3, bucket, param, wrong):
    # "The CRC32 you specified did not match the calculated checksum." is BadDigest on AWS.
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="wrong-sum", Body=b"payload", **{param: wrong})
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Code"] == "BadDigest"
    assert object_absent(s3, bucket, "wrong-sum")


def test_explicit_correct_checksum_headers(s3, bucket):
    data = b"checksummed payload"
    s3.put_object(Bucket=bucket, Key="sha", Body=data, ChecksumSHA256=sha256_b64(data))
    got = s3.get_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumSHA256"] == sha256_b64(data)
    assert md5_hex(data) in got["ETag"]
