"""`martlet admin … --index postgres://… [--data SHARED]`: the admin commands on a cluster (nodes over one PostgreSQL
index and one shared data folder). Keys, accounts and events are changed in the database with the nodes running, and
the nodes act on the change; `kms rotate` is refused while a node runs and leaves the cluster accepting only nodes
with the new key; `check` verifies the shared folder against the database with the nodes running, reading only.

Needs MARTLET_TEST_POSTGRES (a superuser's postgres:// URL, see scripts/with-postgres.sh); each test gets a fresh
database. The nodes are single processes started here (node `a`, `b`), in either pytest topology."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from access_helpers import client_for
from cluster_helpers import POSTGRES_ENV, create_database, psql
from conftest import make_client
from notification_helpers import notification_config, webhook, webhook_arn  # noqa: F401 (fixture)
from s3helpers import MartletServer, ServerStartError, random_bytes

PART = 5 * 1024 * 1024


@pytest.fixture
def database():
    """A fresh, empty database on the test server, dropped after the test."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f"needs {POSTGRES_ENV} (a postgres:// URL of a superuser): run under ./scripts/with-postgres.sh")
    url = create_database(admin_url)
    yield url
    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    try:
        psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except Exception:  # noqa: BLE001 (the throwaway server goes away with its run anyway)
        pass


class Cluster:
    """Nodes over `database` and one shared folder, started one by one (single processes, either topology)."""

    def __init__(self, server_factory, database: str, shared: Path, martlet_bin: Path):
        self.factory = server_factory
        self.database = database
        self.shared = shared
        self.binary = martlet_bin
        self.nodes: dict[str, MartletServer] = {}

    def start(self, name: str, *extra: str, env: dict | None = None) -> MartletServer:
        node = self.nodes.get(name)
        if node is None:
            node = self.factory.start(f"node-{name}", data_dir=self.shared, single=True, start=False,
                                      extra_args=("--index", self.database, "--node-id", name, *extra))
            self.nodes[name] = node
        node.extra_env = dict(env or {})
        node.start(timeout=30)
        deadline = time.monotonic() + 30
        while requests.get(node.endpoint + "/_martlet/health/ready", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, f"node {name} not ready\n{node.log_tail()}"
            time.sleep(0.05)
        return node

    def admin(self, *args: str, index: bool = True, data: bool = True, env: dict | None = None,
              check: bool = True) -> subprocess.CompletedProcess:
        """`martlet admin ARGS --index DB --data SHARED`, without the runner's MARTLET_* variables."""
        command = [str(self.binary), "admin", *args]
        if index:
            command += ["--index", self.database]
        if data:
            command += ["--data", str(self.shared)]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MARTLET_")}
        environment.update(env or {})
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=environment)
        if check:
            assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        return done

    def stop_all(self) -> None:
        for node in self.nodes.values():
            node.stop()

    def age_heartbeats(self) -> None:
        """Moves every node's last heartbeat a minute back: what 30 s of waiting after stopping them would do."""
        psql(self.database, "UPDATE nodes SET heartbeat_at = heartbeat_at - interval '1 minute'")


@pytest.fixture
def cluster(server_factory, database, tmp_path, martlet_bin) -> Cluster:
    made = Cluster(server_factory, database, tmp_path / "shared", martlet_bin)
    yield made
    made.stop_all()


def eventually(probe, within: float = 3.0):
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def error_code(call) -> str | None:
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


# --------------------------------------------------------------------------------------------------------------------
# Keys, accounts and events, with the nodes running


def test_a_kms_key_made_through_the_index_encrypts_through_a_running_node(cluster):
    a = cluster.start("a")
    b = cluster.start("b")
    made = json.loads(cluster.admin("kms", "create-key", "--alias", "media", "--description", "for media", "--json").stdout)
    [key] = made
    assert key["arn"].startswith("arn:aws:kms:us-east-1:") and key["alias"] == "alias/media"
    listed = json.loads(cluster.admin("kms", "list-keys", "--json").stdout)
    assert [k["keyId"] for k in listed] == [key["keyId"]]

    s3a, s3b = make_client(a), make_client(b)
    s3a.create_bucket(Bucket="sealed")
    body = random_bytes(70_000, seed=7)
    put = s3a.put_object(Bucket="sealed", Key="k", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/media")
    assert put["SSEKMSKeyId"] == key["arn"]
    got = s3b.get_object(Bucket="sealed", Key="k")
    assert got["Body"].read() == body and got["SSEKMSKeyId"] == key["arn"]
    # A key made while the nodes run is usable by its ARN on the node that never saw it made either.
    put = s3b.put_object(Bucket="sealed", Key="k2", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["arn"])
    assert put["SSEKMSKeyId"] == key["arn"]


def test_kms_commands_refuse_a_folder_or_key_that_is_not_the_clusters(cluster, tmp_path):
    cluster.start("a")
    single = tmp_path / "single"
    single.mkdir()
    (single / "master.key").write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    command = [str(cluster.binary), "admin", "kms", "create-key", "--index", cluster.database]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARTLET_")}

    other_folder = subprocess.run(command + ["--data", str(single)], capture_output=True, text=True, timeout=60, env=env)
    assert other_folder.returncode != 0 and "is not a cluster's shared folder" in other_folder.stderr

    wrong_key = subprocess.run(command, capture_output=True, text=True, timeout=60,
                               env={**env, "MARTLET_MASTER_KEY": os.urandom(32).hex()})
    assert wrong_key.returncode != 0 and "master key is not the cluster's" in wrong_key.stderr

    no_key = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert no_key.returncode != 0 and "--data" in no_key.stderr and "MARTLET_MASTER_KEY" in no_key.stderr

    # The shared folder without --index: its index is not an SQLite file there.
    no_index = cluster.admin("kms", "list-keys", index=False, check=False)
    assert no_index.returncode != 0 and "--index" in no_index.stderr
    assert not (cluster.shared / "index.sqlite").exists()
    assert json.loads(cluster.admin("kms", "list-keys", "--json").stdout) == [], "nothing was made by the refused calls"


def test_an_account_added_through_the_index_works_on_a_running_node_at_once(cluster):
    a = cluster.start("a")
    b = cluster.start("b")
    account = json.loads(cluster.admin("account", "add", "partner", "--json").stdout)
    access_key = account["accessKeys"][0]["accessKeyId"]
    secret = account["secretAccessKey"]
    clients = [client_for(node, access_key, secret, retries={"max_attempts": 1}) for node in (a, b)]
    # Nodes cache identities and hear of a change through the index's triggers (README: within 1 s).
    for partner in clients:
        assert eventually(lambda: error_code(partner.list_buckets) is None, within=2.0), "the new key is unknown"
        assert partner.list_buckets()["Buckets"] == []
    assert "partner" in cluster.admin("account", "list").stdout

    # Disabled through the index: refused by every node within the cache bound (1 s).
    cluster.admin("account", "disable", "partner")
    for partner in clients:
        assert eventually(lambda: error_code(partner.list_buckets) == "AccessDenied", within=2.0), "the disabled key still works"
    cluster.admin("account", "enable", "partner")
    for partner in clients:
        assert eventually(lambda: error_code(partner.list_buckets) is None, within=2.0)


def test_account_commands_on_the_index_need_the_clusters_key(cluster):
    cluster.start("a")
    # Without the shared folder (master.key) or MARTLET_MASTER_KEY, secrets cannot be sealed.
    refused = cluster.admin("account", "add", "nokey", data=False, check=False)
    assert refused.returncode != 0 and "MARTLET_MASTER_KEY" in refused.stderr
    both = cluster.admin("account", "list", "--endpoint", "http://127.0.0.1:1", check=False)
    assert both.returncode != 0 and "--endpoint" in both.stderr
    assert "nokey" not in cluster.admin("account", "list").stdout


def test_events_listed_and_retried_through_the_index(cluster, webhook):
    a = cluster.start("a", "--webhook", f"hook={webhook.url}", "--event-max-age", "1", "--event-max-backoff", "0.2")
    s3 = make_client(a)
    s3.create_bucket(Bucket="dead")
    s3.put_bucket_notification_configuration(Bucket="dead", NotificationConfiguration=notification_config(webhook_arn()))
    webhook.wait_for(0)
    time.sleep(0.5)  # the test event goes out first
    webhook.status = 500
    s3.put_object(Bucket="dead", Key="lost", Body=b"x")
    # events need only the database: no --data.
    listed = eventually(lambda: json.loads(cluster.admin("events", "list", "--failed", "--json", data=False).stdout), within=20)
    assert len(listed) == 1
    assert listed[0]["key"] == "lost" and listed[0]["event"] == "s3:ObjectCreated:Put" and "500" in listed[0]["lastError"]
    webhook.status = 200
    assert "1 event(s)" in cluster.admin("events", "retry", "--all", data=False).stdout
    records = webhook.wait_for(1, timeout=10)
    assert [r["s3"]["object"]["key"] for r in records] == ["lost"]
    assert json.loads(cluster.admin("events", "list", "--failed", "--json", data=False).stdout) == []
    assert "no events waiting" in cluster.admin("events", "list", data=False).stdout


def test_cluster_status_lists_the_running_nodes(cluster):
    a = cluster.start("a")
    b = cluster.start("b")
    for args in (("cluster", "status"), ("--index", cluster.database, "cluster", "status")):
        shown = cluster.admin(*args, index=args[0] != "--index", data=False).stdout
        rows = {line.split()[0]: line.split()[1] for line in shown.splitlines()[1:] if line.strip() and not line.startswith("LEASE")}
        assert rows.get("a") == f"127.0.0.1:{a.port}" and rows.get("b") == f"127.0.0.1:{b.port}", shown


# --------------------------------------------------------------------------------------------------------------------
# Master key rotation


def fingerprint(cluster) -> str:
    [[value]] = psql(cluster.database, "SELECT value FROM cluster_settings WHERE name = 'master-key-fingerprint'")
    return value


@pytest.mark.parametrize("key_source", ["environment", "key-file"])
def test_rotate_is_refused_while_a_node_runs_then_nodes_start_only_with_the_new_key(cluster, key_source):
    old, new = os.urandom(32).hex(), os.urandom(32).hex()
    node_env = {"MARTLET_MASTER_KEY": old} if key_source == "environment" else {}
    rotate_env = {"MARTLET_MASTER_KEY": f"{new},{old}"} if key_source == "environment" else {}
    a = cluster.start("a", env=node_env)
    if key_source == "key-file":
        old = base64.b64decode((cluster.shared / "master.key").read_text().strip()).hex()
    [kms_key] = json.loads(cluster.admin("kms", "create-key", "--alias", "r", "--json", env=node_env).stdout)
    account = json.loads(cluster.admin("account", "add", "partner", "--json", env=node_env).stdout)
    s3 = make_client(a)
    s3.create_bucket(Bucket="rot")
    data = random_bytes(100_000, seed=9)
    s3.put_object(Bucket="rot", Key="s3", Body=data, ServerSideEncryption="AES256")
    s3.put_object(Bucket="rot", Key="kms", Body=data, ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key["arn"])
    before = fingerprint(cluster)

    running = cluster.admin("kms", "rotate", env=rotate_env, check=False)
    assert running.returncode != 0
    assert "may be running" in running.stderr and f"a at 127.0.0.1:{a.port}" in running.stderr, running.stderr
    cluster.nodes["a"].stop()
    # A node stopped a moment ago still counts as running (its heartbeat is recent)...
    just_stopped = cluster.admin("kms", "rotate", env=rotate_env, check=False)
    assert just_stopped.returncode != 0 and "may be running" in just_stopped.stderr
    assert fingerprint(cluster) == before, "a refused rotation changes nothing"
    # ...until 30 s after its last heartbeat.
    cluster.age_heartbeats()
    done = cluster.admin("kms", "rotate", env=rotate_env)
    assert "re-sealed: 2 access key secrets, 1 KMS keys, 1 SSE-S3 blob envelopes" in done.stdout, done.stdout
    assert fingerprint(cluster) != before
    if key_source == "key-file":
        assert len((cluster.shared / "master.key").read_text().split()) == 1, "the old key left the key file"
        assert base64.b64decode((cluster.shared / "master.key").read_text().strip()).hex() != old

    # A node with only the old key is refused; one with the new key reads everything the old one sealed.
    with pytest.raises(ServerStartError, match="master key is not the cluster's"):
        cluster.start("old", env={"MARTLET_MASTER_KEY": old})
    b = cluster.start("b", env={"MARTLET_MASTER_KEY": new} if key_source == "environment" else {})
    s3 = make_client(b)
    assert s3.get_object(Bucket="rot", Key="s3")["Body"].read() == data
    assert s3.get_object(Bucket="rot", Key="kms")["Body"].read() == data
    partner = client_for(b, account["accessKeys"][0]["accessKeyId"], account["secretAccessKey"])
    assert partner.list_buckets()["Buckets"] == []


def test_rotate_on_a_cluster_needs_its_shared_folder(cluster):
    cluster.start("a")
    cluster.nodes["a"].stop()
    cluster.age_heartbeats()
    without_data = cluster.admin("kms", "rotate", data=False, check=False)
    assert without_data.returncode != 0 and "--data" in without_data.stderr
    without_index = cluster.admin("kms", "rotate", index=False, check=False)
    assert without_index.returncode != 0 and "--index" in without_index.stderr


# --------------------------------------------------------------------------------------------------------------------
# admin check on the shared folder


def stock(s3) -> bytes:
    """Plain, multipart, versioned, SSE-S3 and in-progress items; an overwrite leaves a freed blob in the graveyard."""
    s3.create_bucket(Bucket="data")
    plain = random_bytes(10_000, seed=1)
    s3.put_object(Bucket="data", Key="plain.bin", Body=plain)
    parts = [random_bytes(PART, seed=2), random_bytes(1000, seed=3)]
    upload = s3.create_multipart_upload(Bucket="data", Key="multi.bin")
    etags = [s3.upload_part(Bucket="data", Key="multi.bin", UploadId=upload["UploadId"], PartNumber=i + 1, Body=body)["ETag"]
             for i, body in enumerate(parts)]
    s3.complete_multipart_upload(Bucket="data", Key="multi.bin", UploadId=upload["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": etag} for i, etag in enumerate(etags)]})
    s3.put_object(Bucket="data", Key="sealed.bin", Body=random_bytes(200_000, seed=4), ServerSideEncryption="AES256")
    s3.put_object(Bucket="data", Key="replaced.bin", Body=b"first")
    s3.put_object(Bucket="data", Key="replaced.bin", Body=b"second")
    s3.create_bucket(Bucket="history")
    s3.put_bucket_versioning(Bucket="history", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="history", Key="v", Body=b"one")
    s3.put_object(Bucket="history", Key="v", Body=b"two two")
    pending = s3.create_multipart_upload(Bucket="data", Key="pending.bin")
    s3.upload_part(Bucket="data", Key="pending.bin", UploadId=pending["UploadId"], PartNumber=1, Body=random_bytes(3000, seed=5))
    return plain


def blob_with(cluster, content: bytes) -> Path:
    [found] = [p for p in (cluster.shared / "blobs").rglob("*")
               if p.is_file() and p.stat().st_size == len(content) and p.read_bytes() == content]
    return found


def test_check_on_a_cluster_folder_with_the_nodes_running(cluster):
    a = cluster.start("a")
    cluster.start("b")
    plain = stock(make_client(a))
    assert psql(cluster.database, "SELECT count(*) FROM blob_graveyard") == [["1"]], "the overwrite freed one blob"

    clean = cluster.admin("check")
    assert "checked 7 objects and parts" in clean.stdout and "0 damaged, 0 orphaned" in clean.stdout, clean.stdout

    # A blob deleted from under its object is missing; an old unreferenced file is an orphan; a new one may be a
    # node's upload about to be recorded, and is left alone.
    blob_with(cluster, plain).unlink()
    some = next(p for p in (cluster.shared / "blobs").rglob("*") if p.is_file())
    old_orphan = some.with_name(some.name[:-1] + ("0" if some.name[-1] != "0" else "1"))
    old_orphan.write_bytes(b"left behind")
    os.utime(old_orphan, (1, 1))
    young = some.with_name(some.name[:-2] + ("00" if some.name[-2:] != "00" else "11"))
    young.write_bytes(b"being recorded")
    found = cluster.admin("check", check=False)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "damaged: data/plain.bin: blob" in found.stdout and "is missing" in found.stdout
    assert f"orphan blob: {old_orphan.name}" in found.stdout and young.name not in found.stdout
    assert "1 damaged, 1 orphaned" in found.stdout
    assert old_orphan.exists(), "check on a cluster only reads"

    # --blob-grace 0: the young file is an orphan too, but never the overwritten blob waiting in the graveyard.
    no_grace = cluster.admin("check", "--blob-grace", "0", check=False).stdout
    assert young.name in no_grace and "1 damaged, 2 orphaned" in no_grace, no_grace
    repair = cluster.admin("check", "--repair", check=False)
    assert repair.returncode != 0 and "collect orphaned blobs themselves" in repair.stderr
    assert old_orphan.exists()
    # Without --index the shared folder is refused, never read as an empty single server's.
    alone = cluster.admin("check", index=False, check=False)
    assert alone.returncode != 0 and "--index" in alone.stderr
    assert not (cluster.shared / "index.sqlite").exists()


def test_check_while_the_nodes_overwrite_and_delete(cluster):
    """Objects replaced and deleted through both nodes while the check reads them: nothing is damaged or orphaned."""
    a = cluster.start("a")
    b = cluster.start("b")
    s3a, s3b = make_client(a), make_client(b)
    s3a.create_bucket(Bucket="busy")
    for i in range(150):
        s3a.put_object(Bucket="busy", Key=f"k{i:03d}", Body=random_bytes(2000 + i, seed=i))
    stop = threading.Event()
    written = [0]

    def churn():
        round_ = 0
        while not stop.is_set():
            for i in range(0, 150, 7):
                client = s3a if (i + round_) % 2 else s3b
                if (i + round_) % 3 == 0:
                    client.delete_object(Bucket="busy", Key=f"k{i:03d}")
                else:
                    client.put_object(Bucket="busy", Key=f"k{i:03d}", Body=random_bytes(1000 + round_, seed=round_ * 1000 + i))
                written[0] += 1
            round_ += 1

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        time.sleep(0.3)
        checked = cluster.admin("check", "--parallel", "1", check=False)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert written[0] > 20, "the nodes were writing while the check ran"
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 damaged, 0 orphaned" in checked.stdout
