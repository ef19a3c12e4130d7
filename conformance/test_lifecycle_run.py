"""Lifecycle rules that really run, with a lifecycle day of two seconds (`--lifecycle-day-seconds 2`, Martlet's
equivalent of Ceph's rgw_lc_debug_interval): `temp/` and `quarantine/` expire after their days, stale multipart
uploads are aborted, noncurrent versions expire and the lone delete marker left behind goes too, objects no rule
covers stay, and versions under object-lock retention or legal hold survive every rule. Also the configuration API
round trip and the queue surviving a restart.

Every wait is a multiple of DAY plus a little slack, so the day can change without touching the tests."""

import datetime as dt
import time

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.slow

DAY = 2  # seconds in a lifecycle day for these servers


@pytest.fixture
def fast_server(server_factory):
    return server_factory.start("lifecycle", extra_args=("--lifecycle-day-seconds", str(DAY)))


def _keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_rules_expire_objects_and_abort_uploads_in_their_days(fast_server):
    s3 = fast_server.client()
    s3.create_bucket(Bucket="lc-run")
    for key in ["temp/a", "temp/b", "quarantine/a", "keep/a"]:
        s3.put_object(Bucket="lc-run", Key=key, Body=b"x")
    stale = s3.create_multipart_upload(Bucket="lc-run", Key="big")["UploadId"]
    start = time.monotonic()
    s3.put_bucket_lifecycle_configuration(Bucket="lc-run", LifecycleConfiguration={"Rules": [
        {"ID": "temp", "Filter": {"Prefix": "temp/"}, "Status": "Enabled", "Expiration": {"Days": 2}},
        {"ID": "quarantine", "Filter": {"Prefix": "quarantine/"}, "Status": "Enabled", "Expiration": {"Days": 5}},
        {"ID": "uploads", "Filter": {}, "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
    ]})
    head = s3.head_object(Bucket="lc-run", Key="temp/a")
    assert 'rule-id="temp"' in head["Expiration"]

    assert _wait_for(lambda: _keys(s3, "lc-run") == ["keep/a", "quarantine/a"], timeout=4 * DAY + 2)
    assert time.monotonic() - start >= 1.5 * DAY, "temp/ expired before its two days"
    assert s3.list_multipart_uploads(Bucket="lc-run").get("Uploads", []) == []
    with pytest.raises(ClientError):
        s3.list_parts(Bucket="lc-run", Key="big", UploadId=stale)

    assert _wait_for(lambda: _keys(s3, "lc-run") == ["keep/a"], timeout=6 * DAY + 2)
    assert time.monotonic() - start >= 4.5 * DAY, "quarantine/ expired before its five days"
    time.sleep(2 * DAY)
    assert _keys(s3, "lc-run") == ["keep/a"]


def test_noncurrent_versions_and_the_lone_delete_marker_expire(fast_server):
    s3 = fast_server.client()
    s3.create_bucket(Bucket="lc-versions")
    s3.put_bucket_versioning(Bucket="lc-versions", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket="lc-versions", LifecycleConfiguration={"Rules": [
        {"ID": "noncurrent", "Filter": {"Prefix": "doc"}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 2}, "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ]})
    for body in [b"1", b"2", b"3"]:
        s3.put_object(Bucket="lc-versions", Key="doc", Body=body)
        s3.put_object(Bucket="lc-versions", Key="other", Body=body)
    current = s3.put_object(Bucket="lc-versions", Key="doc", Body=b"4")["VersionId"]

    def versions(key):
        listed = s3.list_object_versions(Bucket="lc-versions", Prefix=key)
        return [v["VersionId"] for v in listed.get("Versions", []) if v["Key"] == key], listed.get("DeleteMarkers", [])

    assert len(versions("doc")[0]) == 4
    assert _wait_for(lambda: versions("doc")[0] == [current], timeout=4 * DAY + 2)
    assert len(versions("other")[0]) == 3, "a version outside the rule's prefix expired"
    assert s3.get_object(Bucket="lc-versions", Key="doc")["Body"].read() == b"4"

    # Deleting the current object leaves a marker over one noncurrent version; both go in time.
    s3.delete_object(Bucket="lc-versions", Key="doc")
    assert _wait_for(lambda: versions("doc") == ([], []), timeout=5 * DAY + 2)


def test_configuration_round_trip_and_removal(fast_server):
    s3 = fast_server.client()
    s3.create_bucket(Bucket="lc-config")
    with pytest.raises(ClientError) as info:
        s3.get_bucket_lifecycle_configuration(Bucket="lc-config")
    assert info.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
    rules = [
        {"ID": "a", "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "k", "Value": "v"}], "ObjectSizeGreaterThan": 10}},
         "Status": "Enabled", "Expiration": {"Days": 30},
         "Transitions": [{"Days": 10, "StorageClass": "GLACIER"}]},
        {"ID": "b", "Filter": {"Prefix": ""}, "Status": "Disabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2}},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket="lc-config", LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket="lc-config")["Rules"]
    assert [r["ID"] for r in got] == ["a", "b"]
    assert got[0]["Filter"] == rules[0]["Filter"]
    assert got[0]["Transitions"] == rules[0]["Transitions"]
    assert got[1]["NoncurrentVersionExpiration"] == rules[1]["NoncurrentVersionExpiration"]
    for bad, code in [
        ({"ID": "x", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 0}}, "InvalidArgument"),
        ({"ID": "x", "Filter": {}, "Status": "Enabled"}, "InvalidRequest"),
    ]:
        with pytest.raises(ClientError) as info:
            s3.put_bucket_lifecycle_configuration(Bucket="lc-config", LifecycleConfiguration={"Rules": [bad]})
        assert info.value.response["Error"]["Code"] == code
    s3.delete_bucket_lifecycle(Bucket="lc-config")
    with pytest.raises(ClientError):
        s3.get_bucket_lifecycle_configuration(Bucket="lc-config")


@pytest.mark.crash
def test_due_work_survives_a_restart(fast_server):
    s3 = fast_server.client()
    s3.create_bucket(Bucket="lc-restart")
    s3.put_bucket_lifecycle_configuration(Bucket="lc-restart", LifecycleConfiguration={"Rules": [
        {"ID": "t", "Filter": {"Prefix": "t/"}, "Status": "Enabled", "Expiration": {"Days": 3}}]})
    s3.put_object(Bucket="lc-restart", Key="t/x", Body=b"x")
    fast_server.kill()
    fast_server.restart()
    s3 = fast_server.client()
    assert _wait_for(lambda: _keys(s3, "lc-restart") == [], timeout=5 * DAY + 3)


def test_transitions_change_the_reported_storage_class(fast_server):
    s3 = fast_server.client()
    s3.create_bucket(Bucket="lc-transition")
    s3.put_bucket_versioning(Bucket="lc-transition", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket="lc-transition", LifecycleConfiguration={"Rules": [
        {"ID": "cold", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
         "Transitions": [{"Days": 1, "StorageClass": "STANDARD_IA"}, {"Days": 3, "StorageClass": "GLACIER"}],
         "NoncurrentVersionTransitions": [{"NoncurrentDays": 1, "StorageClass": "DEEP_ARCHIVE"}]},
    ]})
    old = s3.put_object(Bucket="lc-transition", Key="logs/a", Body=b"1")["VersionId"]
    s3.put_object(Bucket="lc-transition", Key="logs/a", Body=b"2")
    s3.put_object(Bucket="lc-transition", Key="data/a", Body=b"1")

    def storage_class(key, version=None):
        kwargs = {"VersionId": version} if version else {}
        return s3.head_object(Bucket="lc-transition", Key=key, **kwargs).get("StorageClass", "STANDARD")

    assert storage_class("logs/a") == "STANDARD"
    assert _wait_for(lambda: storage_class("logs/a") == "STANDARD_IA", timeout=3 * DAY + 2)
    assert _wait_for(lambda: storage_class("logs/a", old) == "DEEP_ARCHIVE", timeout=3 * DAY + 2)
    assert _wait_for(lambda: storage_class("logs/a") == "GLACIER", timeout=5 * DAY + 2)
    listed = s3.list_objects_v2(Bucket="lc-transition", Prefix="logs/")["Contents"]
    assert listed[0]["StorageClass"] == "GLACIER"
    assert s3.get_object(Bucket="lc-transition", Key="logs/a")["Body"].read() == b"2"
    assert storage_class("data/a") == "STANDARD"


def test_locked_versions_survive_lifecycle(fast_server):
    # Retentions are a real day long (far beyond the lifecycle days below); the server and its data go after the test.
    s3 = fast_server.client()
    s3.create_bucket(Bucket="lc-lock", ObjectLockEnabledForBucket=True)
    tomorrow = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=1)
    retained = {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": tomorrow}

    def put(key, body, **lock):
        return s3.put_object(Bucket="lc-lock", Key=key, Body=body, **lock)["VersionId"]

    # temp/doc: an unlocked, a retained and a held version go noncurrent under a retained current one.
    free = put("temp/doc", b"free")
    kept = put("temp/doc", b"retained", **retained)
    held = put("temp/doc", b"held", ObjectLockLegalHoldStatus="ON")
    top = put("temp/doc", b"top", **retained)
    # temp/held: a lone current version under legal hold only.
    lone = put("temp/held", b"lone", ObjectLockLegalHoldStatus="ON")
    s3.put_bucket_lifecycle_configuration(Bucket="lc-lock", LifecycleConfiguration={"Rules": [
        {"ID": "temp", "Filter": {"Prefix": "temp/"}, "Status": "Enabled",
         "Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    ]})

    def listing(key):
        listed = s3.list_object_versions(Bucket="lc-lock", Prefix=key)
        versions = [v["VersionId"] for v in listed.get("Versions", []) if v["Key"] == key]
        markers = [m["IsLatest"] for m in listed.get("DeleteMarkers", []) if m["Key"] == key]
        return versions, markers

    # The unlocked noncurrent version expires; the current locked objects get a delete marker on top.
    assert _wait_for(lambda: free not in listing("temp/doc")[0], timeout=3 * DAY + 2)
    assert _wait_for(lambda: _keys(s3, "lc-lock") == [], timeout=3 * DAY + 2)
    # Give every rule three more days to (wrongly) remove a locked version.
    time.sleep(3 * DAY)

    assert listing("temp/doc") == ([top, held, kept], [True])  # one marker: none stacks on a marker
    assert listing("temp/held") == ([lone], [True])
    for key, vid, body in [("temp/doc", top, b"top"), ("temp/doc", held, b"held"), ("temp/doc", kept, b"retained"),
                           ("temp/held", lone, b"lone")]:
        assert s3.get_object(Bucket="lc-lock", Key=key, VersionId=vid)["Body"].read() == body
    assert _keys(s3, "lc-lock") == []
