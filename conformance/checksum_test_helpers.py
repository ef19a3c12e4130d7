"""Helpers shared by test_checksums.py (PutObject), test_multipart_checksums.py and test_multipart_part_checksums.py
(multipart uploads): the algorithms and trailer modes the tests run over, multipart uploads with checksums, reading
back the checksum an object reports, and capturing the headers boto3 sends. (The checksum computations themselves
are in checksum_helpers.py.)
"""

from checksum_helpers import CHECKSUM_ALGORITHMS, checksum_b64, checksum_field
from s3helpers import md5_hex, quoted_etag

ALGORITHMS = CHECKSUM_ALGORITHMS  # CRC32, CRC32C, CRC64NVME, SHA1, SHA256
TRAILER_MODES = ("signed-trailer", "unsigned-trailer")


def _checksum_headers(resp) -> dict[str, str]:
    """The x-amz-checksum-<algorithm> response headers (not -type/-mode/-algorithm), by upper-case algorithm name."""
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    not_values = ("x-amz-checksum-type", "x-amz-checksum-mode", "x-amz-checksum-algorithm")
    return {k[len("x-amz-checksum-"):].upper(): v for k, v in headers.items()
            if k.startswith("x-amz-checksum-") and k not in not_values}


def _assert_stored(s3, bucket, key, algorithm, value, checksum_type, data=None):
    """HEAD and GET with ChecksumMode=ENABLED report exactly this checksum and type (and GET the bytes)."""
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    body = got["Body"].read()
    for resp in (head, got):
        assert _checksum_headers(resp) == {algorithm: value}
        assert resp.get("ChecksumType") == checksum_type
    if data is not None:
        assert md5_hex(body) == md5_hex(data)


def _capture_headers(client, event):
    sent: dict[str, str] = {}

    def handler(request, **kwargs):
        sent.clear()
        sent.update({k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()})

    client.meta.events.register(f"before-send.s3.{event}", handler)
    return sent, lambda: client.meta.events.unregister(f"before-send.s3.{event}", handler)


def _create(s3, bucket, key, algorithm=None, checksum_type=None) -> str:
    kwargs = {}
    if algorithm:
        kwargs["ChecksumAlgorithm"] = algorithm
    if checksum_type:
        kwargs["ChecksumType"] = checksum_type
    return s3.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)["UploadId"]


def _upload_parts(s3, bucket, key, upload_id, algorithm, parts) -> list[dict]:
    """Uploads `parts` with their precomputed checksum headers; returns the Complete parts list."""
    done = []
    for n, data in enumerate(parts, start=1):
        value = checksum_b64(algorithm, data)
        resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=data,
                              **{checksum_field(algorithm): value})
        assert resp["ETag"] == quoted_etag(data)
        assert resp.get(checksum_field(algorithm)) == value  # UploadPart echoes the verified checksum
        done.append({"PartNumber": n, "ETag": resp["ETag"], checksum_field(algorithm): value})
    return done


def _complete(s3, bucket, key, upload_id, parts, **kwargs):
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": parts}, **kwargs)
