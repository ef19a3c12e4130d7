"""IAM quotas that keep one account from filling the server (users per account, access keys per user or root, a
user's aggregate inline policy size: AWS's LimitExceeded, 409), and identity changes that take effect with the very
next request: a new key signs at once, a deleted key is refused at once, a policy put or deleted decides at once."""

from __future__ import annotations

import json
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from botocore.exceptions import ClientError

from access_helpers import add_account, client_for, policy
from s3helpers import client_error, free_port


def limit_exceeded(call) -> str:
    with pytest.raises(ClientError) as exc:
        call()
    assert client_error(exc.value) == (409, "LimitExceeded"), exc.value.response
    return exc.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def small_server(session_pool):
    """A server whose accounts may hold three IAM users each."""
    return session_pool.start("three-users", extra_args=("--max-users-per-account", "3"))


def test_the_users_quota_is_per_account(small_server, martlet_bin):
    iam = client_for(small_server, small_server.access_key, small_server.secret_key, "iam")
    names = [f"q-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    for name in names:
        iam.create_user(UserName=name)
    message = limit_exceeded(lambda: iam.create_user(UserName="one-too-many"))
    assert "UsersPerAccount: 3" in message
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName="one-too-many")
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"
    assert len(iam.list_users()["Users"]) == 3

    # Another account has a quota of its own.
    other = add_account(martlet_bin, small_server)
    for name in names:
        other.iam.create_user(UserName=name)
    limit_exceeded(lambda: other.iam.create_user(UserName="one-too-many"))

    # A deleted user frees its place.
    iam.delete_user(UserName=names[0])
    iam.create_user(UserName="replacement")
    limit_exceeded(lambda: iam.create_user(UserName="one-too-many"))


def test_users_created_at_once_never_pass_the_quota(small_server, martlet_bin):
    account = add_account(martlet_bin, small_server)

    def create(n: int) -> str:
        try:
            account.iam.create_user(UserName=f"racer-{n}")
            return "created"
        except ClientError as e:
            return e.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(create, range(10)))
    assert sorted(outcomes) == ["LimitExceeded"] * 7 + ["created"] * 3
    assert len(account.iam.list_users()["Users"]) == 3


def test_a_users_quota_not_a_number_stops_start_up(martlet_bin, tmp_path):
    for value in ("0", "-1", "many"):
        proc = subprocess.run(
            [str(martlet_bin), "server", "--data", str(tmp_path / "data"), "--address", f"127.0.0.1:{free_port()}"],
            env={"MARTLET_MAX_USERS_PER_ACCOUNT": value, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
            timeout=30)
        assert proc.returncode != 0 and "max-users-per-account" in proc.stderr, (value, proc.stderr)


def test_a_root_has_two_access_keys_at_most(server, martlet_bin):
    account = add_account(martlet_bin, server)
    second = account.iam.create_access_key()["AccessKey"]
    assert "UserName" not in second
    message = limit_exceeded(lambda: account.iam.create_access_key())
    assert "AccessKeysPerUser: 2" in message
    account.iam.delete_access_key(AccessKeyId=second["AccessKeyId"])
    account.iam.create_access_key()


def test_a_users_policies_together_stay_within_2048_characters(iam, make_user):
    user = make_user()
    # 2,048 characters other than whitespace in all: two policies of 1,024 each fit, a third statement does not.
    def sized(size: int) -> str:
        head = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::'
        tail = '"}]}'
        return head + "a" * (size - len(head) - len(tail)) + tail

    iam.put_user_policy(UserName=user.name, PolicyName="a", PolicyDocument=sized(1024))
    # Whitespace does not count: the same policy pretty-printed still fits.
    iam.put_user_policy(UserName=user.name, PolicyName="b", PolicyDocument=json.dumps(json.loads(sized(1024)), indent=4))
    message = limit_exceeded(lambda: iam.put_user_policy(UserName=user.name, PolicyName="c", PolicyDocument=sized(100)))
    assert "2048" in message and user.name in message
    assert sorted(iam.list_user_policies(UserName=user.name)["PolicyNames"]) == ["a", "b"]
    # Replacing a policy counts its new size in place of the old one.
    iam.put_user_policy(UserName=user.name, PolicyName="a", PolicyDocument=sized(900))
    iam.put_user_policy(UserName=user.name, PolicyName="c", PolicyDocument=sized(124))
    limit_exceeded(lambda: iam.put_user_policy(UserName=user.name, PolicyName="a", PolicyDocument=sized(901)))


@pytest.mark.single_node(reason="asserts the very next request; across nodes the bound is 1 s, which test_cluster.py checks")
def test_identity_changes_decide_the_very_next_request(iam, server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="doc", Body=b"content")
    name = f"at-once-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_s3 = client_for(server, key["AccessKeyId"], key["SecretAccessKey"], retries={"max_attempts": 1})
    sts = client_for(server, key["AccessKeyId"], key["SecretAccessKey"], "sts")
    try:
        # The new key signs at once; without a policy the user may do nothing.
        assert sts.get_caller_identity()["Arn"].endswith(f":user/{name}")
        with pytest.raises(ClientError) as exc:
            user_s3.get_object(Bucket=bucket, Key="doc")
        assert client_error(exc.value) == (403, "AccessDenied")

        read = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
        iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=read)
        assert user_s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"content"

        deny = policy({"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/doc"})
        iam.put_user_policy(UserName=name, PolicyName="deny", PolicyDocument=deny)
        with pytest.raises(ClientError) as exc:
            user_s3.get_object(Bucket=bucket, Key="doc")
        assert client_error(exc.value) == (403, "AccessDenied")
        iam.delete_user_policy(UserName=name, PolicyName="deny")
        assert user_s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"content"

        iam.delete_user_policy(UserName=name, PolicyName="read")
        with pytest.raises(ClientError) as exc:
            user_s3.get_object(Bucket=bucket, Key="doc")
        assert client_error(exc.value) == (403, "AccessDenied")

        iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=read)
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        with pytest.raises(ClientError) as exc:
            user_s3.get_object(Bucket=bucket, Key="doc")
        assert client_error(exc.value) == (403, "InvalidAccessKeyId")
    finally:
        for p in iam.list_user_policies(UserName=name)["PolicyNames"]:
            iam.delete_user_policy(UserName=name, PolicyName=p)
        for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
        iam.delete_user(UserName=name)


def test_quotas_are_not_a_way_around_authorization(small_server, martlet_bin):
    """Another account, a user without IAM rights and an anonymous caller cannot create users in an account."""
    owner = add_account(martlet_bin, small_server)
    owner.iam.create_user(UserName="limited")
    limited_key = owner.iam.create_access_key(UserName="limited")["AccessKey"]
    limited = client_for(small_server, limited_key["AccessKeyId"], limited_key["SecretAccessKey"], "iam")
    with pytest.raises(ClientError) as exc:
        limited.create_user(UserName="sneaky")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    # Another account's root creates in its own account, never in this one.
    intruder = add_account(martlet_bin, small_server)
    intruder.iam.create_user(UserName="sneaky")
    assert [u["UserName"] for u in owner.iam.list_users()["Users"]] == ["limited"]
    response = requests.post(small_server.endpoint + "/", data={"Action": "CreateUser", "UserName": "anon",
                                                               "Version": "2010-05-08"}, timeout=10)
    assert response.status_code == 403
    assert [u["UserName"] for u in owner.iam.list_users()["Users"]] == ["limited"]


def test_the_users_quota_from_the_configuration_file(server_factory, tmp_path):
    config = tmp_path / "martlet.yaml"
    config.write_text("max-users-per-account: 1\n")
    srv = server_factory.start("quota-file", extra_args=("--config", str(config)))
    iam = client_for(srv, srv.access_key, srv.secret_key, "iam")
    iam.create_user(UserName="only")
    assert "UsersPerAccount: 1" in limit_exceeded(lambda: iam.create_user(UserName="second"))
