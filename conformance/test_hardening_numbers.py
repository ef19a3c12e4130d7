"""Numbers from a request are bounded before any arithmetic (issue 24, item 1).

One GET with a valid access key id, a bad signature and `Date: Fri, 04 Dec 435283332026 04:46:44 GMT` ended the
process ("arithmetic overflow" in the date parser), no secret needed. Each case here sends an extreme value (0, -1,
Int64.max, Int64.min, 20 and 40 digits, years 0, 9999, 10000, 10^12) through raw HTTP, expects the S3 error AWS
answers, and then shows the server still answers: the process is alive and a signed request succeeds.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest
import requests

from s3helpers import RawHTTP, error_fields, key_path

CRASH_DATE = "Fri, 04 Dec 435283332026 04:46:44 GMT"
INT64_MAX = "9223372036854775807"
INT64_MIN = "-9223372036854775808"
DIGITS20 = "12345678901234567890"
DIGITS40 = DIGITS20 * 2
ROOT = Path(__file__).resolve().parent.parent


def still_serving(server, raw, bucket: str) -> None:
    """The process is alive and a signed request succeeds."""
    assert server.running(), f"martlet exited (status {server.proc.returncode})\n{server.log_tail()}"
    assert raw.request("GET", key_path(bucket), {"list-type": "2", "max-keys": "1"}).status_code == 200


def raw_get(server, target: str, headers: dict[str, str]):
    """One GET on its own connection, byte for byte as given (no client fixes the Date up)."""
    with RawHTTP.to(server) as conn:
        conn.send_head("GET", target, {"Host": f"127.0.0.1:{server.port}", **headers})
        return conn.read_final_response(timeout=10)


def v4_authorization(access_key: str, date: str = "20261204") -> str:
    return (f"AWS4-HMAC-SHA256 Credential={access_key}/{date}/us-east-1/s3/aws4_request, "
            f"SignedHeaders=date;host, Signature={'0' * 64}")


# name: (headers given the server's access key id, expected status, expected code)
AUTH_HEADER_CASES = {
    "sigv2-crash-date": (lambda ak: {"Date": CRASH_DATE, "Authorization": f"AWS {ak}:x"}, 403, "AccessDenied"),
    "sigv4-no-amz-date-crash-date": (
        lambda ak: {"Date": CRASH_DATE, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "Authorization": v4_authorization(ak)},
        403, "AccessDenied"),
    "sigv2-crash-x-amz-date": (lambda ak: {"x-amz-date": CRASH_DATE, "Authorization": f"AWS {ak}:x"}, 403, "AccessDenied"),
    "sigv2-year-0": (lambda ak: {"Date": "Sat, 01 Jan 0000 00:00:00 GMT", "Authorization": f"AWS {ak}:x"}, 403, "AccessDenied"),
    "sigv2-year-9999": (lambda ak: {"Date": "Fri, 31 Dec 9999 23:59:59 GMT", "Authorization": f"AWS {ak}:x"},
                        403, "RequestTimeTooSkewed"),
    "sigv2-year-10000": (lambda ak: {"Date": "Sat, 01 Jan 10000 00:00:00 GMT", "Authorization": f"AWS {ak}:x"},
                         403, "AccessDenied"),
    "sigv2-year-10e12": (lambda ak: {"Date": "Fri, 01 Jan 1000000000000 00:00:00 GMT", "Authorization": f"AWS {ak}:x"},
                         403, "AccessDenied"),
    "sigv2-year-int64-max": (lambda ak: {"Date": f"Fri, 01 Jan {INT64_MAX} 00:00:00 GMT", "Authorization": f"AWS {ak}:x"},
                             403, "AccessDenied"),
    "sigv2-year-40-digits": (lambda ak: {"Date": f"Fri, 01 Jan {DIGITS40} 00:00:00 GMT", "Authorization": f"AWS {ak}:x"},
                             403, "AccessDenied"),
    "sigv2-hour-int64-min": (lambda ak: {"Date": f"Fri, 04 Dec 2026 {INT64_MIN}:00:00 GMT", "Authorization": f"AWS {ak}:x"},
                             403, "AccessDenied"),
    "sigv4-year-9999": (
        lambda ak: {"Date": "Fri, 31 Dec 9999 23:59:59 GMT", "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                    "Authorization": v4_authorization(ak, "99991231")},
        403, "RequestTimeTooSkewed"),
    "sigv4-x-amz-date-year-9999": (
        lambda ak: {"x-amz-date": "99991231T235959Z", "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                    "Authorization": v4_authorization(ak, "99991231")},
        403, "RequestTimeTooSkewed"),
}


@pytest.mark.parametrize("case", list(AUTH_HEADER_CASES))
def test_auth_header_dates_are_refused_not_fatal(server, raw, bucket, case):
    headers, status, code = AUTH_HEADER_CASES[case]
    resp = raw_get(server, "/any/key", headers(server.access_key))
    assert (resp.status, error_fields(resp.body).get("Code")) == (status, code), resp.body[:400]
    still_serving(server, raw, bucket)


def presigned_v4(access_key: str, date: str, expires: str) -> str:
    return (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={access_key}%2F{date[:8]}%2Fus-east-1%2Fs3%2Faws4_request"
            f"&X-Amz-Date={date}&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host&X-Amz-Signature={'0' * 64}")


def now_basic() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


# name: (query given the server's access key id, expected status, expected code)
AUTH_QUERY_CASES = {
    "v2-expires-0": (lambda ak: f"AWSAccessKeyId={ak}&Expires=0&Signature=x", 403, "AccessDenied"),
    "v2-expires-minus-1": (lambda ak: f"AWSAccessKeyId={ak}&Expires=-1&Signature=x", 403, "AccessDenied"),
    "v2-expires-int64-min": (lambda ak: f"AWSAccessKeyId={ak}&Expires={INT64_MIN}&Signature=x", 403, "AccessDenied"),
    "v2-expires-int64-max": (lambda ak: f"AWSAccessKeyId={ak}&Expires={INT64_MAX}&Signature=x", 403, "SignatureDoesNotMatch"),
    "v2-expires-20-digits": (lambda ak: f"AWSAccessKeyId={ak}&Expires={DIGITS20}&Signature=x", 403, "AccessDenied"),
    "v2-expires-40-digits": (lambda ak: f"AWSAccessKeyId={ak}&Expires={DIGITS40}&Signature=x", 403, "AccessDenied"),
    "v4-expires-minus-1": (lambda ak: presigned_v4(ak, now_basic(), "-1"), 400, "AuthorizationQueryParametersError"),
    "v4-expires-int64-max": (lambda ak: presigned_v4(ak, now_basic(), INT64_MAX), 400, "AuthorizationQueryParametersError"),
    "v4-expires-int64-min": (lambda ak: presigned_v4(ak, now_basic(), INT64_MIN), 400, "AuthorizationQueryParametersError"),
    "v4-expires-40-digits": (lambda ak: presigned_v4(ak, now_basic(), DIGITS40), 400, "AuthorizationQueryParametersError"),
    "v4-date-year-9999": (lambda ak: presigned_v4(ak, "99991231T235959Z", "60"), 403, "AccessDenied"),
    "v4-date-year-0": (lambda ak: presigned_v4(ak, "00000101T000000Z", "604800"), 403, "AccessDenied"),
    "v4-date-year-10000": (lambda ak: presigned_v4(ak, "100000101T000000Z", "60"), 400, "AuthorizationQueryParametersError"),
}


@pytest.mark.parametrize("case", list(AUTH_QUERY_CASES))
def test_presigned_numbers_are_refused_not_fatal(server, raw, bucket, case):
    query, status, code = AUTH_QUERY_CASES[case]
    resp = raw_get(server, "/any/key?" + query(server.access_key), {})
    assert (resp.status, error_fields(resp.body).get("Code")) == (status, code), resp.body[:400]
    still_serving(server, raw, bucket)


def test_the_crash_request_on_a_fresh_server_then_a_signed_request(server_factory):
    """Issue 24's reproduction, both signature versions, each twice, on a server of its own; then it still serves."""
    dedicated = server_factory.start("numbers")
    raw = dedicated.raw()
    assert raw.request("PUT", key_path("crash-check")).status_code == 200
    for _ in range(2):
        for case in ("sigv2-crash-date", "sigv4-no-amz-date-crash-date"):
            headers, status, code = AUTH_HEADER_CASES[case]
            resp = raw_get(dedicated, "/any/key", headers(dedicated.access_key))
            assert (resp.status, error_fields(resp.body).get("Code")) == (status, code)
    assert raw.request("PUT", key_path("crash-check", "k"), body=b"still here").status_code == 200
    assert raw.request("GET", key_path("crash-check", "k")).content == b"still here"
    assert dedicated.running()
    assert "Fatal error" not in dedicated.log_tail() and "arithmetic overflow" not in dedicated.log_tail()


@pytest.fixture
def stored(raw, bucket):
    """A 10-byte object in `bucket`."""
    assert raw.request("PUT", key_path(bucket, "ten"), body=b"0123456789").status_code == 200
    return key_path(bucket, "ten")


# name: (query, headers, expected status, expected code or None for success)
OBJECT_READ_CASES = {
    "if-modified-since-crash-date": (None, {"If-Modified-Since": CRASH_DATE}, 200, None),
    "if-unmodified-since-year-10000": (None, {"If-Unmodified-Since": "Sat, 01 Jan 10000 00:00:00 GMT"}, 200, None),
    "if-unmodified-since-year-0": (None, {"If-Unmodified-Since": "Sat, 01 Jan 0000 00:00:00 GMT"}, 412, "PreconditionFailed"),
    "if-modified-since-year-9999": (None, {"If-Modified-Since": "Fri, 31 Dec 9999 23:59:59 GMT"}, 304, None),
    "if-modified-since-int64-min-year": (None, {"If-Modified-Since": f"Fri, 01 Jan {INT64_MIN} 00:00:00 GMT"}, 200, None),
    "range-0-int64-max": (None, {"Range": f"bytes=0-{INT64_MAX}"}, 206, None),
    "range-int64-max-start": (None, {"Range": f"bytes={INT64_MAX}-"}, 416, "InvalidRange"),
    "range-suffix-int64-max": (None, {"Range": f"bytes=-{INT64_MAX}"}, 206, None),
    "range-40-digits": (None, {"Range": f"bytes=0-{DIGITS40}"}, 200, None),
    "part-number-0": ({"partNumber": "0"}, {}, 400, "InvalidArgument"),
    "part-number-minus-1": ({"partNumber": "-1"}, {}, 400, "InvalidArgument"),
    "part-number-int64-max": ({"partNumber": INT64_MAX}, {}, 400, "InvalidArgument"),
    "part-number-int64-min": ({"partNumber": INT64_MIN}, {}, 400, "InvalidArgument"),
    "part-number-40-digits": ({"partNumber": DIGITS40}, {}, 400, "InvalidArgument"),
    "attributes-max-parts-int64-max": ({"attributes": None}, {"x-amz-object-attributes": "ObjectParts",
                                                              "x-amz-max-parts": INT64_MAX}, 400, "InvalidArgument"),
    "attributes-marker-40-digits": ({"attributes": None}, {"x-amz-object-attributes": "ObjectParts",
                                                           "x-amz-part-number-marker": DIGITS40}, 400, "InvalidArgument"),
}


@pytest.mark.parametrize("case", list(OBJECT_READ_CASES))
def test_object_read_numbers(server, raw, bucket, stored, case):
    query, headers, status, code = OBJECT_READ_CASES[case]
    resp = raw.request("GET", stored, query, headers)
    assert resp.status_code == status, resp.content[:400]
    if code:
        assert error_fields(resp.content)["Code"] == code
    still_serving(server, raw, bucket)


# name: (query, expected status, expected code or None)
LIST_CASES = {
    "max-keys-0": ({"list-type": "2", "max-keys": "0"}, 200, None),
    "max-keys-int32-max": ({"list-type": "2", "max-keys": "2147483647"}, 200, None),
    "max-keys-minus-1": ({"list-type": "2", "max-keys": "-1"}, 400, "InvalidArgument"),
    "max-keys-int64-max": ({"list-type": "2", "max-keys": INT64_MAX}, 400, "InvalidArgument"),
    "max-keys-int64-min": ({"max-keys": INT64_MIN}, 400, "InvalidArgument"),
    "max-keys-20-digits": ({"max-keys": DIGITS20}, 400, "InvalidArgument"),
    "versions-max-keys-40-digits": ({"versions": None, "max-keys": DIGITS40}, 400, "InvalidArgument"),
    "max-uploads-int64-max": ({"uploads": None, "max-uploads": INT64_MAX}, 400, "InvalidArgument"),
    "max-uploads-minus-1": ({"uploads": None, "max-uploads": "-1"}, 400, "InvalidArgument"),
}


@pytest.mark.parametrize("case", list(LIST_CASES))
def test_listing_counts(server, raw, bucket, case):
    query, status, code = LIST_CASES[case]
    resp = raw.request("GET", key_path(bucket), query)
    assert resp.status_code == status, resp.content[:400]
    if code:
        assert error_fields(resp.content)["Code"] == code
    still_serving(server, raw, bucket)


@pytest.mark.parametrize("name,value", [
    ("max-parts", INT64_MAX), ("max-parts", INT64_MIN), ("max-parts", DIGITS40), ("part-number-marker", INT64_MAX),
    ("part-number-marker", "-1"), ("part-number-marker", DIGITS20),
])
def test_list_parts_counts(server, s3, raw, bucket, name, value):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    resp = raw.request("GET", key_path(bucket, "mp"), {"uploadId": upload, name: value})
    assert (resp.status_code, error_fields(resp.content)["Code"]) == (400, "InvalidArgument")
    still_serving(server, raw, bucket)
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)


@pytest.mark.parametrize("part_number", ["0", "10001", INT64_MAX, INT64_MIN, DIGITS40])
def test_upload_part_numbers(server, s3, raw, bucket, part_number):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    resp = raw.request("PUT", key_path(bucket, "mp"), {"partNumber": part_number, "uploadId": upload}, body=b"x")
    assert (resp.status_code, error_fields(resp.content)["Code"]) == (400, "InvalidArgument")
    still_serving(server, raw, bucket)
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)


@pytest.mark.parametrize("range_header,code", [
    (f"bytes=0-{INT64_MAX}", "InvalidRange"), (f"bytes={INT64_MAX}-{INT64_MAX}", "InvalidRange"),
    (f"bytes={INT64_MIN}-0", "InvalidArgument"), (f"bytes=0-{DIGITS40}", "InvalidArgument"),
])
def test_copy_source_range(server, s3, raw, bucket, stored, range_header, code):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    resp = raw.request("PUT", key_path(bucket, "mp"), {"partNumber": "1", "uploadId": upload},
                       {"x-amz-copy-source": f"/{bucket}/ten", "x-amz-copy-source-range": range_header})
    assert (resp.status_code, error_fields(resp.content)["Code"]) == ({"InvalidRange": 416}.get(code, 400), code), resp.content[:400]
    still_serving(server, raw, bucket)
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)


@pytest.mark.parametrize("size", ["-1", INT64_MIN, DIGITS40])
def test_complete_multipart_object_size(server, s3, raw, bucket, size):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x")["ETag"]
    body = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>"
            "</CompleteMultipartUpload>").encode()
    resp = raw.request("POST", key_path(bucket, "mp"), {"uploadId": upload}, {"x-amz-mp-object-size": size}, body=body)
    assert (resp.status_code, error_fields(resp.content)["Code"]) == (400, "InvalidArgument"), resp.content[:400]
    still_serving(server, raw, bucket)
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)


@pytest.mark.parametrize("value", ["-1", INT64_MIN, DIGITS20, DIGITS40])
def test_decoded_content_length(server, raw, bucket, value):
    resp = raw.request("PUT", key_path(bucket, "chunked"), headers={
        "x-amz-decoded-content-length": value, "Content-Encoding": "aws-chunked"},
        body=b"0\r\n\r\n", payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert (resp.status_code, error_fields(resp.content)["Code"]) == (400, "InvalidArgument"), resp.content[:400]
    still_serving(server, raw, bucket)


@pytest.mark.parametrize("size", ["7fffffffffffffff", "ffffffffffffffff", "f" * 20, "f" * 40, "-1"])
def test_aws_chunked_chunk_size(server, raw, bucket, size):
    body = f"{size}\r\nhello\r\n0\r\n\r\n".encode()
    resp = raw.request("PUT", key_path(bucket, "chunked"), headers={
        "x-amz-decoded-content-length": "5", "Content-Encoding": "aws-chunked"},
        body=body, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert (resp.status_code, error_fields(resp.content)["Code"]) == (400, "InvalidChunkSizeError"), resp.content[:400]
    still_serving(server, raw, bucket)


@pytest.mark.parametrize("length,code", [
    (INT64_MAX, "EntityTooLarge"),
    (DIGITS20, "InvalidArgument"),  # fits the HTTP parser's UInt64, not S3's Int64
    (DIGITS40, "BadRequest"),  # past the HTTP parser's own bound
    ("-1", "BadRequest"),
])
def test_content_length_header(server, raw, bucket, sock, length, code):
    """An impossible Content-Length is refused by the HTTP layer or by S3's check before any body is read."""
    prepared = raw.prepare("PUT", key_path(bucket, "cl"), payload_hash="UNSIGNED-PAYLOAD")
    conn = sock()
    conn.send_prepared(prepared, body=b"", extra={"Content-Length": length})
    resp = conn.read_final_response(timeout=10)
    assert (resp.status, error_fields(resp.body)["Code"]) == (400, code), resp.body[:300]
    still_serving(server, raw, bucket)


LIFECYCLE = ("<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>"
             "{}</Rule></LifecycleConfiguration>")


@pytest.mark.parametrize("action,status,code", [
    ("<Expiration><Days>0</Days></Expiration>", 400, "InvalidArgument"),
    ("<Expiration><Days>-1</Days></Expiration>", 400, "InvalidArgument"),
    (f"<Expiration><Days>{INT64_MAX}</Days></Expiration>", 400, "InvalidArgument"),
    (f"<Expiration><Days>{INT64_MIN}</Days></Expiration>", 400, "InvalidArgument"),
    (f"<Expiration><Days>{DIGITS40}</Days></Expiration>", 400, "InvalidArgument"),
    (f"<NoncurrentVersionExpiration><NoncurrentDays>{INT64_MAX}</NoncurrentDays></NoncurrentVersionExpiration>",
     400, "InvalidArgument"),
    (f"<AbortIncompleteMultipartUpload><DaysAfterInitiation>{DIGITS20}</DaysAfterInitiation>"
     "</AbortIncompleteMultipartUpload>", 400, "InvalidArgument"),
    ("<Expiration><Date>10000-01-01T00:00:00Z</Date></Expiration>", 400, "MalformedXML"),
    ("<Expiration><Date>1000000000000-01-01T00:00:00Z</Date></Expiration>", 400, "MalformedXML"),
])
def test_lifecycle_numbers(server, raw, bucket, action, status, code):
    body = LIFECYCLE.format(action).encode()
    resp = raw.request("PUT", key_path(bucket), {"lifecycle": None}, {"Content-MD5": md5_b64(body)}, body=body)
    assert (resp.status_code, error_fields(resp.content)["Code"]) == (status, code), resp.content[:400]
    still_serving(server, raw, bucket)


def md5_b64(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def test_longest_lifecycle_prints_its_expiration(server, raw, bucket):
    """Int32.max days is accepted (AWS's Integer) and the x-amz-expiration it gives prints, clamped to 9999, instead
    of trapping in the date printer (Int64.max days once passed the parser and reached it)."""
    body = LIFECYCLE.format("<Expiration><Days>2147483647</Days></Expiration>").encode()
    resp = raw.request("PUT", key_path(bucket), {"lifecycle": None}, {"Content-MD5": md5_b64(body)}, body=body)
    assert resp.status_code == 200, resp.content[:400]
    put = raw.request("PUT", key_path(bucket, "expiring"), body=b"x")
    assert put.status_code == 200
    assert re.match(r'expiry-date="\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", rule-id="r"', put.headers["x-amz-expiration"])
    assert "9999" in put.headers["x-amz-expiration"]
    still_serving(server, raw, bucket)


@pytest.mark.parametrize("value,status,code", [
    ("0", 200, None), ("2147483647", 200, None), ("-1", 400, "MalformedXML"), (INT64_MAX, 400, "MalformedXML"),
    (INT64_MIN, 400, "MalformedXML"), (DIGITS40, 400, "MalformedXML"),
])
def test_cors_max_age(server, raw, bucket, value, status, code):
    body = (f"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
            f"<MaxAgeSeconds>{value}</MaxAgeSeconds></CORSRule></CORSConfiguration>").encode()
    resp = raw.request("PUT", key_path(bucket), {"cors": None}, {"Content-MD5": md5_b64(body)}, body=body)
    assert resp.status_code == status, resp.content[:400]
    if code:
        assert error_fields(resp.content)["Code"] == code
    still_serving(server, raw, bucket)


@pytest.fixture
def lock_bucket(request, s3):
    name = "num-lock-" + hashlib.sha1(request.node.name.encode()).hexdigest()[:12]
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    yield name
    for version in s3.list_object_versions(Bucket=name).get("Versions", []):
        s3.delete_object(Bucket=name, Key=version["Key"], VersionId=version["VersionId"], BypassGovernanceRetention=True)
    s3.delete_bucket(Bucket=name)


@pytest.mark.parametrize("until,status,code", [
    ("10000-01-01T00:00:00Z", 400, "InvalidArgument"),
    ("1000000000000-01-01T00:00:00Z", 400, "InvalidArgument"),
    (f"{INT64_MAX}-01-01T00:00:00Z", 400, "InvalidArgument"),
    ("0000-01-01T00:00:00Z", 400, "InvalidArgument"),  # in the past
    ("9999-12-31T23:59:59Z", 200, None),
])
def test_retain_until_date_header(server, raw, lock_bucket, until, status, code):
    resp = raw.request("PUT", key_path(lock_bucket, "locked"), headers={
        "x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": until,
        "Content-MD5": md5_b64(b"x")}, body=b"x")
    assert resp.status_code == status, resp.content[:400]
    if code:
        assert error_fields(resp.content)["Code"] == code
    else:
        head = raw.request("HEAD", key_path(lock_bucket, "locked"))
        assert head.headers["x-amz-object-lock-retain-until-date"].startswith("9999-12-31T23:59:59")
    still_serving(server, raw, lock_bucket)


@pytest.mark.parametrize("period,status,code", [
    ("<Days>36500</Days>", 200, None), ("<Years>100</Years>", 200, None),
    ("<Days>0</Days>", 400, "InvalidArgument"), ("<Days>-1</Days>", 400, "InvalidArgument"),
    (f"<Days>{INT64_MAX}</Days>", 400, "InvalidRetentionPeriod"), (f"<Years>{INT64_MAX}</Years>", 400, "InvalidRetentionPeriod"),
    (f"<Days>{INT64_MIN}</Days>", 400, "InvalidArgument"), (f"<Years>{DIGITS40}</Years>", 400, "MalformedXML"),
])
def test_default_retention_period(server, raw, lock_bucket, period, status, code):
    body = ("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
            f"<Mode>GOVERNANCE</Mode>{period}</DefaultRetention></Rule></ObjectLockConfiguration>").encode()
    resp = raw.request("PUT", key_path(lock_bucket), {"object-lock": None}, {"Content-MD5": md5_b64(body)}, body=body)
    assert resp.status_code == status, resp.content[:400]
    if code:
        assert error_fields(resp.content)["Code"] == code
    else:
        # The longest default gives a new object a retain-until date that prints.
        put = raw.request("PUT", key_path(lock_bucket, "defaulted"), headers={"Content-MD5": md5_b64(b"x")}, body=b"x")
        assert put.status_code == 200, put.content[:400]
        head = raw.request("HEAD", key_path(lock_bucket, "defaulted"))
        assert re.match(r"\d{4}-\d\d-\d\dT", head.headers["x-amz-object-lock-retain-until-date"])
    still_serving(server, raw, lock_bucket)


def v2_form(server, bucket: str, expiration: str) -> dict[str, str]:
    document = {"expiration": expiration, "conditions": [{"bucket": bucket}, {"key": "posted"}]}
    encoded = base64.b64encode(json.dumps(document).encode())
    signature = base64.b64encode(hmac.new(server.secret_key.encode(), encoded, hashlib.sha1).digest())
    return {"key": "posted", "AWSAccessKeyId": server.access_key, "policy": encoded.decode(), "signature": signature.decode()}


@pytest.mark.parametrize("expiration,status,code", [
    (f"2100-01-01T00:00:00.{DIGITS40}Z", 204, None),
    ("9999-12-31T23:59:59Z", 204, None),
    ("10000-01-01T00:00:00Z", 400, "InvalidPolicyDocument"),
    ("1000000000000-01-01T00:00:00Z", 400, "InvalidPolicyDocument"),
    ("0000-01-01T00:00:00Z", 403, "AccessDenied"),  # expired
])
def test_post_policy_expiration(server, raw, bucket, expiration, status, code):
    fields = v2_form(server, bucket, expiration)
    files = list(fields.items()) + [("file", ("f", b"hello", "application/octet-stream"))]
    resp = requests.post(f"{server.endpoint}/{bucket}", files=files, allow_redirects=False)
    assert resp.status_code == status, resp.content[:400]
    if code:
        assert error_fields(resp.content)["Code"] == code
    still_serving(server, raw, bucket)


def test_readme_ships_the_systemd_unit_verbatim():
    """README's "Running it for real" shows scripts/martlet.service byte for byte, so the two cannot drift."""
    unit = (ROOT / "scripts" / "martlet.service").read_text()
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```ini\n(.*?)```", readme, re.S)
    assert unit in blocks, "README.md's ```ini block differs from scripts/martlet.service"
    for setting in ("Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "User=martlet"):
        assert setting in unit.splitlines()
