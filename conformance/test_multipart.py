"""Multipart uploads: CreateMultipartUpload (stored headers and metadata), UploadPart (part-number limits,
replacement, unknown uploads, interrupted bodies), UploadPartCopy, CompleteMultipartUpload (the multipart ETag,
InvalidPart, InvalidPartOrder, EntityTooSmall, NoSuchUpload, MalformedXML, skipped part numbers, visibility and
replacement of the key, two concurrent Completes), AbortMultipartUpload (and the disk it frees), and deleting a bucket
that has uploads in progress.

Elsewhere: ListParts and ListMultipartUploads in test_multipart_listing.py; GET/HEAD of multipart objects and the
real clients (boto3, aws-cli, presigned part URLs, HTTPS) in test_multipart_reads_and_clients.py; the rest of
UploadPartCopy in test_upload_part_copy.py; multipart checksums in test_multipart_checksums.py; shared helpers in
multipart_helpers.py.

Tests marked `martlet` look inside the data folder or pin down behaviour AWS leaves open.
"""

import datetime as dt
import email.utils
import hashlib
import threading
import time

import pytest
from botocore.exceptions import ClientError

from checksum_test_helpers import _upload_parts
from conftest import make_client
from multipart_helpers import (
    MIN_PART, MiB, _complete, _create, _mpu_etag, _multipart_put, _no_such_upload, _status, _upload, _upload_ids,
)
from s3helpers import (
    client_error, error_fields, key_path, md5_hex, object_absent, parse_xml, quoted_etag, random_bytes, RawHTTP,
)


# --------------------------------------------------------------------------------------------------------------------
# Helpers


def _wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _stored_files(srv) -> list:
    """Every file in the data folder except the SQLite index: blobs, parts, temporaries, wherever they live."""
    return sorted(p for p in srv.data_dir.rglob("*") if p.is_file() and not p.name.startswith("index.sqlite"))


def _complete_xml(parts: list[tuple[int, str]]) -> bytes:
    body = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>" for n, etag in parts)
    return (f'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{body}'
            f"</CompleteMultipartUpload>").encode()


# --------------------------------------------------------------------------------------------------------------------
# CreateMultipartUpload


def test_create_keeps_headers_and_metadata_on_the_completed_object(s3, bucket):
    expires = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    bodies = [random_bytes(MIN_PART), random_bytes(1000)]
    resp = _multipart_put(
        s3, bucket, "doc/report.pdf", bodies,
        ContentType="application/pdf",
        ContentEncoding="gzip",
        ContentDisposition='attachment; filename="report.pdf"',
        ContentLanguage="fr-CA",
        CacheControl="max-age=60, private",
        Expires=expires,
        Metadata={"project": "martlet", "MixedCase-Name": "Value With Case"},
    )
    assert resp["Bucket"] == bucket
    assert resp["Key"] == "doc/report.pdf"
    assert resp["ETag"] == _mpu_etag(bodies)
    assert "Location" in resp
    for got in (s3.head_object(Bucket=bucket, Key="doc/report.pdf"),
                s3.get_object(Bucket=bucket, Key="doc/report.pdf")):
        headers = got["ResponseMetadata"]["HTTPHeaders"]
        assert got["ContentType"] == "application/pdf"
        assert got["ContentEncoding"] == "gzip"
        assert got["ContentDisposition"] == 'attachment; filename="report.pdf"'
        assert got["ContentLanguage"] == "fr-CA"
        assert got["CacheControl"] == "max-age=60, private"
        assert email.utils.parsedate_to_datetime(headers["expires"]) == expires
        assert got["Metadata"] == {"project": "martlet", "mixedcase-name": "Value With Case"}
        assert got["ContentLength"] == sum(map(len, bodies))
        assert got["ETag"] == _mpu_etag(bodies)


def test_create_without_content_type_defaults_like_put(s3, bucket):
    _multipart_put(s3, bucket, "untyped", [b"tiny single part"])
    got = s3.get_object(Bucket=bucket, Key="untyped")
    assert got["ContentType"] == "binary/octet-stream"
    assert got["Body"].read() == b"tiny single part"
    assert got["ETag"] == _mpu_etag([b"tiny single part"])  # one part is still a multipart ETag: "-1"


def test_create_in_missing_bucket(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.create_multipart_upload(Bucket="no-such-bucket-" + bucket[-10:], Key="k")
    assert client_error(info.value) == (404, "NoSuchBucket")


# --------------------------------------------------------------------------------------------------------------------
# UploadPart


@pytest.mark.parametrize("number", [0, 10001, -1])
def test_upload_part_number_out_of_range(s3, bucket, number):
    upload_id = _create(s3, bucket, "k")
    with pytest.raises(ClientError) as info:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"x")
    assert client_error(info.value) == (400, "InvalidArgument")
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id).get("Parts", []) == []


def test_upload_part_number_limits_accepted(s3, bucket):
    upload_id = _create(s3, bucket, "k")
    _upload(s3, bucket, "k", upload_id, 1, b"first")
    _upload(s3, bucket, "k", upload_id, 10000, b"last possible")
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 10000]


def test_upload_part_number_not_an_integer(raw, s3, bucket):
    upload_id = _create(s3, bucket, "k")
    resp = raw.request("PUT", key_path(bucket, "k"), {"partNumber": "one", "uploadId": upload_id}, body=b"x")
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "InvalidArgument"


def test_upload_part_replaces_same_number(s3, bucket):
    upload_id = _create(s3, bucket, "k")
    first = random_bytes(1000)
    second = random_bytes(2345)
    old = _upload(s3, bucket, "k", upload_id, 1, first)
    new = _upload(s3, bucket, "k", upload_id, 1, second)
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, quoted_etag(second), 2345)]

    # The replaced part's ETag no longer names a part of this upload.
    with pytest.raises(ClientError) as info:
        _complete(s3, bucket, "k", upload_id, [old])
    assert client_error(info.value) == (400, "InvalidPart")

    _complete(s3, bucket, "k", upload_id, [new])
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == second
    assert got["ETag"] == _mpu_etag([second])


def test_upload_part_to_unknown_upload(s3, bucket):
    _no_such_upload(s3.upload_part, Bucket=bucket, Key="k", UploadId="bogus-upload-id", PartNumber=1, Body=b"x")
    # An upload ID belongs to its key: the right ID under another key is no such upload either.
    upload_id = _create(s3, bucket, "k")
    _no_such_upload(s3.upload_part, Bucket=bucket, Key="other", UploadId=upload_id, PartNumber=1, Body=b"x")
    _no_such_upload(s3.list_parts, Bucket=bucket, Key="other", UploadId=upload_id)
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id).get("Parts", []) == []


def test_upload_part_bad_content_md5(s3, bucket):
    import base64

    upload_id = _create(s3, bucket, "k")
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as info:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"payload",
                       ContentMD5=wrong)
    assert client_error(info.value) == (400, "BadDigest")
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id).get("Parts", []) == []


@pytest.mark.martlet  # looks inside the data folder
def test_interrupted_upload_part_leaves_nothing(server_factory):
    srv = server_factory.start("mpu-interrupted")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="mpu")
    upload_id = _create(s3, "mpu", "k")
    kept = _upload(s3, "mpu", "k", upload_id, 2, b"part two stays")
    first_version = random_bytes(MIN_PART)
    original_one = _upload(s3, "mpu", "k", upload_id, 1, first_version)

    full = random_bytes(2 * MiB)
    for number in (1, 3):  # replacing an existing part, and a new part number
        prepared = srv.raw().prepare("PUT", key_path("mpu", "k"), {"partNumber": str(number), "uploadId": upload_id},
                                     body=full, headers={"Content-Length": str(len(full))})
        conn = RawHTTP.to(srv)
        conn.send_head("PUT", prepared.target, prepared.headers)
        conn.send(full[:MiB])
        time.sleep(0.2)
        conn.close()

    def settled():
        parts = s3.list_parts(Bucket="mpu", Key="k", UploadId=upload_id)["Parts"]
        return srv.files_under("tmp") == [] and [(p["PartNumber"], p["ETag"]) for p in parts] == [
            (1, original_one["ETag"]), (2, kept["ETag"])]

    assert _wait_for(settled, timeout=5), (
        f"parts {s3.list_parts(Bucket='mpu', Key='k', UploadId=upload_id).get('Parts')}, "
        f"tmp {srv.files_under('tmp')}")
    assert srv.running(), srv.log_tail()
    _complete(s3, "mpu", "k", upload_id, [original_one, kept])
    assert s3.get_object(Bucket="mpu", Key="k")["Body"].read() == first_version + b"part two stays"


# --------------------------------------------------------------------------------------------------------------------
# UploadPartCopy


def test_upload_part_copy_whole_and_range(s3, bucket):
    source = random_bytes(MIN_PART + 4321)
    s3.put_object(Bucket=bucket, Key="src/object", Body=source)
    upload_id = _create(s3, bucket, "dst")
    whole = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "src/object"})
    assert whole["CopyPartResult"]["ETag"] == quoted_etag(source)
    assert isinstance(whole["CopyPartResult"]["LastModified"], dt.datetime)
    piece = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=2,
                                CopySource={"Bucket": bucket, "Key": "src/object"},
                                CopySourceRange="bytes=100-1099")
    assert piece["CopyPartResult"]["ETag"] == quoted_etag(source[100:1100])
    parts = s3.list_parts(Bucket=bucket, Key="dst", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, len(source)), (2, 1000)]
    _complete(s3, bucket, "dst", upload_id, [
        {"PartNumber": 1, "ETag": whole["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": piece["CopyPartResult"]["ETag"]},
    ])
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == source + source[100:1100]
    assert got["ETag"] == _mpu_etag([source, source[100:1100]])
    assert s3.get_object(Bucket=bucket, Key="src/object")["Body"].read() == source


def test_upload_part_copy_missing_source(s3, bucket):
    upload_id = _create(s3, bucket, "dst")
    with pytest.raises(ClientError) as info:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "missing"})
    assert client_error(info.value) == (404, "NoSuchKey")
    assert s3.list_parts(Bucket=bucket, Key="dst", UploadId=upload_id).get("Parts", []) == []


# --------------------------------------------------------------------------------------------------------------------
# CompleteMultipartUpload


def test_complete_etag_size_and_bytes(s3, bucket):
    bodies = [random_bytes(MIN_PART), random_bytes(MIN_PART + 1), random_bytes(777)]
    resp = _multipart_put(s3, bucket, "assembled", bodies)
    expected = _mpu_etag(bodies)
    assert resp["ETag"] == expected
    data = b"".join(bodies)
    got = s3.get_object(Bucket=bucket, Key="assembled")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    assert got["ETag"] == expected
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [("assembled", len(data), expected)]


def test_complete_with_skipped_numbers_and_unlisted_parts(s3, bucket):
    upload_id = _create(s3, bucket, "sparse")
    p1, p2, p3, p7 = random_bytes(MIN_PART), random_bytes(500), random_bytes(MIN_PART), random_bytes(900)
    parts = {n: _upload(s3, bucket, "sparse", upload_id, n, b) for n, b in [(1, p1), (2, p2), (3, p3), (7, p7)]}
    # Part 2 was uploaded but is left out: only the listed parts make the object.
    resp = _complete(s3, bucket, "sparse", upload_id, [parts[1], parts[3], parts[7]])
    assert resp["ETag"] == _mpu_etag([p1, p3, p7])
    got = s3.get_object(Bucket=bucket, Key="sparse")
    assert got["Body"].read() == p1 + p3 + p7
    assert got["ETag"] == _mpu_etag([p1, p3, p7])
    _no_such_upload(s3.list_parts, Bucket=bucket, Key="sparse", UploadId=upload_id)


@pytest.mark.parametrize("what", ["wrong-etag", "never-uploaded"])
def test_complete_invalid_part(s3, bucket, what):
    upload_id = _create(s3, bucket, "k")
    part = _upload(s3, bucket, "k", upload_id, 1, random_bytes(MIN_PART))
    if what == "wrong-etag":
        listed = [{"PartNumber": 1, "ETag": quoted_etag(b"not the part")}]
    else:
        listed = [part, {"PartNumber": 2, "ETag": quoted_etag(b"never uploaded")}]
    with pytest.raises(ClientError) as info:
        _complete(s3, bucket, "k", upload_id, listed)
    assert client_error(info.value) == (400, "InvalidPart")
    assert object_absent(s3, bucket, "k")
    # A failed Complete leaves the upload as it was.
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]] == [1]


def test_complete_parts_out_of_order(s3, bucket):
    upload_id = _create(s3, bucket, "k")
    one = _upload(s3, bucket, "k", upload_id, 1, random_bytes(MIN_PART))
    two = _upload(s3, bucket, "k", upload_id, 2, random_bytes(MIN_PART))
    with pytest.raises(ClientError) as info:
        _complete(s3, bucket, "k", upload_id, [two, one])
    assert client_error(info.value) == (400, "InvalidPartOrder")
    assert object_absent(s3, bucket, "k")
    _complete(s3, bucket, "k", upload_id, [one, two])
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 2 * MIN_PART


def test_complete_entity_too_small(s3, bucket):
    upload_id = _create(s3, bucket, "k")
    small = _upload(s3, bucket, "k", upload_id, 1, random_bytes(MIN_PART - 1))
    last = _upload(s3, bucket, "k", upload_id, 2, b"z")
    with pytest.raises(ClientError) as info:
        _complete(s3, bucket, "k", upload_id, [small, last])
    assert client_error(info.value) == (400, "EntityTooSmall")
    assert object_absent(s3, bucket, "k")
    # The upload survives the failed Complete; a 5 MiB first part makes it valid (the last part may be 1 byte).
    body = random_bytes(MIN_PART)
    exact = _upload(s3, bucket, "k", upload_id, 1, body)
    _complete(s3, bucket, "k", upload_id, [exact, last])
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == body + b"z"
    assert got["ETag"] == _mpu_etag([body, b"z"])


def test_complete_unknown_or_aborted_upload(s3, bucket):
    _no_such_upload(s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId="bogus-upload-id",
                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": quoted_etag(b"x")}]})
    upload_id = _create(s3, bucket, "k")
    part = _upload(s3, bucket, "k", upload_id, 1, b"x")
    assert _status(s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)) == 204
    _no_such_upload(s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId=upload_id,
                    MultipartUpload={"Parts": [part]})
    assert object_absent(s3, bucket, "k")


def test_completed_upload_disappears(s3, bucket):
    upload_id = _create(s3, bucket, "k")
    part = _upload(s3, bucket, "k", upload_id, 1, b"once")
    _complete(s3, bucket, "k", upload_id, [part])
    # Completed uploads are gone from the upload listings and their part listings.
    _no_such_upload(s3.list_parts, Bucket=bucket, Key="k", UploadId=upload_id)
    assert _upload_ids(s3.list_multipart_uploads(Bucket=bucket)) == []
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"once"


def test_repeated_complete_gets_the_first_answer(s3, bucket):
    # AWS answers a Complete of an upload that already completed, with the same parts, as the first time:
    # SDKs retry a Complete whose response they lost.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    upload_id = _create(s3, bucket, "k", ChecksumAlgorithm="SHA256")
    parts = _upload_parts(s3, bucket, "k", upload_id, "SHA256", [random_bytes(MIN_PART), b"tail"])
    first = _complete(s3, bucket, "k", upload_id, parts)
    again = _complete(s3, bucket, "k", upload_id, parts)
    for field in ("ETag", "ChecksumSHA256", "ChecksumType", "VersionId", "Bucket", "Key", "Location"):
        assert again.get(field) == first.get(field), field
    assert first["ChecksumSHA256"].endswith("-2")
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 1  # the repeat wrote nothing

    # A "repeat" naming other parts is not one: the upload is gone.
    _no_such_upload(s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId=upload_id,
                    MultipartUpload={"Parts": parts[:1]})
    _no_such_upload(s3.complete_multipart_upload, Bucket=bucket, Key="other", UploadId=upload_id,
                    MultipartUpload={"Parts": parts})


def test_complete_empty_parts_list_is_malformed(s3, bucket):
    upload_id = _create(s3, bucket, "k")
    _upload(s3, bucket, "k", upload_id, 1, b"x")
    with pytest.raises(ClientError) as info:
        _complete(s3, bucket, "k", upload_id, [])
    assert client_error(info.value) == (400, "MalformedXML")
    assert object_absent(s3, bucket, "k")


@pytest.mark.parametrize("body", [
    b"",
    b"this is not xml",
    b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>",
], ids=["empty-body", "not-xml", "truncated"])
def test_complete_garbage_body(raw, s3, bucket, body):
    upload_id = _create(s3, bucket, "k")
    _upload(s3, bucket, "k", upload_id, 1, b"x")
    resp = raw.request("POST", key_path(bucket, "k"), {"uploadId": upload_id}, body=body)
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "MalformedXML"
    assert object_absent(s3, bucket, "k")
    assert len(s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]) == 1


def test_complete_part_without_etag(raw, s3, bucket):
    # AWS reports MalformedXML for a <Part> without <ETag>; InvalidPart is accepted as the lesser answer.
    upload_id = _create(s3, bucket, "k")
    _upload(s3, bucket, "k", upload_id, 1, b"x")
    body = (b'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part>'
            b"<PartNumber>1</PartNumber></Part></CompleteMultipartUpload>")
    resp = raw.request("POST", key_path(bucket, "k"), {"uploadId": upload_id}, body=body)
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] in ("MalformedXML", "InvalidPart")
    assert object_absent(s3, bucket, "k")


def test_complete_with_raw_xml_and_unquoted_etags(raw, s3, bucket):
    # Clients send ETags with or without the quotes; S3 accepts both.
    upload_id = _create(s3, bucket, "k")
    a, b = random_bytes(MIN_PART), random_bytes(10)
    _upload(s3, bucket, "k", upload_id, 1, a)
    _upload(s3, bucket, "k", upload_id, 2, b)
    resp = raw.request("POST", key_path(bucket, "k"), {"uploadId": upload_id},
                       body=_complete_xml([(1, md5_hex(a)), (2, quoted_etag(b))]))
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.tag == "CompleteMultipartUploadResult"
    assert root.findtext("Bucket") == bucket
    assert root.findtext("Key") == "k"
    assert root.findtext("ETag") == _mpu_etag([a, b])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == a + b


def test_nothing_visible_before_complete(s3, bucket):
    upload_id = _create(s3, bucket, "pending")
    one = _upload(s3, bucket, "pending", upload_id, 1, random_bytes(MIN_PART))
    assert object_absent(s3, bucket, "pending")
    two = _upload(s3, bucket, "pending", upload_id, 2, b"tail")
    assert object_absent(s3, bucket, "pending")
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="pending")
    assert client_error(info.value) == (404, "NoSuchKey")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    _complete(s3, bucket, "pending", upload_id, [one, two])
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_existing_object_readable_until_complete_then_replaced(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old version", ContentType="text/plain", Metadata={"gen": "1"})
    upload_id = _create(s3, bucket, "k", Metadata={"gen": "2"})
    bodies = [random_bytes(MIN_PART), random_bytes(100)]
    parts = [_upload(s3, bucket, "k", upload_id, i, b) for i, b in enumerate(bodies, 1)]
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"old version"
    assert got["ETag"] == quoted_etag(b"old version")
    assert got["Metadata"] == {"gen": "1"}
    _complete(s3, bucket, "k", upload_id, parts)
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"".join(bodies)
    assert got["ETag"] == _mpu_etag(bodies)
    assert got["Metadata"] == {"gen": "2"}
    assert got["ContentType"] == "binary/octet-stream"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


@pytest.mark.martlet  # AWS may answer a repeated Complete with 200; Martlet answers exactly one
def test_concurrent_completes_of_one_upload(server, s3, bucket):
    upload_id = _create(s3, bucket, "raced")
    bodies = [random_bytes(MIN_PART), random_bytes(MIN_PART), random_bytes(3000)]
    parts = [_upload(s3, bucket, "raced", upload_id, i, b) for i, b in enumerate(bodies, 1)]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def complete(i: int):
        client = make_client(server, retries={"max_attempts": 1, "mode": "standard"})
        barrier.wait(5)
        try:
            results[i] = ("ok", _complete(client, bucket, "raced", upload_id, parts)["ETag"])
        except ClientError as e:
            results[i] = ("error", client_error(e))

    threads = [threading.Thread(target=complete, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # One completes the upload; the other, finding it complete, gets the same answer, as a retry would.
    assert results == [("ok", _mpu_etag(bodies))] * 2, results
    got = s3.get_object(Bucket=bucket, Key="raced")
    assert got["Body"].read() == b"".join(bodies)
    assert got["ETag"] == _mpu_etag(bodies)


# --------------------------------------------------------------------------------------------------------------------
# AbortMultipartUpload


def test_abort(s3, bucket):
    upload_id = _create(s3, bucket, "k")
    _upload(s3, bucket, "k", upload_id, 1, b"one")
    _upload(s3, bucket, "k", upload_id, 2, b"two")
    assert _upload_ids(s3.list_multipart_uploads(Bucket=bucket)) == [("k", upload_id)]
    resp = s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert _status(resp) == 204
    _no_such_upload(s3.list_parts, Bucket=bucket, Key="k", UploadId=upload_id)
    _no_such_upload(s3.upload_part, Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=3, Body=b"3")
    _no_such_upload(s3.abort_multipart_upload, Bucket=bucket, Key="k", UploadId=upload_id)
    assert _upload_ids(s3.list_multipart_uploads(Bucket=bucket)) == []
    assert object_absent(s3, bucket, "k")


def test_abort_unknown_upload(s3, bucket):
    _no_such_upload(s3.abort_multipart_upload, Bucket=bucket, Key="k", UploadId="bogus-upload-id")


def test_abort_leaves_existing_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"keep me")
    upload_id = _create(s3, bucket, "k")
    _upload(s3, bucket, "k", upload_id, 1, b"discard me")
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"keep me"


@pytest.mark.martlet  # looks inside the data folder
@pytest.mark.single_node(reason="a freed blob's file must be unlinked at once; a cluster keeps it for --blob-grace (another node may be reading it)")
def test_abort_frees_disk(server_factory):
    srv = server_factory.start("mpu-abort-gc")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="gc-bucket")
    s3.put_object(Bucket="gc-bucket", Key="resident", Body=b"stays")
    baseline = len(_stored_files(srv))
    upload_id = _create(s3, "gc-bucket", "k")
    for n in (1, 2, 3):
        _upload(s3, "gc-bucket", "k", upload_id, n, random_bytes(300000))
    assert len(_stored_files(srv)) > baseline, "uploaded parts take no files in the data folder?"
    s3.abort_multipart_upload(Bucket="gc-bucket", Key="k", UploadId=upload_id)
    assert _wait_for(lambda: len(_stored_files(srv)) == baseline), \
        f"{len(_stored_files(srv))} files after abort, {baseline} before the upload: {_stored_files(srv)}"


@pytest.mark.martlet  # looks inside the data folder
@pytest.mark.single_node(reason="a freed blob's file must be unlinked at once; a cluster keeps it for --blob-grace (another node may be reading it)")
def test_unlisted_parts_and_deleted_multipart_object_free_disk(server_factory):
    srv = server_factory.start("mpu-complete-gc")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="gc-bucket")
    baseline = len(_stored_files(srv))
    upload_id = _create(s3, "gc-bucket", "k")
    one = _upload(s3, "gc-bucket", "k", upload_id, 1, random_bytes(MIN_PART))
    _upload(s3, "gc-bucket", "k", upload_id, 2, random_bytes(1000))  # never listed in Complete
    three = _upload(s3, "gc-bucket", "k", upload_id, 3, random_bytes(2000))
    _complete(s3, "gc-bucket", "k", upload_id, [one, three])
    # Overwrite with a multipart object, then delete it: nothing of either may remain.
    _multipart_put(s3, "gc-bucket", "k", [random_bytes(MIN_PART), b"end"])
    s3.delete_object(Bucket="gc-bucket", Key="k")
    assert _wait_for(lambda: len(_stored_files(srv)) == baseline), \
        f"{len(_stored_files(srv))} files left, {baseline} before: {_stored_files(srv)}"


# --------------------------------------------------------------------------------------------------------------------
# Buckets with uploads in progress


@pytest.mark.martlet  # Martlet's decision: pending uploads do not keep an otherwise empty bucket alive
def test_delete_bucket_aborts_pending_uploads(s3, bucket):
    upload_id = _create(s3, bucket, "pending")
    _upload(s3, bucket, "pending", upload_id, 1, b"part")
    resp = s3.delete_bucket(Bucket=bucket)
    assert _status(resp) == 204
    with pytest.raises(ClientError) as info:
        s3.head_bucket(Bucket=bucket)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # A new bucket of the same name starts without the old uploads.
    s3.create_bucket(Bucket=bucket)
    assert _upload_ids(s3.list_multipart_uploads(Bucket=bucket)) == []
    _no_such_upload(s3.list_parts, Bucket=bucket, Key="pending", UploadId=upload_id)


@pytest.mark.martlet
def test_delete_bucket_with_objects_keeps_pending_uploads(s3, bucket):
    s3.put_object(Bucket=bucket, Key="resident", Body=b"1")
    upload_id = _create(s3, bucket, "pending")
    _upload(s3, bucket, "pending", upload_id, 1, b"part")
    with pytest.raises(ClientError) as info:
        s3.delete_bucket(Bucket=bucket)
    assert client_error(info.value) == (409, "BucketNotEmpty")
    assert _upload_ids(s3.list_multipart_uploads(Bucket=bucket)) == [("pending", upload_id)]
    assert len(s3.list_parts(Bucket=bucket, Key="pending", UploadId=upload_id)["Parts"]) == 1
