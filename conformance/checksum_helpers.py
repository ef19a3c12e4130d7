"""Flexible checksums: every algorithm S3 accepts, in pure Python (botocore computes CRC32C and CRC64NVME only through
awscrt, which the suite does not depend on), plus the multipart composite forms (COMPOSITE and FULL_OBJECT checksums,
the multipart ETag) and the header / boto3 member names that carry them.

Nothing here asserts S3 behaviour; the tests do.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Sequence


def _reflected_crc_table(poly: int) -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _reflected_crc_table(0x82F63B78)  # CRC-32C (Castagnoli), reflected
_CRC64NVME_TABLE = _reflected_crc_table(0x9A6C9329AC4BC9B5)  # CRC-64/NVME, reflected
_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF


def _crc_update(table: list[int], mask: int, crc: int, data: bytes) -> int:
    """Continues a reflected CRC (init and xorout all ones) from a finished value `crc` (0 for a fresh one)."""
    c = crc ^ mask
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ mask


def crc32c_int(data: bytes, crc: int = 0) -> int:
    """CRC-32C; pass a previous result as `crc` to continue over more data. ("123456789" -> 0xE3069283)"""
    return _crc_update(_CRC32C_TABLE, _MASK32, crc, data)


def crc64nvme_int(data: bytes, crc: int = 0) -> int:
    """CRC-64/NVME; pass a previous result as `crc` to continue. ("123456789" -> 0xAE8B14860A799888)"""
    return _crc_update(_CRC64NVME_TABLE, _MASK64, crc, data)


def crc32c_b64(data: bytes) -> str:
    return base64.b64encode(crc32c_int(data).to_bytes(4, "big")).decode()


def crc64nvme_b64(data: bytes) -> str:
    return base64.b64encode(crc64nvme_int(data).to_bytes(8, "big")).decode()


CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


def checksum_digest(algorithm: str, data: bytes) -> bytes:
    """The raw (big-endian for CRCs) digest S3 base64-encodes into `x-amz-checksum-<algorithm>`."""
    algorithm = algorithm.upper()
    if algorithm == "CRC32":
        return (zlib.crc32(data) & _MASK32).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return crc32c_int(data).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return crc64nvme_int(data).to_bytes(8, "big")
    if algorithm == "SHA1":
        return hashlib.sha1(data).digest()
    if algorithm == "SHA256":
        return hashlib.sha256(data).digest()
    raise ValueError(algorithm)


_checksum_cache: dict[tuple[str, int, bytes], bytes] = {}


def _cached_digest(algorithm: str, data: bytes) -> bytes:
    key = (algorithm.upper(), len(data), hashlib.sha1(data).digest())
    if key not in _checksum_cache:
        _checksum_cache[key] = checksum_digest(algorithm, data)
    return _checksum_cache[key]


def checksum_b64(algorithm: str, data: bytes) -> str:
    """base64 of `checksum_digest`. Cached per (algorithm, data): the pure-Python CRCs take ~1 s per 5 MiB."""
    return base64.b64encode(_cached_digest(algorithm, data)).decode()


def full_object_checksum(algorithm: str, parts: Sequence[bytes]) -> str:
    """The FULL_OBJECT checksum of the concatenated parts (CRC algorithms only), continuing the CRC part by part so
    that cached part values are reused rather than recomputed."""
    algorithm = algorithm.upper()
    width = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8}[algorithm]
    update = {"CRC32": lambda c, d: zlib.crc32(d, c) & _MASK32, "CRC32C": lambda c, d: crc32c_int(d, c),
              "CRC64NVME": lambda c, d: crc64nvme_int(d, c)}[algorithm]
    state = int.from_bytes(_cached_digest(algorithm, parts[0]), "big") if parts else 0
    for part in parts[1:]:
        state = update(state, part)
    return base64.b64encode(state.to_bytes(width, "big")).decode()


def checksum_header(algorithm: str) -> str:
    return "x-amz-checksum-" + algorithm.lower()


def checksum_field(algorithm: str) -> str:
    """The boto3 parameter / response member name, e.g. ChecksumCRC64NVME."""
    return "Checksum" + algorithm.upper()


def composite_checksum(algorithm: str, parts: Sequence[bytes]) -> str:
    """S3's COMPOSITE multipart checksum: base64(H(digest(part1) || digest(part2) || ...)) + "-N"."""
    joined = b"".join(base64.b64decode(checksum_b64(algorithm, p)) for p in parts)
    return base64.b64encode(checksum_digest(algorithm, joined)).decode() + f"-{len(parts)}"


def multipart_etag(parts: Sequence[bytes]) -> str:
    """The quoted multipart ETag: MD5 of the concatenated part MD5s, then "-N"."""
    inner = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{inner}-{len(parts)}"'
