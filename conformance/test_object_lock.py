"""Object lock on buckets and on writes: CreateBucket with x-amz-bucket-object-lock-enabled (versioning on, lock
configuration without a rule), Get/PutObjectLockConfiguration (bucket states, default retention, validation, the
integrity-header requirement), versioning that cannot be suspended, and the x-amz-object-lock-* headers on PutObject,
CopyObject and CreateMultipartUpload (refused on buckets without lock, validated, stored, reported by GET/HEAD, bucket
default retention, copies that never inherit the source's lock).

Retention and legal-hold APIs are in test_object_lock_retention.py; deleting locked versions, and what happens once a
retention has passed, in test_object_lock_delete.py.
"""

import datetime as dt

import pytest

from object_lock_helpers import (
    COMPLIANCE_SECONDS, DAY_SECONDS, LONG, error_of, head_lock, in_seconds, lock_state, put_locked, status_of,
    to_second, utc_now, version_ids,
)
from s3helpers import error_fields, key_path, md5_b64
from versioning_helpers import set_versioning

S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
# Computed once at import: far enough either way to stay future / past for the whole run.
FUTURE = in_seconds(LONG)
PAST = utc_now().replace(microsecond=0) - dt.timedelta(hours=1)


def _config(s3, bucket) -> dict:
    return s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]


def _set_default(s3, bucket, **retention) -> None:
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}})


# --------------------------------------------------------------------------------------------------------------------
# Lock buckets and Get/PutObjectLockConfiguration


def test_create_lock_bucket_enables_versioning_and_lock(s3, lock_buckets):
    name = lock_buckets.new_name()
    resp = s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    assert status_of(resp) == 200
    assert s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled"
    assert _config(s3, name) == {"ObjectLockEnabled": "Enabled"}  # and no Rule


def test_bucket_without_lock_has_no_lock_configuration(s3, bucket):
    assert error_of(lambda: _config(s3, bucket)) == (404, "ObjectLockConfigurationNotFoundError")


@pytest.mark.parametrize("versioning", [None, "Suspended"], ids=["unversioned", "suspended"])
def test_lock_configuration_needs_versioning_enabled(s3, bucket, versioning):
    if versioning == "Suspended":
        set_versioning(s3, bucket, "Enabled")
        set_versioning(s3, bucket, "Suspended")
    call = lambda: s3.put_object_lock_configuration(  # noqa: E731
        Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert error_of(call) == (409, "InvalidBucketState")
    assert error_of(lambda: _config(s3, bucket)) == (404, "ObjectLockConfigurationNotFoundError")


def test_lock_configuration_turns_lock_on_for_a_versioned_bucket(s3, lock_buckets):
    # AWS has allowed this on existing versioned buckets since 2023.
    name = lock_buckets.create(lock=False, versioning="Enabled")
    resp = s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert status_of(resp) == 200
    assert _config(s3, name) == {"ObjectLockEnabled": "Enabled"}
    vid = put_locked(s3, name, "held", hold="ON")  # lock headers are accepted from now on
    assert head_lock(s3, name, "held", vid) == (None, None, "ON")
    assert error_of(lambda: set_versioning(s3, name, "Suspended")) == (409, "InvalidBucketState")


@pytest.mark.parametrize("retention", [
    {"Mode": "GOVERNANCE", "Days": 1},
    {"Mode": "COMPLIANCE", "Days": 30},
    {"Mode": "GOVERNANCE", "Years": 2},
    {"Mode": "GOVERNANCE", "Days": 36500},
    {"Mode": "COMPLIANCE", "Years": 100},
], ids=["governance-days", "compliance-days", "governance-years", "max-days", "max-years"])
def test_default_retention_round_trip(s3, lock_bucket, retention):
    # Nothing is written here, so even a COMPLIANCE default leaves the bucket removable.
    s3.put_object_lock_configuration(Bucket=lock_bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}})
    assert _config(s3, lock_bucket) == {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}}


RULE = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}


@pytest.mark.parametrize("config, expected", [
    ({"Rule": RULE}, (400, "MalformedXML")),
    ({"ObjectLockEnabled": "Disabled", "Rule": RULE}, (400, "MalformedXML")),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "FOREVER", "Days": 1}}},
     (400, "MalformedXML")),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}},
     (400, "MalformedXML")),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE"}}}, (400, "MalformedXML")),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 0}}},
     (400, "InvalidArgument")),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": -1}}},
     (400, "InvalidArgument")),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 0}}},
     (400, "InvalidArgument")),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 36501}}},
     (400, "InvalidRetentionPeriod")),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 101}}},
     (400, "InvalidRetentionPeriod")),
], ids=["enabled-missing", "enabled-disabled", "unknown-mode", "days-and-years", "neither-days-nor-years",
        "zero-days", "negative-days", "zero-years", "too-many-days", "too-many-years"])
def test_invalid_lock_configuration(s3, lock_bucket, config, expected):
    _set_default(s3, lock_bucket, Mode="GOVERNANCE", Days=7)
    assert error_of(lambda: s3.put_object_lock_configuration(Bucket=lock_bucket, ObjectLockConfiguration=config)) \
        == expected
    # A refused configuration changes nothing.
    assert _config(s3, lock_bucket) == {"ObjectLockEnabled": "Enabled",
                                        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 7}}}


def test_configuration_without_rule_removes_the_default(s3, lock_bucket):
    _set_default(s3, lock_bucket, Mode="GOVERNANCE", Days=1)
    s3.put_object_lock_configuration(Bucket=lock_bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert _config(s3, lock_bucket) == {"ObjectLockEnabled": "Enabled"}
    vid = s3.put_object(Bucket=lock_bucket, Key="plain", Body=b"x")["VersionId"]
    assert head_lock(s3, lock_bucket, "plain", vid) == (None, None, None)


def test_lock_configuration_needs_content_md5_or_checksum(s3, raw, lock_bucket):
    doc = (f'<ObjectLockConfiguration xmlns="{S3_XMLNS}"><ObjectLockEnabled>Enabled</ObjectLockEnabled>'
           f'<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>3</Days></DefaultRetention></Rule>'
           f'</ObjectLockConfiguration>').encode()
    # SigV4 covers the payload's SHA-256, but S3 still wants Content-MD5 or an x-amz-checksum-* header here.
    bare = raw.request("PUT", key_path(lock_bucket), {"object-lock": None}, body=doc)
    assert bare.status_code == 400, bare.content
    assert error_fields(bare.content)["Code"] == "InvalidRequest"
    assert _config(s3, lock_bucket) == {"ObjectLockEnabled": "Enabled"}

    with_md5 = raw.request("PUT", key_path(lock_bucket), {"object-lock": None},
                           headers={"Content-MD5": md5_b64(doc)}, body=doc)
    assert with_md5.status_code == 200, with_md5.content
    assert _config(s3, lock_bucket)["Rule"] == {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3}}


def test_lock_bucket_versioning_cannot_be_suspended(s3, lock_bucket):
    assert error_of(lambda: set_versioning(s3, lock_bucket, "Suspended")) == (409, "InvalidBucketState")
    assert s3.get_bucket_versioning(Bucket=lock_bucket)["Status"] == "Enabled"
    resp = s3.put_bucket_versioning(Bucket=lock_bucket, VersioningConfiguration={"Status": "Enabled"})
    assert status_of(resp) == 200
    assert s3.get_bucket_versioning(Bucket=lock_bucket)["Status"] == "Enabled"


# --------------------------------------------------------------------------------------------------------------------
# Lock headers on PutObject, CopyObject and CreateMultipartUpload

WRITES = ["put", "copy", "multipart"]


def _write(s3, op, bucket, key, **lock):
    """One write of `key` carrying the lock arguments; a copy reads an unlocked `source` object of the same bucket."""
    if op == "put":
        return s3.put_object(Bucket=bucket, Key=key, Body=b"data", **lock)
    if op == "copy":
        s3.put_object(Bucket=bucket, Key="source", Body=b"data")
        return s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": "source"}, **lock)
    return s3.create_multipart_upload(Bucket=bucket, Key=key, **lock)


def _nothing_stored(s3, bucket, key) -> bool:
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
    return not [v for v in versions if v["Key"] == key] and not [u for u in uploads if u["Key"] == key]


@pytest.mark.parametrize("op", WRITES)
@pytest.mark.parametrize("lock", [
    {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": FUTURE},
    {"ObjectLockLegalHoldStatus": "ON"},
    {"ObjectLockLegalHoldStatus": "OFF"},
], ids=["retention", "legal-hold-on", "legal-hold-off"])
def test_lock_headers_on_bucket_without_lock(s3, bucket, op, lock):
    assert error_of(lambda: _write(s3, op, bucket, "target", **lock)) == (400, "InvalidRequest")
    assert _nothing_stored(s3, bucket, "target")


@pytest.mark.parametrize("op", WRITES)
@pytest.mark.parametrize("lock", [
    {"ObjectLockMode": "GOVERNANCE"},
    {"ObjectLockRetainUntilDate": FUTURE},
    {"ObjectLockMode": "FOREVER", "ObjectLockRetainUntilDate": FUTURE},
    {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": PAST},
    {"ObjectLockLegalHoldStatus": "MAYBE"},
], ids=["mode-without-date", "date-without-mode", "unknown-mode", "date-in-the-past", "unknown-legal-hold"])
def test_invalid_lock_headers(s3, lock_bucket, op, lock):
    assert error_of(lambda: _write(s3, op, lock_bucket, "target", **lock)) == (400, "InvalidArgument")
    assert _nothing_stored(s3, lock_bucket, "target")


@pytest.mark.parametrize("mode", ["GOVERNANCE", "COMPLIANCE"])
def test_locked_put_is_reported_by_get_and_head(s3, lock_bucket, mode):
    # A COMPLIANCE version cannot be removed before its date: keep that date a few seconds ahead.
    until = FUTURE if mode == "GOVERNANCE" else in_seconds(COMPLIANCE_SECONDS)
    vid = put_locked(s3, lock_bucket, "doc", b"locked body", mode=mode, until=until)
    expected = (mode, to_second(until), None)  # no legal hold was ever set: no legal-hold header
    assert head_lock(s3, lock_bucket, "doc") == expected
    got = s3.get_object(Bucket=lock_bucket, Key="doc", VersionId=vid)
    assert got["Body"].read() == b"locked body"
    assert lock_state(got) == expected


def test_legal_hold_status_is_reported_once_ever_set(s3, lock_bucket):
    held = put_locked(s3, lock_bucket, "held", hold="ON")
    assert head_lock(s3, lock_bucket, "held", held) == (None, None, "ON")
    assert lock_state(s3.get_object(Bucket=lock_bucket, Key="held")) == (None, None, "ON")

    plain = s3.put_object(Bucket=lock_bucket, Key="plain", Body=b"x")["VersionId"]
    assert "ObjectLockLegalHoldStatus" not in s3.head_object(Bucket=lock_bucket, Key="plain")
    s3.put_object_legal_hold(Bucket=lock_bucket, Key="plain", VersionId=plain, LegalHold={"Status": "ON"})
    s3.put_object_legal_hold(Bucket=lock_bucket, Key="plain", VersionId=plain, LegalHold={"Status": "OFF"})
    assert head_lock(s3, lock_bucket, "plain", plain) == (None, None, "OFF")


def _assert_default_retention(resp, mode, low: dt.datetime, high: dt.datetime):
    """The version's retention is `mode` until a date within [low, high] (a window around the write, to the second)."""
    got_mode, until, _ = lock_state(resp)
    assert got_mode == mode
    assert until is not None and to_second(low) - 1 <= until <= to_second(high) + 1, (until, low, high)


def test_default_retention_in_days_applies_to_plain_writes(s3, lock_bucket):
    _set_default(s3, lock_bucket, Mode="GOVERNANCE", Days=2)
    before = utc_now()
    vid = s3.put_object(Bucket=lock_bucket, Key="doc", Body=b"x")["VersionId"]
    after = utc_now()
    two_days = dt.timedelta(days=2)
    _assert_default_retention(s3.head_object(Bucket=lock_bucket, Key="doc", VersionId=vid), "GOVERNANCE",
                              before + two_days, after + two_days)
    retention = s3.get_object_retention(Bucket=lock_bucket, Key="doc", VersionId=vid)["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    until = to_second(retention["RetainUntilDate"])
    assert to_second(before + two_days) - 1 <= until <= to_second(after + two_days) + 1


def test_default_retention_in_years(s3, lock_bucket):
    _set_default(s3, lock_bucket, Mode="GOVERNANCE", Years=1)
    before = utc_now()
    vid = s3.put_object(Bucket=lock_bucket, Key="doc", Body=b"x")["VersionId"]
    after = utc_now()
    # A year is 365 days, or 366 when counted as a calendar year across 29 February: either is fine.
    _assert_default_retention(s3.head_object(Bucket=lock_bucket, Key="doc", VersionId=vid), "GOVERNANCE",
                              before + dt.timedelta(days=365), after + dt.timedelta(days=366))


def test_explicit_headers_override_the_default(s3, lock_bucket):
    _set_default(s3, lock_bucket, Mode="GOVERNANCE", Days=1)
    until = in_seconds(COMPLIANCE_SECONDS)
    vid = put_locked(s3, lock_bucket, "doc", mode="COMPLIANCE", until=until)
    assert head_lock(s3, lock_bucket, "doc", vid) == ("COMPLIANCE", to_second(until), None)


def test_legal_hold_only_write_still_gets_the_default_retention(s3, lock_bucket):
    _set_default(s3, lock_bucket, Mode="GOVERNANCE", Days=1)
    before = utc_now()
    vid = put_locked(s3, lock_bucket, "doc", hold="ON")
    after = utc_now()
    head = s3.head_object(Bucket=lock_bucket, Key="doc", VersionId=vid)
    _assert_default_retention(head, "GOVERNANCE", before + dt.timedelta(days=1), after + dt.timedelta(days=1))
    assert head["ObjectLockLegalHoldStatus"] == "ON"


def test_copy_never_inherits_the_source_lock(s3, lock_bucket):
    source_until = in_seconds(3 * DAY_SECONDS)
    put_locked(s3, lock_bucket, "source", b"source body", mode="GOVERNANCE", until=source_until, hold="ON")
    source = {"Bucket": lock_bucket, "Key": "source"}

    plain = s3.copy_object(Bucket=lock_bucket, Key="plain-copy", CopySource=source)["VersionId"]
    assert head_lock(s3, lock_bucket, "plain-copy", plain) == (None, None, None)
    assert s3.get_object(Bucket=lock_bucket, Key="plain-copy")["Body"].read() == b"source body"

    own_until = in_seconds(LONG)
    own = s3.copy_object(Bucket=lock_bucket, Key="own-copy", CopySource=source, ObjectLockMode="GOVERNANCE",
                         ObjectLockRetainUntilDate=own_until, ObjectLockLegalHoldStatus="OFF")["VersionId"]
    assert head_lock(s3, lock_bucket, "own-copy", own) == ("GOVERNANCE", to_second(own_until), "OFF")

    _set_default(s3, lock_bucket, Mode="GOVERNANCE", Days=1)
    before = utc_now()
    defaulted = s3.copy_object(Bucket=lock_bucket, Key="default-copy", CopySource=source)["VersionId"]
    after = utc_now()
    head = s3.head_object(Bucket=lock_bucket, Key="default-copy", VersionId=defaulted)
    # One day from the copy (the bucket default), not the source's three days, and no legal hold.
    _assert_default_retention(head, "GOVERNANCE", before + dt.timedelta(days=1), after + dt.timedelta(days=1))
    assert "ObjectLockLegalHoldStatus" not in head


def test_multipart_upload_carries_its_lock_headers(s3, lock_bucket):
    until = in_seconds(LONG)
    upload = s3.create_multipart_upload(Bucket=lock_bucket, Key="big", ObjectLockMode="GOVERNANCE",
                                        ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")["UploadId"]
    part = s3.upload_part(Bucket=lock_bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"multipart body")
    done = s3.complete_multipart_upload(Bucket=lock_bucket, Key="big", UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    vid = done["VersionId"]
    assert version_ids(s3, lock_bucket, "big") == [vid]
    assert head_lock(s3, lock_bucket, "big", vid) == ("GOVERNANCE", to_second(until), "ON")
    retention = s3.get_object_retention(Bucket=lock_bucket, Key="big", VersionId=vid)["Retention"]
    assert (retention["Mode"], to_second(retention["RetainUntilDate"])) == ("GOVERNANCE", to_second(until))
    assert s3.get_object_legal_hold(Bucket=lock_bucket, Key="big", VersionId=vid)["LegalHold"] == {"Status": "ON"}
