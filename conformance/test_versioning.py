"""Bucket versioning: Get/PutBucketVersioning, version ids on every write, reads by VersionId, the null version,
delete markers, deleting single versions, the Suspended state, DeleteObjects with and without VersionId, version-id
errors, emptying a versioned bucket (boto3 `object_versions.all().delete()`, BucketNotEmpty) and aws-cli s3api.

ListObjectVersions itself (ordering, prefixes, paging, encoding) is in test_list_object_versions.py.
"""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from s3helpers import client_error, error_fields, key_path, md5_b64, parse_xml, quoted_etag
from versioning_helpers import all_versions, body, error_headers, ids, put, set_versioning


def _status(s3, bucket):
    return s3.get_bucket_versioning(Bucket=bucket).get("Status")


def _keys(s3, bucket):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


# --------------------------------------------------------------------------------------------------------------------
# Get/PutBucketVersioning


def test_new_bucket_has_no_versioning_status(s3, raw, bucket):
    resp = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in resp and "MFADelete" not in resp
    got = raw.request("GET", key_path(bucket), {"versioning": None})
    assert got.status_code == 200, got.content
    root = parse_xml(got.content)
    assert root.tag == "VersioningConfiguration"
    assert root.find("Status") is None


def test_enable_suspend_enable(s3, raw, bucket):
    for status in ("Enabled", "Suspended", "Enabled"):
        resp = s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert _status(s3, bucket) == status
    root = parse_xml(raw.request("GET", key_path(bucket), {"versioning": None}).content)
    assert root.findtext("Status") == "Enabled"


def test_versioning_of_missing_bucket(s3):
    for call in (lambda: s3.get_bucket_versioning(Bucket="mt-no-such-bucket-versioning"),
                 lambda: set_versioning(s3, "mt-no-such-bucket-versioning")):
        with pytest.raises(ClientError) as info:
            call()
        assert client_error(info.value) == (404, "NoSuchBucket")


@pytest.mark.parametrize("doc", [
    b"this is not xml",
    b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status>',
], ids=["not-xml", "truncated"])
def test_malformed_versioning_configuration(raw, s3, bucket, doc):
    resp = raw.request("PUT", key_path(bucket), {"versioning": None}, headers={"Content-MD5": md5_b64(doc)}, body=doc)
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "MalformedXML"
    assert _status(s3, bucket) is None


@pytest.mark.parametrize("status", ["Disabled", "Bogus"])
def test_invalid_versioning_status(s3, bucket, status):
    # AWS documents neither code for this; both appear in the wild. Either way nothing changes.
    with pytest.raises(ClientError) as info:
        set_versioning(s3, bucket, status)
    code = client_error(info.value)
    assert code in {(400, "MalformedXML"), (400, "IllegalVersioningConfigurationException")}, code
    assert _status(s3, bucket) is None


# --------------------------------------------------------------------------------------------------------------------
# Writes and reads in an Enabled bucket


def test_each_put_makes_a_new_readable_version(s3, bucket):
    set_versioning(s3, bucket)
    datas = [b"version one", b"version two!", b"three"]
    vids = []
    for i, data in enumerate(datas):
        resp = s3.put_object(Bucket=bucket, Key="doc", Body=data, ContentType=f"text/x-v{i}",
                             Metadata={"gen": str(i)})
        vids.append(resp.get("VersionId"))
    assert all(vids) and "null" not in vids and len(set(vids)) == 3, vids
    latest = s3.get_object(Bucket=bucket, Key="doc")
    assert latest["Body"].read() == datas[-1]
    assert latest["VersionId"] == vids[-1]
    assert s3.head_object(Bucket=bucket, Key="doc")["VersionId"] == vids[-1]
    for i, (vid, data) in enumerate(zip(vids, datas)):
        got = s3.get_object(Bucket=bucket, Key="doc", VersionId=vid)
        assert got["Body"].read() == data
        assert (got["VersionId"], got["ETag"], got["ContentType"]) == (vid, quoted_etag(data), f"text/x-v{i}")
        assert got["Metadata"] == {"gen": str(i)}
        head = s3.head_object(Bucket=bucket, Key="doc", VersionId=vid)
        assert (head["VersionId"], head["ETag"], head["ContentLength"]) == (vid, quoted_etag(data), len(data))
    assert _keys(s3, bucket) == ["doc"]


def test_copy_and_multipart_return_version_ids(s3, bucket):
    set_versioning(s3, bucket)
    v1 = put(s3, bucket, "src", b"old source")
    v2 = put(s3, bucket, "src", b"new source")
    old = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert old["CopySourceVersionId"] == v1
    assert old.get("VersionId") not in (None, "null", v1, v2)
    assert body(s3, bucket, "dst") == b"old source"
    new = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert new.get("CopySourceVersionId") in (None, v2)
    assert new.get("VersionId") not in (None, "null", old["VersionId"])
    assert body(s3, bucket, "dst") == b"new source"
    assert body(s3, bucket, "dst", old["VersionId"]) == b"old source"

    upload = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="dst", UploadId=upload, PartNumber=1, Body=b"multipart body")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done.get("VersionId") not in (None, "null", old["VersionId"], new["VersionId"])
    assert body(s3, bucket, "dst", done["VersionId"]) == b"multipart body"
    versions, _, _ = all_versions(s3, bucket, Prefix="dst")
    assert [v["VersionId"] for v in versions] == [done["VersionId"], new["VersionId"], old["VersionId"]]


def test_objects_written_before_enabling_are_the_null_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"from before")
    set_versioning(s3, bucket)
    versions, _, _ = all_versions(s3, bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in versions] == [("k", "null", True)]
    vid = put(s3, bucket, "k", b"after enabling")
    assert vid not in (None, "null")
    assert body(s3, bucket, "k") == b"after enabling"
    assert body(s3, bucket, "k", "null") == b"from before"
    head = s3.head_object(Bucket=bucket, Key="k", VersionId="null")
    assert (head["ETag"], head["VersionId"]) == (quoted_etag(b"from before"), "null")
    versions, _, _ = all_versions(s3, bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(vid, True), ("null", False)]


# --------------------------------------------------------------------------------------------------------------------
# Delete markers and deleting versions


def test_delete_makes_a_delete_marker(s3, bucket):
    set_versioning(s3, bucket)
    v1 = put(s3, bucket, "k", b"still here")
    resp = s3.delete_object(Bucket=bucket, Key="k")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert resp.get("DeleteMarker") is True
    marker = resp.get("VersionId")
    assert marker not in (None, "null", v1)

    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k")
    assert client_error(info.value) == (404, "NoSuchKey")
    assert error_headers(info.value).get("x-amz-delete-marker") == "true"
    assert error_headers(info.value).get("x-amz-version-id") == marker
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="k")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error_headers(info.value).get("x-amz-delete-marker") == "true"

    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker)
    assert client_error(info.value) == (405, "MethodNotAllowed")
    assert error_headers(info.value).get("x-amz-delete-marker") == "true"
    assert "last-modified" in error_headers(info.value)
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="k", VersionId=marker)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405

    assert body(s3, bucket, "k", v1) == b"still here"
    assert _keys(s3, bucket) == []
    versions, markers, _ = all_versions(s3, bucket)
    assert [(m["VersionId"], m["IsLatest"]) for m in markers] == [(marker, True)]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(v1, False)]

    undo = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert undo["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert (undo.get("DeleteMarker"), undo.get("VersionId")) == (True, marker)
    got = s3.get_object(Bucket=bucket, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"still here", v1)
    assert _keys(s3, bucket) == ["k"]
    assert all_versions(s3, bucket)[1] == []


def test_deleting_twice_stacks_delete_markers(s3, bucket):
    set_versioning(s3, bucket)
    v1 = put(s3, bucket, "k", b"x")
    first = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    second = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    assert first != second
    versions, markers, _ = all_versions(s3, bucket)
    assert [(m["VersionId"], m["IsLatest"]) for m in markers] == [(second, True), (first, False)]
    assert ids(versions) == [("k", v1)]


def test_delete_noncurrent_version_removes_only_it(s3, bucket):
    set_versioning(s3, bucket)
    v1, v2, v3 = (put(s3, bucket, "k", b"body %d" % i) for i in (1, 2, 3))
    resp = s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert resp.get("VersionId") == v2
    assert not resp.get("DeleteMarker")
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k", VersionId=v2)
    assert client_error(info.value) == (404, "NoSuchVersion")
    assert body(s3, bucket, "k") == b"body 3"
    versions, markers, _ = all_versions(s3, bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(v3, True), (v1, False)]
    assert markers == []


def test_delete_latest_version_makes_previous_current(s3, bucket):
    set_versioning(s3, bucket)
    v1, v2 = put(s3, bucket, "k", b"first"), put(s3, bucket, "k", b"second")
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    got = s3.get_object(Bucket=bucket, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"first", v1)
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == quoted_etag(b"first")
    assert [(v["VersionId"], v["IsLatest"]) for v in all_versions(s3, bucket)[0]] == [(v1, True)]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v1)
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k")
    assert client_error(info.value) == (404, "NoSuchKey")
    assert "x-amz-delete-marker" not in error_headers(info.value)
    assert all_versions(s3, bucket)[:2] == ([], [])


# --------------------------------------------------------------------------------------------------------------------
# Suspended


def test_suspended_put_replaces_only_the_null_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"pre-versioning null")
    set_versioning(s3, bucket)
    v1 = put(s3, bucket, "k", b"versioned")
    set_versioning(s3, bucket, "Suspended")
    # AWS's own PutObject example for a suspended bucket has no x-amz-version-id.
    assert put(s3, bucket, "k", b"suspended one") is None
    assert put(s3, bucket, "k", b"suspended two") is None
    got = s3.get_object(Bucket=bucket, Key="k")
    assert (got["Body"].read(), got.get("VersionId")) == (b"suspended two", "null")
    assert s3.head_object(Bucket=bucket, Key="k").get("VersionId") == "null"
    assert body(s3, bucket, "k", "null") == b"suspended two"
    assert body(s3, bucket, "k", v1) == b"versioned"
    versions, _, _ = all_versions(s3, bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", True), (v1, False)]
    assert versions[0]["ETag"] == quoted_etag(b"suspended two")
    set_versioning(s3, bucket)  # enabling again keeps the null version as history
    v3 = put(s3, bucket, "k", b"enabled again")
    assert v3 not in (None, "null", v1)
    assert [v["VersionId"] for v in all_versions(s3, bucket)[0]] == [v3, "null", v1]


def test_suspended_delete_makes_a_null_delete_marker(s3, bucket):
    set_versioning(s3, bucket)
    v1 = put(s3, bucket, "k", b"versioned")
    set_versioning(s3, bucket, "Suspended")
    put(s3, bucket, "k", b"null version")
    resp = s3.delete_object(Bucket=bucket, Key="k")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert resp.get("DeleteMarker") is True
    assert resp.get("VersionId") in (None, "null")
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k")
    assert client_error(info.value) == (404, "NoSuchKey")
    assert error_headers(info.value).get("x-amz-delete-marker") == "true"
    versions, markers, _ = all_versions(s3, bucket)
    assert [(m["VersionId"], m["IsLatest"]) for m in markers] == [("null", True)]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(v1, False)]  # the null version went
    assert body(s3, bucket, "k", v1) == b"versioned"


# --------------------------------------------------------------------------------------------------------------------
# Version-id errors


def test_get_version_that_does_not_exist(s3, bucket):
    set_versioning(s3, bucket)
    gone = put(s3, bucket, "k", b"soon gone")
    put(s3, bucket, "k", b"stays")
    elsewhere = put(s3, bucket, "other", b"other key")
    s3.delete_object(Bucket=bucket, Key="k", VersionId=gone)
    for vid in (gone, elsewhere, "null"):  # well formed, just not a version of "k"
        with pytest.raises(ClientError) as info:
            s3.get_object(Bucket=bucket, Key="k", VersionId=vid)
        allowed = {(404, "NoSuchVersion")} | ({(404, "NoSuchKey")} if vid == "null" else set())
        assert client_error(info.value) in allowed, vid
        with pytest.raises(ClientError) as info:
            s3.head_object(Bucket=bucket, Key="k", VersionId=vid)
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404, vid


@pytest.mark.parametrize("vid", ["not a version id!", "x" * 300, "%00"], ids=["junk", "long", "nul"])
def test_get_malformed_version_id(s3, bucket, vid):
    # AWS: 400 InvalidArgument "Invalid version id specified"; NoSuchVersion is tolerated.
    set_versioning(s3, bucket)
    put(s3, bucket, "k", b"x")
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k", VersionId=vid)
    assert client_error(info.value) in {(400, "InvalidArgument"), (404, "NoSuchVersion")}


# --------------------------------------------------------------------------------------------------------------------
# DeleteObjects


def test_delete_objects_with_version_ids(s3, bucket):
    set_versioning(s3, bucket)
    a1, a2 = put(s3, bucket, "a", b"a1"), put(s3, bucket, "a", b"a2")
    b1 = put(s3, bucket, "b", b"b1")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a", "VersionId": a1},
                                                                {"Key": "b", "VersionId": b1}]})
    assert "Errors" not in resp
    assert sorted((d["Key"], d.get("VersionId")) for d in resp["Deleted"]) == [("a", a1), ("b", b1)]
    assert not any(d.get("DeleteMarker") for d in resp["Deleted"])
    assert ids(all_versions(s3, bucket)[0]) == [("a", a2)]
    assert _keys(s3, bucket) == ["a"]


def test_delete_objects_without_version_ids_makes_markers(s3, bucket):
    set_versioning(s3, bucket)
    a1, b1 = put(s3, bucket, "a", b"a"), put(s3, bucket, "b", b"b")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    assert "Errors" not in resp
    deleted = sorted(resp["Deleted"], key=lambda d: d["Key"])
    assert [(d["Key"], d.get("DeleteMarker")) for d in deleted] == [("a", True), ("b", True)]
    made = {d["Key"]: d.get("DeleteMarkerVersionId") for d in deleted}
    assert None not in made.values() and {a1, b1}.isdisjoint(made.values())
    assert _keys(s3, bucket) == []
    versions, markers, _ = all_versions(s3, bucket)
    assert {m["Key"]: m["VersionId"] for m in markers} == made
    assert ids(versions) == [("a", a1), ("b", b1)]

    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k, "VersionId": v} for k, v in made.items()]})
    for d in resp["Deleted"]:
        assert (d.get("VersionId"), d.get("DeleteMarker"), d.get("DeleteMarkerVersionId")) == \
            (made[d["Key"]], True, made[d["Key"]])
    assert _keys(s3, bucket) == ["a", "b"]


# --------------------------------------------------------------------------------------------------------------------
# Emptying a versioned bucket; real clients


def test_delete_bucket_with_only_old_versions_or_markers_is_not_empty(s3, bucket):
    set_versioning(s3, bucket)
    v1 = put(s3, bucket, "k", b"x")
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    for step in ("version and marker", "marker only"):
        with pytest.raises(ClientError) as info:
            s3.delete_bucket(Bucket=bucket)
        assert client_error(info.value) == (409, "BucketNotEmpty"), step
        s3.delete_object(Bucket=bucket, Key="k", VersionId=v1 if step.startswith("version") else marker)
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as info:
        s3.head_bucket(Bucket=bucket)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_boto3_resource_deletes_all_versions(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="pre", Body=b"null version")
    set_versioning(s3, bucket)
    for i in range(3):
        for key in ("a", "dir/b", "pre"):
            put(s3, bucket, key, b"%s %d" % (key.encode(), i))
    s3.delete_object(Bucket=bucket, Key="a")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "dir/b"}, {"Key": "never"}]})
    resource = boto3.resource("s3", endpoint_url=server.endpoint, region_name=server.region,
                              aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key)
    results = resource.Bucket(bucket).object_versions.page_size(4).delete()
    assert [e for r in results for e in r.get("Errors", [])] == []
    assert sum(len(r.get("Deleted", [])) for r in results) == 3 * 3 + 1 + 3  # versions, null, markers
    assert all_versions(s3, bucket)[:2] == ([], [])
    s3.delete_bucket(Bucket=bucket)


def test_aws_cli_s3api_versioning_round_trip(aws, s3, bucket):
    assert aws("s3api", "get-bucket-versioning", "--bucket", bucket).stdout.strip() == ""
    aws("s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
    assert json.loads(aws("s3api", "get-bucket-versioning", "--bucket", bucket).stdout) == {"Status": "Enabled"}
    v1, v2 = put(s3, bucket, "cli key", b"one"), put(s3, bucket, "cli key", b"two")
    s3.delete_object(Bucket=bucket, Key="cli key")
    out = json.loads(aws("s3api", "list-object-versions", "--bucket", bucket).stdout)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in out["Versions"]] == \
        [("cli key", v2, False), ("cli key", v1, False)]
    assert [(m["Key"], m["IsLatest"]) for m in out["DeleteMarkers"]] == [("cli key", True)]
    aws("s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Suspended")
    assert json.loads(aws("s3api", "get-bucket-versioning", "--bucket", bucket).stdout) == {"Status": "Suspended"}


def test_suspended_multipart_complete_names_no_version(s3, bucket):
    set_versioning(s3, bucket, "Suspended")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert "VersionId" not in done
    assert s3.head_object(Bucket=bucket, Key="mp").get("VersionId") == "null"


@pytest.mark.parametrize("versioning", [None, "Suspended"])
def test_head_of_a_deleted_key_says_no_delete_marker(s3, bucket, versioning):
    # ceph/s3-tests' test_delete_marker_nonversioned, which passes against AWS: a HEAD 404 carries
    # x-amz-delete-marker: false when no marker is the reason.
    if versioning:
        set_versioning(s3, bucket, versioning)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k", VersionId="null") if versioning else s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="k")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error_headers(info.value).get("x-amz-delete-marker") == "false"


def test_get_object_attributes_names_the_version(s3, bucket):
    set_versioning(s3, bucket)
    v1 = put(s3, bucket, "k", b"one")
    v2 = put(s3, bucket, "k", b"two!")
    latest = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert (latest["VersionId"], latest["ObjectSize"]) == (v2, 4)
    older = s3.get_object_attributes(Bucket=bucket, Key="k", VersionId=v1, ObjectAttributes=["ObjectSize"])
    assert (older["VersionId"], older["ObjectSize"]) == (v1, 3)
