"""ListObjectVersions (GET /bucket?versions): keys in byte order and each key's versions newest first, delete markers
interleaved with versions, IsLatest, prefix and delimiter, max-keys paging with key-marker / version-id-marker,
encoding-type=url, and an unversioned bucket (every object the `null` version)."""

import re
from urllib.parse import unquote_plus

import pytest

from s3helpers import error_fields, key_path, quoted_etag
from versioning_helpers import all_versions, put, raw_entries, raw_list_versions, set_versioning

TIMESTAMP_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
def history(s3, bucket):
    """A versioned bucket with several keys of several versions, delete markers and a null version.

    Returns (bucket, expected) where expected is [(tag, key, version id, is latest)] in the order S3 lists them.
    """
    s3.put_object(Bucket=bucket, Key="d", Body=b"d before versioning")
    set_versioning(s3, bucket)
    log = [("Version", "d", "null")]  # creation order

    def write(key):
        log.append(("Version", key, put(s3, bucket, key, f"{key} #{len(log)}".encode())))

    def delete(key):
        log.append(("DeleteMarker", key, s3.delete_object(Bucket=bucket, Key=key)["VersionId"]))

    for step, key in [(write, "a"), (write, "b/1"), (write, "a"), (delete, "b/1"), (write, "c"), (write, "b/2"),
                      (delete, "c"), (write, "d"), (write, "b/1")]:
        step(key)
    expected = []
    for key in sorted({k for _, k, _ in log}, key=str.encode):
        newest_first = [(t, k, v) for t, k, v in reversed(log) if k == key]
        expected += [(t, k, v, i == 0) for i, (t, k, v) in enumerate(newest_first)]
    return bucket, expected


def test_unversioned_bucket_lists_null_versions(s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"alpha")
    s3.put_object(Bucket=bucket, Key="b/c", Body=b"charlie!")
    versions, markers, _ = all_versions(s3, bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in versions] == [("a", "null", True), ("b/c", "null", True)]
    assert [(v["ETag"], v["Size"]) for v in versions] == [(quoted_etag(b"alpha"), 5), (quoted_etag(b"charlie!"), 8)]
    assert markers == []
    resp, root = raw_list_versions(raw, bucket)
    assert resp.status_code == 200, resp.content
    assert root.tag == "ListVersionsResult"
    assert raw_entries(root) == [("Version", "a", "null", True), ("Version", "b/c", "null", True)]


def test_order_is_key_then_newest_first(s3, raw, history):
    bucket, expected = history
    resp, root = raw_list_versions(raw, bucket)
    assert resp.status_code == 200, resp.content
    assert raw_entries(root) == expected
    assert (root.findtext("Name"), root.findtext("IsTruncated"), root.findtext("MaxKeys")) == (bucket, "false", "1000")
    for elem in root:
        if elem.tag == "Version":
            assert elem.findtext("ETag") and elem.findtext("Size") and elem.findtext("StorageClass") == "STANDARD"
        if elem.tag in ("Version", "DeleteMarker"):
            assert TIMESTAMP_MS.match(elem.findtext("LastModified") or ""), elem.findtext("LastModified")
        if elem.tag == "DeleteMarker":
            assert elem.find("ETag") is None and elem.find("Size") is None

    versions, markers, _ = all_versions(s3, bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in versions] == \
        [(k, v, latest) for t, k, v, latest in expected if t == "Version"]
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in markers] == \
        [(k, v, latest) for t, k, v, latest in expected if t == "DeleteMarker"]
    when = {(e["Key"], e["VersionId"]): e["LastModified"] for e in versions + markers}
    for prev, cur in zip(expected, expected[1:]):
        if prev[1] == cur[1]:
            assert when[prev[1], prev[2]] >= when[cur[1], cur[2]], (prev, cur)


def test_prefix_and_delimiter(raw, history):
    bucket, expected = history
    _, root = raw_list_versions(raw, bucket, {"prefix": "b/"})
    assert raw_entries(root) == [e for e in expected if e[1].startswith("b/")]
    assert root.findtext("Prefix") == "b/"
    _, root = raw_list_versions(raw, bucket, {"prefix": "b/1"})
    assert raw_entries(root) == [e for e in expected if e[1] == "b/1"]
    _, root = raw_list_versions(raw, bucket, {"delimiter": "/"})
    assert raw_entries(root) == [e for e in expected if "/" not in e[1]]
    assert [p.findtext("Prefix") for p in root.findall("CommonPrefixes")] == ["b/"]
    assert root.findtext("Delimiter") == "/"
    _, root = raw_list_versions(raw, bucket, {"prefix": "b", "delimiter": "/"})
    assert raw_entries(root) == []
    assert [p.findtext("Prefix") for p in root.findall("CommonPrefixes")] == ["b/"]


@pytest.mark.parametrize("max_keys", [1, 2, 3])
def test_paging_with_markers_visits_every_version_once(raw, history, max_keys):
    bucket, expected = history
    seen, markers = [], None
    for _ in range(len(expected) + 2):
        query = {"max-keys": str(max_keys)}
        if markers:
            query.update({"key-marker": markers[0], "version-id-marker": markers[1]})
        resp, root = raw_list_versions(raw, bucket, query)
        assert resp.status_code == 200, resp.content
        page = raw_entries(root)
        seen += page
        assert root.findtext("MaxKeys") == str(max_keys)
        if markers:
            assert (root.findtext("KeyMarker"), root.findtext("VersionIdMarker")) == markers
        if root.findtext("IsTruncated") == "false":
            assert len(page) <= max_keys
            assert root.find("NextKeyMarker") is None and root.find("NextVersionIdMarker") is None
            break
        assert len(page) == max_keys
        markers = (root.findtext("NextKeyMarker"), root.findtext("NextVersionIdMarker"))
        assert markers == (page[-1][1], page[-1][2])
    else:
        pytest.fail(f"still truncated after {len(expected) + 2} pages")
    assert seen == expected


@pytest.mark.parametrize("max_keys", [1, 2, 3])
def test_paging_survives_deleting_each_page(s3, raw, history, max_keys):
    # What boto3's object_versions.delete() does: the next page starts after a marker version that is gone.
    bucket, expected = history
    seen, query = [], {"max-keys": str(max_keys)}
    for _ in range(len(expected) + 2):
        resp, root = raw_list_versions(raw, bucket, query)
        assert resp.status_code == 200, resp.content
        page = raw_entries(root)
        seen += [e[:3] for e in page]
        if page:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k, "VersionId": v} for _, k, v, _ in page]})
        if root.findtext("IsTruncated") != "true":
            break
        query.update({"key-marker": root.findtext("NextKeyMarker"),
                      "version-id-marker": root.findtext("NextVersionIdMarker")})
    assert seen == [e[:3] for e in expected]
    assert all_versions(s3, bucket)[:2] == ([], [])


@pytest.mark.parametrize("delimiter", [None, "/"], ids=["flat", "delimited"])
@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_boto3_paginator(s3, history, page_size, delimiter):
    bucket, expected = history
    extra = {"Delimiter": delimiter} if delimiter else {}
    pages = list(s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": page_size}, **extra))
    got = [(k, e["Key"], e["VersionId"], e["IsLatest"]) for p in pages
           for k, field in (("Version", "Versions"), ("DeleteMarker", "DeleteMarkers")) for e in p.get(field, [])]
    prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
    want = [e for e in expected if not (delimiter and "/" in e[1])]
    assert sorted(got) == sorted(want)  # each exactly once (boto3 splits Versions and DeleteMarkers per page)
    assert prefixes == (["b/"] if delimiter else [])
    assert all(len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) + len(p.get("CommonPrefixes", []))
               <= page_size for p in pages)


def test_key_marker_alone_skips_the_whole_key(raw, history):
    bucket, expected = history
    for marker, first_key in (("b/1", "b/2"), ("b", "b/1"), ("a", "b/1"), ("d", None)):
        _, root = raw_list_versions(raw, bucket, {"key-marker": marker})
        assert raw_entries(root) == [e for e in expected if e[1].encode() > marker.encode()], marker
        assert (raw_entries(root)[0][1] if raw_entries(root) else None) == first_key


def test_version_id_marker_without_key_marker(raw, history):
    bucket, expected = history
    resp, _ = raw_list_versions(raw, bucket, {"version-id-marker": expected[0][2]})
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "InvalidArgument"


def test_encoding_type_url(s3, raw, bucket):
    set_versioning(s3, bucket)
    keys = ["enc dir/a+b", "enc dir/sub dir/x", "enc dir/ü file"]
    for key in keys:
        for data in (b"1", b"2"):
            put(s3, bucket, key, data)
    resp, root = raw_list_versions(raw, bucket, {"prefix": "enc dir/", "delimiter": "/", "encoding-type": "url"})
    assert resp.status_code == 200, resp.content
    assert root.findtext("EncodingType") == "url"
    listed = [e[1] for e in raw_entries(root)]
    prefixes = [p.findtext("Prefix") for p in root.findall("CommonPrefixes")]
    for value in listed + prefixes + [root.findtext("Prefix")]:
        assert value.isascii() and " " not in value, value
    assert [unquote_plus(k) for k in listed] == ["enc dir/a+b"] * 2 + ["enc dir/ü file"] * 2
    assert [unquote_plus(p) for p in prefixes] == ["enc dir/sub dir/"]
    assert unquote_plus(root.findtext("Prefix")) == "enc dir/"

    _, root = raw_list_versions(raw, bucket, {"prefix": "enc dir/ü", "max-keys": "1", "encoding-type": "url"})
    assert root.findtext("IsTruncated") == "true"
    assert root.findtext("NextKeyMarker").isascii()
    assert unquote_plus(root.findtext("NextKeyMarker")) == "enc dir/ü file"

    # boto3 asks for encoding-type=url by itself and decodes the answer.
    versions, _, _ = all_versions(s3, bucket, Prefix="enc dir/", MaxKeys=1)
    assert [v["Key"] for v in versions] == [k for k in keys for _ in range(2)]
    got = raw.request("GET", key_path(bucket, "enc dir/ü file"), {"versionId": versions[-1]["VersionId"]})
    assert got.status_code == 200 and got.content == b"1"
