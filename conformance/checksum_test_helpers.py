"""Helpers shared by test_checksums.py (PutObject) and test_multipart_checksums.py (multipart uploads): the
algorithms and trailer modes the tests run over, reading back the checksum an object reports, and capturing the
headers boto3 sends. (The checksum computations themselves are in checksum_helpers.py.)
"""

from checksum_helpers import CHECKSUM_ALGORITHMS
from s3helpers import md5_hex

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
