"""The checksum GET and HEAD report for one part (`partNumber`) of an object, as AWS does: a COMPOSITE object's part
has its own checksum; a FULL_OBJECT checksum covers the whole object, so a part of a multi-part one has none, while a
one-part object's part 1 is the whole object and carries the object's checksum. (LocalStack's AWS-validated
snapshots record the same.)
"""

import pytest

from checksum_helpers import checksum_b64, full_object_checksum
from checksum_test_helpers import _checksum_headers, _complete, _create, _upload_parts
from s3helpers import random_bytes

MiB = 1024 * 1024
PART1 = random_bytes(5 * MiB, seed=6001)
PART2 = random_bytes(70_001, seed=6002)


def _part(s3, bucket, key, number):
    get = s3.get_object(Bucket=bucket, Key=key, PartNumber=number, ChecksumMode="ENABLED")
    get["Body"].read()
    head = s3.head_object(Bucket=bucket, Key=key, PartNumber=number, ChecksumMode="ENABLED")
    return get, head


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_part_of_composite_object_reports_its_own_checksum(s3, bucket, algorithm):
    upload_id = _create(s3, bucket, "mp", algorithm, "COMPOSITE")
    _complete(s3, bucket, "mp", upload_id, _upload_parts(s3, bucket, "mp", upload_id, algorithm, [PART1, PART2]))
    for number, data in ((1, PART1), (2, PART2)):
        for resp in _part(s3, bucket, "mp", number):
            assert _checksum_headers(resp) == {algorithm: checksum_b64(algorithm, data)}, number
            assert resp["ChecksumType"] == "COMPOSITE"


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC64NVME"])
def test_part_of_full_object_multipart_object_has_no_checksum(s3, bucket, algorithm):
    upload_id = _create(s3, bucket, "mp", algorithm, "FULL_OBJECT")
    _complete(s3, bucket, "mp", upload_id, _upload_parts(s3, bucket, "mp", upload_id, algorithm, [PART1, PART2]))
    for number in (1, 2):
        for resp in _part(s3, bucket, "mp", number):
            assert _checksum_headers(resp) == {}, number
            assert "ChecksumType" not in resp


def test_only_part_of_full_object_upload_is_the_whole_object(s3, bucket):
    upload_id = _create(s3, bucket, "mp", "CRC32C", "FULL_OBJECT")
    _complete(s3, bucket, "mp", upload_id, _upload_parts(s3, bucket, "mp", upload_id, "CRC32C", [PART2]))
    for resp in _part(s3, bucket, "mp", 1):
        assert _checksum_headers(resp) == {"CRC32C": full_object_checksum("CRC32C", [PART2])}
        assert resp["ChecksumType"] == "FULL_OBJECT"


def test_part_one_of_a_put_object_carries_its_checksum(s3, bucket):
    s3.put_object(Bucket=bucket, Key="single", Body=PART2, ChecksumAlgorithm="SHA256")
    for resp in _part(s3, bucket, "single", 1):
        assert _checksum_headers(resp) == {"SHA256": checksum_b64("SHA256", PART2)}
        assert resp["ChecksumType"] == "FULL_OBJECT"
