"""Shared by the test_object_lock*.py files: buckets with object lock and a clean-up that can empty them, retention
dates, and reading a version's lock state.

Locked versions cannot be deleted the usual way, so the clean-up releases legal holds and deletes every version with
BypassGovernanceRetention. A COMPLIANCE version cannot go before its date: the tests give those dates only a few
seconds ahead (so a run against real AWS leaves nothing that lives on), and the clean-up leaves such a bucket
behind (the servers' data folders are temporary). It never fails or waits.

conftest.py loads this module as a pytest plugin, so its fixtures (lock_bucket, lock_buckets) reach every test.
Nothing here asserts S3 behaviour; the tests do.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from botocore.exceptions import ClientError

from conftest import bucket_name
from s3helpers import client_error
from versioning_helpers import all_versions

DAY_SECONDS = 24 * 3600
# GOVERNANCE retentions that must stay active through a test: the clean-up removes them with the bypass header.
LONG = DAY_SECONDS
# COMPLIANCE retentions: long enough for a test's few requests (even on a busy machine), short enough that nothing
# undeletable lingers.
COMPLIANCE_SECONDS = 4
# Retentions a test waits out (the only sleeps in these files).
EXPIRING_SECONDS = 2


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def in_seconds(seconds: float) -> dt.datetime:
    """A whole-second UTC date at least `seconds` from now: whole seconds survive a server that drops sub-seconds."""
    return (utc_now() + dt.timedelta(seconds=seconds)).replace(microsecond=0) + dt.timedelta(seconds=1)


def to_second(when: dt.datetime) -> int:
    """Seconds since the epoch, for comparing dates to the second."""
    return int(when.timestamp())


def sleep_past(when: dt.datetime) -> None:
    """Sleeps until `when` has passed (on this machine's clock, which the local server shares)."""
    time.sleep(max(0.0, (when - utc_now()).total_seconds()) + 0.3)


def error_of(call) -> tuple[int, str]:
    """Runs `call`, which must fail with a ClientError, and returns its (HTTP status, error code)."""
    with pytest.raises(ClientError) as info:
        call()
    return client_error(info.value)


def status_of(resp: dict) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def put_locked(s3, bucket: str, key: str, data: bytes = b"locked", *, mode: str | None = None,
               until: dt.datetime | None = None, hold: str | None = None) -> str:
    """PutObject with the given lock headers; returns the new VersionId."""
    lock = {}
    if mode is not None:
        lock["ObjectLockMode"] = mode
    if until is not None:
        lock["ObjectLockRetainUntilDate"] = until
    if hold is not None:
        lock["ObjectLockLegalHoldStatus"] = hold
    return s3.put_object(Bucket=bucket, Key=key, Body=data, **lock)["VersionId"]


def lock_state(resp: dict) -> tuple[str | None, int | None, str | None]:
    """(ObjectLockMode, retain-until in epoch seconds, ObjectLockLegalHoldStatus) of a HEAD or GET answer."""
    until = resp.get("ObjectLockRetainUntilDate")
    return resp.get("ObjectLockMode"), to_second(until) if until else None, resp.get("ObjectLockLegalHoldStatus")


def head_lock(s3, bucket: str, key: str, version_id: str | None = None):
    kwargs = {"VersionId": version_id} if version_id else {}
    return lock_state(s3.head_object(Bucket=bucket, Key=key, **kwargs))


def version_ids(s3, bucket: str, key: str) -> list[str]:
    """VersionIds of `key`'s versions (not delete markers), newest first."""
    versions, _, _ = all_versions(s3, bucket, Prefix=key)
    return [v["VersionId"] for v in versions if v["Key"] == key]


# --------------------------------------------------------------------------------------------------------------------
# Buckets and their clean-up


def remove_locked_bucket(s3, name: str) -> None:
    """Best effort, never raises: releases legal holds, deletes every version and delete marker with the governance
    bypass, then the bucket. Versions still under COMPLIANCE keep the bucket alive; it is left behind."""
    try:
        versions, markers, _ = all_versions(s3, name)
    except Exception:  # noqa: BLE001
        return
    for v in versions:
        try:
            s3.put_object_legal_hold(Bucket=name, Key=v["Key"], VersionId=v["VersionId"], LegalHold={"Status": "OFF"})
        except Exception:  # noqa: BLE001 - no lock on the bucket, or the version went already
            pass
    for v in versions + markers:
        try:
            s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"], BypassGovernanceRetention=True)
        except Exception:  # noqa: BLE001 - COMPLIANCE: stays
            pass
    try:
        for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    except Exception:  # noqa: BLE001
        pass
    try:
        s3.delete_bucket(Bucket=name)
    except Exception:  # noqa: BLE001
        pass


class LockBuckets:
    """Makes uniquely named buckets for one test (with or without object lock) and removes them afterwards."""

    def __init__(self, request, s3):
        self.request = request
        self.s3 = s3
        self.names: list[str] = []

    def new_name(self) -> str:
        """A fresh name that will be cleaned up, for a bucket the test creates itself (e.g. through aws-cli)."""
        name = bucket_name(self.request, "mtl")
        self.names.append(name)
        return name

    def create(self, *, lock: bool = True, versioning: str | None = None) -> str:
        name = self.new_name()
        self.s3.create_bucket(Bucket=name, **({"ObjectLockEnabledForBucket": True} if lock else {}))
        if versioning:
            self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        return name

    def remove_all(self) -> None:
        for name in self.names:
            remove_locked_bucket(self.s3, name)


@pytest.fixture
def lock_buckets(request, s3):
    """A LockBuckets factory on the main server."""
    buckets = LockBuckets(request, s3)
    yield buckets
    buckets.remove_all()


@pytest.fixture
def lock_bucket(lock_buckets) -> str:
    """A fresh bucket created with ObjectLockEnabledForBucket=True (so also versioned); emptied and deleted after."""
    return lock_buckets.create()
