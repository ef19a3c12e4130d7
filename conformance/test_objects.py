"""Single-object operations: PutObject, GetObject, HeadObject, DeleteObject; keys, sizes, ETags, Content-MD5,
stored headers and user metadata."""

import base64
import datetime as dt
import email.header
import email.utils
import hashlib
import re
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from s3helpers import client_error, md5_b64, md5_hex, object_absent, quoted_etag, random_bytes


def test_put_get_head_delete_round_trip(s3, bucket):
    body = b"hello, martlet\n"
    put = s3.put_object(Bucket=bucket, Key="greeting.txt", Body=body)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert put["ETag"] == quoted_etag(body)

    got = s3.get_object(Bucket=bucket, Key="greeting.txt")
    assert got["Body"].read() == body
    assert got["ContentLength"] == len(body)
    assert got["ETag"] == quoted_etag(body)

    head = s3.head_object(Bucket=bucket, Key="greeting.txt")
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == quoted_etag(body)

    deleted = s3.delete_object(Bucket=bucket, Key="greeting.txt")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="greeting.txt")
    assert client_error(info.value) == (404, "NoSuchKey")


def test_delete_missing_key_is_idempotent(s3, bucket):
    for _ in range(2):
        resp = s3.delete_object(Bucket=bucket, Key="never-existed")
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_in_missing_bucket(s3):
    with pytest.raises(ClientError) as info:
        s3.delete_object(Bucket="missing-bucket-for-delete", Key="k")
    assert client_error(info.value) == (404, "NoSuchBucket")


KEYS = {
    "plain": "a",
    "nested": "a/b",
    "trailing-slash": "a/",
    "dot-dot-escape": "../../etc/passwd",
    "dot-dot-relative": "../x",
    "dot-segment": "./x",
    "double-slash": "dir//x",
    "leading-slash": "/rooted",
    "unicode": "ünïcödé/日本語/файл.txt",
    "emoji": "emoji-😀.bin",
    "spaces": "with  spaces / and more ",
    "plus": "1+1=2",
    "percent": "100%25 real % sign",
    "question": "what?yes=1&no=2",
    "hash": "#anchor#",
    "tilde-and-friends": "~!$&'()*,;=:@[]",
    "max-length-ascii": "k" * 1024,
    "max-length-utf8": "é" * 512,  # 1024 bytes in UTF-8
}


@pytest.mark.parametrize("key", KEYS.values(), ids=KEYS.keys())
def test_key_names_round_trip(s3, bucket, key):
    body = ("body of " + key).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert listed == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_keys_differing_only_by_trailing_slash_are_distinct(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"file")
    s3.put_object(Bucket=bucket, Key="a/", Body=b"folder marker")
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"child")
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"file"
    assert s3.get_object(Bucket=bucket, Key="a/")["Body"].read() == b"folder marker"
    assert s3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"child"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["a", "a/", "a/b"]


def test_dot_dot_keys_stay_inside_the_bucket(s3, bucket, request):
    # A key is a name, never a path: "../x" in one bucket must not reach a sibling bucket's "x".
    from conftest import bucket_name, empty_and_delete

    sibling = bucket_name(request, "sib")
    s3.create_bucket(Bucket=sibling)
    try:
        s3.put_object(Bucket=sibling, Key="x", Body=b"sibling")
        s3.put_object(Bucket=bucket, Key=f"../{sibling}/x", Body=b"mine")
        assert s3.get_object(Bucket=sibling, Key="x")["Body"].read() == b"sibling"
        assert s3.get_object(Bucket=bucket, Key=f"../{sibling}/x")["Body"].read() == b"mine"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=sibling)["Contents"]] == ["x"]
    finally:
        empty_and_delete(s3, sibling)


@pytest.mark.parametrize("key", ["k" * 1025, "é" * 512 + "k"], ids=["ascii-1025", "utf8-1025-bytes"])
def test_key_too_long(s3, bucket, key):
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert client_error(info.value) == (400, "KeyTooLongError")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_zero_byte_object(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert put["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentLength"] == 0
    assert s3.head_object(Bucket=bucket, Key="empty")["ContentLength"] == 0
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["Size"] == 0


def test_ten_megabyte_object(s3, bucket):
    body = random_bytes(10 * 1024 * 1024)
    put = s3.put_object(Bucket=bucket, Key="big.bin", Body=body)
    assert put["ETag"] == quoted_etag(body)
    got = s3.get_object(Bucket=bucket, Key="big.bin")
    data = got["Body"].read()
    assert len(data) == len(body)
    assert hashlib.md5(data).hexdigest() == md5_hex(body)
    assert got["ETag"] == quoted_etag(body)


def test_upload_file_and_download_file_5mb(s3, bucket, tmp_path):
    src = tmp_path / "five.bin"
    body = random_bytes(5 * 1024 * 1024)
    src.write_bytes(body)
    s3.upload_file(str(src), bucket, "files/five.bin")
    assert s3.head_object(Bucket=bucket, Key="files/five.bin")["ETag"] == quoted_etag(body)  # single PUT
    dst = tmp_path / "five.out"
    s3.download_file(bucket, "files/five.bin", str(dst))
    assert dst.read_bytes() == body


@pytest.mark.parametrize("body", [b"x", b"The quick brown fox", bytes(range(256)) * 33],
                         ids=["1-byte", "text", "binary-8448"])
def test_etag_is_quoted_md5(s3, bucket, body):
    assert s3.put_object(Bucket=bucket, Key="e", Body=body)["ETag"] == quoted_etag(body)
    assert s3.head_object(Bucket=bucket, Key="e")["ETag"] == quoted_etag(body)
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["ETag"] == quoted_etag(body)


def test_content_md5_correct(s3, bucket):
    body = b"digest me"
    resp = s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5=md5_b64(body))
    assert resp["ETag"] == quoted_etag(body)


def test_content_md5_wrong_is_bad_digest_and_stores_nothing(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"digest me", ContentMD5=md5_b64(b"something else"))
    assert client_error(info.value) == (400, "BadDigest")
    assert object_absent(s3, bucket, "md5")


def test_content_md5_wrong_does_not_replace_existing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="md5", Body=b"original")
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"replacement", ContentMD5=md5_b64(b"nope"))
    assert client_error(info.value) == (400, "BadDigest")
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == b"original"


@pytest.mark.parametrize("value", [
    "not base64 at all!",
    base64.b64encode(b"too short").decode(),  # decodes, but is not 16 bytes
], ids=["not-base64", "wrong-length"])
def test_content_md5_malformed_is_invalid_digest(s3, bucket, raw, value):
    from s3helpers import key_path

    # Sent raw so no client-side validation or rewriting gets in the way.
    resp = raw.request("PUT", key_path(bucket, "md5"), headers={"Content-MD5": value}, body=b"digest me")
    assert resp.status_code == 400, resp.content
    from s3helpers import error_fields

    assert error_fields(resp.content)["Code"] == "InvalidDigest"
    assert object_absent(s3, bucket, "md5")


def test_default_content_type(s3, bucket):
    s3.put_object(Bucket=bucket, Key="untyped", Body=b"?")
    assert s3.head_object(Bucket=bucket, Key="untyped")["ContentType"] == "binary/octet-stream"
    assert s3.get_object(Bucket=bucket, Key="untyped")["ContentType"] == "binary/octet-stream"


def test_stored_headers_and_metadata_round_trip(s3, bucket):
    filename = "résumé 日本.pdf"
    expires = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    rfc2047 = "=?UTF-8?B?" + base64.b64encode(filename.encode()).decode() + "?="
    s3.put_object(
        Bucket=bucket, Key="doc.pdf", Body=b"%PDF-1.7 ...",
        ContentType="application/pdf",
        ContentEncoding="gzip",
        ContentDisposition=f"attachment; filename=\"resume.pdf\"; filename*=UTF-8''{quote(filename)}",
        ContentLanguage="de-CH",
        CacheControl="max-age=3600, must-revalidate",
        Expires=expires,
        Metadata={
            "original-filename": quote(filename),
            "original-filename-rfc2047": rfc2047,
            "MixedCase-Key": "Value With Case",
            "empty-looking": "-",
        },
    )
    for resp in (s3.head_object(Bucket=bucket, Key="doc.pdf"), s3.get_object(Bucket=bucket, Key="doc.pdf")):
        headers = resp["ResponseMetadata"]["HTTPHeaders"]
        assert resp["ContentType"] == "application/pdf"
        assert resp["ContentEncoding"] == "gzip"
        assert resp["ContentDisposition"] == f"attachment; filename=\"resume.pdf\"; filename*=UTF-8''{quote(filename)}"
        assert resp["ContentLanguage"] == "de-CH"
        assert resp["CacheControl"] == "max-age=3600, must-revalidate"
        assert email.utils.parsedate_to_datetime(headers["expires"]) == expires
        assert resp["Metadata"] == {
            "original-filename": quote(filename),
            "original-filename-rfc2047": rfc2047,
            "mixedcase-key": "Value With Case",  # S3 lower-cases metadata names and keeps values as sent
            "empty-looking": "-",
        }


def test_user_metadata_limit(s3, bucket):
    # AWS: user-defined metadata is limited to 2 KB, counted as the UTF-8 bytes of every name and value.
    ok = {"a": "x" * 1000, "b": "y" * 900}
    s3.put_object(Bucket=bucket, Key="meta-ok", Body=b"1", Metadata=ok)
    assert s3.head_object(Bucket=bucket, Key="meta-ok")["Metadata"] == ok

    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="meta-big", Body=b"1", Metadata={"a": "x" * 1500, "b": "y" * 700})
    assert client_error(info.value) == (400, "MetadataTooLarge")
    assert object_absent(s3, bucket, "meta-big")


def _decoded(value: str) -> str:
    return str(email.header.make_header(email.header.decode_header(value)))


def test_non_ascii_metadata_comes_back_rfc2047_encoded(s3, bucket):
    # AWS: non-US-ASCII metadata values are decoded per RFC 2047 before storing and encoded per RFC 2047 when
    # returned; ASCII values are returned as they are.
    # botocore refuses non-ASCII metadata, so the raw value goes in through a hook, as the s3-tests suite does it.
    def raw_title(params, **kwargs):
        params["headers"]["x-amz-meta-title"] = "Hello Worldé"

    s3.meta.events.register("before-call.s3.PutObject", raw_title)
    try:
        s3.put_object(Bucket=bucket, Key="raw", Body=b"1", Metadata={"plain": "ascii"})
    finally:
        s3.meta.events.unregister("before-call.s3.PutObject", raw_title)
    s3.put_object(Bucket=bucket, Key="encoded", Body=b"1", Metadata={"title": "=?UTF-8?Q?Hello_World=C3=A9?="})
    for key in ("raw", "encoded"):
        for resp in (s3.head_object(Bucket=bucket, Key=key), s3.get_object(Bucket=bucket, Key=key)):
            title = resp["Metadata"]["title"]
            assert title == "=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?=", key
            assert _decoded(title) == "Hello Worldé"
    assert s3.head_object(Bucket=bucket, Key="raw")["Metadata"]["plain"] == "ascii"


def test_storage_class_standard(s3, bucket):
    s3.put_object(Bucket=bucket, Key="std", Body=b"1", StorageClass="STANDARD")
    s3.put_object(Bucket=bucket, Key="default", Body=b"1")
    for obj in s3.list_objects_v2(Bucket=bucket)["Contents"]:
        assert obj["StorageClass"] == "STANDARD"
    for obj in s3.list_objects(Bucket=bucket)["Contents"]:
        assert obj["StorageClass"] == "STANDARD"
    # AWS omits x-amz-storage-class on HEAD/GET for STANDARD objects; if present it must say STANDARD.
    head = s3.head_object(Bucket=bucket, Key="std")
    assert head.get("StorageClass", "STANDARD") == "STANDARD"


def test_invalid_storage_class(s3, bucket, raw):
    from s3helpers import error_fields, key_path

    resp = raw.request("PUT", key_path(bucket, "weird"), headers={"x-amz-storage-class": "NOT_A_CLASS"},
                       body=b"1")
    assert resp.status_code == 400
    assert error_fields(resp.content)["Code"] == "InvalidStorageClass"
    assert object_absent(s3, bucket, "weird")


RFC1123 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                     r"\d{4} \d{2}:\d{2}:\d{2} GMT$")


def test_last_modified_format(s3, bucket):
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(seconds=2)
    s3.put_object(Bucket=bucket, Key="lm", Body=b"1")
    after = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
    for resp in (s3.head_object(Bucket=bucket, Key="lm"), s3.get_object(Bucket=bucket, Key="lm")):
        raw_header = resp["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
        assert RFC1123.match(raw_header), raw_header
        assert before <= resp["LastModified"] <= after
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]["LastModified"]
    head = s3.head_object(Bucket=bucket, Key="lm")["LastModified"]
    assert listed.replace(microsecond=0) == head


def test_overwrite_replaces_body_and_metadata(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first version", ContentType="text/plain",
                  Metadata={"generation": "1", "only-in-first": "yes"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"second", Metadata={"generation": "2"})
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second"
    assert got["ETag"] == quoted_etag(b"second")
    assert got["ContentLength"] == 6
    assert got["Metadata"] == {"generation": "2"}
    assert got["ContentType"] == "binary/octet-stream"
    listing = s3.list_objects_v2(Bucket=bucket)
    assert listing["KeyCount"] == 1
    assert listing["Contents"][0]["Size"] == 6


def test_get_missing_key_and_bucket(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="nope")
    assert client_error(info.value) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket="no-such-bucket-here-" + bucket[-8:], Key="nope")
    assert client_error(info.value) == (404, "NoSuchBucket")
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket="no-such-bucket-here-" + bucket[-8:], Key="nope", Body=b"1")
    assert client_error(info.value) == (404, "NoSuchBucket")


@pytest.mark.parametrize("sent, stored", [
    ("gzip", "gzip"),
    ("deflate, gzip", "deflate, gzip"),  # kept exactly as sent
    ("gzip, aws-chunked", "gzip"),
    ("aws-chunked, gzip", "gzip"),
    ("aws-chunked", None),
    ("aws-chunked, aws-chunked", None),
])
def test_content_encoding_is_stored_without_aws_chunked(s3, bucket, sent, stored):
    s3.put_object(Bucket=bucket, Key="enc", Body=b"x", ContentEncoding=sent)
    assert s3.head_object(Bucket=bucket, Key="enc").get("ContentEncoding") == stored
