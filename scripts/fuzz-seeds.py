#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpus (Tests/FuzzCorpus/<target>/) from requests real clients make.

botocore builds and signs each request (nothing is sent: a before-send hook captures it); aws-chunked bodies come
from the conformance suite's encoder. Run with the test venv: .venv/bin/python scripts/fuzz-seeds.py
"""

import datetime as dt
import hashlib
import sys
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import botocore.auth
from botocore.awsrequest import AWSResponse
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "conformance"))
from s3helpers import RawS3  # noqa: E402

OUT = ROOT / "Tests" / "FuzzCorpus"
captured = []


class _FixedClock(dt.datetime):
    """The fuzz targets verify at 2015-08-30T12:36:00Z (the date of AWS's signing examples): sign at it too."""

    @classmethod
    def utcnow(cls):
        return cls(2015, 8, 30, 12, 36, 0)

    @classmethod
    def now(cls, tz=None):
        return cls(2015, 8, 30, 12, 36, 0, tzinfo=tz)


botocore.auth.datetime.datetime = _FixedClock


class _Raw:
    def stream(self, **_):
        return iter([b""])


def capture(request, **_):
    captured.append(request)
    return AWSResponse(request.url, 200, {}, _Raw())


def client(signature_version="s3v4", addressing="path"):
    c = boto3.client("s3", endpoint_url="http://127.0.0.1:9000", region_name="us-east-1",
                     aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                     config=Config(signature_version=signature_version, s3={"addressing_style": addressing}))
    c.meta.events.register("before-send", capture)
    return c


def body_of(request) -> bytes:
    body = request.body
    if body is None:
        return b""
    if hasattr(body, "read"):
        return body.read()
    return body if isinstance(body, bytes) else body.encode()


def calls(c):
    until = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    c.put_bucket_lifecycle_configuration(Bucket="b", LifecycleConfiguration={"Rules": [
        {"ID": "r1", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 7}},
        {"ID": "r2", "Status": "Enabled", "Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}],
                                                              "ObjectSizeGreaterThan": 10}},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        {"ID": "r3", "Status": "Disabled", "Filter": {"Tag": {"Key": "t", "Value": "&<>"}},
         "Expiration": {"ExpiredObjectDeleteMarker": True},
         "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},
    ]})
    c.put_object_lock_configuration(Bucket="b", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    c.put_object_retention(Bucket="b", Key="k", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until})
    c.put_object_legal_hold(Bucket="b", Key="k", LegalHold={"Status": "ON"})
    c.put_bucket_tagging(Bucket="b", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}, {"Key": "a b", "Value": ""}]})
    c.put_object_tagging(Bucket="b", Key="k", Tagging={"TagSet": [{"Key": "x", "Value": "1"}]})
    c.complete_multipart_upload(Bucket="b", Key="k", UploadId="u", MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": '"' + "a" * 32 + '"', "ChecksumCRC32": "AAAAAA=="},
        {"PartNumber": 2, "ETag": '"' + "b" * 32 + '"'}]})
    c.delete_objects(Bucket="b", Delete={"Objects": [{"Key": "a"}, {"Key": "b&c<d>", "VersionId": "v1"}], "Quiet": True})
    c.put_bucket_versioning(Bucket="b", VersioningConfiguration={"Status": "Enabled"})
    c.create_bucket(Bucket="b", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    c.put_object(Bucket="b", Key="dir/ü file+1.txt", Body=b"hello", Metadata={"m": "v"}, Tagging="a=1&b=2")
    c.get_object(Bucket="b", Key="k", Range="bytes=0-9", VersionId="v")
    c.list_objects_v2(Bucket="b", Prefix="a/", Delimiter="/", StartAfter="a/b", MaxKeys=10)
    c.list_object_versions(Bucket="b", KeyMarker="k", VersionIdMarker="v")
    c.copy_object(Bucket="b", Key="dst", CopySource={"Bucket": "src", "Key": "a b", "VersionId": "v"})
    c.upload_part(Bucket="b", Key="k", UploadId="u", PartNumber=3, Body=b"p")
    c.head_object(Bucket="b", Key="k", PartNumber=1)


# Each document request with the selector byte of its parser in the xml-documents target.
DOCUMENT_SELECTORS = {"lifecycle": 0, "object-lock": 1, "retention": 2, "legal-hold": 3, "tagging": 4,
                      "uploadId": 5, "delete": 6}


def write(target: str, name: str, data: bytes) -> None:
    folder = OUT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / (name + "-" + hashlib.sha1(data).hexdigest()[:12])).write_bytes(data)


def main() -> None:
    for signature, addressing in (("s3v4", "path"), ("s3", "path"), ("s3v4", "virtual")):
        c = client(signature, addressing)
        calls(c)
        for url in (c.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k y"}, ExpiresIn=300),
                    c.generate_presigned_url("put_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=300)):
            write("auth-query", f"presigned-{signature}", urlsplit(url).query.encode())
    for i, request in enumerate(captured):
        parts = urlsplit(request.url)
        body = body_of(request)
        headers = "".join(f"{k}: {v.decode() if isinstance(v, bytes) else v}\n"
                          for k, v in request.headers.items()).encode()
        write("auth-headers", f"request{i}", headers)
        write("percent-decoding", f"query{i}", parts.query.encode())
        write("percent-decoding", f"path{i}", parts.path.encode())
        write("request-target", f"request{i}",
              f"{request.method} {parts.path}{'?' + parts.query if parts.query else ''}\n{parts.netloc}".encode())
        if body.startswith(b"<?xml") or body.startswith(b"<"):
            write("xml-reader", f"document{i}", body)
            for marker, selector in DOCUMENT_SELECTORS.items():
                if marker in parts.query:
                    write("xml-documents", f"{marker}{i}", bytes([selector]) + body)
    raw = RawS3("http://127.0.0.1:9000", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    data = bytes(range(256)) * 12
    for mode, selector in (("unsigned-trailer", 2), ("signed", 1), ("signed-trailer", 3)):
        prepared = raw.streaming_put("/b/k", data, mode=mode, chunk_size=1024)
        for cut in (0, 1, 63):
            write("aws-chunked", f"{mode}-cut{cut}", bytes([selector | (cut << 2)]) + prepared.encoded)


if __name__ == "__main__":
    main()
