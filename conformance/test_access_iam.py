"""IAM users, access keys and inline policies through the IAM query API (boto3's IAM client and aws-cli `iam`), and
STS GetCallerIdentity: a new user can do nothing until a policy allows it, and keys obey their status at once."""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from access_helpers import client_for, policy
from s3helpers import client_error

STAGING_POLICY = policy(
    {"Effect": "Allow", "Action": "s3:*Object", "Resource": "arn:aws:s3:::{bucket}/*"},
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::{bucket}"},
)


def test_boto3_iam_user_lifecycle(iam, server):
    name = f"svc-{uuid.uuid4().hex[:8]}"
    user = iam.create_user(UserName=name, Path="/apps/")["User"]
    assert user["UserName"] == name and user["Path"] == "/apps/"
    assert user["Arn"].endswith(f":user/apps/{name}") and user["UserId"].startswith("AIDA")
    assert iam.get_user(UserName=name)["User"]["UserId"] == user["UserId"]
    assert name in [u["UserName"] for u in iam.list_users()["Users"]]
    assert name in [u["UserName"] for u in iam.list_users(PathPrefix="/apps/")["Users"]]
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=name)
    assert exc.value.response["Error"]["Code"] == "EntityAlreadyExists"

    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["Status"] == "Active" and len(key["SecretAccessKey"]) == 40
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]]
    assert all("SecretAccessKey" not in k for k in listed), "a secret is returned only when the key is made"
    iam.create_access_key(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.create_access_key(UserName=name)
    assert exc.value.response["Error"]["Code"] == "LimitExceeded"

    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    assert exc.value.response["Error"]["Code"] == "DeleteConflict"
    for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=name)
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_user_policy_round_trip_and_malformed_policy(iam, make_user):
    user = make_user()
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    iam.put_user_policy(UserName=user.name, PolicyName="read", PolicyDocument=json.dumps(document))
    got = iam.get_user_policy(UserName=user.name, PolicyName="read")
    assert got["PolicyDocument"] == document  # boto3 URL-decodes and parses what IAM returns
    assert iam.list_user_policies(UserName=user.name)["PolicyNames"] == ["read"]
    for bad in ['{"Statement": []}', "not json", json.dumps({"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]})]:
        with pytest.raises(ClientError) as exc:
            iam.put_user_policy(UserName=user.name, PolicyName="bad", PolicyDocument=bad)
        assert exc.value.response["Error"]["Code"] == "MalformedPolicyDocument", bad
    iam.delete_user_policy(UserName=user.name, PolicyName="read")
    with pytest.raises(ClientError) as exc:
        iam.get_user_policy(UserName=user.name, PolicyName="read")
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"


def test_new_user_can_do_nothing(make_user, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    user = make_user()
    for call in (lambda: user.s3.list_buckets(), lambda: user.s3.get_object(Bucket=bucket, Key="k"),
                 lambda: user.s3.put_object(Bucket=bucket, Key="new", Body=b"y"),
                 lambda: user.s3.list_objects_v2(Bucket=bucket),
                 lambda: user.s3.create_bucket(Bucket=f"mt-denied-{uuid.uuid4().hex[:8]}")):
        with pytest.raises(ClientError) as exc:
            call()
        assert client_error(exc.value) == (403, "AccessDenied")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="new")


def test_least_privilege_staging_app(make_user, s3, bucket, request):
    """The staging app may read and write its bucket and nothing else, ListBuckets included."""
    other = f"mt-prod-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=other)
    request.addfinalizer(lambda: s3.delete_bucket(Bucket=other))
    app = make_user(STAGING_POLICY.replace("{bucket}", bucket), name=f"staging-app-{uuid.uuid4().hex[:6]}")
    app.s3.put_object(Bucket=bucket, Key="uploads/a.csv", Body=b"a,b\n")
    assert app.s3.get_object(Bucket=bucket, Key="uploads/a.csv")["Body"].read() == b"a,b\n"
    assert [o["Key"] for o in app.s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["uploads/a.csv"]
    app.s3.delete_object(Bucket=bucket, Key="uploads/a.csv")
    for call in (lambda: app.s3.put_object(Bucket=other, Key="x", Body=b"x"), lambda: app.s3.list_objects_v2(Bucket=other),
                 lambda: app.s3.list_buckets(), lambda: app.s3.get_bucket_versioning(Bucket=bucket)):
        with pytest.raises(ClientError) as exc:
            call()
        assert client_error(exc.value) == (403, "AccessDenied")
    assert "Contents" not in s3.list_objects_v2(Bucket=other)


@pytest.mark.single_node(reason="asserts the very next request; across nodes the bound is 1 s, which test_cluster.py checks")
def test_inactive_key_is_refused_at_once_and_works_again(iam, make_user, s3, bucket):
    user = make_user(policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}))
    user.s3.list_objects_v2(Bucket=bucket)
    iam.update_access_key(UserName=user.name, AccessKeyId=user.access_key, Status="Inactive")
    assert iam.list_access_keys(UserName=user.name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    with pytest.raises(ClientError) as exc:
        user.s3.list_objects_v2(Bucket=bucket)
    assert client_error(exc.value) == (403, "InvalidAccessKeyId")
    iam.update_access_key(UserName=user.name, AccessKeyId=user.access_key, Status="Active")
    user.s3.list_objects_v2(Bucket=bucket)
    iam.delete_access_key(UserName=user.name, AccessKeyId=user.access_key)
    with pytest.raises(ClientError) as exc:
        user.s3.list_objects_v2(Bucket=bucket)
    assert client_error(exc.value) == (403, "InvalidAccessKeyId")


def test_get_caller_identity(server, make_user, iam):
    sts = client_for(server, server.access_key, server.secret_key, "sts")
    root = sts.get_caller_identity()
    assert root["Arn"] == f"arn:aws:iam::{root['Account']}:root" and len(root["Account"]) == 12
    user = make_user()
    me = client_for(server, user.access_key, user.secret_key, "sts").get_caller_identity()
    assert me["Arn"] == user.arn and me["Account"] == root["Account"] and me["UserId"].startswith("AIDA")


def test_user_needs_iam_permission_to_manage_users(make_user, server):
    user = make_user()
    mine = client_for(server, user.access_key, user.secret_key, "iam")
    with pytest.raises(ClientError) as exc:
        mine.create_user(UserName=f"x-{uuid.uuid4().hex[:6]}")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_key_and_bad_signature_on_iam(server):
    with pytest.raises(ClientError) as exc:
        client_for(server, "AKIANOSUCHKEY0000000", "x" * 40, "iam").list_users()
    assert exc.value.response["Error"]["Code"] == "InvalidClientTokenId"
    with pytest.raises(ClientError) as exc:
        client_for(server, server.access_key, "wrong-secret", "iam").list_users()
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_aws_cli_iam_commands(aws, server, s3, bucket, tmp_path):
    name = f"cli-user-{uuid.uuid4().hex[:8]}"
    created = json.loads(aws("iam", "create-user", "--user-name", name).stdout)["User"]
    assert created["UserName"] == name
    key = json.loads(aws("iam", "create-access-key", "--user-name", name).stdout)["AccessKey"]
    assert key["UserName"] == name and key["Status"] == "Active"
    doc = tmp_path / "policy.json"
    doc.write_text(STAGING_POLICY.replace("{bucket}", bucket))
    aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "staging", "--policy-document", f"file://{doc}")
    assert json.loads(aws("iam", "list-user-policies", "--user-name", name).stdout)["PolicyNames"] == ["staging"]
    assert name in aws("iam", "list-users").stdout
    user_s3 = client_for(server, key["AccessKeyId"], key["SecretAccessKey"])
    user_s3.put_object(Bucket=bucket, Key="from-cli-user", Body=b"ok")
    aws("iam", "update-access-key", "--user-name", name, "--access-key-id", key["AccessKeyId"], "--status", "Inactive")
    with pytest.raises(ClientError):
        user_s3.put_object(Bucket=bucket, Key="from-cli-user", Body=b"again")
    aws("iam", "delete-user-policy", "--user-name", name, "--policy-name", "staging")
    aws("iam", "delete-access-key", "--user-name", name, "--access-key-id", key["AccessKeyId"])
    aws("iam", "delete-user", "--user-name", name)
    assert name not in aws("iam", "list-users").stdout
    assert json.loads(aws("sts", "get-caller-identity").stdout)["Arn"].endswith(":root")
