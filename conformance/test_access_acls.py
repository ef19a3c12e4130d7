"""ACLs under Object Ownership and Block Public Access: AWS's defaults for new buckets (ACLs disabled, public access
blocked), buckets that opt into ACLs, canned ACLs and x-amz-grant-* headers, grants to other accounts by id and by
e-mail, and the owners listings report."""

import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from access_helpers import anonymous_client, policy
from s3helpers import client_error

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _error(call) -> tuple[int, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return client_error(exc.value)


@pytest.fixture
def acl_bucket(s3, request):
    """A bucket with ACLs on (ObjectWriter) and Block Public Access removed, as a site serving public objects
    by ACL sets one up on AWS."""
    name = f"mt-acl-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=name)
    yield name
    from conftest import empty_and_delete
    empty_and_delete(s3, name)


def test_new_buckets_have_aws_defaults(s3, bucket):
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    acl = s3.get_bucket_acl(Bucket=bucket)
    owner = s3.list_buckets()["Owner"]
    assert acl["Owner"]["ID"] == owner["ID"]
    assert acl["Grants"] == [{"Grantee": {"ID": owner["ID"], "DisplayName": owner["DisplayName"], "Type": "CanonicalUser"},
                              "Permission": "FULL_CONTROL"}]


def test_bucket_owner_enforced_refuses_acls(s3, bucket):
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")) == (400, "AccessControlListNotSupported")
    assert _error(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read")) == (400, "AccessControlListNotSupported")
    # Even `private` is an ACL AWS refuses here; only the bucket owner's full control passes.
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="private")) == (400, "AccessControlListNotSupported")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    assert _error(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")) == (400, "AccessControlListNotSupported")
    name = f"mt-acl-{uuid.uuid4().hex[:12]}"
    assert _error(lambda: s3.create_bucket(Bucket=name, ACL="public-read")) == (400, "InvalidBucketAclWithObjectOwnership")
    assert _error(lambda: s3.create_bucket(Bucket=name, ACL="public-read", ObjectOwnership="ObjectWriter")) == \
        (400, "InvalidBucketAclWithBlockPublicAccessError")
    assert _error(lambda: s3.head_bucket(Bucket=name))[0] == 404


def test_block_public_access_refuses_a_public_policy(s3, server, bucket):
    s3.put_object(Bucket=bucket, Key="public/a", Body=b"a")
    public = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/public/*"})
    assert _error(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=public)) == (403, "AccessDenied")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": True})
    s3.put_bucket_policy(Bucket=bucket, Policy=public)
    # RestrictPublicBuckets: the public policy serves only the bucket owner's account.
    assert _error(lambda: anonymous_client(server).get_object(Bucket=bucket, Key="public/a")) == (403, "AccessDenied")
    s3.delete_public_access_block(Bucket=bucket)
    assert _error(lambda: s3.get_public_access_block(Bucket=bucket)) == (404, "NoSuchPublicAccessBlockConfiguration")
    assert anonymous_client(server).get_object(Bucket=bucket, Key="public/a")["Body"].read() == b"a"


def test_canned_public_read_object(s3, server, acl_bucket):
    s3.put_object(Bucket=acl_bucket, Key="open.txt", Body=b"open", ACL="public-read")
    s3.put_object(Bucket=acl_bucket, Key="closed.txt", Body=b"closed")
    assert requests.get(f"{server.endpoint}/{acl_bucket}/open.txt").content == b"open"
    assert requests.get(f"{server.endpoint}/{acl_bucket}/closed.txt").status_code == 403
    grants = s3.get_object_acl(Bucket=acl_bucket, Key="open.txt")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants
    assert _error(lambda: anonymous_client(server).put_object(Bucket=acl_bucket, Key="x", Body=b"x")) == (403, "AccessDenied")
    # IgnorePublicAcls makes the public grant count for nothing; BlockPublicAcls refuses new ones.
    s3.put_public_access_block(Bucket=acl_bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    assert requests.get(f"{server.endpoint}/{acl_bucket}/open.txt").status_code == 403
    assert _error(lambda: s3.put_object(Bucket=acl_bucket, Key="another", Body=b"x", ACL="public-read")) == (403, "AccessDenied")
    assert _error(lambda: s3.put_object_acl(Bucket=acl_bucket, Key="closed.txt", ACL="public-read")) == (403, "AccessDenied")


def test_public_read_write_bucket_acl(s3, server, acl_bucket):
    anon = anonymous_client(server)
    assert _error(lambda: anon.list_objects_v2(Bucket=acl_bucket)) == (403, "AccessDenied")
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read-write")
    anon.put_object(Bucket=acl_bucket, Key="dropped", Body=b"drop")
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=acl_bucket)["Contents"]] == ["dropped"]
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="private")
    assert _error(lambda: anon.list_objects_v2(Bucket=acl_bucket)) == (403, "AccessDenied")


def test_cross_account_grant_by_acl(s3, acl_bucket, other_account):
    alt = other_account.s3
    s3.put_object(Bucket=acl_bucket, Key="for-alt", Body=b"yours", GrantRead=f'id="{other_account.canonical_id}"')
    s3.put_object(Bucket=acl_bucket, Key="by-mail", Body=b"mail", GrantRead=f'emailAddress="{other_account.name}@example.test"')
    s3.put_object(Bucket=acl_bucket, Key="not-for-alt", Body=b"mine")
    assert alt.get_object(Bucket=acl_bucket, Key="for-alt")["Body"].read() == b"yours"
    assert alt.get_object(Bucket=acl_bucket, Key="by-mail")["Body"].read() == b"mail"
    assert _error(lambda: alt.get_object(Bucket=acl_bucket, Key="not-for-alt")) == (403, "AccessDenied")
    assert _error(lambda: alt.list_objects_v2(Bucket=acl_bucket)) == (403, "AccessDenied")
    assert _error(lambda: s3.put_object(Bucket=acl_bucket, Key="x", Body=b"x", GrantRead='emailAddress="nobody@example.test"')) == \
        (400, "UnresolvableGrantByEmailAddress")
    assert _error(lambda: s3.put_object(Bucket=acl_bucket, Key="x", Body=b"x", ACL="public-read", GrantRead='uri="' + ALL_USERS + '"'))[0] == 400
    # A bucket ACL (as an AccessControlPolicy document) lets the other account list and write.
    owner = s3.get_bucket_acl(Bucket=acl_bucket)["Owner"]
    s3.put_bucket_acl(Bucket=acl_bucket, AccessControlPolicy={"Owner": owner, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "CanonicalUser", "ID": other_account.canonical_id}, "Permission": "READ"},
        {"Grantee": {"Type": "CanonicalUser", "ID": other_account.canonical_id}, "Permission": "WRITE"}]})
    assert "for-alt" in [o["Key"] for o in alt.list_objects_v2(Bucket=acl_bucket)["Contents"]]
    alt.put_object(Bucket=acl_bucket, Key="written-by-alt", Body=b"alt's")
    # ObjectWriter: the writer owns it, and the bucket owner cannot read it without a grant.
    listed = {o["Key"]: o["Owner"]["ID"] for o in s3.list_objects(Bucket=acl_bucket)["Contents"]}
    assert listed["written-by-alt"] == other_account.canonical_id and listed["for-alt"] == owner["ID"]
    assert _error(lambda: s3.get_object(Bucket=acl_bucket, Key="written-by-alt")) == (403, "AccessDenied")
    alt.put_object(Bucket=acl_bucket, Key="shared-back", Body=b"ok", ACL="bucket-owner-full-control")
    assert s3.get_object(Bucket=acl_bucket, Key="shared-back")["Body"].read() == b"ok"
    s3.delete_object(Bucket=acl_bucket, Key="written-by-alt")  # the bucket owner may always delete


def test_bucket_owner_preferred_takes_ownership(s3, acl_bucket, other_account):
    s3.put_bucket_ownership_controls(Bucket=acl_bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    owner = s3.get_bucket_acl(Bucket=acl_bucket)["Owner"]
    s3.put_bucket_acl(Bucket=acl_bucket, GrantWrite=f'id="{other_account.canonical_id}"', GrantFullControl=f'id="{owner["ID"]}"')
    other_account.s3.put_object(Bucket=acl_bucket, Key="handed-over", Body=b"h", ACL="bucket-owner-full-control")
    assert s3.get_object_acl(Bucket=acl_bucket, Key="handed-over")["Owner"]["ID"] == owner["ID"]
    # Enforcing ownership while the bucket ACL grants another account would silently revoke it: refused.
    assert _error(lambda: s3.put_bucket_ownership_controls(
        Bucket=acl_bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})) == \
        (400, "InvalidBucketAclWithObjectOwnership")
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=acl_bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.delete_bucket_ownership_controls(Bucket=acl_bucket)
    assert _error(lambda: s3.get_bucket_ownership_controls(Bucket=acl_bucket)) == (404, "OwnershipControlsNotFoundError")


def test_malformed_acl_documents(s3, acl_bucket, raw):
    response = raw.request("PUT", f"/{acl_bucket}", query={"acl": ""}, body=b"<AccessControlPolicy><nope/></AccessControlPolicy>")
    assert response.status_code == 400 and b"MalformedACLError" in response.content
    response = raw.request("PUT", f"/{acl_bucket}", query={"acl": ""}, headers={"x-amz-acl": "no-such-acl"})
    assert response.status_code == 400 and b"InvalidArgument" in response.content


def test_owner_recreating_a_bucket_resets_its_acl(s3, acl_bucket):
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read")
    s3.create_bucket(Bucket=acl_bucket)  # us-east-1: 200 for the owner, and the ACL goes back to private
    grants = s3.get_bucket_acl(Bucket=acl_bucket)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]


def test_upload_owners_are_their_writers(s3, acl_bucket, other_account):
    owner = s3.get_bucket_acl(Bucket=acl_bucket)["Owner"]
    s3.put_bucket_acl(Bucket=acl_bucket, GrantWrite=f'id="{other_account.canonical_id}"', GrantFullControl=f'id="{owner["ID"]}"')
    mine = s3.create_multipart_upload(Bucket=acl_bucket, Key="mine")["UploadId"]
    theirs = other_account.s3.create_multipart_upload(Bucket=acl_bucket, Key="theirs")["UploadId"]
    try:
        uploads = {u["Key"]: u for u in s3.list_multipart_uploads(Bucket=acl_bucket)["Uploads"]}
        assert uploads["mine"]["Owner"]["ID"] == owner["ID"] and uploads["mine"]["Initiator"]["ID"] == owner["ID"]
        assert uploads["theirs"]["Owner"] == {"ID": other_account.canonical_id, "DisplayName": other_account.display_name}
    finally:
        s3.abort_multipart_upload(Bucket=acl_bucket, Key="mine", UploadId=mine)
        s3.abort_multipart_upload(Bucket=acl_bucket, Key="theirs", UploadId=theirs)


def test_bucket_policy_grants_nothing_on_objects_other_accounts_own(s3, server, acl_bucket, other_account):
    owner = s3.get_bucket_acl(Bucket=acl_bucket)["Owner"]
    s3.put_bucket_acl(Bucket=acl_bucket, GrantWrite=f'id="{other_account.canonical_id}"', GrantFullControl=f'id="{owner["ID"]}"')
    s3.put_object(Bucket=acl_bucket, Key="owners", Body=b"o")
    other_account.s3.put_object(Bucket=acl_bucket, Key="writers", Body=b"w")
    s3.put_bucket_policy(Bucket=acl_bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{acl_bucket}/*"}))
    anon = anonymous_client(server)
    assert anon.get_object(Bucket=acl_bucket, Key="owners")["Body"].read() == b"o"
    assert _error(lambda: anon.get_object(Bucket=acl_bucket, Key="writers")) == (403, "AccessDenied")
    # Its Deny statements still bind the writer's object.
    s3.put_bucket_policy(Bucket=acl_bucket, Policy=policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{acl_bucket}/writers"}))
    assert _error(lambda: other_account.s3.get_object(Bucket=acl_bucket, Key="writers")) == (403, "AccessDenied")
    s3.delete_bucket_policy(Bucket=acl_bucket)
    assert other_account.s3.get_object(Bucket=acl_bucket, Key="writers")["Body"].read() == b"w"
