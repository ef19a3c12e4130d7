"""GetObjectTorrent: a BitTorrent metainfo file (BEP 3) for an object, its pieces the SHA-1 of each 256 KiB, with the
object's URL as a web seed (BEP 19)."""

import hashlib

import pytest
from botocore.exceptions import ClientError

from s3helpers import client_error, key_path, random_bytes

PIECE = 256 * 1024


def _bdecode(data: bytes, at: int = 0):
    kind = data[at:at + 1]
    if kind == b"i":
        end = data.index(b"e", at)
        return int(data[at + 1:end]), end + 1
    if kind == b"d":
        at, result = at + 1, {}
        while data[at:at + 1] != b"e":
            key, at = _bdecode(data, at)
            result[key], at = _bdecode(data, at)
        return result, at + 1
    colon = data.index(b":", at)
    length = int(data[at:colon])
    return data[colon + 1:colon + 1 + length], colon + 1 + length


def test_torrent_describes_the_object(s3, bucket):
    body = random_bytes(3 * PIECE + 12_345)
    s3.put_object(Bucket=bucket, Key="videos/clip.mpg", Body=body)
    resp = s3.get_object_torrent(Bucket=bucket, Key="videos/clip.mpg")
    raw = resp["Body"].read()
    assert resp["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/x-bittorrent"
    meta, end = _bdecode(raw)
    assert end == len(raw)
    info = meta[b"info"]
    assert info[b"name"] == b"clip.mpg"
    assert info[b"length"] == len(body)
    assert info[b"piece length"] == PIECE
    assert info[b"pieces"] == b"".join(hashlib.sha1(body[i:i + PIECE]).digest() for i in range(0, len(body), PIECE))
    assert meta[b"url-list"].decode().endswith(f"/{bucket}/videos/clip.mpg")


def test_torrent_of_a_version_and_of_nothing(s3, raw, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"second, longer")
    current = s3.get_object_torrent(Bucket=bucket, Key="k")["Body"].read()
    assert _bdecode(current)[0][b"info"][b"length"] == len(b"second, longer")
    # botocore's GetObjectTorrent has no VersionId; S3 takes ?versionId= as on GetObject.
    got = raw.request("GET", key_path(bucket, "k"), query={"torrent": "", "versionId": first})
    assert got.status_code == 200
    assert got.headers["x-amz-version-id"] == first
    assert _bdecode(got.content)[0][b"info"][b"pieces"] == hashlib.sha1(b"first").digest()
    with pytest.raises(ClientError) as info:
        s3.get_object_torrent(Bucket=bucket, Key="absent")
    assert client_error(info.value) == (404, "NoSuchKey")
