"""Reading multipart objects and the real clients that write them: GET/HEAD of a multipart object by Range
(across part boundaries) and by partNumber (PartsCount, InvalidPartNumber, partNumber=1 of a single-part object),
boto3's upload_file/download_file over HTTP and HTTPS (aws-chunked parts), UploadPart over HTTPS, aws-cli `s3 cp`,
and presigned UploadPart URLs driven like a browser.
"""

from urllib.parse import parse_qsl, quote, urlencode

import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import make_client
from multipart_helpers import MIN_PART, MiB, _complete, _create, _mpu_etag, _multipart_put, _status, _upload_ids
from s3helpers import client_error, error_fields, quoted_etag, random_bytes

# One 3-part object shared by the GET/HEAD tests (built once per module run, 11 MiB in memory).
P1, P2, P3 = 5 * MiB, 5 * MiB, MiB + 123
THREE_PARTS = [random_bytes(P1, seed=31), random_bytes(P2, seed=32), random_bytes(P3, seed=33)]
THREE = b"".join(THREE_PARTS)


# --------------------------------------------------------------------------------------------------------------------
# Helpers


def _etag_for_chunks(data: bytes, chunk: int) -> str:
    return _mpu_etag([data[i:i + chunk] for i in range(0, len(data), chunk)])


# --------------------------------------------------------------------------------------------------------------------
# Reading a multipart object: ranges and partNumber


@pytest.fixture
def three_part(s3, bucket):
    """A completed 3-part object (5 MiB, 5 MiB, 1 MiB + 123 B); returns (bucket, key, etag)."""
    resp = _multipart_put(s3, bucket, "three.bin", THREE_PARTS)
    return bucket, "three.bin", resp["ETag"]


def _check_ranges_across_part_boundaries(s3, bucket, key, etag):
    """Small ranges are answered from memory; larger ones are sent by the kernel from each part's file on plain
    HTTP (sendfile) and read and encrypted chunk by chunk on HTTPS."""
    total = len(THREE)
    cases = [
        (f"bytes={P1 - 10}-{P1 + 9}", P1 - 10, P1 + 9),  # parts 1|2
        (f"bytes={P1 - 1}-{P1 + P2}", P1 - 1, P1 + P2),  # last byte of 1, all of 2, first byte of 3
        (f"bytes={P1 + P2}-", P1 + P2, total - 1),  # exactly part 3
        (f"bytes=-{P3 + 5}", total - P3 - 5, total - 1),  # suffix reaching back into part 2
        (f"bytes=0-{P1 - 1}", 0, P1 - 1),  # exactly part 1
        (f"bytes={P1 + 7}-{P1 + 7}", P1 + 7, P1 + 7),
    ]
    for header, first, last in cases:
        resp = s3.get_object(Bucket=bucket, Key=key, Range=header)
        assert _status(resp) == 206, header
        assert resp["ContentRange"] == f"bytes {first}-{last}/{total}", header
        assert resp["ContentLength"] == last - first + 1, header
        assert resp["Body"].read() == THREE[first:last + 1], header
        assert resp["ETag"] == etag


def test_range_across_part_boundaries(s3, three_part):
    _check_ranges_across_part_boundaries(s3, *three_part)


def test_range_across_part_boundaries_over_https(s3_tls, tls_bucket):
    etag = _multipart_put(s3_tls, tls_bucket, "three.bin", THREE_PARTS)["ETag"]
    _check_ranges_across_part_boundaries(s3_tls, tls_bucket, "three.bin", etag)


def test_get_whole_multipart_object(s3, three_part):
    bucket, key, etag = three_part
    resp = s3.get_object(Bucket=bucket, Key=key)
    assert _status(resp) == 200
    assert resp["Body"].read() == THREE
    assert etag == _mpu_etag(THREE_PARTS)


def test_get_and_head_by_part_number(s3, three_part):
    bucket, key, etag = three_part
    total = len(THREE)
    offset = 0
    for number, body in enumerate(THREE_PARTS, 1):
        resp = s3.get_object(Bucket=bucket, Key=key, PartNumber=number)
        assert _status(resp) == 206, number
        assert resp["PartsCount"] == 3
        assert resp["ContentLength"] == len(body)
        assert resp["ContentRange"] == f"bytes {offset}-{offset + len(body) - 1}/{total}"
        assert resp["ETag"] == etag  # the object's ETag, not the part's
        assert resp["Body"].read() == body, number
        offset += len(body)

    head = s3.head_object(Bucket=bucket, Key=key, PartNumber=2)
    assert _status(head) == 206
    assert head["PartsCount"] == 3
    assert head["ContentLength"] == P2
    assert head["ContentRange"] == f"bytes {P1}-{P1 + P2 - 1}/{total}"


def test_part_number_beyond_parts_count(s3, three_part):
    bucket, key, _ = three_part
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key=key, PartNumber=4)
    assert client_error(info.value) == (416, "InvalidPartNumber")
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key=key, PartNumber=4)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_part_number_on_single_part_object(s3, bucket):
    body = random_bytes(4096)
    s3.put_object(Bucket=bucket, Key="single", Body=body)
    # AWS treats partNumber=1 of a PutObject object as a range covering all of it: 206 with a Content-Range.
    resp = s3.get_object(Bucket=bucket, Key="single", PartNumber=1)
    assert _status(resp) == 206
    assert resp["Body"].read() == body
    assert resp["ContentLength"] == len(body)
    assert resp["ContentRange"] == f"bytes 0-{len(body) - 1}/{len(body)}"
    assert resp["ETag"] == quoted_etag(body)
    head = s3.head_object(Bucket=bucket, Key="single", PartNumber=1)
    assert _status(head) == 206
    assert head["ContentLength"] == len(body)
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="single", PartNumber=2)
    assert client_error(info.value) == (416, "InvalidPartNumber")


# --------------------------------------------------------------------------------------------------------------------
# Real clients


@pytest.mark.parametrize("size, config, chunk", [
    (20 * MiB + 5, None, 8 * MiB),  # boto3's default: multipart above 8 MiB, 8 MiB parts
    (12 * MiB + 3, TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB), 5 * MiB),
], ids=["default-config-20MiB", "5MiB-parts-12MiB"])
def test_boto3_upload_and_download_file(s3, bucket, tmp_path, size, config, chunk):
    data = random_bytes(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    kwargs = {"Config": config} if config else {}
    s3.upload_file(str(src), bucket, "big/file.bin", **kwargs)
    head = s3.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ContentLength"] == size
    assert head["ETag"] == _etag_for_chunks(data, chunk)
    assert head["ETag"].endswith('-3"')
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "big/file.bin", str(dst), **kwargs)
    assert dst.read_bytes() == data
    assert _upload_ids(s3.list_multipart_uploads(Bucket=bucket)) == []


def test_boto3_upload_file_over_https(s3_tls, tls_bucket, tmp_path):
    # Over HTTPS boto3 sends every part as aws-chunked with an unsigned CRC32 trailer.
    data = random_bytes(12 * MiB + 11)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3_tls.upload_file(str(src), tls_bucket, "tls/file.bin", Config=config)
    head = s3_tls.head_object(Bucket=tls_bucket, Key="tls/file.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == _etag_for_chunks(data, 5 * MiB)
    dst = tmp_path / "dst.bin"
    s3_tls.download_file(tls_bucket, "tls/file.bin", str(dst), Config=config)
    assert dst.read_bytes() == data


def test_boto3_upload_part_over_https(s3_tls, tls_bucket):
    bodies = [random_bytes(MIN_PART + 17), random_bytes(333)]
    resp = _multipart_put(s3_tls, tls_bucket, "tls/parts", bodies)
    assert resp["ETag"] == _mpu_etag(bodies)
    assert s3_tls.get_object(Bucket=tls_bucket, Key="tls/parts")["Body"].read() == b"".join(bodies)


def test_aws_cli_cp_multipart(aws, s3, bucket, tmp_path):
    data = random_bytes(20 * MiB + 1)
    src = tmp_path / "cli big.bin"
    src.write_bytes(data)
    aws("s3", "cp", str(src), f"s3://{bucket}/cli/big file.bin")
    head = s3.head_object(Bucket=bucket, Key="cli/big file.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == _etag_for_chunks(data, 8 * MiB)  # aws-cli: 8 MiB threshold and parts
    aws("s3", "cp", f"s3://{bucket}/cli/big file.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == data


@pytest.mark.parametrize("signature", ["default", "s3v4"])
def test_presigned_upload_part(server, s3, bucket, signature):
    # As a browser would: the server hands out presigned UploadPart URLs, the page PUTs raw bytes to them and
    # reports the ETags back, and the server completes the upload.
    signer = s3 if signature == "default" else make_client(server, signature_version="s3v4")
    key = "browser uploads/ünï+part.bin"
    upload_id = _create(s3, bucket, key)
    bodies = [random_bytes(MIN_PART), random_bytes(4321)]
    parts = []
    for number, body in enumerate(bodies, 1):
        url = signer.generate_presigned_url("upload_part", Params={
            "Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": number})
        if signature == "s3v4":
            assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
        resp = requests.put(url, data=body, timeout=60)
        assert resp.status_code == 200, resp.text
        assert resp.headers["ETag"] == quoted_etag(body)
        parts.append({"PartNumber": number, "ETag": resp.headers["ETag"]})
    _complete(s3, bucket, key, upload_id, parts)
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == b"".join(bodies)
    assert got["ETag"] == _mpu_etag(bodies)


def test_presigned_upload_part_for_other_upload_is_rejected(s3, bucket):
    upload_id = _create(s3, bucket, "k")
    other = _create(s3, bucket, "k")
    url = s3.generate_presigned_url("upload_part", Params={
        "Bucket": bucket, "Key": "k", "UploadId": upload_id, "PartNumber": 1})
    base, _, query = url.partition("?")
    pairs = [(k, other if k == "uploadId" else v) for k, v in parse_qsl(query, keep_blank_values=True)]
    resp = requests.put(base + "?" + urlencode(pairs, quote_via=quote), data=b"x", timeout=30)
    assert resp.status_code == 403, resp.text
    assert error_fields(resp.content)["Code"] == "SignatureDoesNotMatch"
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=other).get("Parts", []) == []
    assert requests.put(url, data=b"x", timeout=30).status_code == 200  # the URL as signed works
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]] == [1]
