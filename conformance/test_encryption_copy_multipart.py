"""Server-side encryption across copies and multipart uploads, with boto3, aws-cli (--sse, --sse-c,
--sse-kms-key-id), presigned URLs, and keys made with `martlet admin kms create-key`."""
import base64
import hashlib
import json
import os
import subprocess

import pytest
import requests
from botocore.exceptions import ClientError

from cluster_helpers import data_args
from conftest import make_client
from s3helpers import client_error
from test_encryption import blob_files, body, customer_key

PART = 5 * 1024 * 1024


def copy_source_key(seed: bytes = b"a") -> dict:
    key = customer_key(seed)
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key["SSECustomerKey"]}


MODES = {
    "plain": ({}, {}, {}),
    "sse-s3": ({"ServerSideEncryption": "AES256"}, {}, {}),
    "sse-kms": ({"ServerSideEncryption": "aws:kms"}, {}, {}),
    "sse-c": (customer_key(), customer_key(), copy_source_key()),
}


@pytest.mark.parametrize("source", list(MODES))
@pytest.mark.parametrize("dest", list(MODES))
def test_copy_between_encryption_modes(s3_tls, tls_bucket, source, dest):
    put_args, read_args, copy_args = MODES[source]
    dest_args, dest_read, _ = MODES[dest]
    data = body(150_000)
    s3_tls.put_object(Bucket=tls_bucket, Key="src", Body=data, **put_args)
    copied = s3_tls.copy_object(Bucket=tls_bucket, Key="dst", CopySource={"Bucket": tls_bucket, "Key": "src"},
                                **copy_args, **dest_args)
    expected_mode = {"sse-s3": "AES256", "sse-kms": "aws:kms"}.get(dest)
    assert copied.get("ServerSideEncryption") == expected_mode
    got = s3_tls.get_object(Bucket=tls_bucket, Key="dst", **dest_read)
    assert got["Body"].read() == data
    assert got.get("ServerSideEncryption") == expected_mode
    assert ("SSECustomerAlgorithm" in got) == (dest == "sse-c")
    # The source is as it was.
    assert s3_tls.get_object(Bucket=tls_bucket, Key="src", **read_args)["Body"].read() == data


def test_copy_of_sse_c_source_needs_its_key(s3_tls, tls_bucket):
    s3_tls.put_object(Bucket=tls_bucket, Key="src", Body=b"secret", **customer_key())
    with pytest.raises(ClientError) as e:
        s3_tls.copy_object(Bucket=tls_bucket, Key="dst", CopySource={"Bucket": tls_bucket, "Key": "src"})
    assert client_error(e.value)[0] == 400
    with pytest.raises(ClientError) as e:
        s3_tls.copy_object(Bucket=tls_bucket, Key="dst", CopySource={"Bucket": tls_bucket, "Key": "src"},
                           **copy_source_key(b"other"))
    assert client_error(e.value) == (403, "AccessDenied")
    assert s3_tls.list_objects_v2(Bucket=tls_bucket)["KeyCount"] == 1


def test_copy_with_same_encryption_shares_blobs(server_factory):
    srv = server_factory.start("share")
    client = make_client(srv)
    client.create_bucket(Bucket="share")
    client.put_object(Bucket="share", Key="a", Body=body(100_000), ServerSideEncryption="AES256")
    client.copy_object(Bucket="share", Key="b", CopySource={"Bucket": "share", "Key": "a"}, ServerSideEncryption="AES256")
    assert len(blob_files(srv)) == 1, "an SSE-S3 copy of an SSE-S3 object shares its sealed blob"
    client.copy_object(Bucket="share", Key="c", CopySource={"Bucket": "share", "Key": "a"})
    assert len(blob_files(srv)) == 2, "a plain copy of an encrypted object is written again, in the clear"
    assert client.get_object(Bucket="share", Key="c")["Body"].read() == client.get_object(Bucket="share", Key="a")["Body"].read()


@pytest.mark.parametrize("mode", ["sse-s3", "sse-kms", "sse-c"])
def test_multipart_upload_encrypted(s3_tls, tls_bucket, mode):
    args, read_args, _ = MODES[mode]
    created = s3_tls.create_multipart_upload(Bucket=tls_bucket, Key="mp", **args)
    upload = created["UploadId"]
    part_args = read_args if mode == "sse-c" else {}
    chunks = [body(PART), body(PART)[::-1], b"tail" * 1000]
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        part = s3_tls.upload_part(Bucket=tls_bucket, Key="mp", UploadId=upload, PartNumber=number, Body=chunk, **part_args)
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
    done = s3_tls.complete_multipart_upload(Bucket=tls_bucket, Key="mp", UploadId=upload,
                                            MultipartUpload={"Parts": parts}, **part_args)
    if mode == "sse-s3":
        assert done["ServerSideEncryption"] == "AES256"
    whole = b"".join(chunks)
    got = s3_tls.get_object(Bucket=tls_bucket, Key="mp", **read_args)
    assert got["Body"].read() == whole
    start = PART - 10
    ranged = s3_tls.get_object(Bucket=tls_bucket, Key="mp", Range=f"bytes={start}-{start + 99}", **read_args)
    assert ranged["Body"].read() == whole[start:start + 100]
    second = s3_tls.get_object(Bucket=tls_bucket, Key="mp", PartNumber=2, **read_args)
    assert second["Body"].read() == chunks[1]


def test_sse_c_multipart_needs_the_key_on_every_part(s3_tls, tls_bucket):
    upload = s3_tls.create_multipart_upload(Bucket=tls_bucket, Key="mp", **customer_key())["UploadId"]
    with pytest.raises(ClientError) as e:
        s3_tls.upload_part(Bucket=tls_bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x")
    assert client_error(e.value) == (400, "InvalidRequest")
    with pytest.raises(ClientError) as e:
        s3_tls.upload_part(Bucket=tls_bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x", **customer_key(b"other"))
    assert client_error(e.value) == (400, "InvalidRequest")
    assert s3_tls.list_parts(Bucket=tls_bucket, Key="mp", UploadId=upload).get("Parts", []) == []
    s3_tls.abort_multipart_upload(Bucket=tls_bucket, Key="mp", UploadId=upload)


@pytest.mark.parametrize("source", ["plain", "sse-s3", "sse-c"])
def test_upload_part_copy_into_encrypted_upload(s3_tls, tls_bucket, source):
    put_args, _, copy_args = MODES[source]
    data = body(PART + 1000)
    s3_tls.put_object(Bucket=tls_bucket, Key="src", Body=data, **put_args)
    upload = s3_tls.create_multipart_upload(Bucket=tls_bucket, Key="mp", ServerSideEncryption="aws:kms")["UploadId"]
    part1 = s3_tls.upload_part_copy(Bucket=tls_bucket, Key="mp", UploadId=upload, PartNumber=1,
                                    CopySource={"Bucket": tls_bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{PART - 1}", **copy_args)
    part2 = s3_tls.upload_part_copy(Bucket=tls_bucket, Key="mp", UploadId=upload, PartNumber=2,
                                    CopySource={"Bucket": tls_bucket, "Key": "src"}, CopySourceRange=f"bytes={PART}-{PART + 999}", **copy_args)
    s3_tls.complete_multipart_upload(Bucket=tls_bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": part1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": part2["CopyPartResult"]["ETag"]}]})
    got = s3_tls.get_object(Bucket=tls_bucket, Key="mp")
    assert got["ServerSideEncryption"] == "aws:kms"
    assert got["Body"].read() == data


def test_checksums_are_of_the_plaintext(s3_tls, tls_bucket):
    data = body(70_000)
    put = s3_tls.put_object(Bucket=tls_bucket, Key="k", Body=data, ChecksumAlgorithm="SHA256", **customer_key())
    assert put["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    with pytest.raises(ClientError) as e:
        s3_tls.put_object(Bucket=tls_bucket, Key="bad", Body=data, ChecksumSHA256=base64.b64encode(b"0" * 32).decode(),
                          ServerSideEncryption="AES256")
    assert client_error(e.value) == (400, "BadDigest")
    head = s3_tls.head_object(Bucket=tls_bucket, Key="k", ChecksumMode="ENABLED", **customer_key())
    assert head["ChecksumSHA256"] == put["ChecksumSHA256"]


def test_presigned_get_with_sse_c_headers(s3_tls, tls_bucket, tls_server):
    key = customer_key()
    s3_tls.put_object(Bucket=tls_bucket, Key="k", Body=b"presigned secret", **key)
    url = s3_tls.generate_presigned_url("get_object", Params={"Bucket": tls_bucket, "Key": "k", **key})
    raw_key = key["SSECustomerKey"].encode()
    headers = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
               "x-amz-server-side-encryption-customer-key": base64.b64encode(raw_key).decode(),
               "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(raw_key).digest()).decode()}
    answer = requests.get(url, headers=headers, verify=tls_server.verify)
    assert answer.status_code == 200 and answer.content == b"presigned secret"
    assert requests.get(url, verify=tls_server.verify).status_code in (400, 403)


def test_aws_cli_sse_flags(aws, s3_tls, tls_bucket, tmp_path, tls_server):
    source = tmp_path / "file.bin"
    data = body(9 * 1024 * 1024)  # above the CLI's multipart threshold
    source.write_bytes(data)
    aws("s3", "cp", str(source), f"s3://{tls_bucket}/sse", "--sse", "AES256", tls=True)
    assert s3_tls.head_object(Bucket=tls_bucket, Key="sse")["ServerSideEncryption"] == "AES256"
    aws("s3", "cp", str(source), f"s3://{tls_bucket}/kms", "--sse", "aws:kms", tls=True)
    arn = s3_tls.head_object(Bucket=tls_bucket, Key="kms")["SSEKMSKeyId"]
    aws("s3", "cp", str(source), f"s3://{tls_bucket}/kms-named", "--sse", "aws:kms", "--sse-kms-key-id", "alias/aws/s3", tls=True)
    named = s3_tls.head_object(Bucket=tls_bucket, Key="kms-named")
    assert named["ServerSideEncryption"] == "aws:kms" and named["SSEKMSKeyId"] == arn
    refused = aws("s3", "cp", str(source), f"s3://{tls_bucket}/kms-unknown", "--sse", "aws:kms", "--sse-kms-key-id",
                  "alias/no-such-key", tls=True, check=False)
    assert refused.returncode != 0 and "KMS.NotFoundException" in refused.stderr
    secret = "0123456789abcdef0123456789abcdef"
    aws("s3", "cp", str(source), f"s3://{tls_bucket}/ssec", "--sse-c", "AES256", "--sse-c-key", secret, tls=True)
    back = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{tls_bucket}/ssec", str(back), "--sse-c", "AES256", "--sse-c-key", secret, tls=True)
    assert back.read_bytes() == data
    failed = aws("s3", "cp", f"s3://{tls_bucket}/ssec", str(tmp_path / "no.bin"), tls=True, check=False)
    assert failed.returncode != 0
    head = json.loads(aws("s3api", "head-object", "--bucket", tls_bucket, "--key", "kms", tls=True).stdout)
    assert head["ServerSideEncryption"] == "aws:kms"


def test_admin_kms_keys_and_unknown_key(server_factory):
    srv = server_factory.start("kms")
    made = subprocess.run([str(srv.binary), "admin", "kms", "create-key", *data_args(srv), "--alias", "media",
                           "--json"], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    arn = json.loads(made.stdout)[0]["arn"]
    listed = subprocess.run([str(srv.binary), "admin", "kms", "list-keys", *data_args(srv), "--json"],
                            capture_output=True, text=True, timeout=60)
    assert arn in [k["arn"] for k in json.loads(listed.stdout)]
    client = make_client(srv)
    client.create_bucket(Bucket="kms")
    # A key made while the server runs is usable at once, by ARN or alias.
    for name in (arn, "alias/media"):
        put = client.put_object(Bucket="kms", Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=name)
        assert put["SSEKMSKeyId"] == arn
    with pytest.raises(ClientError) as e:
        client.put_object(Bucket="kms", Key="k2", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/none")
    assert client_error(e.value) == (400, "KMS.NotFoundException")
    client.put_bucket_encryption(Bucket="kms", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn}, "BucketKeyEnabled": True}]})
    put = client.put_object(Bucket="kms", Key="defaulted", Body=b"y")
    assert put["SSEKMSKeyId"] == arn and put["BucketKeyEnabled"] is True
    # Encrypted objects survive a restart (the keys are in the data folder).
    srv.stop()
    srv.start()
    assert make_client(srv).get_object(Bucket="kms", Key="defaulted")["Body"].read() == b"y"


@pytest.mark.single_node(reason="kms rotate on a cluster waits until no node has sent a heartbeat for 30 s")
def test_master_key_rotation_reseals_without_rewriting_objects(server_factory):
    srv = server_factory.start("rotate")
    client = make_client(srv)
    client.create_bucket(Bucket="rotate")
    data = body(200_000)
    client.put_object(Bucket="rotate", Key="s3", Body=data, ServerSideEncryption="AES256")
    client.put_object(Bucket="rotate", Key="kms", Body=data, ServerSideEncryption="aws:kms")
    [sealed_blob] = [p for p in blob_files(srv) if p.read_bytes()[:4] == b"MKE\x01" and p.read_bytes()[4] == 1]
    before_blob = sealed_blob.read_bytes()
    key_file = srv.data_dir / "master.key"
    before_key = key_file.read_text()

    rotate = [str(srv.binary), "admin", "kms", "rotate", "--data", str(srv.data_dir)]
    refused = subprocess.run(rotate, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "server is using" in refused.stderr, "a running server's key is never rotated"

    srv.stop()
    done = subprocess.run(rotate, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 SSE-S3 blob envelopes" in done.stdout and "1 KMS keys" in done.stdout
    after_key = key_file.read_text()
    assert after_key != before_key and len(after_key.split()) == 1
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    after_blob = sealed_blob.read_bytes()
    assert after_blob[:96] != before_blob[:96], "the data key is sealed under the new master key"
    assert after_blob[96:] == before_blob[96:], "the object's sealed bytes are not rewritten"

    srv.start()
    client = make_client(srv)  # the operator's secret was re-sealed too: its signature still verifies
    assert client.get_object(Bucket="rotate", Key="s3")["Body"].read() == data
    assert client.get_object(Bucket="rotate", Key="kms")["Body"].read() == data


@pytest.mark.single_node(reason="kms rotate on a cluster waits until no node has sent a heartbeat for 30 s")
def test_rotation_cut_short_is_finished_by_running_it_again(server_factory):
    srv = server_factory.start("resume")
    client = make_client(srv)
    client.create_bucket(Bucket="resume")
    client.put_object(Bucket="resume", Key="k", Body=b"kept", ServerSideEncryption="AES256")
    srv.stop()
    key_file = srv.data_dir / "master.key"
    old = key_file.read_text().strip()
    # As a rotation leaves the key file after its first step: the new key first, the old one after it.
    new = base64.b64encode(os.urandom(32)).decode()
    key_file.write_text(f"{new}\n{old}\n")
    srv.start()
    assert make_client(srv).get_object(Bucket="resume", Key="k")["Body"].read() == b"kept", "both keys open during a rotation"
    srv.stop()
    done = subprocess.run([str(srv.binary), "admin", "kms", "rotate", "--data", str(srv.data_dir)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert key_file.read_text().split() == [new]
    srv.start()
    assert make_client(srv).get_object(Bucket="resume", Key="k")["Body"].read() == b"kept"
