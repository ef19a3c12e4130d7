"""GetObject / HeadObject: ranges, conditional reads with AWS's precedence rules, response-* overrides,
checksum mode, and error responses without bodies."""

import datetime as dt
import email.utils

import pytest
from botocore.exceptions import ClientError

from s3helpers import RawHTTP, crc32_b64, error_fields, key_path, random_bytes

SIZE = 1000
BODY = random_bytes(SIZE, seed=1000)


@pytest.fixture
def obj(s3, bucket):
    """A 1000-byte object; returns (bucket, key, etag, last_modified)."""
    put = s3.put_object(Bucket=bucket, Key="obj.bin", Body=BODY)
    head = s3.head_object(Bucket=bucket, Key="obj.bin")
    return bucket, "obj.bin", put["ETag"], head["LastModified"]


RANGES = [
    # header, first, last (inclusive)
    ("bytes=0-9", 0, 9),
    ("bytes=0-0", 0, 0),
    ("bytes=990-", 990, 999),
    ("bytes=-10", 990, 999),
    ("bytes=500-2000", 500, 999),  # end past the object is clamped
    ("bytes=-2000", 0, 999),  # suffix longer than the object: the whole object
    ("bytes=999-999", 999, 999),
    ("bytes=0-", 0, 999),
]


@pytest.mark.parametrize("header, first, last", RANGES, ids=[r[0] for r in RANGES])
def test_range_get(s3, obj, header, first, last):
    bucket, key, etag, _ = obj
    resp = s3.get_object(Bucket=bucket, Key=key, Range=header)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert resp["ContentRange"] == f"bytes {first}-{last}/{SIZE}"
    assert resp["ContentLength"] == last - first + 1
    assert resp["Body"].read() == BODY[first:last + 1]
    assert resp["ETag"] == etag  # the ETag is the whole object's


def test_range_head(s3, obj):
    bucket, key, _, _ = obj
    resp = s3.head_object(Bucket=bucket, Key=key, Range="bytes=10-19")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert resp["ContentLength"] == 10
    assert resp["ContentRange"] == f"bytes 10-19/{SIZE}"


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-1000", "bytes=5000-6000"])
def test_range_unsatisfiable(s3, obj, header):
    bucket, key, _, _ = obj
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key=key, Range=header)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert info.value.response["Error"]["Code"] == "InvalidRange"


def test_range_syntactically_invalid_is_ignored(s3, obj):
    # RFC 9110: a Range header that does not parse is ignored; S3 then returns the whole object.
    bucket, key, _, _ = obj
    resp = s3.get_object(Bucket=bucket, Key=key, Range="bytes=abc")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["Body"].read() == BODY


def test_get_advertises_ranges_and_length(s3, obj):
    bucket, key, etag, _ = obj
    resp = s3.get_object(Bucket=bucket, Key=key)
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert headers["accept-ranges"] == "bytes"
    assert headers["content-length"] == str(SIZE)
    assert headers["etag"] == etag


DAY = dt.timedelta(days=1)

# (name, builder(etag, lm) -> kwargs, expected status). lm is the object's Last-Modified (second precision).
CONDITIONS = [
    ("if-match-true", lambda e, lm: {"IfMatch": e}, 200),
    ("if-match-star", lambda e, lm: {"IfMatch": "*"}, 200),
    ("if-match-false", lambda e, lm: {"IfMatch": '"0123456789abcdef0123456789abcdef"'}, 412),
    ("if-none-match-true", lambda e, lm: {"IfNoneMatch": '"0123456789abcdef0123456789abcdef"'}, 200),
    ("if-none-match-false", lambda e, lm: {"IfNoneMatch": e}, 304),
    ("if-none-match-star", lambda e, lm: {"IfNoneMatch": "*"}, 304),
    ("if-modified-since-true", lambda e, lm: {"IfModifiedSince": lm - DAY}, 200),
    ("if-modified-since-false-equal", lambda e, lm: {"IfModifiedSince": lm}, 304),
    ("if-unmodified-since-true-equal", lambda e, lm: {"IfUnmodifiedSince": lm}, 200),
    ("if-unmodified-since-true-later", lambda e, lm: {"IfUnmodifiedSince": lm + DAY}, 200),
    ("if-unmodified-since-false", lambda e, lm: {"IfUnmodifiedSince": lm - DAY}, 412),
    # AWS's documented precedence (GetObject/HeadObject API reference):
    ("if-match-true+if-unmodified-since-false", lambda e, lm: {"IfMatch": e, "IfUnmodifiedSince": lm - DAY}, 200),
    ("if-none-match-false+if-modified-since-true",
     lambda e, lm: {"IfNoneMatch": e, "IfModifiedSince": lm - DAY}, 304),
    ("if-match-false+if-unmodified-since-true",
     lambda e, lm: {"IfMatch": '"0123456789abcdef0123456789abcdef"', "IfUnmodifiedSince": lm + DAY}, 412),
    ("if-match-true+if-none-match-false", lambda e, lm: {"IfMatch": e, "IfNoneMatch": e}, 304),
    ("if-match-false+if-none-match-false",
     lambda e, lm: {"IfMatch": '"0123456789abcdef0123456789abcdef"', "IfNoneMatch": e}, 412),
]


@pytest.mark.parametrize("method", ["get_object", "head_object"])
@pytest.mark.parametrize("name, build, expected", CONDITIONS, ids=[c[0] for c in CONDITIONS])
def test_conditional_read(s3, obj, method, name, build, expected):
    bucket, key, etag, lm = obj
    kwargs = build(etag, lm)
    call = getattr(s3, method)
    if expected == 200:
        resp = call(Bucket=bucket, Key=key, **kwargs)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        if method == "get_object":
            assert resp["Body"].read() == BODY
        return
    with pytest.raises(ClientError) as info:
        call(Bucket=bucket, Key=key, **kwargs)
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == expected
    if expected == 412 and method == "get_object":
        assert response["Error"]["Code"] == "PreconditionFailed"
    if expected == 304:
        assert response["ResponseMetadata"]["HTTPHeaders"].get("etag") == etag


def test_not_modified_has_no_body(raw, obj):
    bucket, key, etag, _ = obj
    resp = raw.request("GET", key_path(bucket, key), headers={"If-None-Match": etag})
    assert resp.status_code == 304
    assert resp.content == b""


OVERRIDES = [
    ("ResponseContentType", "response-content-type", "content-type", "text/x-override; charset=utf-8"),
    ("ResponseContentDisposition", "response-content-disposition", "content-disposition",
     "attachment; filename=\"over ride.txt\""),
    ("ResponseCacheControl", "response-cache-control", "cache-control", "no-cache, no-store"),
    ("ResponseContentLanguage", "response-content-language", "content-language", "fr-CA"),
    ("ResponseContentEncoding", "response-content-encoding", "content-encoding", "x-custom"),
]


@pytest.mark.parametrize("param, query, header, value", OVERRIDES, ids=[o[1] for o in OVERRIDES])
def test_response_header_overrides(s3, obj, param, query, header, value):
    bucket, key, _, _ = obj
    resp = s3.get_object(Bucket=bucket, Key=key, **{param: value})
    assert resp["ResponseMetadata"]["HTTPHeaders"][header] == value
    assert resp["Body"].read() == BODY
    # The stored object is unchanged.
    assert s3.head_object(Bucket=bucket, Key=key)["ResponseMetadata"]["HTTPHeaders"].get(header) != value


def test_response_expires_override(s3, obj):
    bucket, key, _, _ = obj
    when = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    resp = s3.get_object(Bucket=bucket, Key=key, ResponseExpires=when)
    assert email.utils.parsedate_to_datetime(resp["ResponseMetadata"]["HTTPHeaders"]["expires"]) == when


def test_response_overrides_on_head(s3, obj):
    bucket, key, _, _ = obj
    resp = s3.head_object(Bucket=bucket, Key=key, ResponseContentType="text/plain",
                          ResponseContentDisposition="inline")
    assert resp["ContentType"] == "text/plain"
    assert resp["ContentDisposition"] == "inline"


def test_checksum_returned_only_in_checksum_mode(s3, raw, obj):
    bucket, key, _, _ = obj
    # boto3 >= 1.36 sends x-amz-checksum-mode: ENABLED by itself and validates what comes back.
    resp = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert resp["ChecksumCRC32"] == crc32_b64(BODY)
    assert resp["Body"].read() == BODY
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc32_b64(BODY)
    plain = raw.request("GET", key_path(bucket, key))
    assert "x-amz-checksum-crc32" not in plain.headers
    ranged = raw.request("GET", key_path(bucket, key), headers={"Range": "bytes=0-9",
                                                                "x-amz-checksum-mode": "ENABLED"})
    assert ranged.status_code == 206
    assert "x-amz-checksum-crc32" not in ranged.headers


@pytest.mark.parametrize("what", ["missing-key", "missing-bucket"])
def test_head_errors_have_no_body(server, raw, bucket, what):
    path = key_path(bucket, "nope") if what == "missing-key" else key_path("no-such-bucket-" + bucket[-8:], "k")
    prepared = raw.prepare("HEAD", path, headers={"Connection": "close"})
    with RawHTTP.to(server) as conn:
        conn.send_prepared(prepared)
        resp = conn.read_response(head_request=True)
        assert resp.status == 404
        assert resp.header("x-amz-request-id")
        leftover = conn.read_all_until_close(timeout=3)
    assert leftover == b"", f"HEAD response carried a body: {leftover[:200]!r}"


def test_head_error_codes_via_boto3(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="nope")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert info.value.response["Error"]["Code"] == "404"


def test_get_error_body_is_xml(raw, bucket):
    resp = raw.request("GET", key_path(bucket, "nope"))
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("application/xml")
    fields = error_fields(resp.content)
    assert fields["Code"] == "NoSuchKey"
    assert fields["Key"] == "nope"
