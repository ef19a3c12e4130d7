"""`martlet admin migrate-index`: a stopped single server's SQLite index copied into an empty PostgreSQL database,
after which a cluster node over the same data folder serves everything the server held, as it held it.

Needs a PostgreSQL server (MARTLET_TEST_POSTGRES, set by ./scripts/with-postgres.sh, which `make test` wraps the
conformance run in); each test makes its own databases. The tests start their own single servers and nodes, so they
run the same in either topology and are marked single_node (nothing to repeat in a cluster run).
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from access_helpers import add_account, client_for, policy
from cluster_helpers import POSTGRES_ENV, create_database, psql
from s3helpers import MartletServer, client_error

pytestmark = [
    pytest.mark.skipif(not os.environ.get(POSTGRES_ENV),
                       reason=f"needs a PostgreSQL server: {POSTGRES_ENV} (run under ./scripts/with-postgres.sh)"),
    pytest.mark.single_node(reason="migrates a single server's folder and starts its own node on it"),
]

PART = 5 * 1024 * 1024


def migrate(binary: Path, data: Path, url: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MARTLET_"))}
    clean.update(env or {})
    return subprocess.run([str(binary), "admin", "migrate-index", "--from", str(data), "--to", url],
                          capture_output=True, text=True, timeout=300, env=clean)


def start_node(single: MartletServer, url: str, name: str = "a") -> MartletServer:
    """A cluster node over the single server's folder and keys, started like the command migrate-index prints."""
    node = MartletServer(binary=single.binary, data_dir=single.data_dir, log_dir=single.log_dir.parent / f"node-{name}",
                         access_key=single.access_key, secret_key=single.secret_key, region=single.region)
    node.extra_args = ["--index", url, "--node-id", name]
    node.start(timeout=30)
    deadline = time.monotonic() + 30
    while requests.get(node.endpoint + "/_martlet/health/ready", timeout=2).status_code != 200:
        assert time.monotonic() < deadline, node.log_tail()
        time.sleep(0.05)
    return node


def create_kms_key(binary: Path, data: Path, alias: str) -> dict:
    done = subprocess.run([str(binary), "admin", "kms", "create-key", "--data", str(data), "--alias", alias, "--json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[0]


def snapshot(s3) -> dict:
    """Everything a client can read back of the server's buckets, keyed so that two servers compare with ==."""
    state: dict = {}
    for bucket in sorted(b["Name"] for b in s3.list_buckets()["Buckets"]):
        entry: dict = {"versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status")}
        for name, call, key in (("policy", s3.get_bucket_policy, "Policy"),
                                ("tags", s3.get_bucket_tagging, "TagSet"),
                                ("lifecycle", s3.get_bucket_lifecycle_configuration, "Rules"),
                                ("cors", s3.get_bucket_cors, "CORSRules"),
                                ("public access block", s3.get_public_access_block, "PublicAccessBlockConfiguration")):
            try:
                entry[name] = call(Bucket=bucket)[key]
            except ClientError as e:
                entry[name] = client_error(e)
        listed = s3.list_object_versions(Bucket=bucket)
        versions = []
        for v in listed.get("Versions", []):
            got = s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
            versions.append({
                "key": v["Key"], "version": v["VersionId"], "latest": v["IsLatest"], "etag": v["ETag"],
                "size": v["Size"], "modified": v["LastModified"], "body": got["Body"].read(),
                "type": got.get("ContentType"), "metadata": got.get("Metadata"),
                "sse": got.get("ServerSideEncryption"), "kms": got.get("SSEKMSKeyId"),
                "tags": s3.get_object_tagging(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["TagSet"],
            })
        entry["versions"] = versions
        entry["markers"] = [(m["Key"], m["VersionId"], m["IsLatest"], m["LastModified"])
                            for m in listed.get("DeleteMarkers", [])]
        entry["objects"] = [(o["Key"], o["ETag"], o["Size"])
                            for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        uploads = []
        for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            parts = s3.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", [])
            uploads.append((u["Key"], u["UploadId"], u["Initiated"],
                            [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts]))
        entry["uploads"] = uploads
        state[bucket] = entry
    return state


def fill(server: MartletServer, binary: Path) -> dict:
    """A bit of everything the index holds; returns what the test needs to use it again."""
    s3 = server.client()
    s3.create_bucket(Bucket="ver")
    s3.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="ver", Key="doc", Body=b"version one", Metadata={"rev": "1"})["VersionId"]
    s3.put_object(Bucket="ver", Key="doc", Body=b"version two", Metadata={"rev": "2"}, ContentType="text/plain")
    s3.put_object(Bucket="ver", Key="gone", Body=b"deleted later")
    s3.delete_object(Bucket="ver", Key="gone")
    s3.put_object(Bucket="ver", Key="tagged", Body=b"t", Tagging="team=blue&tier=1")
    upload = s3.create_multipart_upload(Bucket="ver", Key="big", Metadata={"kind": "multipart"})["UploadId"]
    parts = [s3.upload_part(Bucket="ver", Key="big", UploadId=upload, PartNumber=n, Body=body)["ETag"]
             for n, body in ((1, b"a" * PART), (2, b"tail"))]
    s3.complete_multipart_upload(Bucket="ver", Key="big", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in zip((1, 2), parts)]})
    s3.put_bucket_tagging(Bucket="ver", Tagging={"TagSet": [{"Key": "owner", "Value": "ops"}]})
    s3.put_bucket_lifecycle_configuration(Bucket="ver", LifecycleConfiguration={"Rules": [{
        "ID": "old", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 7}}]})
    s3.put_object(Bucket="ver", Key="logs/today", Body=b"log line")

    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="hello", Body=b"hello world", ContentType="text/plain")
    s3.put_object(Bucket="plain", Key="dir/na\u00efve \u65e5\u672c", Body=os.urandom(3000))
    s3.put_bucket_cors(Bucket="plain", CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["https://example.test"]}]})
    s3.delete_public_access_block(Bucket="plain")
    s3.put_bucket_policy(Bucket="plain", Policy=policy({
        "Sid": "public-read-hello", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::plain/hello"}))
    key = create_kms_key(binary, server.data_dir, "migrated")
    s3.put_object(Bucket="plain", Key="sealed-named", Body=b"kms named", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId="alias/migrated")
    s3.put_object(Bucket="plain", Key="sealed-default", Body=b"kms default", ServerSideEncryption="aws:kms")
    s3.put_object(Bucket="plain", Key="sealed-s3", Body=b"sse-s3", ServerSideEncryption="AES256")
    pending = s3.create_multipart_upload(Bucket="plain", Key="pending", ContentType="application/x-test")["UploadId"]
    pending_etag = s3.upload_part(Bucket="plain", Key="pending", UploadId=pending, PartNumber=1, Body=b"p" * PART)["ETag"]

    iam = client_for(server, server.access_key, server.secret_key, "iam")
    iam.create_user(UserName="reader")
    made = iam.create_access_key(UserName="reader")["AccessKey"]
    iam.put_user_policy(UserName="reader", PolicyName="read-plain", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::plain", "arn:aws:s3:::plain/*"]},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["arn"]}))
    other = add_account(binary, server, "other-team")
    other.s3.create_bucket(Bucket="other-bucket")
    other.s3.put_object(Bucket="other-bucket", Key="theirs", Body=b"their bytes")
    return {"first_version": first, "kms_arn": key["arn"], "pending": pending, "pending_etag": pending_etag,
            "reader": (made["AccessKeyId"], made["SecretAccessKey"]), "other": other}


def test_a_migrated_index_serves_everything_from_a_cluster_node(martlet_bin, server_factory):
    single = server_factory.start("single", single=True)
    made = fill(single, martlet_bin)
    before = snapshot(single.client())
    other_before = snapshot(made["other"].s3)
    assert single.stop() == 0
    url = create_database(os.environ[POSTGRES_ENV])

    done = migrate(martlet_bin, single.data_dir, url)
    assert done.returncode == 0, done.stderr + done.stdout
    # Every table's count, both sides, and the command to start nodes with this folder.
    counts = {line.split()[0]: line.split()[1:3] for line in done.stdout.splitlines()
              if line.split() and line.split()[0] in ("objects", "versions", "accounts", "access_keys", "kms_keys",
                                                      "uploads", "parts", "buckets", "iam_users", "user_policies")}
    assert len(counts) == 10 and all(sqlite == postgres for sqlite, postgres in counts.values()), done.stdout
    assert int(counts["buckets"][0]) == 3 and int(counts["iam_users"][0]) == 1 and int(counts["uploads"][0]) == 1
    assert f"--data '{single.data_dir}'" in done.stdout and "--node-id" in done.stdout, done.stdout
    assert "master key" in done.stdout
    assert "rows" in done.stderr  # the progress display
    assert not (single.data_dir / "index.sqlite").exists()
    assert (single.data_dir / "index.sqlite.migrated").exists()
    assert psql(url, "SELECT count(*) FROM objects")[0][0] == counts["objects"][1]

    node = start_node(single, url)
    # No retries: a write that failed once (a version number drawn twice) must show.
    s3 = node.client(retries={"max_attempts": 1})
    assert snapshot(s3) == before
    assert snapshot(client_for(node, made["other"].access_key, made["other"].secret_key)) == other_before
    # The bucket policy still lets anyone read hello, and nothing else.
    anonymous = requests.get(node.endpoint + "/plain/hello", timeout=10)
    assert anonymous.status_code == 200 and anonymous.content == b"hello world"
    assert requests.get(node.endpoint + "/plain/sealed-s3", timeout=10).status_code == 403

    # The IAM user's key works, within its policy only.
    reader = client_for(node, *made["reader"], retries={"max_attempts": 1})
    assert reader.get_object(Bucket="plain", Key="sealed-named")["Body"].read() == b"kms named"
    assert [o["Key"] for o in reader.list_objects_v2(Bucket="plain")["Contents"]][:2] == ["dir/na\u00efve \u65e5\u672c", "hello"]
    with pytest.raises(ClientError) as e:
        reader.put_object(Bucket="plain", Key="nope", Body=b"x")
    assert client_error(e.value)[1] == "AccessDenied"
    with pytest.raises(ClientError) as e:
        reader.get_object(Bucket="ver", Key="doc")
    assert client_error(e.value)[1] == "AccessDenied"

    # SSE-KMS objects decrypt under the copied key, which still encrypts new objects.
    assert s3.head_object(Bucket="plain", Key="sealed-named")["SSEKMSKeyId"] == made["kms_arn"]
    again = s3.put_object(Bucket="plain", Key="sealed-new", Body=b"new", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId="alias/migrated")
    assert again["SSEKMSKeyId"] == made["kms_arn"]
    assert s3.get_object(Bucket="plain", Key="sealed-new")["Body"].read() == b"new"

    # The upload in progress completes with its copied part and a new one.
    second = s3.upload_part(Bucket="plain", Key="pending", UploadId=made["pending"], PartNumber=2, Body=b"end")["ETag"]
    s3.complete_multipart_upload(Bucket="plain", Key="pending", UploadId=made["pending"], MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": made["pending_etag"]}, {"PartNumber": 2, "ETag": second}]})
    got = s3.get_object(Bucket="plain", Key="pending")
    assert got["Body"].read() == b"p" * PART + b"end" and got["ContentType"] == "application/x-test"

    # A new version lands after the copied ones (the version sequence continues past them).
    newest = s3.put_object(Bucket="ver", Key="doc", Body=b"version three")["VersionId"]
    versions = [v for v in s3.list_object_versions(Bucket="ver", Prefix="doc")["Versions"] if v["Key"] == "doc"]
    assert [v["VersionId"] for v in versions][0] == newest and versions[0]["IsLatest"]
    assert versions[-1]["VersionId"] == made["first_version"] and len(versions) == 3
    assert s3.get_object(Bucket="ver", Key="doc")["Body"].read() == b"version three"
    # Removing the delete marker brings the deleted object back.
    marker = s3.list_object_versions(Bucket="ver", Prefix="gone")["DeleteMarkers"][0]["VersionId"]
    s3.delete_object(Bucket="ver", Key="gone", VersionId=marker)
    assert s3.get_object(Bucket="ver", Key="gone")["Body"].read() == b"deleted later"
    node.stop()


def test_refuses_while_the_server_runs(martlet_bin, server_factory):
    single = server_factory.start("running", single=True)
    single.client().create_bucket(Bucket="stays")
    url = create_database(os.environ[POSTGRES_ENV])
    done = migrate(martlet_bin, single.data_dir, url)
    assert done.returncode != 0
    assert "a martlet server is using" in done.stderr and "stop it first" in done.stderr, done.stderr
    assert (single.data_dir / "index.sqlite").exists()
    # Refused before it touched the database.
    assert psql(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == [["0"]]
    assert [b["Name"] for b in single.client().list_buckets()["Buckets"]] == ["stays"]


def test_refuses_a_database_that_is_not_empty(martlet_bin, server_factory):
    first = server_factory.start("first", single=True)
    first.client().create_bucket(Bucket="first-bucket")
    second = server_factory.start("second", single=True)
    second.client().create_bucket(Bucket="second-bucket")
    second.client().put_object(Bucket="second-bucket", Key="k", Body=b"second")
    first.stop()
    second.stop()
    url = create_database(os.environ[POSTGRES_ENV])
    assert migrate(martlet_bin, first.data_dir, url).returncode == 0

    done = migrate(martlet_bin, second.data_dir, url)
    assert done.returncode != 0
    assert "is not empty" in done.stderr and "accounts" in done.stderr and "buckets" in done.stderr, done.stderr
    assert (second.data_dir / "index.sqlite").exists() and not (second.data_dir / "index.sqlite.migrated").exists()
    assert psql(url, "SELECT name FROM buckets") == [["first-bucket"]]
    assert psql(url, "SELECT count(*) FROM objects") == [["0"]]
    # The refused server's folder still serves as it did.
    second.start()
    assert second.client().get_object(Bucket="second-bucket", Key="k")["Body"].read() == b"second"


def test_refuses_a_master_key_that_does_not_open_the_secrets(martlet_bin, server_factory):
    single = server_factory.start("wrongkey", single=True)
    single.client().create_bucket(Bucket="sealed")
    single.stop()
    url = create_database(os.environ[POSTGRES_ENV])
    done = migrate(martlet_bin, single.data_dir, url, env={"MARTLET_MASTER_KEY": "33" * 32})
    assert done.returncode != 0
    assert "do not open under MARTLET_MASTER_KEY" in done.stderr, done.stderr
    assert (single.data_dir / "index.sqlite").exists()
    assert psql(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == [["0"]]
    # With the folder's own key it goes through, and the database is left empty by the refusal before.
    assert migrate(martlet_bin, single.data_dir, url).returncode == 0
    assert psql(url, "SELECT name FROM buckets") == [["sealed"]]


def test_a_copy_that_fails_midway_leaves_the_database_empty(martlet_bin, server_factory):
    single = server_factory.start("midway", single=True)
    s3 = single.client()
    s3.create_bucket(Bucket="half")
    for i in range(50):
        s3.put_object(Bucket="half", Key=f"k{i:02d}", Body=b"x" * i)
    upload = s3.create_multipart_upload(Bucket="half", Key="up")["UploadId"]
    s3.upload_part(Bucket="half", Key="up", UploadId=upload, PartNumber=1, Body=b"part")
    single.stop()
    # A part number PostgreSQL's integer column cannot hold: the parts come after accounts, buckets, objects and
    # blob references, so the copy fails with most of its rows already inserted.
    index = sqlite3.connect(single.data_dir / "index.sqlite")
    index.execute("UPDATE parts SET part_number = 5000000000")
    index.commit()
    index.close()
    url = create_database(os.environ[POSTGRES_ENV])
    done = migrate(martlet_bin, single.data_dir, url)
    assert done.returncode != 0
    assert "rolled back" in done.stderr and "too large" in done.stderr and "run the command again" in done.stderr, done.stderr
    for table in ("accounts", "buckets", "objects", "blob_refs", "uploads", "parts", "cluster_settings"):
        assert psql(url, f"SELECT count(*) FROM {table}") == [["0"]], table
    assert (single.data_dir / "index.sqlite").exists() and not (single.data_dir / "index.sqlite.migrated").exists()

    index = sqlite3.connect(single.data_dir / "index.sqlite")
    index.execute("UPDATE parts SET part_number = 1")
    index.commit()
    index.close()
    again = migrate(martlet_bin, single.data_dir, url)
    assert again.returncode == 0, again.stderr
    assert psql(url, "SELECT count(*) FROM objects") == [["50"]]
    assert psql(url, "SELECT bucket, current_objects, current_bytes, uploads FROM bucket_usage") == [
        ["half", "50", str(sum(range(50))), "1"]]
