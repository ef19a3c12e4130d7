"""ListObjectsV2 and ListObjects (v1): prefixes, delimiters, paging, encoding-type=url, ordering, raw XML."""

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from conftest import empty_and_delete
from s3helpers import key_path, parse_xml, quoted_etag

TREE = [
    "a/1", "a/2", "a/b/3", "a/b/c/4",
    "b/5",
    "c",
    "d/", "d/e",
    "photos/2024/feb/y.jpg", "photos/2024/jan/x.jpg", "photos/2025/z.jpg",
    "top1", "top2",
] + [f"page/{i:02d}" for i in range(25)]

ODD_KEYS = [
    "enc dir/sub dir/file one.txt",
    "enc dir/plain.txt",
    "enc dir/ünï cödé.txt",
    "enc dir/1+1=2",
    "enc dir/100%.txt",
    "enc dir/a&b<c>\"d'.xml",
    "enc dir/日本/語",
]

UNICODE_ORDER = ["a", "A", "Z", "_", "~", "zeta", "Zeta", "éclair", "\u00ff", "\u0100", "\uff21", "\U0001F600",
                 "\ue000", "a\u0301"]


@pytest.fixture(scope="module")
def tree(s3):
    name = "mt-listing-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    keys = TREE + ODD_KEYS + ["uni/" + k for k in UNICODE_ORDER]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=name, Key=k, Body=k.encode()), keys))
    yield name, sorted(keys, key=lambda k: k.encode())
    empty_and_delete(s3, name)


def _all_v2(s3, **kwargs):
    """Pages through ListObjectsV2, returning (keys, prefixes, pages)."""
    keys, prefixes, pages = [], [], []
    token = None
    while True:
        args = dict(kwargs)
        if token:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(**args)
        pages.append(page)
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            break
        token = page["NextContinuationToken"]
        assert len(pages) < 200, "paging does not terminate"
    return keys, prefixes, pages


def test_list_everything_in_byte_order(s3, tree):
    bucket, keys = tree
    listed, prefixes, _ = _all_v2(s3, Bucket=bucket)
    assert listed == keys
    assert prefixes == []


def test_list_prefix(s3, tree):
    bucket, _ = tree
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="photos/")
    assert [o["Key"] for o in resp["Contents"]] == [
        "photos/2024/feb/y.jpg", "photos/2024/jan/x.jpg", "photos/2025/z.jpg"]
    assert resp["Prefix"] == "photos/"
    assert resp["KeyCount"] == 3
    assert resp["IsTruncated"] is False
    assert s3.list_objects_v2(Bucket=bucket, Prefix="nothing-here/")["KeyCount"] == 0
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="nothing-here/")


def test_list_delimiter_top_level(s3, tree):
    bucket, _ = tree
    resp = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["c", "top1", "top2"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == [
        "a/", "b/", "d/", "enc dir/", "page/", "photos/", "uni/"]
    assert resp["KeyCount"] == 10
    assert resp["Delimiter"] == "/"


@pytest.mark.parametrize("prefix, keys, prefixes", [
    ("photos/", [], ["photos/2024/", "photos/2025/"]),
    ("photos/2024/", [], ["photos/2024/feb/", "photos/2024/jan/"]),
    ("a/", ["a/1", "a/2"], ["a/b/"]),
    ("d/", ["d/", "d/e"], []),  # the key equal to the prefix is a key, not a common prefix
    ("a/b", [], ["a/b/"]),
    ("ph", [], ["photos/"]),
])
def test_list_prefix_and_delimiter(s3, tree, prefix, keys, prefixes):
    bucket, _ = tree
    resp = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/")
    assert [o["Key"] for o in resp.get("Contents", [])] == keys
    assert [p["Prefix"] for p in resp.get("CommonPrefixes", [])] == prefixes
    assert resp["KeyCount"] == len(keys) + len(prefixes)


def test_list_non_slash_delimiter(s3, tree):
    bucket, _ = tree
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="photos/", Delimiter="j")
    assert "Contents" not in resp
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == [
        "photos/2024/feb/y.j", "photos/2024/j", "photos/2025/z.j"]
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="page/", Delimiter="1")
    assert [o["Key"] for o in resp["Contents"]] == [f"page/{i:02d}" for i in range(25) if "1" not in f"{i:02d}"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["page/01", "page/1", "page/21"]


def test_max_keys_counts_keys_and_prefixes(s3, tree):
    bucket, _ = tree
    full = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    expected = sorted([o["Key"] for o in full["Contents"]] + [p["Prefix"] for p in full["CommonPrefixes"]],
                      key=str.encode)
    first = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=3)
    assert len(first.get("Contents", [])) + len(first.get("CommonPrefixes", [])) == 3
    assert first["KeyCount"] == 3
    assert first["MaxKeys"] == 3
    assert first["IsTruncated"] is True
    keys, prefixes, pages = _all_v2(s3, Bucket=bucket, Delimiter="/", MaxKeys=3)
    assert sorted(keys + prefixes, key=str.encode) == expected
    assert len(keys + prefixes) == len(set(keys + prefixes)), "a prefix or key was repeated across pages"
    for page in pages:
        assert page["KeyCount"] == len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
        assert page["KeyCount"] <= 3


def test_continuation_paging_never_repeats_or_skips(s3, tree):
    bucket, keys = tree
    expected = [k for k in keys if k.startswith("page/")]
    assert len(expected) == 25
    listed, _, pages = _all_v2(s3, Bucket=bucket, Prefix="page/", MaxKeys=3)
    assert listed == expected
    assert len(pages) == 9
    tokens = [p["NextContinuationToken"] for p in pages if p["IsTruncated"]]
    assert len(tokens) == len(set(tokens)) == 8
    for page in pages[1:]:
        assert page["ContinuationToken"]  # echoed back


def test_paging_with_delimiter_one_at_a_time(s3, tree):
    # A common prefix spanning many keys must be returned once, on one page, and paging must jump past it.
    bucket, _ = tree
    keys, prefixes, pages = _all_v2(s3, Bucket=bucket, Delimiter="/", MaxKeys=1)
    assert prefixes == ["a/", "b/", "d/", "enc dir/", "page/", "photos/", "uni/"]
    assert keys == ["c", "top1", "top2"]
    assert len(pages) == 10


def test_paging_whole_bucket_in_small_pages(s3, tree):
    bucket, keys = tree
    listed, _, _ = _all_v2(s3, Bucket=bucket, MaxKeys=7)
    assert listed == keys


def test_start_after(s3, tree):
    bucket, keys = tree
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="page/", StartAfter="page/20")
    assert [o["Key"] for o in resp["Contents"]] == ["page/21", "page/22", "page/23", "page/24"]
    assert resp["StartAfter"] == "page/20"
    # StartAfter need not name an existing key.
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="page/", StartAfter="page/215")
    assert [o["Key"] for o in resp["Contents"]] == ["page/22", "page/23", "page/24"]
    listed, _, _ = _all_v2(s3, Bucket=bucket, StartAfter="page/", MaxKeys=4)
    assert listed == [k for k in keys if k.encode() > b"page/"]


def test_encoding_type_url_decoded_by_boto3(s3, tree):
    # boto3 asks for encoding-type=url on its own and decodes the answer.
    bucket, _ = tree
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="enc dir/")
    assert [o["Key"] for o in resp["Contents"]] == sorted(ODD_KEYS, key=str.encode)
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="enc dir/", Delimiter="/")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["enc dir/sub dir/", "enc dir/日本/"]
    assert resp["Prefix"] == "enc dir/"


def test_encoding_type_url_explicit(s3, tree):
    # Asked for explicitly, boto3 leaves the values encoded: check them ourselves.
    bucket, _ = tree
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="enc dir/", Delimiter="/", EncodingType="url")
    assert resp["EncodingType"] == "url"
    encoded_keys = [o["Key"] for o in resp["Contents"]]
    encoded_prefixes = [p["Prefix"] for p in resp["CommonPrefixes"]]
    for value in encoded_keys + encoded_prefixes + [resp["Prefix"]]:
        assert value.isascii() and " " not in value, value
    assert [unquote_plus(k) for k in encoded_keys] == sorted(
        [k for k in ODD_KEYS if "/" not in k[len("enc dir/"):]], key=str.encode)
    assert [unquote_plus(p) for p in encoded_prefixes] == ["enc dir/sub dir/", "enc dir/日本/"]
    assert unquote_plus(resp["Prefix"]) == "enc dir/"


def test_encoding_type_url_raw_xml(raw, tree):
    bucket, _ = tree
    resp = raw.request("GET", key_path(bucket), {"list-type": "2", "prefix": "enc dir/", "encoding-type": "url",
                                                 "start-after": "enc dir/1"})
    assert resp.status_code == 200, resp.content
    body = resp.content.decode("utf-8")
    root = parse_xml(resp.content)
    assert root.tag == "ListBucketResult"
    assert root.findtext("EncodingType") == "url"
    keys = [c.findtext("Key") for c in root.findall("Contents")]
    assert all(k.isascii() and " " not in k for k in keys), keys
    expected = sorted([k for k in ODD_KEYS if k.encode() > b"enc dir/1"], key=str.encode)
    assert [unquote_plus(k) for k in keys] == expected
    assert unquote_plus(root.findtext("Prefix")) == "enc dir/"
    assert unquote_plus(root.findtext("StartAfter")) == "enc dir/1"
    assert "ünï" not in body


def test_raw_xml_without_encoding_escapes_xml(raw, tree):
    bucket, _ = tree
    resp = raw.request("GET", key_path(bucket), {"list-type": "2", "prefix": "enc dir/a&"})
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)  # would fail on an unescaped & or <
    assert [c.findtext("Key") for c in root.findall("Contents")] == ["enc dir/a&b<c>\"d'.xml"]
    assert root.findtext("Prefix") == "enc dir/a&"


TIMESTAMP_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_raw_xml_shape_and_millisecond_timestamps(raw, tree):
    bucket, _ = tree
    resp = raw.request("GET", key_path(bucket), {"list-type": "2", "prefix": "page/", "max-keys": "5"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/xml")
    assert b"http://s3.amazonaws.com/doc/2006-03-01/" in resp.content
    root = parse_xml(resp.content)
    assert root.findtext("Name") == bucket
    assert root.findtext("Prefix") == "page/"
    assert root.findtext("MaxKeys") == "5"
    assert root.findtext("KeyCount") == "5"
    assert root.findtext("IsTruncated") == "true"
    assert root.findtext("NextContinuationToken")
    contents = root.findall("Contents")
    assert len(contents) == 5
    for c in contents:
        assert TIMESTAMP_MS.match(c.findtext("LastModified")), c.findtext("LastModified")
        key = c.findtext("Key")
        assert c.findtext("ETag") == quoted_etag(key.encode())
        assert c.findtext("Size") == str(len(key.encode()))
        assert c.findtext("StorageClass") == "STANDARD"
        assert c.find("Owner") is None


def test_list_buckets_raw_xml_timestamps(raw, tree):
    resp = raw.request("GET", "/")
    assert resp.status_code == 200
    root = parse_xml(resp.content)
    assert root.tag == "ListAllMyBucketsResult"
    dates = [b.findtext("CreationDate") for b in root.find("Buckets").findall("Bucket")]
    assert dates and all(TIMESTAMP_MS.match(d) for d in dates), dates
    assert root.find("Owner").findtext("ID")


def test_fetch_owner(s3, tree):
    bucket, _ = tree
    without = s3.list_objects_v2(Bucket=bucket, Prefix="page/", MaxKeys=2)
    assert all("Owner" not in o for o in without["Contents"])
    with_owner = s3.list_objects_v2(Bucket=bucket, Prefix="page/", MaxKeys=2, FetchOwner=True)
    for obj in with_owner["Contents"]:
        assert obj["Owner"]["ID"]


def test_unicode_keys_sort_by_utf8_bytes(s3, tree):
    bucket, _ = tree
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="uni/")
    listed = [o["Key"][len("uni/"):] for o in resp["Contents"]]
    # UTF-8 byte order (= code point order); differs from UTF-16 order for U+E000..U+FFFF vs astral planes.
    assert listed == sorted(UNICODE_ORDER, key=lambda k: k.encode("utf-8"))
    assert listed.index("\uff21") < listed.index("\U0001F600")


def test_list_v1_marker_and_truncation(s3, tree):
    bucket, _ = tree
    expected = [f"page/{i:02d}" for i in range(25)]
    resp = s3.list_objects(Bucket=bucket, Prefix="page/", MaxKeys=10)
    assert resp["IsTruncated"] is True
    assert "NextMarker" not in resp  # only returned when a delimiter is given
    assert [o["Key"] for o in resp["Contents"]] == expected[:10]
    assert resp.get("Marker", "") == ""
    collected, marker = [], ""
    while True:
        page = s3.list_objects(Bucket=bucket, Prefix="page/", MaxKeys=10, Marker=marker)
        collected += [o["Key"] for o in page["Contents"]]
        if not page["IsTruncated"]:
            break
        marker = page["Contents"][-1]["Key"]
    assert collected == expected
    resp = s3.list_objects(Bucket=bucket, Prefix="page/", Marker="page/22")
    assert [o["Key"] for o in resp["Contents"]] == ["page/23", "page/24"]
    assert resp["Marker"] == "page/22"
    assert resp["IsTruncated"] is False


def test_list_v1_next_marker_with_delimiter(s3, tree):
    bucket, _ = tree
    resp = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert resp["IsTruncated"] is True
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/", "b/"]
    assert resp["NextMarker"] == "b/"
    seen = [p["Prefix"] for p in resp["CommonPrefixes"]] + [o["Key"] for o in resp.get("Contents", [])]
    while resp["IsTruncated"]:
        resp = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2, Marker=resp["NextMarker"])
        seen += [p["Prefix"] for p in resp.get("CommonPrefixes", [])] + [o["Key"] for o in resp.get("Contents", [])]
    assert sorted(seen, key=str.encode) == ["a/", "b/", "c", "d/", "enc dir/", "page/", "photos/", "top1", "top2",
                                            "uni/"]
    assert len(seen) == len(set(seen))


def test_list_v1_raw_xml(raw, tree):
    bucket, _ = tree
    resp = raw.request("GET", key_path(bucket), {"prefix": "page/", "max-keys": "2"})
    assert resp.status_code == 200
    root = parse_xml(resp.content)
    assert root.tag == "ListBucketResult"
    assert root.findtext("IsTruncated") == "true"
    assert root.find("NextMarker") is None
    assert root.find("KeyCount") is None  # v2 only
    for c in root.findall("Contents"):
        assert TIMESTAMP_MS.match(c.findtext("LastModified"))
        assert c.find("Owner") is not None  # v1 includes Owner


@pytest.mark.parametrize("call", ["list_objects", "list_objects_v2"])
def test_list_missing_bucket(s3, call):
    with pytest.raises(ClientError) as info:
        getattr(s3, call)(Bucket="missing-" + uuid.uuid4().hex)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert info.value.response["Error"]["Code"] == "NoSuchBucket"


def test_list_empty_bucket(s3, bucket):
    resp = s3.list_objects_v2(Bucket=bucket)
    assert resp["KeyCount"] == 0
    assert resp["IsTruncated"] is False
    assert "Contents" not in resp
    assert resp["Name"] == bucket
