"""Bucket and identity policies decide every request: explicit Deny wins, conditions and policy variables are
evaluated, anonymous callers get exactly what a policy grants to everyone, and other accounts what the bucket
policy grants them."""

import json
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from access_helpers import anonymous_client, policy
from s3helpers import client_error, key_path

DENIED = (403, "AccessDenied")


def _denied(call):
    with pytest.raises(ClientError) as exc:
        call()
    assert client_error(exc.value) == DENIED


def test_anonymous_reads_a_public_path_and_nothing_else(s3, server, bucket):
    s3.put_object(Bucket=bucket, Key="photos/public/cat.jpg", Body=b"meow")
    s3.put_object(Bucket=bucket, Key="photos/private/dog.jpg", Body=b"woof")
    anon = anonymous_client(server)
    url = f"{server.endpoint}/{key_path(bucket, 'photos/public/cat.jpg').lstrip('/')}"
    assert requests.get(url).status_code == 403, "private by default"
    # As on AWS, a bucket starts with Block Public Access on: its owner lifts it before a public policy.
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/photos/public/*"}))
    response = requests.get(url)
    assert response.status_code == 200 and response.content == b"meow"
    assert response.headers["x-amz-request-id"]
    assert anon.get_object(Bucket=bucket, Key="photos/public/cat.jpg")["Body"].read() == b"meow"
    _denied(lambda: anon.get_object(Bucket=bucket, Key="photos/private/dog.jpg"))
    _denied(lambda: anon.list_objects_v2(Bucket=bucket))
    _denied(lambda: anon.put_object(Bucket=bucket, Key="photos/public/new.jpg", Body=b"x"))
    _denied(lambda: anon.list_buckets())
    # A missing key on the public path is 403 too: without ListBucket, whether a key exists is not told (AWS).
    with pytest.raises(ClientError) as exc:
        anon.get_object(Bucket=bucket, Key="photos/public/missing.jpg")
    assert client_error(exc.value) == DENIED
    s3.delete_bucket_policy(Bucket=bucket)
    assert requests.get(url).status_code == 403


def test_bucket_policy_documents(s3, bucket):
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket=bucket)
    assert client_error(exc.value) == (404, "NoSuchBucketPolicy")
    s3.delete_public_access_block(Bucket=bucket)
    document = policy({"Sid": "read", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3.put_bucket_policy(Bucket=bucket, Policy=document)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(document)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    for bad in ["{", '{"Statement": []}', policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
                policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other-bucket/*"}),
                policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
                        "Condition": {"NoSuchOperator": {"aws:SourceIp": "1.2.3.4"}}})]:
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_policy(Bucket=bucket, Policy=bad)
        assert client_error(exc.value) == (400, "MalformedPolicy"), bad
    huge = policy(*[{"Sid": f"s{i}", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                     "Resource": f"arn:aws:s3:::{bucket}/{'p' * 200}{i}/*"} for i in range(120)])
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=bucket, Policy=huge)
    assert client_error(exc.value)[0] == 400


def test_explicit_deny_beats_allow(make_user, s3, bucket):
    s3.put_object(Bucket=bucket, Key="open/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="secret/b", Body=b"b")
    user = make_user(policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/secret/*"}))
    assert user.s3.get_object(Bucket=bucket, Key="open/a")["Body"].read() == b"a"
    _denied(lambda: user.s3.get_object(Bucket=bucket, Key="secret/b"))
    # A Deny in the bucket policy beats the user's Allow too, and binds the account root.
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/open/*"}))
    _denied(lambda: user.s3.delete_object(Bucket=bucket, Key="open/a"))
    _denied(lambda: s3.delete_object(Bucket=bucket, Key="open/a"))
    # The owner's root may always remove the policy that denies it.
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="open/a")


def test_delete_objects_authorizes_each_key(make_user, s3, bucket):
    for key in ("tmp/1", "keep/2"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    user = make_user(policy({"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/tmp/*"}))
    result = user.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "tmp/1"}, {"Key": "keep/2"}]})
    assert [d["Key"] for d in result.get("Deleted", [])] == ["tmp/1"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("keep/2", "AccessDenied")]
    assert s3.get_object(Bucket=bucket, Key="keep/2")["Body"].read() == b"x"


def test_copy_needs_read_on_the_source(make_user, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src/private", Body=b"p")
    user = make_user(policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/dst/*"}))
    _denied(lambda: user.s3.copy_object(Bucket=bucket, Key="dst/copy", CopySource={"Bucket": bucket, "Key": "src/private"}))
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="dst/")


@pytest.mark.parametrize("condition, allowed", [
    ({"StringLike": {"s3:prefix": ["home/*"]}}, True),
    ({"StringNotLike": {"s3:prefix": ["home/*"]}}, False),
    ({"StringEquals": {"s3:delimiter": "/"}}, True),
    ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, True),
    ({"NumericGreaterThan": {"s3:max-keys": "10"}}, False),
    ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, True),
    ({"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, False),
    ({"Bool": {"aws:SecureTransport": "false"}}, True),
    ({"Bool": {"aws:SecureTransport": "true"}}, False),
    ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, True),
    ({"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, False),
    ({"Null": {"s3:prefix": "false"}}, True),
    ({"Null": {"s3:prefix": "true"}}, False),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, True),
    ({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::000000000000:user/nobody"}}, False),
    ({"ForAnyValue:StringEquals": {"aws:username": ["nobody", "${aws:username}"]}}, True),
], ids=lambda v: json.dumps(v) if isinstance(v, dict) else str(v))
def test_condition_operators(make_user, bucket, condition, allowed):
    user = make_user(policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
                             "Condition": condition}))
    call = lambda: user.s3.list_objects_v2(Bucket=bucket, Prefix="home/", Delimiter="/", MaxKeys=5)
    if allowed:
        call()
    else:
        _denied(call)


def test_policy_variables_give_each_user_a_home(make_user, s3, bucket):
    document = policy({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                       "Resource": f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*"})
    alice, bob = make_user(document), make_user(document)
    alice.s3.put_object(Bucket=bucket, Key=f"home/{alice.name}/notes.txt", Body=b"mine")
    _denied(lambda: bob.s3.get_object(Bucket=bucket, Key=f"home/{alice.name}/notes.txt"))
    _denied(lambda: alice.s3.put_object(Bucket=bucket, Key=f"home/{bob.name}/x", Body=b"not mine"))
    bob.s3.put_object(Bucket=bucket, Key=f"home/{bob.name}/x", Body=b"mine")


def test_bucket_policy_can_grant_a_user_of_the_account(make_user, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    user = make_user()
    _denied(lambda: user.s3.get_object(Bucket=bucket, Key="k"))
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    assert user.s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_cross_account_grant_by_bucket_policy(s3, bucket, other_account, server):
    s3.put_object(Bucket=bucket, Key="shared/report.csv", Body=b"1,2")
    alt = other_account.s3
    _denied(lambda: alt.get_object(Bucket=bucket, Key="shared/report.csv"))
    _denied(lambda: alt.list_objects_v2(Bucket=bucket))
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other_account.account_id}:root"},
         "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/shared/*"]}))
    assert alt.get_object(Bucket=bucket, Key="shared/report.csv")["Body"].read() == b"1,2"
    assert [o["Key"] for o in alt.list_objects_v2(Bucket=bucket)["Contents"]] == ["shared/report.csv"]
    _denied(lambda: alt.put_object(Bucket=bucket, Key="shared/new", Body=b"x"))
    # Only the owner's account manages the policy, whatever the policy says.
    _denied(lambda: alt.get_bucket_policy(Bucket=bucket))
    _denied(lambda: alt.delete_bucket_policy(Bucket=bucket))
    # The other account's IAM users need their own account's say-so as well.
    name = f"alt-user-{uuid.uuid4().hex[:6]}"
    other_account.iam.create_user(UserName=name)
    key = other_account.iam.create_access_key(UserName=name)["AccessKey"]
    from access_helpers import client_for
    alt_user = client_for(server, key["AccessKeyId"], key["SecretAccessKey"])
    _denied(lambda: alt_user.get_object(Bucket=bucket, Key="shared/report.csv"))
    other_account.iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    assert alt_user.get_object(Bucket=bucket, Key="shared/report.csv")["Body"].read() == b"1,2"


def test_buckets_belong_to_their_account(s3, other_account, bucket):
    with pytest.raises(ClientError) as exc:
        other_account.s3.create_bucket(Bucket=bucket)
    assert client_error(exc.value) == (409, "BucketAlreadyExists")
    name = f"mt-alt-{uuid.uuid4().hex[:10]}"
    other_account.s3.create_bucket(Bucket=name)
    try:
        assert name in [b["Name"] for b in other_account.s3.list_buckets()["Buckets"]]
        assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert bucket not in [b["Name"] for b in other_account.s3.list_buckets()["Buckets"]]
        owner = other_account.s3.list_buckets()["Owner"]
        assert owner == {"ID": other_account.canonical_id, "DisplayName": other_account.display_name}
        other_account.s3.put_object(Bucket=name, Key="k", Body=b"v")
        listed = other_account.s3.list_objects(Bucket=name)["Contents"][0]
        assert listed["Owner"]["ID"] == other_account.canonical_id
        # The operator's root has no say over another account's bucket without a grant.
        _denied(lambda: s3.get_object(Bucket=name, Key="k"))
    finally:
        other_account.s3.delete_object(Bucket=name, Key="k")
        other_account.s3.delete_bucket(Bucket=name)


def test_missing_key_is_404_only_to_callers_who_may_list(make_user, s3, bucket):
    reader = make_user(policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    lister = make_user(policy({"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                               "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}))
    outsider = make_user()
    with pytest.raises(ClientError) as exc:
        reader.s3.get_object(Bucket=bucket, Key="missing")
    assert client_error(exc.value) == DENIED, "without ListBucket a missing key must not be told from a forbidden one"
    with pytest.raises(ClientError) as exc:
        lister.s3.get_object(Bucket=bucket, Key="missing")
    assert client_error(exc.value) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as exc:
        outsider.s3.head_object(Bucket=bucket, Key="missing")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_existing_object_tag_condition(make_user, s3, bucket):
    s3.put_object(Bucket=bucket, Key="open", Body=b"o", Tagging="security=public")
    s3.put_object(Bucket=bucket, Key="closed", Body=b"c", Tagging="security=private")
    user = make_user(policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
                             "Condition": {"StringEquals": {"s3:ExistingObjectTag/security": "public"}}}))
    assert user.s3.get_object(Bucket=bucket, Key="open")["Body"].read() == b"o"
    _denied(lambda: user.s3.get_object(Bucket=bucket, Key="closed"))
    s3.put_object_tagging(Bucket=bucket, Key="closed", Tagging={"TagSet": [{"Key": "security", "Value": "public"}]})
    assert user.s3.get_object(Bucket=bucket, Key="closed")["Body"].read() == b"c"


def test_request_object_tag_condition(make_user, bucket):
    user = make_user(policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
                             "Condition": {"StringEquals": {"s3:RequestObjectTag/team": "media"}}}))
    _denied(lambda: user.s3.put_object(Bucket=bucket, Key="untagged", Body=b"x"))
    _denied(lambda: user.s3.put_object(Bucket=bucket, Key="wrong", Body=b"x", Tagging="team=finance"))
    user.s3.put_object(Bucket=bucket, Key="tagged", Body=b"x", Tagging="team=media")


def test_expected_bucket_owner(s3, bucket, server):
    from access_helpers import client_for
    account = client_for(server, server.access_key, server.secret_key, "sts").get_caller_identity()["Account"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", ExpectedBucketOwner=account)
    _denied(lambda: s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner="000000000000"))
    _denied(lambda: s3.put_object(Bucket=bucket, Key="k2", Body=b"v", ExpectedBucketOwner="000000000000"))
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="k2")


def test_policy_principals_must_be_accounts(s3, bucket):
    for principal in ({"AWS": "arn:aws:iam::s3tenant1:root"}, {"AWS": "not-an-account"}, {"CanonicalUser": "abc"}):
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_policy(Bucket=bucket, Policy=policy(
                {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
        assert client_error(exc.value) == (400, "MalformedPolicy"), principal
