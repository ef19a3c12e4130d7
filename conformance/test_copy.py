"""CopyObject: within a bucket and across buckets (bytes, the source's ETag for a single-part source, the
CopyObjectResult document), the metadata directive (COPY keeps the source's metadata and system headers and ignores
the request's; REPLACE takes the request's), copying an object onto itself (InvalidRequest unless REPLACE), the four
x-amz-copy-source-if-* conditions and AWS's combination rules, source keys that need URL-encoding (boto3 and raw
headers, with and without a leading slash), missing source key / bucket, the tagging directive, multipart sources,
copies that must outlive their source (deleted or overwritten: shared storage is reference counted),
`?versionId=null`, aws-cli `s3 cp` between keys and s3transfer's managed copy.

UploadPartCopy is in test_upload_part_copy.py; shared helpers in copy_helpers.py.
"""

import datetime as dt
import re
from urllib.parse import quote

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import bucket_name, empty_and_delete
from copy_helpers import CONDITIONS, OTHER_ETAG, MiB, _body, _multipart_upload_file, _src
from s3helpers import client_error, error_fields, key_path, md5_hex, object_absent, parse_xml, quoted_etag, random_bytes

ISO8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _copy_header(bucket: str, key: str, leading_slash: bool = True) -> str:
    """An x-amz-copy-source value with the key URL-encoded as AWS expects (`/` kept)."""
    return ("/" if leading_slash else "") + bucket + "/" + quote(key, safe="/~")


@pytest.fixture
def other_bucket(request, s3):
    name = bucket_name(request, "mt2")
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


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
    assert object_absent(s3, bucket, "dst")


# --------------------------------------------------------------------------------------------------------------------
# Copying an object onto itself


def test_copy_onto_itself_without_replace_is_invalid(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"same", Metadata={"v": "1"}, ContentType="text/plain")
    before = s3.head_object(Bucket=bucket, Key="self")
    for kwargs in ({}, {"MetadataDirective": "COPY"}, {"Metadata": {"v": "2"}}):
        with pytest.raises(ClientError) as info:
            s3.copy_object(Bucket=bucket, Key="self", CopySource=_src(bucket, "self"), **kwargs)
        assert client_error(info.value) == (400, "InvalidRequest"), kwargs
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

# CONDITIONS (name, builder(etag, last_modified) -> kwargs, copies?) is in copy_helpers.py, shared with
# UploadPartCopy.


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
        assert client_error(info.value) == (412, "PreconditionFailed")
        assert object_absent(s3, bucket, "dst")


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
    assert client_error(info.value) == (412, "PreconditionFailed")
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
    assert client_error(info.value) == (404, "NoSuchKey")
    assert object_absent(s3, bucket, "dst")


def test_copy_missing_source_bucket(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=_src("mt-no-such-source-bucket-" + bucket[-10:], "k"))
    assert client_error(info.value) == (404, "NoSuchBucket")
    assert object_absent(s3, bucket, "dst")


def test_copy_to_missing_destination_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    with pytest.raises(ClientError) as info:
        s3.copy_object(Bucket="mt-no-such-dest-bucket-" + bucket[-10:], Key="dst", CopySource=_src(bucket, "src"))
    assert client_error(info.value) == (404, "NoSuchBucket")


def test_copy_source_without_key_is_invalid(raw, s3, bucket):
    resp = raw.request("PUT", key_path(bucket, "dst"), headers={"x-amz-copy-source": bucket})
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "InvalidArgument"
    assert object_absent(s3, bucket, "dst")


# --------------------------------------------------------------------------------------------------------------------
# Tagging directive: the copy must succeed with either value (test_tagging.py checks which tags result)


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
