"""Accounts and the operator: `martlet admin account ...` against a running server and on a stopped server's data
folder; disabled accounts are refused at once; secrets are sealed at rest and shown only once."""

import json
import os
import stat
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from access_helpers import add_account, admin, client_for
from s3helpers import client_error


def test_admin_account_lifecycle(martlet_bin, server):
    name = f"team-{uuid.uuid4().hex[:8]}"
    made = admin(martlet_bin, server, "account", "add", name, "--access-key", f"AK{uuid.uuid4().hex[:16].upper()}",
                 "--secret-key", "given/Secret+1234567890", "--email", f"{name}@example.test").stdout
    assert "given/Secret+1234567890" in made and "shown once" in made
    info = json.loads(admin(martlet_bin, server, "account", "info", name, "--json").stdout)
    assert len(info["accountId"]) == 12 and info["accountId"].isdigit()
    assert len(info["canonicalId"]) == 64 and info["arn"] == f"arn:aws:iam::{info['accountId']}:root"
    assert info["email"] == f"{name}@example.test" and not info["disabled"] and not info["operator"]
    assert "secretAccessKey" not in info and "given/Secret" not in json.dumps(info)
    listed = admin(martlet_bin, server, "account", "list").stdout
    assert name in listed and "operator" in listed
    duplicate = admin(martlet_bin, server, "account", "add", name, check=False)
    assert duplicate.returncode != 0 and "EntityAlreadyExists" in duplicate.stderr
    admin(martlet_bin, server, "account", "remove", name)
    assert name not in admin(martlet_bin, server, "account", "list").stdout
    missing = admin(martlet_bin, server, "account", "info", name, check=False)
    assert missing.returncode != 0 and "NoSuchEntity" in missing.stderr


def test_disabled_account_is_refused_at_once(martlet_bin, server):
    account = add_account(martlet_bin, server)
    account.s3.list_buckets()
    admin(martlet_bin, server, "account", "disable", account.name)
    with pytest.raises(ClientError) as exc:
        account.s3.list_buckets()
    assert client_error(exc.value) == (403, "AccessDenied")
    admin(martlet_bin, server, "account", "enable", account.name)
    account.s3.list_buckets()


def test_account_with_buckets_cannot_be_removed(martlet_bin, server):
    account = add_account(martlet_bin, server)
    name = f"mt-owned-{uuid.uuid4().hex[:8]}"
    account.s3.create_bucket(Bucket=name)
    refused = admin(martlet_bin, server, "account", "remove", account.name, check=False)
    assert refused.returncode != 0 and "DeleteConflict" in refused.stderr
    account.s3.delete_bucket(Bucket=name)
    admin(martlet_bin, server, "account", "remove", account.name)
    with pytest.raises(ClientError) as exc:
        account.s3.list_buckets()
    assert client_error(exc.value) == (403, "InvalidAccessKeyId")


def test_only_the_operator_administers_accounts(martlet_bin, server, other_account, make_user):
    user = make_user()
    for keys in ((other_account.access_key, other_account.secret_key), (user.access_key, user.secret_key)):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MARTLET_"))}
        env.update(AWS_ACCESS_KEY_ID=keys[0], AWS_SECRET_ACCESS_KEY=keys[1])
        proc = subprocess.run([str(martlet_bin), "admin", "--endpoint", server.endpoint, "account", "list"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0 and "AccessDenied" in proc.stderr
    # The admin API's path is no bucket's: an account cannot create a bucket named like it.
    with pytest.raises(ClientError):
        other_account.s3.create_bucket(Bucket="_martlet")


@pytest.mark.single_node(reason="reads the SQLite index file of the data folder")
def test_offline_admin_and_sealed_secrets_survive_restart(martlet_bin, server_factory):
    srv = server_factory.start("accounts")
    iam = client_for(srv, srv.access_key, srv.secret_key, "iam")
    iam.create_user(UserName="worker")
    key = iam.create_access_key(UserName="worker")["AccessKey"]
    iam.put_user_policy(UserName="worker", PolicyName="list", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}))
    srv.stop()
    master = srv.data_dir / "master.key"
    assert stat.S_IMODE(master.stat().st_mode) == 0o600
    index = (srv.data_dir / "index.sqlite").read_bytes() + (srv.data_dir / "index.sqlite-wal").read_bytes() \
        if (srv.data_dir / "index.sqlite-wal").exists() else (srv.data_dir / "index.sqlite").read_bytes()
    assert key["SecretAccessKey"].encode() not in index and srv.secret_key.encode() not in index
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MARTLET_"))}
    offline = subprocess.run([str(martlet_bin), "admin", "--data", str(srv.data_dir), "account", "add", "offline",
                              "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert offline.returncode == 0, offline.stderr
    made = json.loads(offline.stdout)
    srv.start()
    client_for(srv, key["AccessKeyId"], key["SecretAccessKey"]).list_buckets()
    client_for(srv, made["accessKeys"][0]["accessKeyId"], made["secretAccessKey"]).list_buckets()
    client_for(srv, srv.access_key, srv.secret_key).list_buckets()
