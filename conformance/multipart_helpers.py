"""Helpers shared by the multipart test modules (test_multipart.py, test_multipart_listing.py and
test_multipart_reads_and_clients.py): S3's part-size limits, and boto3 wrappers that create, fill and complete
uploads, checking S3's answers as they go.
"""

import hashlib

import pytest
from botocore.exceptions import ClientError

from s3helpers import client_error, quoted_etag

MiB = 1024 * 1024
MIN_PART = 5 * MiB  # S3's minimum size for every part but the last


def _status(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def _mpu_etag(parts) -> str:
    """S3's ETag for a completed multipart upload: md5 of the concatenated binary part md5s, then "-N"."""
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def _create(s3, bucket, key, **kwargs) -> str:
    resp = s3.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)
    assert _status(resp) == 200
    assert resp["Bucket"] == bucket
    assert resp["Key"] == key
    assert resp["UploadId"]
    return resp["UploadId"]


def _upload(s3, bucket, key, upload_id, number: int, body: bytes) -> dict:
    """Uploads one part, checks its ETag, and returns the CompletedPart entry for it."""
    resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
    assert _status(resp) == 200
    assert resp["ETag"] == quoted_etag(body), f"part {number}"
    return {"PartNumber": number, "ETag": resp["ETag"]}


def _complete(s3, bucket, key, upload_id, parts: list[dict]) -> dict:
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})


def _multipart_put(s3, bucket, key, bodies: list[bytes], **create_kwargs) -> dict:
    """Create + UploadPart 1..N + Complete; returns the Complete response."""
    upload_id = _create(s3, bucket, key, **create_kwargs)
    parts = [_upload(s3, bucket, key, upload_id, i, body) for i, body in enumerate(bodies, 1)]
    resp = _complete(s3, bucket, key, upload_id, parts)
    assert _status(resp) == 200
    return resp


def _upload_ids(resp) -> list[tuple[str, str]]:
    return [(u["Key"], u["UploadId"]) for u in resp.get("Uploads", [])]


def _no_such_upload(call, **kwargs) -> None:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    assert client_error(info.value) == (404, "NoSuchUpload")
