"""Get/PutObjectRetention and Get/PutObjectLegalHold: refused on buckets without lock, 404s for versions that have no
retention or legal hold and for missing keys and versions, retention validation, what an active COMPLIANCE or
GOVERNANCE retention allows (extend only; GOVERNANCE may be shortened, changed or removed with
BypassGovernanceRetention), legal hold ON/OFF by VersionId, and the same flow through aws-cli `s3api`.

What is allowed once a retention has passed is in test_object_lock_delete.py (one wait covers both).
"""

import datetime as dt
import json

import pytest
from botocore.utils import parse_timestamp

from object_lock_helpers import (
    COMPLIANCE_SECONDS, DAY_SECONDS, LONG, error_of, head_lock, in_seconds, put_locked, status_of, to_second,
    utc_now,
)


def _retention(s3, bucket, key, version_id=None) -> tuple[str, int]:
    kwargs = {"VersionId": version_id} if version_id else {}
    got = s3.get_object_retention(Bucket=bucket, Key=key, **kwargs)["Retention"]
    return got["Mode"], to_second(got["RetainUntilDate"])


def _put_retention(s3, bucket, key, version_id, mode, until, **kwargs):
    return s3.put_object_retention(Bucket=bucket, Key=key, VersionId=version_id,
                                   Retention={"Mode": mode, "RetainUntilDate": until}, **kwargs)


def _legal_hold(s3, bucket, key, version_id=None) -> str:
    kwargs = {"VersionId": version_id} if version_id else {}
    return s3.get_object_legal_hold(Bucket=bucket, Key=key, **kwargs)["LegalHold"]["Status"]


# --------------------------------------------------------------------------------------------------------------------
# Buckets without lock, versions without retention or hold, missing keys and versions


@pytest.mark.parametrize("op", ["get-retention", "put-retention", "get-legal-hold", "put-legal-hold"])
def test_lock_apis_on_bucket_without_lock(s3, bucket, op):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    calls = {
        "get-retention": lambda: s3.get_object_retention(Bucket=bucket, Key="k"),
        "put-retention": lambda: s3.put_object_retention(
            Bucket=bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_seconds(LONG)}),
        "get-legal-hold": lambda: s3.get_object_legal_hold(Bucket=bucket, Key="k"),
        "put-legal-hold": lambda: s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "ON"}),
    }
    assert error_of(calls[op]) == (400, "InvalidRequest")
    assert head_lock(s3, bucket, "k") == (None, None, None)


def test_version_without_retention_or_legal_hold(s3, lock_bucket):
    until = in_seconds(LONG)
    retained = put_locked(s3, lock_bucket, "retained", mode="GOVERNANCE", until=until)
    held = put_locked(s3, lock_bucket, "held", hold="ON")
    plain = put_locked(s3, lock_bucket, "plain")
    for key, vid in [("held", held), ("plain", plain)]:
        assert error_of(lambda: s3.get_object_retention(Bucket=lock_bucket, Key=key, VersionId=vid)) \
            == (404, "NoSuchObjectLockConfiguration"), key
    for key, vid in [("retained", retained), ("plain", plain)]:
        assert error_of(lambda: s3.get_object_legal_hold(Bucket=lock_bucket, Key=key, VersionId=vid)) \
            == (404, "NoSuchObjectLockConfiguration"), key
    assert _retention(s3, lock_bucket, "retained", retained) == ("GOVERNANCE", to_second(until))
    assert _legal_hold(s3, lock_bucket, "held", held) == "ON"


@pytest.mark.parametrize("op", ["get-retention", "put-retention", "get-legal-hold", "put-legal-hold"])
def test_lock_apis_on_missing_key_and_version(s3, lock_bucket, op):
    def call(key, version_id=None):
        kw = {"Bucket": lock_bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
        if op == "get-retention":
            return s3.get_object_retention(**kw)
        if op == "put-retention":
            return s3.put_object_retention(**kw, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_seconds(LONG)})
        if op == "get-legal-hold":
            return s3.get_object_legal_hold(**kw)
        return s3.put_object_legal_hold(**kw, LegalHold={"Status": "ON"})

    assert error_of(lambda: call("no-such-key")) == (404, "NoSuchKey")
    gone = put_locked(s3, lock_bucket, "k", b"soon gone")  # no lock yet, so it can be deleted by version
    put_locked(s3, lock_bucket, "k", b"stays")
    s3.delete_object(Bucket=lock_bucket, Key="k", VersionId=gone)
    assert error_of(lambda: call("k", gone)) == (404, "NoSuchVersion")
    # AWS answers a malformed id with 400 InvalidArgument; NoSuchVersion is tolerated, as in test_versioning.py.
    assert error_of(lambda: call("k", "not a version id!")) in {(400, "InvalidArgument"), (404, "NoSuchVersion")}


# --------------------------------------------------------------------------------------------------------------------
# PutObjectRetention rules


def test_invalid_retention(s3, lock_bucket):
    vid = put_locked(s3, lock_bucket, "doc")
    bad_mode = lambda: _put_retention(s3, lock_bucket, "doc", vid, "FOREVER", in_seconds(LONG))  # noqa: E731
    assert error_of(bad_mode) == (400, "MalformedXML")
    past = lambda: _put_retention(s3, lock_bucket, "doc", vid, "GOVERNANCE", in_seconds(-3600))  # noqa: E731
    assert error_of(past) == (400, "InvalidArgument")
    assert head_lock(s3, lock_bucket, "doc", vid) == (None, None, None)


def test_put_retention_on_an_older_version(s3, lock_bucket):
    old = put_locked(s3, lock_bucket, "doc", b"old")
    current = put_locked(s3, lock_bucket, "doc", b"current")
    until = in_seconds(LONG)
    assert status_of(_put_retention(s3, lock_bucket, "doc", old, "GOVERNANCE", until)) == 200
    assert _retention(s3, lock_bucket, "doc", old) == ("GOVERNANCE", to_second(until))
    assert head_lock(s3, lock_bucket, "doc", old) == ("GOVERNANCE", to_second(until), None)
    assert error_of(lambda: s3.get_object_retention(Bucket=lock_bucket, Key="doc", VersionId=current)) \
        == (404, "NoSuchObjectLockConfiguration")


def test_active_compliance_can_only_be_extended(s3, lock_bucket):
    until = in_seconds(COMPLIANCE_SECONDS)
    vid = put_locked(s3, lock_bucket, "doc", mode="COMPLIANCE", until=until)
    later = until + dt.timedelta(seconds=1)
    assert status_of(_put_retention(s3, lock_bucket, "doc", vid, "COMPLIANCE", later)) == 200
    assert _retention(s3, lock_bucket, "doc", vid) == ("COMPLIANCE", to_second(later))
    for bypass in (False, True):
        shorten = lambda: _put_retention(s3, lock_bucket, "doc", vid, "COMPLIANCE", until,  # noqa: E731
                                         BypassGovernanceRetention=bypass)
        assert error_of(shorten) == (403, "AccessDenied"), bypass
        to_governance = lambda: _put_retention(s3, lock_bucket, "doc", vid, "GOVERNANCE", later,  # noqa: E731
                                               BypassGovernanceRetention=bypass)
        assert error_of(to_governance) == (403, "AccessDenied"), bypass
        remove = lambda: s3.put_object_retention(Bucket=lock_bucket, Key="doc", VersionId=vid,  # noqa: E731
                                                 Retention={}, BypassGovernanceRetention=bypass)
        assert error_of(remove) == (403, "AccessDenied"), bypass
    assert _retention(s3, lock_bucket, "doc", vid) == ("COMPLIANCE", to_second(later))


def test_active_governance_extends_freely_and_changes_only_with_bypass(s3, lock_bucket):
    until = in_seconds(2 * DAY_SECONDS)
    vid = put_locked(s3, lock_bucket, "doc", mode="GOVERNANCE", until=until)
    later = in_seconds(3 * DAY_SECONDS)
    assert status_of(_put_retention(s3, lock_bucket, "doc", vid, "GOVERNANCE", later)) == 200
    assert _retention(s3, lock_bucket, "doc", vid) == ("GOVERNANCE", to_second(later))

    shorter = in_seconds(DAY_SECONDS)
    shorten = lambda **kw: _put_retention(s3, lock_bucket, "doc", vid, "GOVERNANCE", shorter, **kw)  # noqa: E731
    remove = lambda **kw: s3.put_object_retention(  # noqa: E731
        Bucket=lock_bucket, Key="doc", VersionId=vid, Retention={}, **kw)
    assert error_of(shorten) == (403, "AccessDenied")
    assert error_of(remove) == (403, "AccessDenied")
    assert _retention(s3, lock_bucket, "doc", vid) == ("GOVERNANCE", to_second(later))

    bypass = {"BypassGovernanceRetention": True}
    assert status_of(shorten(**bypass)) == 200
    assert _retention(s3, lock_bucket, "doc", vid) == ("GOVERNANCE", to_second(shorter))
    assert status_of(remove(**bypass)) == 200
    # Removed: HEAD shows no retention (GetObjectRetention may answer 404 or an empty Retention).
    assert head_lock(s3, lock_bucket, "doc", vid) == (None, None, None)


def test_active_governance_changes_to_compliance_only_with_bypass(s3, lock_bucket):
    # Both dates only seconds ahead: once COMPLIANCE is set, nothing can remove the version before its date. The
    # change also extends the date, so only the change of mode is refused.
    until = in_seconds(COMPLIANCE_SECONDS)
    vid = put_locked(s3, lock_bucket, "doc", mode="GOVERNANCE", until=until)
    later = until + dt.timedelta(seconds=1)
    to_compliance = lambda **kw: _put_retention(  # noqa: E731
        s3, lock_bucket, "doc", vid, "COMPLIANCE", later, **kw)
    assert error_of(to_compliance) == (403, "AccessDenied")
    assert _retention(s3, lock_bucket, "doc", vid) == ("GOVERNANCE", to_second(until))
    assert status_of(to_compliance(BypassGovernanceRetention=True)) == 200
    assert _retention(s3, lock_bucket, "doc", vid) == ("COMPLIANCE", to_second(later))


# --------------------------------------------------------------------------------------------------------------------
# Legal hold


def test_legal_hold_on_off_by_version(s3, lock_bucket):
    old = put_locked(s3, lock_bucket, "doc", b"old")
    current = put_locked(s3, lock_bucket, "doc", b"current")
    resp = s3.put_object_legal_hold(Bucket=lock_bucket, Key="doc", VersionId=old, LegalHold={"Status": "ON"})
    assert status_of(resp) == 200
    assert _legal_hold(s3, lock_bucket, "doc", old) == "ON"
    assert head_lock(s3, lock_bucket, "doc", old) == (None, None, "ON")
    # The hold is the old version's only: the current one (no VersionId) was never held.
    assert error_of(lambda: s3.get_object_legal_hold(Bucket=lock_bucket, Key="doc")) \
        == (404, "NoSuchObjectLockConfiguration")

    resp = s3.put_object_legal_hold(Bucket=lock_bucket, Key="doc", VersionId=old, LegalHold={"Status": "OFF"})
    assert status_of(resp) == 200
    assert _legal_hold(s3, lock_bucket, "doc", old) == "OFF"

    s3.put_object_legal_hold(Bucket=lock_bucket, Key="doc", LegalHold={"Status": "ON"})  # the current version
    assert _legal_hold(s3, lock_bucket, "doc", current) == "ON"


def test_invalid_legal_hold_status(s3, lock_bucket):
    vid = put_locked(s3, lock_bucket, "doc", hold="OFF")
    call = lambda: s3.put_object_legal_hold(Bucket=lock_bucket, Key="doc", VersionId=vid,  # noqa: E731
                                            LegalHold={"Status": "MAYBE"})
    assert error_of(call) == (400, "MalformedXML")
    assert _legal_hold(s3, lock_bucket, "doc", vid) == "OFF"


# --------------------------------------------------------------------------------------------------------------------
# aws-cli


def _iso(when) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_aws_cli_lock_bucket_retention_and_bypass(aws, lock_buckets, tmp_path):
    def api(*args, check=True):
        return aws("s3api", *args, check=check)

    def api_json(*args):
        return json.loads(api(*args).stdout or "{}")

    name = lock_buckets.new_name()
    api("create-bucket", "--bucket", name, "--object-lock-enabled-for-bucket")
    assert api_json("get-bucket-versioning", "--bucket", name)["Status"] == "Enabled"
    default = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}
    api("put-object-lock-configuration", "--bucket", name, "--object-lock-configuration", json.dumps(default))
    assert api_json("get-object-lock-configuration", "--bucket", name)["ObjectLockConfiguration"] == default

    src = tmp_path / "report.txt"
    src.write_bytes(b"quarterly numbers\n")
    before = to_second(utc_now())
    vid = api_json("put-object", "--bucket", name, "--key", "report.txt", "--body", str(src))["VersionId"]
    got = api_json("get-object-retention", "--bucket", name, "--key", "report.txt", "--version-id", vid)["Retention"]
    assert got["Mode"] == "GOVERNANCE"
    # aws-cli v1 prints the date as sent on the wire; botocore's parser reads any S3 form.
    until = to_second(parse_timestamp(got["RetainUntilDate"]))
    assert before + DAY_SECONDS - 1 <= until <= to_second(utc_now()) + DAY_SECONDS + 1

    later = in_seconds(2 * DAY_SECONDS)
    api("put-object-retention", "--bucket", name, "--key", "report.txt", "--version-id", vid,
        "--retention", json.dumps({"Mode": "GOVERNANCE", "RetainUntilDate": _iso(later)}))
    got = api_json("get-object-retention", "--bucket", name, "--key", "report.txt", "--version-id", vid)["Retention"]
    assert to_second(parse_timestamp(got["RetainUntilDate"])) == to_second(later)

    denied = api("delete-object", "--bucket", name, "--key", "report.txt", "--version-id", vid, check=False)
    assert denied.returncode != 0 and "AccessDenied" in denied.stderr, denied.stderr
    api("delete-object", "--bucket", name, "--key", "report.txt", "--version-id", vid, "--bypass-governance-retention")
    assert api_json("list-object-versions", "--bucket", name).get("Versions", []) == []
