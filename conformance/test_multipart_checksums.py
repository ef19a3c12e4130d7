"""Flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) on multipart uploads, and GetObjectAttributes.

Multipart: CreateMultipartUpload's algorithm/type echo and the allowed combinations (CRC64NVME is FULL_OBJECT only,
SHA1/SHA256 COMPOSITE only), part checksums by header and trailer, the COMPOSITE object checksum
base64(H(digest1 || digest2 ...))-N, the FULL_OBJECT checksum (CRC of all the bytes) with and without a whole-object
checksum on Complete, S3's default for uploads created without an algorithm (CRC64NVME, FULL_OBJECT), BadDigest for a
wrong part, InvalidPart for a Complete whose part checksum differs from the stored one, x-amz-mp-object-size, and
s3transfer's upload_file (CRC32 composite by default).

GetObjectAttributes: ETag (unquoted), ObjectSize, StorageClass, Checksum, ObjectParts with paging for a multipart
object; no ObjectParts for a single PUT; only the attributes asked for; InvalidArgument without
x-amz-object-attributes; NoSuchKey.

Single-PutObject checksums are in test_checksums.py; helpers shared with it in checksum_test_helpers.py.

botocore computes CRC32C/CRC64NVME only with awscrt, which the suite does not install: those values come from the
pure-Python implementations in checksum_helpers.py (about 1 s per 5 MiB, cached, so the 5 MiB part below is hashed
once).
"""

from urllib.parse import quote

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from checksum_helpers import (
    checksum_b64, checksum_field, checksum_header, composite_checksum, full_object_checksum, multipart_etag,
)
from checksum_test_helpers import (
    ALGORITHMS, TRAILER_MODES, _assert_stored, _capture_headers, _complete, _create, _upload_parts,
)
from conftest import make_client
from s3helpers import client_error, error_fields, key_path, md5_hex, object_absent, quoted_etag, random_bytes

MiB = 1024 * 1024
COMPOSITE_ALGORITHMS = ("CRC32", "CRC32C", "SHA1", "SHA256")
FULL_OBJECT_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME")

# Shared multipart payload: a minimum-size first part and a short last part. Deterministic, so the pure-Python CRCs
# of these bytes are computed once per run.
PART1 = random_bytes(5 * MiB, seed=5001)
PART2 = random_bytes(123_457, seed=5002)
SMALL = random_bytes(100_003, seed=5003)


def _part_path(bucket, key, upload_id, part_number) -> str:
    return key_path(bucket, key) + f"?partNumber={part_number}&uploadId={quote(upload_id, safe='')}"


@pytest.fixture(scope="module")
def s3_plain(server):
    """boto3 that only sends checksums when an operation requires one (request_checksum_calculation=when_required):
    uploads without any checksum header."""
    return make_client(server, request_checksum_calculation="when_required")


# --------------------------------------------------------------------------------------------------------------------
# CreateMultipartUpload: algorithm and type

CREATE_OK = [(a, None, "COMPOSITE") for a in COMPOSITE_ALGORITHMS] + [("CRC64NVME", None, "FULL_OBJECT")] + \
            [(a, "COMPOSITE", "COMPOSITE") for a in COMPOSITE_ALGORITHMS] + \
            [(a, "FULL_OBJECT", "FULL_OBJECT") for a in FULL_OBJECT_ALGORITHMS]


@pytest.mark.parametrize("algorithm, requested, expected", CREATE_OK,
                         ids=[f"{a}-{r or 'default'}" for a, r, _ in CREATE_OK])
def test_create_multipart_upload_echoes_algorithm_and_type(s3, bucket, algorithm, requested, expected):
    kwargs = {"ChecksumAlgorithm": algorithm, **({"ChecksumType": requested} if requested else {})}
    resp = s3.create_multipart_upload(Bucket=bucket, Key="mp", **kwargs)
    assert resp.get("ChecksumAlgorithm") == algorithm
    assert resp.get("ChecksumType") == expected
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=resp["UploadId"])


@pytest.mark.parametrize("algorithm, checksum_type", [
    ("CRC64NVME", "COMPOSITE"), ("SHA256", "FULL_OBJECT"), ("SHA1", "FULL_OBJECT"),
], ids=["CRC64NVME-COMPOSITE", "SHA256-FULL_OBJECT", "SHA1-FULL_OBJECT"])
def test_create_multipart_upload_invalid_combination(s3, bucket, algorithm, checksum_type):
    with pytest.raises(ClientError) as info:
        s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm=algorithm, ChecksumType=checksum_type)
    assert client_error(info.value) == (400, "InvalidRequest")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


# --------------------------------------------------------------------------------------------------------------------
# UploadPart


def _single_part_expectation(algorithm, data):
    """(value, type) a one-part upload created with `algorithm` (default type) reports for the object."""
    if algorithm == "CRC64NVME":
        return checksum_b64(algorithm, data), "FULL_OBJECT"
    return composite_checksum(algorithm, [data]), "COMPOSITE"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_upload_part_with_checksum_header(s3, bucket, algorithm):
    upload_id = _create(s3, bucket, "mp", algorithm)
    parts = _upload_parts(s3, bucket, "mp", upload_id, algorithm, [SMALL])
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert listed.get("ChecksumAlgorithm") == algorithm
    assert [p.get(checksum_field(algorithm)) for p in listed["Parts"]] == [checksum_b64(algorithm, SMALL)]
    done = _complete(s3, bucket, "mp", upload_id, parts)
    value, checksum_type = _single_part_expectation(algorithm, SMALL)
    assert done.get(checksum_field(algorithm)) == value
    assert done.get("ChecksumType") == checksum_type
    _assert_stored(s3, bucket, "mp", algorithm, value, checksum_type, SMALL)


@pytest.mark.parametrize("mode", TRAILER_MODES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_upload_part_with_checksum_trailer(s3, raw, bucket, algorithm, mode):
    upload_id = _create(s3, bucket, "mp", algorithm)
    value = checksum_b64(algorithm, SMALL)
    prepared = raw.streaming_put(_part_path(bucket, "mp", upload_id, 1), SMALL, mode=mode, chunk_size=32 * 1024,
                                 checksum_name=checksum_header(algorithm), checksum_value=value)
    resp = raw.send(prepared)
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_etag(SMALL)
    assert resp.headers.get(checksum_header(algorithm)) == value
    _complete(s3, bucket, "mp", upload_id,
              [{"PartNumber": 1, "ETag": resp.headers["ETag"], checksum_field(algorithm): value}])
    expected, checksum_type = _single_part_expectation(algorithm, SMALL)
    _assert_stored(s3, bucket, "mp", algorithm, expected, checksum_type, SMALL)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_upload_part_with_wrong_checksum_is_bad_digest(s3, bucket, algorithm):
    upload_id = _create(s3, bucket, "mp", algorithm)
    with pytest.raises(ClientError) as info:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=SMALL,
                       **{checksum_field(algorithm): checksum_b64(algorithm, SMALL[1:])})
    assert client_error(info.value) == (400, "BadDigest")
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)


@pytest.mark.parametrize("mode", TRAILER_MODES)
def test_upload_part_with_wrong_checksum_trailer_is_bad_digest(s3, raw, bucket, mode):
    upload_id = _create(s3, bucket, "mp", "CRC32C")
    prepared = raw.streaming_put(_part_path(bucket, "mp", upload_id, 1), SMALL, mode=mode,
                                 checksum_name="x-amz-checksum-crc32c", checksum_value=checksum_b64("CRC32C", b"x"))
    resp = raw.send(prepared)
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "BadDigest"
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)


def test_upload_part_with_other_algorithm_is_invalid(s3, bucket):
    # "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32"
    upload_id = _create(s3, bucket, "mp", "SHA256")
    with pytest.raises(ClientError) as info:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=SMALL,
                       ChecksumCRC32=checksum_b64("CRC32", SMALL))
    assert client_error(info.value) == (400, "InvalidRequest")
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)


def test_upload_part_without_checksum_in_composite_upload_is_invalid(s3, s3_plain, bucket):
    # A COMPOSITE upload needs every part's checksum ("expected checksum Type: sha256, actual checksum Type: null").
    upload_id = _create(s3, bucket, "mp", "SHA256")
    with pytest.raises(ClientError) as info:
        s3_plain.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=SMALL)
    assert client_error(info.value) == (400, "InvalidRequest")
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)


def test_upload_part_over_https_with_boto3_defaults(s3_tls, tls_bucket):
    # An upload created for CRC32, parts sent the way boto3 does over TLS: aws-chunked with an unsigned CRC32 trailer.
    upload_id = _create(s3_tls, tls_bucket, "mp", "CRC32")
    sent, done = _capture_headers(s3_tls, "UploadPart")
    try:
        p1 = s3_tls.upload_part(Bucket=tls_bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=PART1)
        trailer_headers = dict(sent)
        p2 = s3_tls.upload_part(Bucket=tls_bucket, Key="mp", UploadId=upload_id, PartNumber=2, Body=PART2)
    finally:
        done()
    assert trailer_headers.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER", trailer_headers
    assert p1["ChecksumCRC32"] == checksum_b64("CRC32", PART1)
    assert p2["ChecksumCRC32"] == checksum_b64("CRC32", PART2)
    _complete(s3_tls, tls_bucket, "mp", upload_id, [
        {"PartNumber": 1, "ETag": p1["ETag"], "ChecksumCRC32": p1["ChecksumCRC32"]},
        {"PartNumber": 2, "ETag": p2["ETag"], "ChecksumCRC32": p2["ChecksumCRC32"]},
    ])
    _assert_stored(s3_tls, tls_bucket, "mp", "CRC32", composite_checksum("CRC32", [PART1, PART2]), "COMPOSITE",
                   PART1 + PART2)


# --------------------------------------------------------------------------------------------------------------------
# Multipart objects: COMPOSITE and FULL_OBJECT


@pytest.mark.parametrize("algorithm", COMPOSITE_ALGORITHMS)
def test_multipart_composite_checksum(s3, bucket, algorithm):
    upload_id = _create(s3, bucket, "mp", algorithm)
    parts = _upload_parts(s3, bucket, "mp", upload_id, algorithm, [PART1, PART2])
    done = _complete(s3, bucket, "mp", upload_id, parts)
    expected = composite_checksum(algorithm, [PART1, PART2])
    assert expected.endswith("-2")
    assert done["ETag"] == multipart_etag([PART1, PART2])
    assert done.get(checksum_field(algorithm)) == expected
    assert done.get("ChecksumType") == "COMPOSITE"
    _assert_stored(s3, bucket, "mp", algorithm, expected, "COMPOSITE", PART1 + PART2)


@pytest.mark.parametrize("algorithm", FULL_OBJECT_ALGORITHMS)
def test_multipart_full_object_checksum(s3, bucket, algorithm):
    upload_id = _create(s3, bucket, "mp", algorithm, "FULL_OBJECT")
    parts = _upload_parts(s3, bucket, "mp", upload_id, algorithm, [PART1, PART2])
    done = _complete(s3, bucket, "mp", upload_id, parts)
    expected = full_object_checksum(algorithm, [PART1, PART2])  # the CRC of all the bytes, no "-N"
    assert done["ETag"] == multipart_etag([PART1, PART2])
    assert done.get(checksum_field(algorithm)) == expected
    assert done.get("ChecksumType") == "FULL_OBJECT"
    _assert_stored(s3, bucket, "mp", algorithm, expected, "FULL_OBJECT", PART1 + PART2)


@pytest.mark.parametrize("algorithm", FULL_OBJECT_ALGORITHMS)
def test_multipart_full_object_with_whole_object_checksum_on_complete(s3, bucket, algorithm):
    upload_id = _create(s3, bucket, "mp", algorithm, "FULL_OBJECT")
    parts = _upload_parts(s3, bucket, "mp", upload_id, algorithm, [PART1, PART2])
    expected = full_object_checksum(algorithm, [PART1, PART2])
    wrong = full_object_checksum(algorithm, [PART1, PART2 + b"!"])
    with pytest.raises(ClientError) as info:
        _complete(s3, bucket, "mp", upload_id, parts, ChecksumType="FULL_OBJECT",
                  **{checksum_field(algorithm): wrong})
    assert client_error(info.value) == (400, "BadDigest")
    assert object_absent(s3, bucket, "mp")
    # The failed Complete leaves the upload in place; the right value completes it.
    done = _complete(s3, bucket, "mp", upload_id, parts, ChecksumType="FULL_OBJECT",
                     **{checksum_field(algorithm): expected})
    assert done.get(checksum_field(algorithm)) == expected
    _assert_stored(s3, bucket, "mp", algorithm, expected, "FULL_OBJECT", PART1 + PART2)


def test_multipart_full_object_parts_without_checksums(s3, s3_plain, bucket):
    # In a FULL_OBJECT upload part checksums are optional: the server computes the object's CRC itself.
    upload_id = _create(s3, bucket, "mp", "CRC32C", "FULL_OBJECT")
    etags = [s3_plain.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=n, Body=data)["ETag"]
             for n, data in ((1, PART1), (2, PART2))]
    _complete(s3_plain, bucket, "mp", upload_id, [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)])
    _assert_stored(s3, bucket, "mp", "CRC32C", full_object_checksum("CRC32C", [PART1, PART2]), "FULL_OBJECT",
                   PART1 + PART2)


def test_multipart_without_algorithm_gets_crc64nvme_full_object(s3, s3_plain, bucket):
    # S3's default integrity: an upload created and sent without any checksum ends with a CRC64NVME FULL_OBJECT one.
    upload_id = s3_plain.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = []
    for n, data in ((1, PART1), (2, PART2)):
        resp = s3_plain.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=n, Body=data)
        parts.append({"PartNumber": n, "ETag": resp["ETag"]})
    done = _complete(s3_plain, bucket, "mp", upload_id, parts)
    assert done["ETag"] == multipart_etag([PART1, PART2])
    _assert_stored(s3, bucket, "mp", "CRC64NVME", full_object_checksum("CRC64NVME", [PART1, PART2]), "FULL_OBJECT",
                   PART1 + PART2)


def test_complete_with_mismatching_part_checksum_is_invalid_part(s3, bucket):
    upload_id = _create(s3, bucket, "mp", "SHA256")
    parts = _upload_parts(s3, bucket, "mp", upload_id, "SHA256", [PART1, PART2])
    parts[1]["ChecksumSHA256"] = checksum_b64("SHA256", PART2 + b"other")
    with pytest.raises(ClientError) as info:
        _complete(s3, bucket, "mp", upload_id, parts)
    assert client_error(info.value) == (400, "InvalidPart")
    assert object_absent(s3, bucket, "mp")
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)


def test_complete_without_part_checksums_in_composite_upload_is_rejected(s3, bucket):
    # "The upload was created using a sha256 checksum. The complete request must include the checksum for each
    # part. It was missing for part 1 in the request."
    upload_id = _create(s3, bucket, "mp", "SHA256")
    parts = _upload_parts(s3, bucket, "mp", upload_id, "SHA256", [PART1, PART2])
    for part in parts:
        del part["ChecksumSHA256"]
    with pytest.raises(ClientError) as info:
        _complete(s3, bucket, "mp", upload_id, parts)
    status, code = client_error(info.value)
    assert status == 400
    assert code in ("InvalidRequest", "InvalidPart")  # AWS documents the message, not the code
    assert object_absent(s3, bucket, "mp")
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)


def test_complete_with_mpu_object_size(s3, bucket):
    upload_id = _create(s3, bucket, "mp", "CRC32")
    parts = _upload_parts(s3, bucket, "mp", upload_id, "CRC32", [PART1, PART2])
    size = len(PART1) + len(PART2)
    for wrong in (size - 1, size + 1):
        with pytest.raises(ClientError) as info:
            _complete(s3, bucket, "mp", upload_id, parts, MpuObjectSize=wrong)
        assert client_error(info.value) == (400, "InvalidRequest")  # documented for x-amz-mp-object-size
        assert object_absent(s3, bucket, "mp")
    _complete(s3, bucket, "mp", upload_id, parts, MpuObjectSize=size)
    assert s3.head_object(Bucket=bucket, Key="mp")["ContentLength"] == size


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_upload_file_defaults_to_crc32_composite(request, tmp_path, tls):
    # s3transfer 0.19: upload_file sets ChecksumAlgorithm=CRC32 on CreateMultipartUpload (COMPOSITE by default),
    # sends each part's CRC32 as a header and lists them on Complete.
    s3 = request.getfixturevalue("s3_tls" if tls else "s3")
    bucket = request.getfixturevalue("tls_bucket" if tls else "bucket")
    data = PART1 + PART1[::-1] + PART2
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
    s3.upload_file(str(path), bucket, "uploaded", Config=config)
    pieces = [data[:5 * MiB], data[5 * MiB:10 * MiB], data[10 * MiB:]]
    head = s3.head_object(Bucket=bucket, Key="uploaded", ChecksumMode="ENABLED")
    assert head["ETag"] == multipart_etag(pieces)
    assert head.get("ChecksumCRC32") == composite_checksum("CRC32", pieces)
    assert head.get("ChecksumType") == "COMPOSITE"
    assert md5_hex(s3.get_object(Bucket=bucket, Key="uploaded")["Body"].read()) == md5_hex(data)


# --------------------------------------------------------------------------------------------------------------------
# GetObjectAttributes

ALL_ATTRIBUTES = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
PART3 = random_bytes(1000, seed=5004)


def _composite_object(s3, bucket):
    """Stores a three-part SHA256 COMPOSITE object; returns (key, part payloads)."""
    parts_data = [PART1, PART1[::-1], PART3]
    upload_id = _create(s3, bucket, "mp-attrs", "SHA256")
    parts = _upload_parts(s3, bucket, "mp-attrs", upload_id, "SHA256", parts_data)
    _complete(s3, bucket, "mp-attrs", upload_id, parts)
    return "mp-attrs", parts_data


def test_get_object_attributes_multipart(s3, bucket):
    key, parts_data = _composite_object(s3, bucket)
    resp = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=ALL_ATTRIBUTES)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["ETag"] == multipart_etag(parts_data).strip('"')  # unquoted here, unlike everywhere else
    assert resp["ObjectSize"] == sum(len(p) for p in parts_data)
    assert resp["StorageClass"] == "STANDARD"
    assert "LastModified" in resp
    # The object-level value without the "-N" suffix that HEAD/GET show.
    composite = composite_checksum("SHA256", parts_data)
    assert resp.get("Checksum", {}).get("ChecksumSHA256") == composite.rsplit("-", 1)[0]
    assert resp["Checksum"].get("ChecksumType") == "COMPOSITE"
    parts = resp["ObjectParts"]
    assert parts["TotalPartsCount"] == 3
    assert parts["IsTruncated"] is False
    assert parts["MaxParts"] == 1000
    assert parts.get("PartNumberMarker", 0) == 0
    assert parts["NextPartNumberMarker"] == 3
    assert [(p["PartNumber"], p["Size"], p["ChecksumSHA256"]) for p in parts["Parts"]] == [
        (n, len(d), checksum_b64("SHA256", d)) for n, d in enumerate(parts_data, start=1)]


def test_get_object_attributes_of_full_object_multipart_counts_parts_without_listing(s3, bucket):
    # AWS lists Parts only for COMPOSITE objects: a FULL_OBJECT checksum leaves the parts without checksums of
    # their own (LocalStack's AWS-validated snapshots show the same).
    upload_id = _create(s3, bucket, "mp", "CRC32", "FULL_OBJECT")
    _complete(s3, bucket, "mp", upload_id, _upload_parts(s3, bucket, "mp", upload_id, "CRC32", [PART1, PART2]))
    resp = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["Checksum", "ObjectParts"])
    assert resp["Checksum"] == {"ChecksumCRC32": full_object_checksum("CRC32", [PART1, PART2]), "ChecksumType": "FULL_OBJECT"}
    assert resp["ObjectParts"]["TotalPartsCount"] == 2
    assert "Parts" not in resp["ObjectParts"]


def test_get_object_attributes_parts_paging(s3, bucket):
    key, parts_data = _composite_object(s3, bucket)
    seen, marker = [], 0
    for page in range(3):
        resp = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts"], MaxParts=1,
                                        PartNumberMarker=marker)
        parts = resp["ObjectParts"]
        assert parts["TotalPartsCount"] == 3
        assert parts["MaxParts"] == 1
        assert len(parts["Parts"]) == 1
        number = parts["Parts"][0]["PartNumber"]
        assert number == marker + 1
        assert parts["Parts"][0]["Size"] == len(parts_data[number - 1])
        assert parts["NextPartNumberMarker"] == number
        assert parts["IsTruncated"] is (page < 2)
        seen.append(number)
        marker = parts["NextPartNumberMarker"]
    assert seen == [1, 2, 3]
    resp = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts"], MaxParts=2,
                                    PartNumberMarker=1)
    assert [p["PartNumber"] for p in resp["ObjectParts"]["Parts"]] == [2, 3]
    assert resp["ObjectParts"]["IsTruncated"] is False


def test_get_object_attributes_single_part(s3, bucket):
    data = random_bytes(12_345)
    s3.put_object(Bucket=bucket, Key="single", Body=data, ChecksumCRC32=checksum_b64("CRC32", data))
    resp = s3.get_object_attributes(Bucket=bucket, Key="single", ObjectAttributes=ALL_ATTRIBUTES)
    assert resp["ETag"] == md5_hex(data)
    assert resp["ObjectSize"] == len(data)
    assert resp["StorageClass"] == "STANDARD"
    assert resp.get("Checksum", {}).get("ChecksumCRC32") == checksum_b64("CRC32", data)
    assert resp["Checksum"].get("ChecksumType") == "FULL_OBJECT"
    assert "ObjectParts" not in resp


def test_get_object_attributes_returns_only_what_was_asked(s3, bucket):
    data = b"just the size"
    s3.put_object(Bucket=bucket, Key="obj", Body=data)
    resp = s3.get_object_attributes(Bucket=bucket, Key="obj", ObjectAttributes=["ObjectSize"])
    assert resp["ObjectSize"] == len(data)
    for absent in ("ETag", "Checksum", "StorageClass", "ObjectParts"):
        assert absent not in resp, absent
    resp = s3.get_object_attributes(Bucket=bucket, Key="obj", ObjectAttributes=["ETag", "StorageClass"])
    assert resp["ETag"] == md5_hex(data)
    assert resp["StorageClass"] == "STANDARD"
    assert "ObjectSize" not in resp


def test_get_object_attributes_without_attributes_header(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    resp = raw.request("GET", key_path(bucket, "obj"), {"attributes": None})
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "InvalidArgument"


def test_get_object_attributes_unknown_attribute(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    resp = raw.request("GET", key_path(bucket, "obj"), {"attributes": None},
                       headers={"x-amz-object-attributes": "ObjectSize,Colour"})
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "InvalidArgument"


def test_get_object_attributes_missing_key(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.get_object_attributes(Bucket=bucket, Key="nope", ObjectAttributes=["ObjectSize"])
    assert client_error(info.value) == (404, "NoSuchKey")
