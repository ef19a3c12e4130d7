"""SSE-KMS across accounts: every KMS key belongs to an account, as on AWS.

Key ids and aliases are looked up in the requester's account and ARNs in the account they name; another account's
key is usable only where its key policy says so; each account's default `aws:kms` key is its own `alias/aws/s3`; and
S3 uses a key for a caller only with `kms:GenerateDataKey` (writes) or `kms:Decrypt` (reads) on it: the key policy
must allow the caller, and an IAM user whose account the policy names needs its own policy to allow it too.
Keys are made with `martlet admin kms create-key --account ID [--policy FILE]` on the running server's folder.
"""
from __future__ import annotations

import json
import subprocess
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from access_helpers import add_account, admin, anonymous_client, policy
from cluster_helpers import data_args
from conftest import bucket_name, empty_and_delete
from s3helpers import client_error


def create_key(binary, server, *args: str, check: bool = True) -> dict | subprocess.CompletedProcess:
    """`martlet admin kms create-key --data FOLDER ARGS --json`: the key's description (arn, keyId, account...)."""
    done = subprocess.run([str(binary), "admin", "kms", "create-key", *data_args(server), *args, "--json"],
                          capture_output=True, text=True, timeout=60)
    if not check:
        return done
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[0]


def operator_id(binary, server) -> str:
    return json.loads(admin(binary, server, "account", "info", "martlet", "--json").stdout)["accountId"]


def error_of(call) -> tuple[int, str]:
    with pytest.raises(ClientError) as e:
        call()
    return client_error(e.value)


def allow(actions, resources) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


@pytest.fixture
def account_b(martlet_bin, server):
    """A fresh second account, with a bucket of its own (emptied and deleted afterwards)."""
    account = add_account(martlet_bin, server)
    name = f"mt-b-{uuid.uuid4().hex[:12]}"
    account.s3.create_bucket(Bucket=name)
    account.bucket = name
    yield account
    empty_and_delete(account.s3, name)


def test_another_account_cannot_encrypt_with_a_key_by_alias_id_or_arn(martlet_bin, server, s3, bucket, account_b):
    alias = f"opkey-{uuid.uuid4().hex[:8]}"
    key = create_key(martlet_bin, server, "--alias", alias)
    assert key["account"] == operator_id(martlet_bin, server)
    assert s3.put_object(Bucket=bucket, Key="own", Body=b"x", ServerSideEncryption="aws:kms",
                         SSEKMSKeyId=f"alias/{alias}")["SSEKMSKeyId"] == key["arn"]
    b = account_b.s3
    missing_arn = key["arn"].rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    # An alias or a key id is looked up in B's own account, which has no such key; an ARN names A's key, which
    # A's key policy does not let B use, and a missing key of A is refused alike (B learns nothing of A's keys).
    for name, expected in ((f"alias/{alias}", (400, "KMS.NotFoundException")), (key["keyId"], (400, "KMS.NotFoundException")),
                           (key["arn"], (403, "AccessDenied")), (missing_arn, (403, "AccessDenied"))):
        assert error_of(lambda: b.put_object(Bucket=account_b.bucket, Key="stolen", Body=b"x",
                                             ServerSideEncryption="aws:kms", SSEKMSKeyId=name)) == expected, name
        assert error_of(lambda: b.create_multipart_upload(Bucket=account_b.bucket, Key="stolen", ServerSideEncryption="aws:kms",
                                                          SSEKMSKeyId=name)) == expected, name
    assert b.list_objects_v2(Bucket=account_b.bucket)["KeyCount"] == 0
    assert b.list_multipart_uploads(Bucket=account_b.bucket).get("Uploads", []) == []
    # A bucket default naming A's key by its ARN is accepted (nothing is looked up in A), but no write can use it.
    b.put_bucket_encryption(Bucket=account_b.bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["arn"]}}]})
    assert error_of(lambda: b.put_object(Bucket=account_b.bucket, Key="defaulted", Body=b"x")) == (403, "AccessDenied")
    assert error_of(lambda: b.put_bucket_encryption(Bucket=account_b.bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": f"alias/{alias}"}}]})) == \
        (400, "KMS.NotFoundException")
    # Nor can B copy an object into its bucket under A's key.
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({"Effect": "Allow", "Principal": {"AWS": account_b.account_id},
                                                       "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    assert error_of(lambda: b.copy_object(Bucket=account_b.bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "plain"},
                                          ServerSideEncryption="aws:kms", SSEKMSKeyId=key["arn"])) == (403, "AccessDenied")
    # B's own key of the same alias is B's to use, and is not A's.
    mine = create_key(martlet_bin, server, "--alias", alias, "--account", account_b.account_id)
    assert mine["account"] == account_b.account_id and mine["keyId"] != key["keyId"]
    put = b.put_object(Bucket=account_b.bucket, Key="own", Body=b"y", ServerSideEncryption="aws:kms", SSEKMSKeyId=f"alias/{alias}")
    assert put["SSEKMSKeyId"] == mine["arn"] and f":{account_b.account_id}:key/" in mine["arn"]
    assert b.get_object(Bucket=account_b.bucket, Key="own")["Body"].read() == b"y"


def test_each_account_has_its_own_default_key(server, s3, bucket, account_b, martlet_bin):
    mine = s3.put_object(Bucket=bucket, Key="k", Body=b"a", ServerSideEncryption="aws:kms")["SSEKMSKeyId"]
    theirs = account_b.s3.put_object(Bucket=account_b.bucket, Key="k", Body=b"b", ServerSideEncryption="aws:kms")["SSEKMSKeyId"]
    assert f":{operator_id(martlet_bin, server)}:key/" in mine
    assert f":{account_b.account_id}:key/" in theirs
    assert mine.rsplit("/", 1)[1] != theirs.rsplit("/", 1)[1]
    # alias/aws/s3 and a bucket default without a key name each account's own managed key.
    assert account_b.s3.put_object(Bucket=account_b.bucket, Key="named", Body=b"c", ServerSideEncryption="aws:kms",
                                   SSEKMSKeyId="alias/aws/s3")["SSEKMSKeyId"] == theirs
    account_b.s3.put_bucket_encryption(Bucket=account_b.bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    assert account_b.s3.put_object(Bucket=account_b.bucket, Key="defaulted", Body=b"d")["SSEKMSKeyId"] == theirs
    assert account_b.s3.get_object(Bucket=account_b.bucket, Key="defaulted")["Body"].read() == b"d"
    listed = subprocess.run([str(martlet_bin), "admin", "kms", "list-keys", *data_args(server), "--account",
                             account_b.account_id, "--json"], capture_output=True, text=True, timeout=60)
    keys = json.loads(listed.stdout)
    assert [(k["arn"], k["alias"], k["account"]) for k in keys] == [(theirs, "alias/aws/s3", account_b.account_id)]
    assert json.loads(keys[0]["policy"])["Statement"][0]["Condition"] == {
        "StringEquals": {"kms:CallerAccount": account_b.account_id}}


def test_iam_user_needs_kms_permissions_on_a_customer_key(martlet_bin, server, s3, bucket, make_user, iam):
    key = create_key(martlet_bin, server, "--alias", f"team-{uuid.uuid4().hex[:8]}")
    s3_only = allow("s3:*", [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])
    user = make_user(policy(s3_only))
    kms = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key["arn"]}
    # The default key policy lets the account's IAM policies decide, and this user's says nothing of KMS.
    assert error_of(lambda: user.s3.put_object(Bucket=bucket, Key="k", Body=b"x", **kms)) == (403, "AccessDenied")
    assert error_of(lambda: user.s3.create_multipart_upload(Bucket=bucket, Key="k", **kms)) == (403, "AccessDenied")
    fields = {"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": key["arn"]}
    form = user.s3.generate_presigned_post(bucket, "posted", Fields=fields, Conditions=[{k: v} for k, v in fields.items()])
    answer = requests.post(form["url"], files=[(k, (None, v)) for k, v in form["fields"].items()] + [("file", ("f", b"x"))],
                           allow_redirects=False, timeout=30)
    assert answer.status_code == 403 and b"<Code>AccessDenied</Code>" in answer.content, answer.content
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    # The account's managed aws/s3 key needs no KMS permission: its policy lets every principal of the account in.
    assert user.s3.put_object(Bucket=bucket, Key="managed", Body=b"m", ServerSideEncryption="aws:kms")["ServerSideEncryption"] == "aws:kms"
    assert user.s3.get_object(Bucket=bucket, Key="managed")["Body"].read() == b"m"
    # GenerateDataKey on this key's ARN lets it write, not read; HEAD reads no bytes and needs neither.
    iam.put_user_policy(UserName=user.name, PolicyName="inline", PolicyDocument=policy(
        s3_only, allow("kms:GenerateDataKey", key["arn"])))
    assert user.s3.put_object(Bucket=bucket, Key="k", Body=b"secret", **kms)["SSEKMSKeyId"] == key["arn"]
    assert error_of(lambda: user.s3.get_object(Bucket=bucket, Key="k")) == (403, "AccessDenied")
    assert user.s3.head_object(Bucket=bucket, Key="k")["SSEKMSKeyId"] == key["arn"]
    assert error_of(lambda: user.s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED"))[0] == 403
    assert error_of(lambda: user.s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})) == \
        (403, "AccessDenied")
    # A multipart upload: its creation generates, each part needs Decrypt as on AWS.
    upload = user.s3.create_multipart_upload(Bucket=bucket, Key="mp", **kms)["UploadId"]
    assert error_of(lambda: user.s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p")) == \
        (403, "AccessDenied")
    # A policy naming another key grants nothing on this one.
    iam.put_user_policy(UserName=user.name, PolicyName="inline", PolicyDocument=policy(
        s3_only, allow("kms:*", key["arn"].rsplit("/", 1)[0] + "/11111111-2222-4333-8444-555555555555")))
    assert error_of(lambda: user.s3.put_object(Bucket=bucket, Key="k2", Body=b"x", **kms)) == (403, "AccessDenied")
    # With both it reads, copies, uploads parts; an explicit Deny still wins.
    iam.put_user_policy(UserName=user.name, PolicyName="inline", PolicyDocument=policy(
        s3_only, allow(["kms:GenerateDataKey", "kms:Decrypt"], key["arn"])))
    assert user.s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"
    assert user.s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})
    user.s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p")
    user.s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)
    # Completing needs no KMS permission, unless the upload carries checksums: then Decrypt, as on AWS.
    uploads = {}
    for name, extra in (("plain", {}), ("summed", {"ChecksumAlgorithm": "SHA256"})):
        made = user.s3.create_multipart_upload(Bucket=bucket, Key=name, **kms, **extra)["UploadId"]
        part = user.s3.upload_part(Bucket=bucket, Key=name, UploadId=made, PartNumber=1, Body=b"p", **extra)
        uploads[name] = made, {"Parts": [{"PartNumber": 1, "ETag": part["ETag"], **(
            {"ChecksumSHA256": part["ChecksumSHA256"]} if extra else {})}]}
    iam.put_user_policy(UserName=user.name, PolicyName="inline", PolicyDocument=policy(
        s3_only, allow("kms:GenerateDataKey", key["arn"])))
    made, parts = uploads["summed"]
    assert error_of(lambda: user.s3.complete_multipart_upload(Bucket=bucket, Key="summed", UploadId=made,
                                                              MultipartUpload=parts)) == (403, "AccessDenied")
    made, parts = uploads["plain"]
    assert user.s3.complete_multipart_upload(Bucket=bucket, Key="plain", UploadId=made, MultipartUpload=parts)["SSEKMSKeyId"] == key["arn"]
    iam.put_user_policy(UserName=user.name, PolicyName="inline", PolicyDocument=policy(
        s3_only, allow(["kms:GenerateDataKey", "kms:Decrypt"], key["arn"])))
    made, parts = uploads["summed"]
    user.s3.complete_multipart_upload(Bucket=bucket, Key="summed", UploadId=made, MultipartUpload=parts)
    assert user.s3.get_object(Bucket=bucket, Key="summed")["Body"].read() == b"p"
    iam.put_user_policy(UserName=user.name, PolicyName="inline", PolicyDocument=policy(
        s3_only, allow(["kms:GenerateDataKey", "kms:Decrypt"], key["arn"]),
        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}))
    assert error_of(lambda: user.s3.get_object(Bucket=bucket, Key="k")) == (403, "AccessDenied")
    # The root of the key's account needs no IAM policy.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"


def test_cross_account_reader_needs_the_bucket_grant_and_the_key_grant(martlet_bin, server, s3, bucket, account_b, tmp_path):
    owner = operator_id(martlet_bin, server)
    shared_policy = tmp_path / "shared.json"
    shared_policy.write_text(policy(
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "ReaderAccount", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_b.account_id}:root"},
         "Action": "kms:Decrypt", "Resource": "*"}))
    shared = create_key(martlet_bin, server, "--account", "martlet", "--policy", str(shared_policy))
    private = create_key(martlet_bin, server)
    s3.put_object(Bucket=bucket, Key="shared", Body=b"shared", ServerSideEncryption="aws:kms", SSEKMSKeyId=shared["arn"])
    s3.put_object(Bucket=bucket, Key="private", Body=b"private", ServerSideEncryption="aws:kms", SSEKMSKeyId=private["arn"])
    s3.put_object(Bucket=bucket, Key="managed", Body=b"managed", ServerSideEncryption="aws:kms")
    s3.put_object(Bucket=bucket, Key="sse-s3", Body=b"s3", ServerSideEncryption="AES256")
    b = account_b.s3
    # The key grant alone: no bucket grant, no read.
    assert error_of(lambda: b.get_object(Bucket=bucket, Key="shared")) == (403, "AccessDenied")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({"Effect": "Allow", "Principal": {"AWS": account_b.account_id},
                                                       "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    # The bucket grant alone: no read of objects under keys B may not use (the owner's aws/s3 key included).
    assert b.get_object(Bucket=bucket, Key="sse-s3")["Body"].read() == b"s3"
    for key in ("private", "managed"):
        assert error_of(lambda: b.get_object(Bucket=bucket, Key=key)) == (403, "AccessDenied"), key
        assert error_of(lambda: b.copy_object(Bucket=account_b.bucket, Key=key, CopySource={"Bucket": bucket, "Key": key})) == \
            (403, "AccessDenied"), key
    # Both: B's root reads and copies it (the copy under B's own default key).
    assert b.get_object(Bucket=bucket, Key="shared")["Body"].read() == b"shared"
    copied = b.copy_object(Bucket=account_b.bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "shared"},
                           ServerSideEncryption="aws:kms")
    assert f":{account_b.account_id}:key/" in copied["SSEKMSKeyId"]
    assert b.get_object(Bucket=account_b.bucket, Key="copy")["Body"].read() == b"shared"
    # The key policy gives B Decrypt only: B cannot write with the key.
    assert error_of(lambda: b.put_object(Bucket=account_b.bucket, Key="w", Body=b"w", ServerSideEncryption="aws:kms",
                                         SSEKMSKeyId=shared["arn"])) == (403, "AccessDenied")
    # B's IAM users need B's own policy to allow both the object and the key.
    account_b.iam.create_user(UserName="reader")
    keys = account_b.iam.create_access_key(UserName="reader")["AccessKey"]
    from access_helpers import client_for
    reader = client_for(server, keys["AccessKeyId"], keys["SecretAccessKey"], retries={"max_attempts": 1})
    s3_read = allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")
    account_b.iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=policy(s3_read))
    assert reader.get_object(Bucket=bucket, Key="sse-s3")["Body"].read() == b"s3"
    assert error_of(lambda: reader.get_object(Bucket=bucket, Key="shared")) == (403, "AccessDenied")
    account_b.iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=policy(
        s3_read, allow("kms:Decrypt", shared["arn"])))
    assert reader.get_object(Bucket=bucket, Key="shared")["Body"].read() == b"shared"
    assert error_of(lambda: reader.get_object(Bucket=bucket, Key="private")) == (403, "AccessDenied")


def test_anonymous_requests_never_use_a_kms_key(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="kms", Body=b"kms", ServerSideEncryption="aws:kms")
    s3.put_object(Bucket=bucket, Key="sse-s3", Body=b"s3", ServerSideEncryption="AES256")
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"],
                                                       "Resource": f"arn:aws:s3:::{bucket}/*"}))
    anon = anonymous_client(server)
    assert anon.get_object(Bucket=bucket, Key="sse-s3")["Body"].read() == b"s3"
    # AWS answers an unsigned request for an SSE-KMS object this way (it asks for SigV4).
    answer = requests.get(f"{server.endpoint}/{bucket}/kms", timeout=30)
    assert answer.status_code == 400 and b"<Code>InvalidArgument</Code>" in answer.content, answer.content
    assert b"kms" not in answer.content.split(b"<Message>")[0]
    assert error_of(lambda: anon.put_object(Bucket=bucket, Key="anon", Body=b"x", ServerSideEncryption="aws:kms")) == \
        (400, "InvalidArgument")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    assert error_of(lambda: anon.put_object(Bucket=bucket, Key="anon", Body=b"x")) == (400, "InvalidArgument")
    assert "anon" not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_create_key_checks_its_account_and_policy(martlet_bin, server, tmp_path):
    assert create_key(martlet_bin, server, "--account", "000000000000", check=False).returncode != 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}')  # no Principal
    refused = create_key(martlet_bin, server, "--policy", str(bad), check=False)
    assert refused.returncode != 0 and "Principal" in refused.stderr
    reserved = create_key(martlet_bin, server, "--alias", "aws/mine", check=False)
    assert reserved.returncode != 0
    alias = f"dup-{uuid.uuid4().hex[:8]}"
    create_key(martlet_bin, server, "--alias", alias)
    assert create_key(martlet_bin, server, "--alias", alias, check=False).returncode != 0
    made = create_key(martlet_bin, server)
    assert json.loads(made["policy"])["Statement"] == [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{made['account']}:root"},
        "Action": "kms:*", "Resource": "*"}]


def test_key_policy_conditions_see_the_encryption_context(martlet_bin, server, s3, bucket, request, tmp_path):
    """S3 names the object in the encryption context (aws:s3:arn) and adds the request's own pairs, as on AWS."""
    import base64
    owner = operator_id(martlet_bin, server)
    confined = tmp_path / "confined.json"
    confined.write_text(policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner}:root"}, "Action": "kms:*", "Resource": "*",
        "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}/*"},
                      "StringEqualsIfExists": {"kms:EncryptionContext:project": "blue"}}}))
    key = create_key(martlet_bin, server, "--policy", str(confined))
    other = bucket_name(request, "mt-other")
    s3.create_bucket(Bucket=other)
    try:
        kms = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key["arn"]}
        assert s3.put_object(Bucket=bucket, Key="k", Body=b"in", **kms)["SSEKMSKeyId"] == key["arn"]
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"in"
        assert error_of(lambda: s3.put_object(Bucket=other, Key="k", Body=b"out", **kms)) == (403, "AccessDenied")
        blue = base64.b64encode(b'{"project":"blue"}').decode()
        red = base64.b64encode(b'{"project":"red"}').decode()
        s3.put_object(Bucket=bucket, Key="blue", Body=b"blue", SSEKMSEncryptionContext=blue, **kms)
        assert s3.get_object(Bucket=bucket, Key="blue")["Body"].read() == b"blue"
        assert error_of(lambda: s3.put_object(Bucket=bucket, Key="red", Body=b"red", SSEKMSEncryptionContext=red, **kms)) == \
            (403, "AccessDenied")
    finally:
        empty_and_delete(s3, other)
