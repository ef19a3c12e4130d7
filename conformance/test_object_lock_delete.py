"""Deleting in lock buckets: DeleteObject without a VersionId only stacks a delete marker; deleting a locked version
is AccessDenied unless it is GOVERNANCE and the request carries x-amz-bypass-governance-retention (never for
COMPLIANCE or a legal hold); DeleteObjects reports locked versions per key; once a retention has passed its version
may be changed and deleted freely; and the bypass header on a bucket WITHOUT lock is accepted and ignored (ceph's
s3-tests clean-up sends it on every bucket).
"""

import pytest

from object_lock_helpers import (
    COMPLIANCE_SECONDS, EXPIRING_SECONDS, LONG, error_of, head_lock, in_seconds, put_locked, sleep_past, status_of,
    to_second, version_ids,
)
from versioning_helpers import all_versions, body, set_versioning


def _delete(s3, bucket, key, version_id, **kwargs):
    return s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id, **kwargs)


def _gone(s3, bucket, key, version_id) -> tuple[int, str]:
    return error_of(lambda: s3.get_object(Bucket=bucket, Key=key, VersionId=version_id))


# --------------------------------------------------------------------------------------------------------------------
# DeleteObject


def test_delete_without_version_id_adds_a_marker_over_the_locked_version(s3, lock_bucket):
    vid = put_locked(s3, lock_bucket, "doc", b"kept", mode="GOVERNANCE", until=in_seconds(LONG), hold="ON")
    resp = s3.delete_object(Bucket=lock_bucket, Key="doc")
    assert status_of(resp) == 204
    assert resp.get("DeleteMarker") is True
    marker = resp["VersionId"]
    assert error_of(lambda: s3.get_object(Bucket=lock_bucket, Key="doc")) == (404, "NoSuchKey")
    assert body(s3, lock_bucket, "doc", vid) == b"kept"
    versions, markers, _ = all_versions(s3, lock_bucket)
    assert [(m["VersionId"], m["IsLatest"]) for m in markers] == [(marker, True)]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(vid, False)]


def test_governance_version_is_deleted_only_with_bypass(s3, lock_bucket):
    vid = put_locked(s3, lock_bucket, "doc", b"governed", mode="GOVERNANCE", until=in_seconds(LONG))
    assert error_of(lambda: _delete(s3, lock_bucket, "doc", vid)) == (403, "AccessDenied")
    assert body(s3, lock_bucket, "doc", vid) == b"governed"
    resp = _delete(s3, lock_bucket, "doc", vid, BypassGovernanceRetention=True)
    assert status_of(resp) == 204
    assert resp.get("VersionId") == vid
    assert _gone(s3, lock_bucket, "doc", vid) == (404, "NoSuchVersion")
    assert version_ids(s3, lock_bucket, "doc") == []


def test_compliance_version_is_not_deleted_even_with_bypass(s3, lock_bucket):
    vid = put_locked(s3, lock_bucket, "doc", b"complied", mode="COMPLIANCE", until=in_seconds(COMPLIANCE_SECONDS))
    for bypass in (False, True):
        assert error_of(lambda: _delete(s3, lock_bucket, "doc", vid, BypassGovernanceRetention=bypass)) \
            == (403, "AccessDenied"), bypass
    assert body(s3, lock_bucket, "doc", vid) == b"complied"


@pytest.mark.parametrize("retention", [False, True], ids=["hold-only", "hold-and-governance"])
def test_legal_hold_blocks_delete_even_with_bypass(s3, lock_bucket, retention):
    lock = {"mode": "GOVERNANCE", "until": in_seconds(LONG)} if retention else {}
    vid = put_locked(s3, lock_bucket, "doc", b"held", hold="ON", **lock)
    for bypass in (False, True):
        assert error_of(lambda: _delete(s3, lock_bucket, "doc", vid, BypassGovernanceRetention=bypass)) \
            == (403, "AccessDenied"), bypass
    assert body(s3, lock_bucket, "doc", vid) == b"held"

    s3.put_object_legal_hold(Bucket=lock_bucket, Key="doc", VersionId=vid, LegalHold={"Status": "OFF"})
    # Released: a version with no retention goes as usual; a GOVERNANCE one still needs the bypass.
    resp = _delete(s3, lock_bucket, "doc", vid, **({"BypassGovernanceRetention": True} if retention else {}))
    assert status_of(resp) == 204
    assert _gone(s3, lock_bucket, "doc", vid) == (404, "NoSuchVersion")


def test_expired_retention_allows_changes_and_deletes(s3, lock_bucket):
    # The one wait in these files: every version's retention ends a couple of seconds from now.
    until = in_seconds(EXPIRING_SECONDS)
    compliance = put_locked(s3, lock_bucket, "compliance", mode="COMPLIANCE", until=until)
    governance = put_locked(s3, lock_bucket, "governance", mode="GOVERNANCE", until=until)
    to_delete = {mode: put_locked(s3, lock_bucket, f"delete-{mode.lower()}", mode=mode, until=until)
                 for mode in ("COMPLIANCE", "GOVERNANCE")}
    sleep_past(until)

    # A mode change and a removal that an active retention refuses even with the bypass are allowed now, without it.
    new_until = in_seconds(LONG)
    resp = s3.put_object_retention(Bucket=lock_bucket, Key="compliance", VersionId=compliance,
                                   Retention={"Mode": "GOVERNANCE", "RetainUntilDate": new_until})
    assert status_of(resp) == 200
    assert head_lock(s3, lock_bucket, "compliance", compliance) == ("GOVERNANCE", to_second(new_until), None)
    resp = s3.put_object_retention(Bucket=lock_bucket, Key="governance", VersionId=governance, Retention={})
    assert status_of(resp) == 200
    assert head_lock(s3, lock_bucket, "governance", governance) == (None, None, None)

    for mode, vid in to_delete.items():
        key = f"delete-{mode.lower()}"
        assert status_of(_delete(s3, lock_bucket, key, vid)) == 204, mode
        assert _gone(s3, lock_bucket, key, vid) == (404, "NoSuchVersion"), mode


# --------------------------------------------------------------------------------------------------------------------
# DeleteObjects


def _outcome(resp) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    deleted = sorted((d["Key"], d["VersionId"]) for d in resp.get("Deleted", []))
    errors = sorted((e["Key"], e.get("VersionId"), e["Code"]) for e in resp.get("Errors", []))
    return deleted, errors


def test_delete_objects_reports_locked_versions(s3, lock_bucket):
    vids = {
        "free": put_locked(s3, lock_bucket, "free"),
        "governance": put_locked(s3, lock_bucket, "governance", mode="GOVERNANCE", until=in_seconds(LONG)),
        "compliance": put_locked(s3, lock_bucket, "compliance", mode="COMPLIANCE",
                                 until=in_seconds(COMPLIANCE_SECONDS)),
        "held": put_locked(s3, lock_bucket, "held", hold="ON"),
    }
    everything = {"Objects": [{"Key": k, "VersionId": v} for k, v in vids.items()]}
    resp = s3.delete_objects(Bucket=lock_bucket, Delete=everything)
    assert _outcome(resp) == (
        [("free", vids["free"])],
        sorted((k, vids[k], "AccessDenied") for k in ("compliance", "governance", "held")),
    )
    assert version_ids(s3, lock_bucket, "free") == []

    locked = {"Objects": [{"Key": k, "VersionId": vids[k]} for k in ("governance", "compliance", "held")]}
    resp = s3.delete_objects(Bucket=lock_bucket, Delete=locked, BypassGovernanceRetention=True)
    assert _outcome(resp) == (
        [("governance", vids["governance"])],
        sorted((k, vids[k], "AccessDenied") for k in ("compliance", "held")),
    )
    assert version_ids(s3, lock_bucket, "governance") == []
    assert version_ids(s3, lock_bucket, "compliance") == [vids["compliance"]]
    assert version_ids(s3, lock_bucket, "held") == [vids["held"]]


def test_delete_objects_without_version_ids_adds_markers(s3, lock_bucket):
    vid = put_locked(s3, lock_bucket, "doc", mode="GOVERNANCE", until=in_seconds(LONG))
    resp = s3.delete_objects(Bucket=lock_bucket, Delete={"Objects": [{"Key": "doc"}]})
    assert resp.get("Errors", []) == []
    assert [(d["Key"], d.get("DeleteMarker")) for d in resp["Deleted"]] == [("doc", True)]
    assert version_ids(s3, lock_bucket, "doc") == [vid]


# --------------------------------------------------------------------------------------------------------------------
# The bypass header on buckets without lock


@pytest.mark.parametrize("versioning", [None, "Enabled"], ids=["unversioned", "versioned"])
def test_bypass_header_is_ignored_without_lock(s3, bucket, versioning):
    if versioning:
        set_versioning(s3, bucket, versioning)
    first = s3.put_object(Bucket=bucket, Key="one", Body=b"1").get("VersionId")
    s3.put_object(Bucket=bucket, Key="two", Body=b"2")
    s3.put_object(Bucket=bucket, Key="three", Body=b"3")

    single = {"VersionId": first} if versioning else {}
    resp = s3.delete_object(Bucket=bucket, Key="one", BypassGovernanceRetention=True, **single)
    assert status_of(resp) == 204
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="one"))[0] == 404
    if versioning:
        assert version_ids(s3, bucket, "one") == []

    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "two"}, {"Key": "three"}]},
                             BypassGovernanceRetention=True)
    assert resp.get("Errors", []) == []
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["three", "two"]
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
