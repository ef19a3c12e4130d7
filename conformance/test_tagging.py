"""Object and bucket tagging: the x-amz-tagging header on PutObject / CreateMultipartUpload / CopyObject (with the
tagging directive), Get/Put/DeleteObjectTagging, x-amz-tagging-count on HEAD and GET, S3's tag limits (10 per object,
50 per bucket, keys <= 128 and values <= 256 Unicode characters, unique keys, no `aws:` prefix) on both the XML and
the header form, MalformedXML, per-version tags in a versioned bucket, Get/Put/DeleteBucketTagging, and aws-cli
`s3api put-object-tagging` / `get-object-tagging`.
"""

import json
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from conftest import bucket_name
from s3helpers import client_error, error_fields, key_path, md5_b64, object_absent


def _tagging(pairs) -> dict:
    """[(k, v), ...] -> the `Tagging` argument of Put{Object,Bucket}Tagging."""
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


def _header(pairs) -> str:
    """[(k, v), ...] -> an x-amz-tagging header value (URL query encoding, UTF-8)."""
    return "&".join(quote(k, safe="") + "=" + quote(v, safe="") for k, v in pairs)


def _tags(s3, bucket, key, **kw) -> list[tuple[str, str]]:
    return [(t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key=key, **kw)["TagSet"]]


def _count_header(resp):
    return resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-tagging-count")


# --------------------------------------------------------------------------------------------------------------------
# PutObject with x-amz-tagging, x-amz-tagging-count, Get/Put/DeleteObjectTagging


def test_put_object_with_tagging_header(s3, bucket):
    s3.put_object(Bucket=bucket, Key="tagged", Body=b"x", Tagging="a=1&b=two%20words")
    resp = s3.get_object_tagging(Bucket=bucket, Key="tagged")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [(t["Key"], t["Value"]) for t in resp["TagSet"]] == [("a", "1"), ("b", "two words")]
    for got in (s3.head_object(Bucket=bucket, Key="tagged"), s3.get_object(Bucket=bucket, Key="tagged")):
        assert _count_header(got) == "2"
        assert got["TagCount"] == 2


def test_object_tags_come_back_ordered_by_key(s3, bucket):
    # AWS gives a tag set in no documented order; Martlet's is stable: by key, however the tags were sent.
    s3.put_object(Bucket=bucket, Key="header", Body=b"x", Tagging="foo=bar&bar&Zed=1")
    s3.put_object(Bucket=bucket, Key="document", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="document", Tagging=_tagging([("foo", "bar"), ("bar", ""), ("Zed", "1")]))
    for key in ("header", "document"):
        assert [(t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]] == [
            ("Zed", "1"), ("bar", ""), ("foo", "bar")]


def test_untagged_object_has_no_tag_count(s3, bucket):
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert s3.get_object_tagging(Bucket=bucket, Key="plain")["TagSet"] == []
    for got in (s3.head_object(Bucket=bucket, Key="plain"), s3.get_object(Bucket=bucket, Key="plain")):
        assert _count_header(got) is None
        assert "TagCount" not in got


def test_put_object_tagging_replaces_the_set(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="old=1&keep=2")
    resp = s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=_tagging([("keep", "3"), ("new", "4"), ("z", "")]))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sorted(_tags(s3, bucket, "k")) == [("keep", "3"), ("new", "4"), ("z", "")]
    assert s3.head_object(Bucket=bucket, Key="k")["TagCount"] == 3
    # Tagging is a sub-resource: the object itself is untouched.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_delete_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1")
    resp = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _tags(s3, bucket, "k") == []
    assert _count_header(s3.head_object(Bucket=bucket, Key="k")) is None
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_overwrite_without_tagging_drops_the_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="a=1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    assert _tags(s3, bucket, "k") == []


@pytest.mark.parametrize("op", ["get", "put", "delete"])
def test_object_tagging_missing_key_and_bucket(s3, bucket, op):
    def call(b):
        if op == "get":
            return s3.get_object_tagging(Bucket=b, Key="nope")
        if op == "put":
            return s3.put_object_tagging(Bucket=b, Key="nope", Tagging=_tagging([("a", "1")]))
        return s3.delete_object_tagging(Bucket=b, Key="nope")

    with pytest.raises(ClientError) as info:
        call(bucket)
    assert client_error(info.value) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as info:
        call("no-such-bucket-" + bucket[-10:])
    assert client_error(info.value) == (404, "NoSuchBucket")


# --------------------------------------------------------------------------------------------------------------------
# Limits, on the Tagging document and on the x-amz-tagging header

# (id, tags, error codes for PutObjectTagging, error codes for the x-amz-tagging header)
LIMIT_CASES = [
    # AWS: 400 BadRequest "Object tags cannot be greater than 10" (InvalidTag accepted too).
    ("eleven-tags", [(f"k{i}", "v") for i in range(11)], {"BadRequest", "InvalidTag"}, {"BadRequest", "InvalidTag"}),
    # AWS: InvalidTag "Cannot provide multiple Tags with the same key" for the document; the header form answers
    # InvalidArgument "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters
    # without tag name duplicates."
    ("duplicate-keys", [("dup", "1"), ("dup", "2")], {"InvalidTag"}, {"InvalidArgument"}),
    ("key-129-chars", [("k" * 129, "v")], {"InvalidTag"}, {"InvalidTag"}),
    ("value-257-chars", [("k", "v" * 257)], {"InvalidTag"}, {"InvalidTag"}),
    ("aws-prefix", [("aws:reserved", "v")], {"InvalidTag"}, {"InvalidTag"}),
]


@pytest.mark.parametrize("tags, codes", [(c[1], c[2]) for c in LIMIT_CASES], ids=[c[0] for c in LIMIT_CASES])
def test_put_object_tagging_limits(s3, bucket, tags, codes):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="before=1")
    with pytest.raises(ClientError) as info:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=_tagging(tags))
    status, code = client_error(info.value)
    assert status == 400 and code in codes, info.value.response["Error"]
    assert _tags(s3, bucket, "k") == [("before", "1")]  # a refused set changes nothing


@pytest.mark.parametrize("tags, codes", [(c[1], c[3]) for c in LIMIT_CASES], ids=[c[0] for c in LIMIT_CASES])
def test_tagging_header_limits_store_nothing(s3, bucket, tags, codes):
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging=_header(tags))
    status, code = client_error(info.value)
    assert status == 400 and code in codes, info.value.response["Error"]
    assert object_absent(s3, bucket, "k")


def test_ten_tags_at_maximum_lengths(s3, bucket):
    tags = [(f"{i}".ljust(128, "k"), f"{i}".ljust(256, "v")) for i in range(10)]
    s3.put_object(Bucket=bucket, Key="doc", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="doc", Tagging=_tagging(tags))
    assert sorted(_tags(s3, bucket, "doc")) == sorted(tags)
    assert s3.head_object(Bucket=bucket, Key="doc")["TagCount"] == 10

    s3.put_object(Bucket=bucket, Key="hdr", Body=b"x", Tagging=_header(tags))
    assert sorted(_tags(s3, bucket, "hdr")) == sorted(tags)
    assert s3.get_object(Bucket=bucket, Key="hdr")["TagCount"] == 10


def test_unicode_tags_round_trip(s3, bucket):
    # Limits count Unicode characters, not UTF-8 bytes: 128 Cyrillic letters are 256 bytes, 256 kana 768.
    tags = [("ключ", "значение"), ("日本語 キー", "値 です"), ("ä" * 128, "ア" * 256), ("Ünï_cödé.:/=+-@", "ø")]
    s3.put_object(Bucket=bucket, Key="doc", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="doc", Tagging=_tagging(tags))
    assert sorted(_tags(s3, bucket, "doc")) == sorted(tags)

    s3.put_object(Bucket=bucket, Key="hdr", Body=b"x", Tagging=_header(tags))
    assert sorted(_tags(s3, bucket, "hdr")) == sorted(tags)


@pytest.mark.parametrize("body", [
    b"<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag>",
    b"this is not xml",
    b"<Tagging><TagSet><Tag><Key>a</Value></Tag></TagSet></Tagging>",
], ids=["truncated", "not-xml", "mismatched-tags"])
def test_malformed_tagging_document(s3, bucket, raw, body):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="before=1")
    resp = raw.request("PUT", key_path(bucket, "k"), {"tagging": None}, headers={"Content-MD5": md5_b64(body)},
                       body=body)
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "MalformedXML"
    assert _tags(s3, bucket, "k") == [("before", "1")]


# --------------------------------------------------------------------------------------------------------------------
# Multipart and copy


def test_multipart_upload_with_tagging(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="stage=raw&owner=team%20a")
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1, Body=b"part one")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert sorted(_tags(s3, bucket, "mp")) == [("owner", "team a"), ("stage", "raw")]
    assert s3.head_object(Bucket=bucket, Key="mp")["TagCount"] == 2


def test_copy_default_directive_copies_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1&b=2")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert sorted(_tags(s3, bucket, "dst")) == [("a", "1"), ("b", "2")]
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="COPY")
    assert sorted(_tags(s3, bucket, "dst2")) == [("a", "1"), ("b", "2")]
    assert s3.head_object(Bucket=bucket, Key="dst2")["TagCount"] == 2


def test_copy_replace_directive_uses_request_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1&b=2")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="REPLACE", Tagging="r=1")
    assert _tags(s3, bucket, "dst") == [("r", "1")]
    assert sorted(_tags(s3, bucket, "src")) == [("a", "1"), ("b", "2")]


def test_copy_replace_directive_without_tagging_gives_no_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1&b=2")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="REPLACE")
    assert _tags(s3, bucket, "dst") == []
    assert _count_header(s3.head_object(Bucket=bucket, Key="dst")) is None


# --------------------------------------------------------------------------------------------------------------------
# Versioned buckets: tags belong to a version


@pytest.fixture
def versioned_bucket(request, s3):
    name = bucket_name(request, "mtv")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    try:  # best effort: every version and delete marker, then the bucket
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=name, Key=entry["Key"], VersionId=entry["VersionId"])
        s3.delete_bucket(Bucket=name)
    except Exception:  # noqa: BLE001
        pass


def test_tags_belong_to_a_version(s3, versioned_bucket):
    b = versioned_bucket
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    tagged = s3.put_object_tagging(Bucket=b, Key="k", Tagging=_tagging([("gen", "1")]))
    assert tagged["VersionId"] == v1
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"two")["VersionId"]
    assert v2 != v1

    current = s3.get_object_tagging(Bucket=b, Key="k")
    assert current["TagSet"] == [] and current["VersionId"] == v2
    old = s3.get_object_tagging(Bucket=b, Key="k", VersionId=v1)
    assert [(t["Key"], t["Value"]) for t in old["TagSet"]] == [("gen", "1")]
    assert old["VersionId"] == v1
    assert s3.head_object(Bucket=b, Key="k", VersionId=v1)["TagCount"] == 1
    assert _count_header(s3.head_object(Bucket=b, Key="k")) is None


def test_tagging_an_old_version_leaves_the_current_one(s3, versioned_bucket):
    b = versioned_bucket
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one", Tagging="gen=1")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"two", Tagging="gen=2")["VersionId"]

    resp = s3.put_object_tagging(Bucket=b, Key="k", VersionId=v1, Tagging=_tagging([("gen", "old"), ("x", "y")]))
    assert resp["VersionId"] == v1
    assert sorted(_tags(s3, b, "k", VersionId=v1)) == [("gen", "old"), ("x", "y")]
    assert _tags(s3, b, "k") == [("gen", "2")]
    assert _tags(s3, b, "k", VersionId=v2) == [("gen", "2")]

    deleted = s3.delete_object_tagging(Bucket=b, Key="k", VersionId=v1)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert deleted["VersionId"] == v1
    assert _tags(s3, b, "k", VersionId=v1) == []
    assert _tags(s3, b, "k") == [("gen", "2")]


# --------------------------------------------------------------------------------------------------------------------
# Bucket tagging


def test_bucket_tagging_lifecycle(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.get_bucket_tagging(Bucket=bucket)
    assert client_error(info.value) == (404, "NoSuchTagSet")

    tags = [("project", "martlet"), ("cost-center", "42"), ("名前", "値")]
    put = s3.put_bucket_tagging(Bucket=bucket, Tagging=_tagging(tags))
    assert put["ResponseMetadata"]["HTTPStatusCode"] in (200, 204)
    got = s3.get_bucket_tagging(Bucket=bucket)
    assert sorted((t["Key"], t["Value"]) for t in got["TagSet"]) == sorted(tags)

    # Put replaces the whole set.
    s3.put_bucket_tagging(Bucket=bucket, Tagging=_tagging([("only", "one")]))
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": "one"}]

    deleted = s3.delete_bucket_tagging(Bucket=bucket)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as info:
        s3.get_bucket_tagging(Bucket=bucket)
    assert client_error(info.value) == (404, "NoSuchTagSet")


def test_bucket_tagging_fifty_tags_accepted_fifty_one_refused(s3, bucket):
    fifty = [(f"key-{i:02d}", f"value-{i}") for i in range(50)]
    s3.put_bucket_tagging(Bucket=bucket, Tagging=_tagging(fifty))
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50

    with pytest.raises(ClientError) as info:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=_tagging(fifty + [("key-50", "one too many")]))
    status, code = client_error(info.value)
    assert status == 400 and code in {"BadRequest", "InvalidTag"}, info.value.response["Error"]
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50


def test_bucket_tagging_duplicate_keys(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=_tagging([("dup", "1"), ("dup", "2")]))
    assert client_error(info.value) == (400, "InvalidTag")


def test_bucket_tagging_missing_bucket(s3, bucket):
    missing = "no-such-bucket-" + bucket[-10:]
    for call in (lambda: s3.get_bucket_tagging(Bucket=missing),
                 lambda: s3.put_bucket_tagging(Bucket=missing, Tagging=_tagging([("a", "1")]))):
        with pytest.raises(ClientError) as info:
            call()
        assert client_error(info.value) == (404, "NoSuchBucket")


# --------------------------------------------------------------------------------------------------------------------
# aws-cli


def test_cli_put_and_get_object_tagging(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="cli/obj", Body=b"x")
    tagging = {"TagSet": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "storage ops"}]}
    aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "cli/obj", "--tagging", json.dumps(tagging))
    out = json.loads(aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "cli/obj",
                         "--output", "json").stdout)
    assert sorted((t["Key"], t["Value"]) for t in out["TagSet"]) == [("env", "prod"), ("team", "storage ops")]
    assert s3.head_object(Bucket=bucket, Key="cli/obj")["TagCount"] == 2
