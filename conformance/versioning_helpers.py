"""Shared by test_versioning.py and test_list_object_versions.py: switching versioning on, reading bodies by version,
error fields, and ListObjectVersions both through boto3 (all pages) and as raw XML (document order, which keeps
Version and DeleteMarker entries interleaved the way S3 sent them; boto3 splits them into two lists).

Nothing here asserts S3 behaviour; the tests do.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from s3helpers import key_path, parse_xml


def set_versioning(s3, bucket: str, status: str = "Enabled") -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def error_headers(exc: ClientError) -> dict[str, str]:
    """The HTTP response headers of a failed call (lower-cased names, as botocore keeps them)."""
    return exc.response["ResponseMetadata"]["HTTPHeaders"]


def body(s3, bucket: str, key: str, version_id: str | None = None) -> bytes:
    kwargs = {"VersionId": version_id} if version_id is not None else {}
    return s3.get_object(Bucket=bucket, Key=key, **kwargs)["Body"].read()


def put(s3, bucket: str, key: str, data: bytes) -> str | None:
    """PUTs and returns the VersionId the server answered with (None if it sent no x-amz-version-id)."""
    return s3.put_object(Bucket=bucket, Key=key, Body=data).get("VersionId")


def all_versions(s3, bucket: str, **kwargs) -> tuple[list[dict], list[dict], list[dict]]:
    """Every page of ListObjectVersions (boto3) -> (versions, delete markers, pages)."""
    versions, markers, pages = [], [], []
    args = dict(kwargs)
    for _ in range(1000):  # a server that never stops truncating fails the test instead of hanging it
        page = s3.list_object_versions(Bucket=bucket, **args)
        pages.append(page)
        versions += page.get("Versions", [])
        markers += page.get("DeleteMarkers", [])
        if not page.get("IsTruncated"):
            break
        args["KeyMarker"] = page.get("NextKeyMarker")
        args["VersionIdMarker"] = page.get("NextVersionIdMarker")
    return versions, markers, pages


def ids(entries: list[dict]) -> list[tuple[str, str]]:
    return [(e["Key"], e["VersionId"]) for e in entries]


def raw_list_versions(raw, bucket: str, query: dict | None = None):
    """GET /bucket?versions with extra query parameters -> (response, parsed root or None)."""
    resp = raw.request("GET", key_path(bucket), {"versions": None, **(query or {})})
    root = parse_xml(resp.content) if resp.status_code == 200 else None
    return resp, root


def raw_entries(root) -> list[tuple[str, str, str, bool]]:
    """(tag, Key, VersionId, IsLatest) for each Version / DeleteMarker child, in document order."""
    return [(e.tag, e.findtext("Key"), e.findtext("VersionId"), e.findtext("IsLatest") == "true")
            for e in root if e.tag in ("Version", "DeleteMarker")]
