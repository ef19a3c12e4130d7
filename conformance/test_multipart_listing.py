"""Listing multipart uploads: ListParts (fields, paging with part-number markers, boto3's paginator, unknown
uploads) and ListMultipartUploads (ordering by key then initiation, paging, prefixes, delimiters, key and upload-id
markers, encoding-type=url, missing bucket).
"""

import datetime as dt
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from multipart_helpers import _complete, _create, _no_such_upload, _upload, _upload_ids
from s3helpers import client_error, key_path, parse_xml, quoted_etag, random_bytes


# --------------------------------------------------------------------------------------------------------------------
# ListParts


def test_list_parts_fields_and_paging(s3, bucket):
    upload_id = _create(s3, bucket, "seven")
    bodies = {n: random_bytes(100 * n) for n in range(1, 8)}
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(seconds=2)
    for n, body in bodies.items():
        _upload(s3, bucket, "seven", upload_id, n, body)
    after = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)

    full = s3.list_parts(Bucket=bucket, Key="seven", UploadId=upload_id)
    assert full["Bucket"] == bucket
    assert full["Key"] == "seven"
    assert full["UploadId"] == upload_id
    assert full["IsTruncated"] is False
    assert full["StorageClass"] == "STANDARD"
    assert full["Initiator"].get("ID")
    assert full["Owner"].get("ID")
    assert [p["PartNumber"] for p in full["Parts"]] == list(range(1, 8))
    for part in full["Parts"]:
        body = bodies[part["PartNumber"]]
        assert part["ETag"] == quoted_etag(body)
        assert part["Size"] == len(body)
        assert before <= part["LastModified"] <= after

    page1 = s3.list_parts(Bucket=bucket, Key="seven", UploadId=upload_id, MaxParts=3)
    assert [p["PartNumber"] for p in page1["Parts"]] == [1, 2, 3]
    assert page1["MaxParts"] == 3
    assert page1["IsTruncated"] is True
    assert page1["NextPartNumberMarker"] == 3
    page2 = s3.list_parts(Bucket=bucket, Key="seven", UploadId=upload_id, MaxParts=3,
                          PartNumberMarker=page1["NextPartNumberMarker"])
    assert page2["PartNumberMarker"] == 3
    assert [p["PartNumber"] for p in page2["Parts"]] == [4, 5, 6]
    assert page2["IsTruncated"] is True
    assert page2["NextPartNumberMarker"] == 6
    page3 = s3.list_parts(Bucket=bucket, Key="seven", UploadId=upload_id, MaxParts=3,
                          PartNumberMarker=page2["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in page3["Parts"]] == [7]
    assert page3["IsTruncated"] is False
    # A marker between part numbers starts after it.
    sparse = s3.list_parts(Bucket=bucket, Key="seven", UploadId=upload_id, PartNumberMarker=5)
    assert [p["PartNumber"] for p in sparse["Parts"]] == [6, 7]


def test_list_parts_boto3_paginator(s3, bucket):
    upload_id = _create(s3, bucket, "k")
    for n in (2, 4, 6, 8, 10):
        _upload(s3, bucket, "k", upload_id, n, str(n).encode())
    pages = list(s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="k", UploadId=upload_id, PaginationConfig={"PageSize": 2}))
    assert [[p["PartNumber"] for p in page.get("Parts", [])] for page in pages] == [[2, 4], [6, 8], [10]]


def test_list_parts_unknown_upload(s3, bucket):
    _no_such_upload(s3.list_parts, Bucket=bucket, Key="k", UploadId="bogus-upload-id")


# --------------------------------------------------------------------------------------------------------------------
# ListMultipartUploads


@pytest.fixture
def uploads(s3, bucket):
    """Pending uploads, created in this order; "c" has two. Returns (bucket, [(key, upload_id), ...]) in the
    order S3 lists them: by key, then by initiation."""
    created = []
    for key in ["b/1", "a/2", "c", "a/1", "d/x/y", "c"]:
        created.append((key, _create(s3, bucket, key)))
    listed = sorted(created, key=lambda kv: kv[0].encode())  # stable: the two "c" stay in creation order
    return bucket, listed


def test_list_uploads_all(s3, uploads):
    bucket, expected = uploads
    resp = s3.list_multipart_uploads(Bucket=bucket)
    assert resp["Bucket"] == bucket
    assert resp["IsTruncated"] is False
    assert _upload_ids(resp) == expected
    for upload in resp["Uploads"]:
        assert isinstance(upload["Initiated"], dt.datetime)
        assert upload["StorageClass"] == "STANDARD"
        assert upload["Initiator"].get("ID")
        assert upload["Owner"].get("ID")


def test_list_uploads_prefix_and_delimiter(s3, uploads):
    bucket, expected = uploads
    resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert resp["Prefix"] == "a/"
    assert _upload_ids(resp) == [kv for kv in expected if kv[0].startswith("a/")]

    resp = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert resp["Delimiter"] == "/"
    assert _upload_ids(resp) == [kv for kv in expected if kv[0] == "c"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/", "b/", "d/"]

    resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="d/", Delimiter="/")
    assert _upload_ids(resp) == []
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["d/x/"]


def test_list_uploads_markers(s3, uploads):
    bucket, expected = uploads
    # key-marker alone: only keys after it.
    resp = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b/1")
    assert resp["KeyMarker"] == "b/1"
    assert _upload_ids(resp) == [kv for kv in expected if kv[0].encode() > b"b/1"]
    # key-marker + upload-id-marker: the uploads of that key after that upload, then later keys.
    c_uploads = [kv for kv in expected if kv[0] == "c"]
    resp = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="c", UploadIdMarker=c_uploads[0][1])
    assert resp["UploadIdMarker"] == c_uploads[0][1]
    assert _upload_ids(resp) == [c_uploads[1], ("d/x/y", dict(expected)["d/x/y"])]


def test_list_uploads_paging(s3, uploads):
    bucket, expected = uploads
    seen, kwargs, pages = [], {}, 0
    while True:
        resp = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, **kwargs)
        pages += 1
        assert resp["MaxUploads"] == 2
        page = _upload_ids(resp)
        assert len(page) <= 2
        seen += page
        if not resp["IsTruncated"]:
            break
        assert resp["NextKeyMarker"] == page[-1][0]
        assert resp["NextUploadIdMarker"] == page[-1][1]
        kwargs = {"KeyMarker": resp["NextKeyMarker"], "UploadIdMarker": resp["NextUploadIdMarker"]}
        assert pages < 10, "paging does not end"
    assert seen == expected
    assert pages == 3


def test_list_uploads_same_key_in_initiation_order(s3, bucket):
    ids = [_create(s3, bucket, "same") for _ in range(4)]
    resp = s3.list_multipart_uploads(Bucket=bucket)
    assert [u["UploadId"] for u in resp["Uploads"]] == ids
    initiated = [u["Initiated"] for u in resp["Uploads"]]
    assert initiated == sorted(initiated)
    # Completing one removes just that one.
    part = _upload(s3, bucket, "same", ids[1], 1, b"x")
    _complete(s3, bucket, "same", ids[1], [part])
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [ids[0]] + ids[2:]


def test_list_uploads_encoding_type_url(raw, s3, bucket):
    keys = sorted(["odd dir/sp ace+plus.bin", "odd dir/ünï&<x>.bin"], key=str.encode)
    for key in keys:
        _create(s3, bucket, key)
    resp = raw.request("GET", key_path(bucket), [("uploads", None), ("encoding-type", "url"),
                                                 ("prefix", "odd dir/")])
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.tag == "ListMultipartUploadsResult"
    assert root.findtext("EncodingType") == "url"
    listed = [u.findtext("Key") for u in root.findall("Upload")]
    assert all(k.isascii() and " " not in k for k in listed), listed
    assert [unquote(k) for k in listed] == keys
    assert unquote(root.findtext("Prefix")) == "odd dir/"

    # Without encoding-type the same names come back XML-escaped, as they are.
    plain = parse_xml(raw.request("GET", key_path(bucket), [("uploads", None)]).content)
    assert [u.findtext("Key") for u in plain.findall("Upload")] == keys


def test_list_uploads_missing_bucket(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.list_multipart_uploads(Bucket="no-such-bucket-" + bucket[-10:])
    assert client_error(info.value) == (404, "NoSuchBucket")
