"""CopyObject and UploadPartCopy.

CopyObject: within a bucket and across buckets (bytes, the source's ETag for a single-part source, the
CopyObjectResult document), the metadata directive (COPY keeps the source's metadata and system headers and ignores
the request's; REPLACE takes the request's), copying an object onto itself (InvalidRequest unless REPLACE), the four
x-amz-copy-source-if-* conditions and AWS's combination rules, source keys that need URL-encoding (boto3 and raw
headers, with and without a leading slash), missing source key / bucket, the tagging directive, multipart sources,
copies that must outlive their source (deleted or overwritten: shared storage is reference counted),
`?versionId=null`, aws-cli `s3 cp` between keys and s3transfer's managed copy.

UploadPartCopy: whole-object and ranged part copies assembled by CompleteMultipartUpload, the CopyPartResult ETag
(MD5 of the copied bytes) and checksum, ranges beyond the source (InvalidRange), copy-source conditions, ranges that
cross the part boundaries of a multipart source.
"""

import datetime as dt
import re
from urllib.parse import quote

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import bucket_name, empty_and_delete
from s3helpers import (
    composite_checksum, crc32_b64, error_fields, key_path, md5_hex, multipart_etag, parse_xml, quoted_etag,
    random_bytes,
)

MiB = 1024 * 1024
DAY = dt.timedelta(days=1)
OTHER_ETAG = '"0123456789abcdef0123456789abcdef"'
ISO8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _error(exc: ClientError) -> tuple[int, str]:
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]


def _absent(s3, bucket, key) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        return True
    return False


def _body(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _src(bucket: str, key: str, **extra) -> dict:
    return {"Bucket": bucket, "Key": key, **extra}


def _copy_header(bucket: str, key: str, leading_slash: bool = True) -> str:
    """An x-amz-copy-source value with the key URL-encoded as AWS expects (`/` kept)."""
    return ("/" if leading_slash else "") + bucket + "/" + quote(key, safe="/~")


@pytest.fixture
def other_bucket(request, s3):
    name = bucket_name(request, "mt2")
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


def _multipart_upload_file(s3, bucket, key, data, tmp_path, part_size=5 * MiB):
    """Stores `data` as a multipart object through s3transfer (upload_file with a small threshold)."""
    path = tmp_path / ("mp-" + key.replace("/", "_"))
    path.write_bytes(data)
    config = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size, max_concurrency=2)
    s3.upload_file(str(path), bucket, key, Config=config)


def _complete(s3, bucket, key, upload_id, etags):
    parts = [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})


# --------------------------------------------------------------------------------------------------------------------
# CopyObject basics


def test_copy_within_bucket(s3, bucket):
    data = random_bytes(100_000)
    put = s3.put_object(Bucket=bucket, Key="src", Body=data)
    src_head = s3.head_object(Bucket=bucket, Key="src")
    resp = s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src"))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    result = resp["CopyObjectResult"]
    assert result["ETag"] == put["ETag"] == quoted_etag(data)  # single-part source: the MD5 again
    assert isinstance(result["LastModified"], dt.datetime)

    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    assert got["ETag"] == quoted_etag(data)
    # The copy is a new object: its Last-Modified is the copy's time (seconds in headers, maybe ms in the XML).
    assert abs((got["LastModified"] - result["LastModified"]).total_seconds()) < 1.0
    assert got["LastModified"] >= src_head["LastModified"]
    assert _body(s3, bucket, "src") == data  # the source is untouched
    listed = {o["Key"]: o for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert set(listed) == {"src", "dst"}
    assert listed["dst"]["Size"] == len(data)
    assert listed["dst"]["ETag"] == quoted_etag(data)


def test_copy_across_buckets(s3, bucket, other_bucket):
    data = random_bytes(70_000)
    s3.put_object(Bucket=bucket, Key="dir/src.bin", Body=data, ContentType="application/x-test")
    resp = s3.copy_object(Bucket=other_bucket, Key="elsewhere/dst.bin", CopySource=_src(bucket, "dir/src.bin"))
    assert resp["CopyObjectResult"]["ETag"] == quoted_etag(data)
    got = s3.get_object(Bucket=other_bucket, Key="elsewhere/dst.bin")
    assert got["Body"].read() == data
    assert got["ContentType"] == "application/x-test"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=other_bucket)["Contents"]] == ["elsewhere/dst.bin"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/src.bin"]


def test_copy_result_document(raw, s3, bucket):
    data = b"copy result document"
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    resp = raw.request("PUT", key_path(bucket, "dst"), headers={"x-amz-copy-source": _copy_header(bucket, "src")})
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.tag == "CopyObjectResult"
    assert root.findtext("ETag") == quoted_etag(data)
    assert ISO8601.match(root.findtext("LastModified") or ""), root.findtext("LastModified")
    assert _body(s3, bucket, "dst") == data


def test_copy_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    resp = s3.copy_object(Bucket=bucket, Key="empty-copy", CopySource=_src(bucket, "empty"))
    assert resp["CopyObjectResult"]["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=bucket, Key="empty-copy")
    assert got["ContentLength"] == 0
    assert got["Body"].read() == b""


def test_copy_overwrites_existing_destination(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"new contents", Metadata={"from": "src"})
    s3.put_object(Bucket=bucket, Key="dst", Body=b"old destination contents", Metadata={"from": "dst"})
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src"))
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"new contents"
    assert got["Metadata"] == {"from": "src"}


# --------------------------------------------------------------------------------------------------------------------
# Metadata directive

STORED = dict(
    ContentType="text/x-original",
    CacheControl="max-age=60",
    ContentDisposition='attachment; filename="original.txt"',
    ContentLanguage="fr",
    ContentEncoding="gzip",
    Metadata={"colour": "blue", "MixedCase": "Value"},
)


def test_metadata_directive_copy_is_the_default(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", **STORED)
    # New metadata and content type on a COPY request are ignored (AWS: only REPLACE uses them).
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src"),
                   Metadata={"colour": "red", "extra": "x"}, ContentType="text/x-ignored")
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["ContentType"] == "text/x-original"
    assert head["CacheControl"] == "max-age=60"
    assert head["ContentDisposition"] == 'attachment; filename="original.txt"'
    assert head["ContentLanguage"] == "fr"
    assert head["ContentEncoding"] == "gzip"
    assert head["Metadata"] == {"colour": "blue", "mixedcase": "Value"}


def test_metadata_directive_copy_explicit(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", **STORED)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src"), MetadataDirective="COPY",
                   Metadata={"colour": "red"}, ContentType="text/x-ignored")
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["ContentType"] == "text/x-original"
    assert head["Metadata"] == {"colour": "blue", "mixedcase": "Value"}


def test_metadata_directive_replace(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", **STORED)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src"), MetadataDirective="REPLACE",
                   Metadata={"colour": "red", "extra": "x"}, ContentType="text/x-replaced",
                   ContentDisposition="inline")
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["ContentType"] == "text/x-replaced"
    assert head["ContentDisposition"] == "inline"
    assert head["Metadata"] == {"colour": "red", "extra": "x"}
    # REPLACE replaces everything: what the request did not give is gone.
    assert "CacheControl" not in head
    assert "ContentLanguage" not in head
    assert "ContentEncoding" not in head
    assert _body(s3, bucket, "dst") == b"payload"
    src = s3.head_object(Bucket=bucket, Key="src")  # and the source keeps its own
    assert src["ContentType"] == "text/x-original"
    assert src["Metadata"] == {"colour": "blue", "mixedcase": "Value"}


def test_metadata_directive_replace_without_content_type(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", ContentType="text/x-original")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src"), MetadataDirective="REPLACE")
    assert s3.head_object(Bucket=bucket, Key="dst")["ContentType"] == "binary/octet-stream"


def test_metadata_directive_invalid(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload")
    resp = raw.request("PUT", key_path(bucket, "dst"), headers={
        "x-amz-copy-source": _copy_header(bucket, "src"), "x-amz-metadata-directive": "MERGE"})
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "InvalidArgument"
    assert _absent(s3, bucket, "dst")


# --------------------------------------------------------------------------------------------------------------------
# Copying an object onto itself


def test_copy_onto_itself_without_replace_is_invalid(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"same", Metadata={"v": "1"}, ContentType="text/plain")
    before = s3.head_object(Bucket=bucket, Key="self")
    for kwargs in ({}, {"MetadataDirective": "COPY"}, {"Metadata": {"v": "2"}}):
        with pytest.raises(ClientError) as info:
            s3.copy_object(Bucket=bucket, Key="self", CopySource=_src(bucket, "self"), **kwargs)
        assert _error(info.value) == (400, "InvalidRequest"), kwargs
    after = s3.head_object(Bucket=bucket, Key="self")
    assert after["Metadata"] == {"v": "1"}
    assert after["LastModified"] == before["LastModified"]


def test_copy_onto_itself_with_replace_changes_metadata(s3, bucket):
    data = random_bytes(20_000)
    s3.put_object(Bucket=bucket, Key="self", Body=data, Metadata={"v": "1"}, ContentType="text/plain")
    resp = s3.copy_object(Bucket=bucket, Key="self", CopySource=_src(bucket, "self"),
                          MetadataDirective="REPLACE", Metadata={"v": "2"}, ContentType="application/json")
    assert resp["CopyObjectResult"]["ETag"] == quoted_etag(data)
    got = s3.get_object(Bucket=bucket, Key="self")
    assert got["Body"].read() == data
    assert got["Metadata"] == {"v": "2"}
    assert got["ContentType"] == "application/json"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["self"]


# --------------------------------------------------------------------------------------------------------------------
# Copy-source conditions

# (name, builder(etag, last_modified) -> kwargs, copies?) ; lm is the source's Last-Modified (second precision).
CONDITIONS = [
    ("if-match-true", lambda e, lm: {"CopySourceIfMatch": e}, True),
    ("if-match-false", lambda e, lm: {"CopySourceIfMatch": OTHER_ETAG}, False),
    ("if-none-match-true", lambda e, lm: {"CopySourceIfNoneMatch": OTHER_ETAG}, True),
    ("if-none-match-false", lambda e, lm: {"CopySourceIfNoneMatch": e}, False),
    ("if-unmodified-since-true", lambda e, lm: {"CopySourceIfUnmodifiedSince": lm + DAY}, True),
    ("if-unmodified-since-false", lambda e, lm: {"CopySourceIfUnmodifiedSince": lm - DAY}, False),
    ("if-modified-since-true", lambda e, lm: {"CopySourceIfModifiedSince": lm - DAY}, True),
    ("if-modified-since-false", lambda e, lm: {"CopySourceIfModifiedSince": lm}, False),
    # AWS (CopyObject API reference): if-match true + if-unmodified-since false -> 200 and the copy is made ...
    ("if-match-true+if-unmodified-since-false",
     lambda e, lm: {"CopySourceIfMatch": e, "CopySourceIfUnmodifiedSince": lm - DAY}, True),
    # ... and if-none-match false + if-modified-since true -> 412.
    ("if-none-match-false+if-modified-since-true",
     lambda e, lm: {"CopySourceIfNoneMatch": e, "CopySourceIfModifiedSince": lm - DAY}, False),
    ("if-match-false+if-unmodified-since-true",
     lambda e, lm: {"CopySourceIfMatch": OTHER_ETAG, "CopySourceIfUnmodifiedSince": lm + DAY}, False),
]


@pytest.mark.parametrize("name, build, copies", CONDITIONS, ids=[c[0] for c in CONDITIONS])
def test_copy_source_conditions(s3, bucket, name, build, copies):
    put = s3.put_object(Bucket=bucket, Key="src", Body=b"conditional source")
    lm = s3.head_object(Bucket=bucket, Key="src")["LastModified"]
    kwargs = build(put["ETag"], lm)
    if copies:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src"), **kwargs)
        assert _body(s3, bucket, "dst") == b"conditional source"
    else:
        with pytest.raises(ClientError) as info:
            s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src"), **kwargs)
        assert _error(info.value) == (412, "PreconditionFailed")
        assert _absent(s3, bucket, "dst")


def test_copy_source_if_match_unquoted_etag(raw, s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="src", Body=b"unquoted")
    resp = raw.request("PUT", key_path(bucket, "dst"), headers={
        "x-amz-copy-source": _copy_header(bucket, "src"),
        "x-amz-copy-source-if-match": put["ETag"].strip('"')})
    assert resp.status_code == 200, resp.content
    assert _body(s3, bucket, "dst") == b"unquoted"


def test_failed_condition_leaves_existing_destination(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    s3.put_object(Bucket=bucket, Key="dst", Body=b"destination")
    with pytest.raises(ClientError) as info:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src"), CopySourceIfMatch=OTHER_ETAG)
    assert _error(info.value) == (412, "PreconditionFailed")
    assert _body(s3, bucket, "dst") == b"destination"


# --------------------------------------------------------------------------------------------------------------------
# Source keys that need encoding

SOURCE_KEYS = {
    "spaces": "dir with spaces/file name.txt",
    "unicode": "ünïcödé/日本語/файл.txt",
    "plus": "1+1=2 +plus+",
    "percent": "100% sure/%41%2F",  # a literal '%' and a literal "%41%2F" that must not be decoded twice
    "query-like": "what?versionId=x&y=z",
    "hash-and-friends": "#anchor ~!$&'()*,;=:@[]",
}


@pytest.mark.parametrize("key", SOURCE_KEYS.values(), ids=SOURCE_KEYS.keys())
def test_copy_source_key_encoding_boto3(s3, bucket, key):
    body = ("body of " + key).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    s3.copy_object(Bucket=bucket, Key=key + ".copy", CopySource=_src(bucket, key))
    assert _body(s3, bucket, key + ".copy") == body
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == sorted([key, key + ".copy"])


@pytest.mark.parametrize("leading_slash", [True, False], ids=["leading-slash", "no-leading-slash"])
@pytest.mark.parametrize("key", SOURCE_KEYS.values(), ids=SOURCE_KEYS.keys())
def test_copy_source_key_encoding_raw(raw, s3, bucket, key, leading_slash):
    body = ("raw body of " + key).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    resp = raw.request("PUT", key_path(bucket, "copied"),
                       headers={"x-amz-copy-source": _copy_header(bucket, key, leading_slash)})
    assert resp.status_code == 200, resp.content
    assert _body(s3, bucket, "copied") == body


def test_copy_source_plus_is_not_a_space(raw, s3, bucket):
    # "%2B" is '+', and a key with a real space must not be picked instead.
    s3.put_object(Bucket=bucket, Key="a+b", Body=b"plus")
    s3.put_object(Bucket=bucket, Key="a b", Body=b"space")
    resp = raw.request("PUT", key_path(bucket, "copied"), headers={"x-amz-copy-source": f"/{bucket}/a%2Bb"})
    assert resp.status_code == 200, resp.content
    assert _body(s3, bucket, "copied") == b"plus"
    resp = raw.request("PUT", key_path(bucket, "copied"), headers={"x-amz-copy-source": f"/{bucket}/a%20b"})
    assert resp.status_code == 200, resp.content
    assert _body(s3, bucket, "copied") == b"space"


# --------------------------------------------------------------------------------------------------------------------
# Errors


def test_copy_missing_source_key(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "does/not/exist"))
    assert _error(info.value) == (404, "NoSuchKey")
    assert _absent(s3, bucket, "dst")


def test_copy_missing_source_bucket(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src("mt-no-such-source-bucket-" + bucket[-10:], "k"))
    assert _error(info.value) == (404, "NoSuchBucket")
    assert _absent(s3, bucket, "dst")


def test_copy_to_missing_destination_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    with pytest.raises(ClientError) as info:
        s3.copy_object(Bucket="mt-no-such-dest-bucket-" + bucket[-10:], Key="dst", CopySource=_src(bucket, "src"))
    assert _error(info.value) == (404, "NoSuchBucket")


def test_copy_source_without_key_is_invalid(raw, s3, bucket):
    resp = raw.request("PUT", key_path(bucket, "dst"), headers={"x-amz-copy-source": bucket})
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "InvalidArgument"
    assert _absent(s3, bucket, "dst")


# --------------------------------------------------------------------------------------------------------------------
# Tagging directive (tagging itself is not implemented: the copy must simply succeed)


@pytest.mark.parametrize("directive, extra", [("COPY", {}), ("REPLACE", {"Tagging": "project=martlet&tier=1"})],
                         ids=["COPY", "REPLACE"])
def test_tagging_directive_accepted(s3, bucket, directive, extra):
    s3.put_object(Bucket=bucket, Key="src", Body=b"tagged?")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src"), TaggingDirective=directive, **extra)
    assert _body(s3, bucket, "dst") == b"tagged?"


# --------------------------------------------------------------------------------------------------------------------
# Storage sharing: a copy is its own object


def test_copy_of_multipart_object(s3, bucket, tmp_path):
    data = random_bytes(11 * MiB + 123, seed=4242)
    _multipart_upload_file(s3, bucket, "mp-src", data, tmp_path)
    assert s3.head_object(Bucket=bucket, Key="mp-src")["ETag"].endswith('-3"')  # really multipart
    s3.copy_object(Bucket=bucket, Key="mp-dst", CopySource=_src(bucket, "mp-src"))
    got = s3.get_object(Bucket=bucket, Key="mp-dst")
    assert got["ContentLength"] == len(data)
    assert md5_hex(got["Body"].read()) == md5_hex(data)
    ranged = s3.get_object(Bucket=bucket, Key="mp-dst", Range=f"bytes={5 * MiB - 10}-{5 * MiB + 9}")
    assert ranged["Body"].read() == data[5 * MiB - 10:5 * MiB + 10]


def test_copy_survives_deleting_the_source(s3, bucket):
    data = random_bytes(300_000)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    s3.copy_object(Bucket=bucket, Key="copy-1", CopySource=_src(bucket, "src"))
    s3.copy_object(Bucket=bucket, Key="copy-2", CopySource=_src(bucket, "copy-1"))
    s3.delete_object(Bucket=bucket, Key="src")
    assert _body(s3, bucket, "copy-1") == data
    s3.delete_object(Bucket=bucket, Key="copy-1")
    assert _body(s3, bucket, "copy-2") == data
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["copy-2"]


def test_source_survives_deleting_the_copy(s3, bucket):
    data = random_bytes(50_000)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=_src(bucket, "src"))
    s3.delete_object(Bucket=bucket, Key="copy")
    assert _body(s3, bucket, "src") == data


def test_copy_across_buckets_survives_deleting_source_bucket(s3, bucket, request):
    source_bucket = bucket_name(request, "src")
    s3.create_bucket(Bucket=source_bucket)
    data = random_bytes(40_000)
    try:
        s3.put_object(Bucket=source_bucket, Key="src", Body=data)
        s3.copy_object(Bucket=bucket, Key="copy", CopySource=_src(source_bucket, "src"))
        s3.delete_object(Bucket=source_bucket, Key="src")
        s3.delete_bucket(Bucket=source_bucket)
    finally:
        empty_and_delete(s3, source_bucket)
    assert _body(s3, bucket, "copy") == data


def test_copy_keeps_old_bytes_after_source_is_overwritten(s3, bucket):
    old, new = random_bytes(120_000), random_bytes(80_000)
    s3.put_object(Bucket=bucket, Key="src", Body=old)
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=_src(bucket, "src"))
    s3.put_object(Bucket=bucket, Key="src", Body=new)
    assert _body(s3, bucket, "copy") == old
    assert s3.head_object(Bucket=bucket, Key="copy")["ETag"] == quoted_etag(old)
    assert _body(s3, bucket, "src") == new


def test_copy_of_multipart_object_survives_deleting_the_source(s3, bucket, tmp_path):
    data = random_bytes(10 * MiB + 1, seed=77)
    _multipart_upload_file(s3, bucket, "mp-src", data, tmp_path)
    s3.copy_object(Bucket=bucket, Key="mp-copy", CopySource=_src(bucket, "mp-src"))
    s3.delete_object(Bucket=bucket, Key="mp-src")
    assert md5_hex(_body(s3, bucket, "mp-copy")) == md5_hex(data)


def test_copy_source_version_id_null(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"unversioned")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src(bucket, "src", VersionId="null"))
    assert _body(s3, bucket, "dst") == b"unversioned"


def test_copy_source_version_id_null_raw(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a b+c", Body=b"unversioned raw")
    resp = raw.request("PUT", key_path(bucket, "dst"),
                       headers={"x-amz-copy-source": _copy_header(bucket, "a b+c") + "?versionId=null"})
    assert resp.status_code == 200, resp.content
    assert _body(s3, bucket, "dst") == b"unversioned raw"


# --------------------------------------------------------------------------------------------------------------------
# Real clients


def test_aws_cli_cp_between_keys(aws, s3, bucket):
    data = random_bytes(1_500_000)
    s3.put_object(Bucket=bucket, Key="cli/src.json", Body=data, ContentType="application/json",
                  Metadata={"origin": "boto3"})
    proc = aws("s3", "cp", f"s3://{bucket}/cli/src.json", f"s3://{bucket}/cli/copy of src.json")
    assert "copy:" in proc.stdout
    got = s3.get_object(Bucket=bucket, Key="cli/copy of src.json")
    assert got["Body"].read() == data
    assert got["ContentType"] == "application/json"
    assert got["Metadata"] == {"origin": "boto3"}
    assert _body(s3, bucket, "cli/src.json") == data


def test_boto3_managed_copy_uses_part_copies(s3, bucket):
    # s3transfer's copy() switches to CreateMultipartUpload + UploadPartCopy above the threshold.
    data = random_bytes(11 * MiB + 5, seed=99)
    s3.put_object(Bucket=bucket, Key="big-src", Body=data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
    s3.copy(_src(bucket, "big-src"), bucket, "big-copy", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big-copy")
    assert head["ETag"].endswith('-3"')
    assert head["ContentLength"] == len(data)
    assert md5_hex(_body(s3, bucket, "big-copy")) == md5_hex(data)


# --------------------------------------------------------------------------------------------------------------------
# UploadPartCopy


def test_upload_part_copy_whole_and_range(s3, bucket):
    src = random_bytes(6 * MiB + 100, seed=1)
    small = random_bytes(70_000, seed=2)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    s3.put_object(Bucket=bucket, Key="small", Body=small)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]

    p1 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
                             CopySource=_src(bucket, "src"), CopySourceRange="bytes=0-5242879")
    p2 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=2,
                             CopySource=_src(bucket, "small"))
    # The CopyPartResult ETag is the MD5 of the bytes that were copied.
    assert p1["CopyPartResult"]["ETag"] == quoted_etag(src[:5 * MiB])
    assert p2["CopyPartResult"]["ETag"] == quoted_etag(small)
    assert isinstance(p1["CopyPartResult"]["LastModified"], dt.datetime)

    done = _complete(s3, bucket, "assembled", upload_id,
                     [p1["CopyPartResult"]["ETag"], p2["CopyPartResult"]["ETag"]])
    expected = src[:5 * MiB] + small
    assert done["ETag"] == multipart_etag([src[:5 * MiB], small])
    got = s3.get_object(Bucket=bucket, Key="assembled")
    assert got["ContentLength"] == len(expected)
    assert md5_hex(got["Body"].read()) == md5_hex(expected)


def test_upload_part_copy_ranges_of_one_source(s3, bucket):
    src = random_bytes(6 * MiB, seed=3)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="re-ordered")["UploadId"]
    # Part 1: bytes 1 MiB .. 6 MiB-1 (5 MiB); part 2: the first MiB. The object is the source rotated.
    p1 = s3.upload_part_copy(Bucket=bucket, Key="re-ordered", UploadId=upload_id, PartNumber=1,
                             CopySource=_src(bucket, "src"), CopySourceRange=f"bytes={MiB}-{6 * MiB - 1}")
    p2 = s3.upload_part_copy(Bucket=bucket, Key="re-ordered", UploadId=upload_id, PartNumber=2,
                             CopySource=_src(bucket, "src"), CopySourceRange=f"bytes=0-{MiB - 1}")
    assert p1["CopyPartResult"]["ETag"] == quoted_etag(src[MiB:])
    assert p2["CopyPartResult"]["ETag"] == quoted_etag(src[:MiB])
    _complete(s3, bucket, "re-ordered", upload_id, [p1["CopyPartResult"]["ETag"], p2["CopyPartResult"]["ETag"]])
    assert md5_hex(_body(s3, bucket, "re-ordered")) == md5_hex(src[MiB:] + src[:MiB])


def test_upload_part_copy_range_across_source_part_boundary(s3, bucket, tmp_path):
    data = random_bytes(11 * MiB, seed=5)
    _multipart_upload_file(s3, bucket, "mp-src", data, tmp_path)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    first, last = 4 * MiB, 9 * MiB - 1  # spans the source's part 1 / part 2 boundary at 5 MiB
    p1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                             CopySource=_src(bucket, "mp-src"), CopySourceRange=f"bytes={first}-{last}")
    p2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=2,
                             CopySource=_src(bucket, "mp-src"), CopySourceRange=f"bytes={10 * MiB}-{11 * MiB - 1}")
    assert p1["CopyPartResult"]["ETag"] == quoted_etag(data[first:last + 1])
    _complete(s3, bucket, "dst", upload_id, [p1["CopyPartResult"]["ETag"], p2["CopyPartResult"]["ETag"]])
    assert md5_hex(_body(s3, bucket, "dst")) == md5_hex(data[first:last + 1] + data[10 * MiB:])


def test_upload_part_copy_survives_source_delete_before_complete(s3, bucket):
    data = random_bytes(200_000)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    part = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                               CopySource=_src(bucket, "src"))
    s3.delete_object(Bucket=bucket, Key="src")
    s3.put_object(Bucket=bucket, Key="src", Body=b"replaced")
    _complete(s3, bucket, "dst", upload_id, [part["CopyPartResult"]["ETag"]])
    assert _body(s3, bucket, "dst") == data


@pytest.mark.parametrize("rng", ["bytes=500-2000", "bytes=1000-1000", "bytes=0-1000"],
                         ids=["end-beyond", "start-at-size", "one-past-end"])
def test_upload_part_copy_range_beyond_source(s3, bucket, rng):
    s3.put_object(Bucket=bucket, Key="src", Body=random_bytes(1000))
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as info:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                            CopySource=_src(bucket, "src"), CopySourceRange=rng)
    status, code = _error(info.value)
    # AWS does not document this; ceph's s3-tests (run against AWS) accept 400 or 416, always with InvalidRange.
    assert code == "InvalidRange"
    assert status in (400, 416)
    assert s3.list_parts(Bucket=bucket, Key="dst", UploadId=upload_id).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id)


PART_CONDITIONS = [c for c in CONDITIONS if c[0] in {
    "if-match-true", "if-match-false", "if-none-match-false", "if-unmodified-since-false", "if-modified-since-false",
    "if-match-true+if-unmodified-since-false", "if-none-match-false+if-modified-since-true"}]


@pytest.mark.parametrize("name, build, copies", PART_CONDITIONS, ids=[c[0] for c in PART_CONDITIONS])
def test_upload_part_copy_source_conditions(s3, bucket, name, build, copies):
    put = s3.put_object(Bucket=bucket, Key="src", Body=b"part source")
    lm = s3.head_object(Bucket=bucket, Key="src")["LastModified"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    kwargs = dict(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1, CopySource=_src(bucket, "src"),
                  **build(put["ETag"], lm))
    if copies:
        part = s3.upload_part_copy(**kwargs)
        assert part["CopyPartResult"]["ETag"] == quoted_etag(b"part source")
        _complete(s3, bucket, "dst", upload_id, [part["CopyPartResult"]["ETag"]])
        assert _body(s3, bucket, "dst") == b"part source"
    else:
        with pytest.raises(ClientError) as info:
            s3.upload_part_copy(**kwargs)
        assert _error(info.value) == (412, "PreconditionFailed")
        assert s3.list_parts(Bucket=bucket, Key="dst", UploadId=upload_id).get("Parts", []) == []
        s3.abort_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id)


def test_upload_part_copy_missing_source(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as info:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                            CopySource=_src(bucket, "missing"))
    assert _error(info.value) == (404, "NoSuchKey")
    s3.abort_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id)


def test_upload_part_copy_unknown_upload(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    with pytest.raises(ClientError) as info:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId="no-such-upload", PartNumber=1,
                            CopySource=_src(bucket, "src"))
    assert _error(info.value) == (404, "NoSuchUpload")


def test_upload_part_copy_reports_part_checksum(s3, bucket):
    # With an upload created for CRC32, the part copy answers the copied bytes' CRC32 (s3transfer's copy relies on
    # it to complete the upload) and the part counts towards the composite checksum.
    data = random_bytes(6 * MiB, seed=11)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst", ChecksumAlgorithm="CRC32")["UploadId"]
    p1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                             CopySource=_src(bucket, "src"), CopySourceRange=f"bytes=0-{5 * MiB - 1}")
    p2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=2,
                             CopySource=_src(bucket, "src"), CopySourceRange=f"bytes={5 * MiB}-{6 * MiB - 1}")
    assert p1["CopyPartResult"]["ChecksumCRC32"] == crc32_b64(data[:5 * MiB])
    assert p2["CopyPartResult"]["ChecksumCRC32"] == crc32_b64(data[5 * MiB:])
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"], "ChecksumCRC32": p1["CopyPartResult"]["ChecksumCRC32"]},
        {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"], "ChecksumCRC32": p2["CopyPartResult"]["ChecksumCRC32"]},
    ]})
    head = s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == composite_checksum("CRC32", [data[:5 * MiB], data[5 * MiB:]])
    assert md5_hex(_body(s3, bucket, "dst")) == md5_hex(data)
