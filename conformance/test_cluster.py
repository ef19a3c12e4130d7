"""Several nodes over one PostgreSQL index and one shared data folder (pytest --topology cluster; skipped otherwise):
what one node does is in force on the other by the next request once acknowledged (settings that nodes cache too:
the writer waits for every live node to drop what they replace), conditional writes
are decided once across nodes, a multipart upload may hop between nodes, kill -9 of a node loses no acknowledged
write, background work (lifecycle, event delivery) is done once per cluster and survives the death of the node that
held it, and a node with another master key refuses to start.

The shared cluster's nodes are talked to one by one (`cluster.nodes[0]` is node a, `[1]` node b); tests that kill
or restart nodes start a cluster of their own through server_factory."""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from botocore.exceptions import ClientError

from access_helpers import anonymous_client, client_for, policy
from cluster_helpers import psql
from conftest import bucket_name, empty_and_delete
from notification_helpers import notification_config, webhook, webhook_arn  # noqa: F401 (fixture)
from s3helpers import MartletServer, ServerStartError, client_error, random_bytes

POLL_FOR = 2.0


@pytest.fixture(autouse=True)
def _cluster_only(topology):
    if topology != "cluster":
        pytest.skip("needs --topology cluster (two nodes on PostgreSQL behind haproxy)")


def eventually(probe, within: float = POLL_FOR, interval: float = 0.05):
    """Polls `probe` until it returns a true value or `within` seconds pass; (value, seconds taken)."""
    started = time.monotonic()
    while True:
        value = probe()
        elapsed = time.monotonic() - started
        if value or elapsed > within:
            return value, elapsed
        time.sleep(interval)


def status_of(call) -> int:
    try:
        result = call()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"]
    return result["ResponseMetadata"]["HTTPStatusCode"]


def host_id(response) -> str:
    return response["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]


@pytest.fixture
def cluster_bucket(request, cluster):
    name = bucket_name(request, "cl")
    a = cluster.nodes[0].client()
    a.create_bucket(Bucket=name)
    yield name
    empty_and_delete(a, name)


def test_the_load_balancer_alternates_between_the_nodes(cluster, cluster_bucket):
    s3 = cluster.client()
    hosts = [host_id(s3.head_bucket(Bucket=cluster_bucket)) for _ in range(6)]
    direct = {host_id(node.client().head_bucket(Bucket=cluster_bucket)) for node in cluster.nodes}
    assert len(direct) == 2, "each node answers with its own x-amz-id-2"
    assert set(hosts) == direct
    assert all(hosts[i] != hosts[i + 1] for i in range(len(hosts) - 1)), hosts


def test_a_put_through_a_is_readable_through_b_at_once(cluster, cluster_bucket):
    a, b = (node.client() for node in cluster.nodes)
    for i in range(10):
        body = random_bytes(1000 + i)
        put = a.put_object(Bucket=cluster_bucket, Key=f"k{i}", Body=body)
        got = b.get_object(Bucket=cluster_bucket, Key=f"k{i}")
        assert got["Body"].read() == body and got["ETag"] == put["ETag"]
    assert [o["Key"] for o in b.list_objects_v2(Bucket=cluster_bucket)["Contents"]] == [f"k{i}" for i in range(10)]
    b.delete_object(Bucket=cluster_bucket, Key="k0")
    assert status_of(lambda: a.head_object(Bucket=cluster_bucket, Key="k0")) == 404
    # A bucket made through one node is at once usable, and once deleted at once gone, through the other.
    other = f"cl-other-{uuid.uuid4().hex[:12]}"
    b.create_bucket(Bucket=other)
    a.put_object(Bucket=other, Key="x", Body=b"x")
    a.delete_object(Bucket=other, Key="x")
    a.delete_bucket(Bucket=other)
    assert status_of(lambda: b.head_bucket(Bucket=other)) == 404


def test_a_bucket_policy_set_through_a_is_in_force_on_b(cluster, cluster_bucket):
    a = cluster.nodes[0].client()
    anonymous_b = anonymous_client(cluster.nodes[1])
    a.delete_public_access_block(Bucket=cluster_bucket)
    a.put_object(Bucket=cluster_bucket, Key="page", Body=b"hello")
    # B reads the bucket's settings first, so a stale cache there would show.
    assert status_of(lambda: anonymous_b.get_object(Bucket=cluster_bucket, Key="page")) == 403
    a.put_bucket_policy(Bucket=cluster_bucket, Policy=policy({
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{cluster_bucket}/*"}))
    assert status_of(lambda: anonymous_b.get_object(Bucket=cluster_bucket, Key="page")) == 200, \
        "the policy is in force on node b by the next request"
    a.delete_bucket_policy(Bucket=cluster_bucket)
    assert status_of(lambda: anonymous_b.get_object(Bucket=cluster_bucket, Key="page")) == 403, \
        "the policy's removal is in force on node b by the next request"


def test_an_access_key_disabled_through_a_is_refused_on_b(cluster, cluster_bucket):
    iam_a = client_for(cluster.nodes[0], cluster.access_key, cluster.secret_key, "iam")
    name = f"user-{uuid.uuid4().hex[:10]}"
    iam_a.create_user(UserName=name)
    try:
        iam_a.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=policy({
            "Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{cluster_bucket}"}))
        key = iam_a.create_access_key(UserName=name)["AccessKey"]
        user_b = client_for(cluster.nodes[1], key["AccessKeyId"], key["SecretAccessKey"],
                            retries={"max_attempts": 1})
        assert status_of(lambda: user_b.list_objects_v2(Bucket=cluster_bucket)) == 200, \
            "a key made through node a works on node b at once"
        iam_a.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
        with pytest.raises(ClientError) as failure:
            user_b.list_objects_v2(Bucket=cluster_bucket)
        assert client_error(failure.value) == (403, "InvalidAccessKeyId"), "the disabled key is refused on b at once"
        iam_a.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Active")
        assert status_of(lambda: user_b.list_objects_v2(Bucket=cluster_bucket)) == 200, \
            "the re-enabled key works on node b at once"
        iam_a.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
        iam_a.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        iam_a.delete_user_policy(UserName=name, PolicyName="read")
    finally:
        iam_a.delete_user(UserName=name)


def test_a_cors_change_through_a_is_in_force_on_b(cluster, cluster_bucket):
    a = cluster.nodes[0].client()
    url = f"{cluster.nodes[1].endpoint}/{cluster_bucket}/file"
    headers = {"Origin": "https://app.example.test", "Access-Control-Request-Method": "PUT"}

    def preflight() -> requests.Response:
        return requests.options(url, headers=headers, timeout=5)

    assert preflight().status_code == 403
    a.put_bucket_cors(Bucket=cluster_bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.test"], "AllowedMethods": ["PUT", "GET"], "AllowedHeaders": ["*"]}]})
    allowed = preflight()
    assert allowed.status_code == 200, "the CORS rules are in force on node b by the next request"
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
    a.delete_bucket_cors(Bucket=cluster_bucket)
    assert preflight().status_code == 403, "the CORS rules' removal is in force on node b by the next request"


def test_kms_keys_and_bucket_encryption_made_through_a_serve_b(cluster, cluster_bucket):
    a, b = (node.client() for node in cluster.nodes)
    # The account's managed key is made on its first use, through a; b must find it and its material.
    key_id = a.put_object(Bucket=cluster_bucket, Key="kms", Body=b"sealed by a", ServerSideEncryption="aws:kms")[
        "SSEKMSKeyId"]
    got = b.get_object(Bucket=cluster_bucket, Key="kms")
    assert got["Body"].read() == b"sealed by a" and got["SSEKMSKeyId"] == key_id
    assert b.put_object(Bucket=cluster_bucket, Key="kms-b", Body=b"sealed by b", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId="alias/aws/s3")["SSEKMSKeyId"] == key_id
    assert a.get_object(Bucket=cluster_bucket, Key="kms-b")["Body"].read() == b"sealed by b"
    a.put_object(Bucket=cluster_bucket, Key="sse-s3", Body=b"aes", ServerSideEncryption="AES256")
    assert b.get_object(Bucket=cluster_bucket, Key="sse-s3")["ServerSideEncryption"] == "AES256"
    # A bucket default set through a applies to the next write through b.
    a.put_bucket_encryption(Bucket=cluster_bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    assert b.put_object(Bucket=cluster_bucket, Key="defaulted", Body=b"d").get("SSEKMSKeyId") == key_id
    assert a.get_object(Bucket=cluster_bucket, Key="defaulted")["Body"].read() == b"d"


@pytest.mark.parametrize("round_", range(3))
def test_sixteen_clients_racing_if_none_match_through_both_nodes_make_one_winner(cluster, cluster_bucket, round_):
    clients = [cluster.nodes[i % 2].client(retries={"max_attempts": 1}) for i in range(16)]
    key = f"race-{round_}"
    gate = threading.Barrier(16)

    def put(i: int):
        body = f"writer {i} ".encode() * 100
        gate.wait()
        try:
            response = clients[i].put_object(Bucket=cluster_bucket, Key=key, Body=body, IfNoneMatch="*")
            return i, 200, response["ETag"]
        except ClientError as e:
            return i, client_error(e), None

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(put, range(16)))
    winners = [(i, etag) for i, status, etag in outcomes if status == 200]
    losers = [status for _, status, _ in outcomes if status != 200]
    assert len(winners) == 1, outcomes
    assert all(status in ((412, "PreconditionFailed"), (409, "ConditionalRequestConflict")) for status in losers), outcomes
    [(winner, etag)] = winners
    for node in cluster.nodes:
        got = node.client().get_object(Bucket=cluster_bucket, Key=key)
        assert got["Body"].read() == f"writer {winner} ".encode() * 100
        assert got["ETag"] == etag


def test_a_multipart_upload_whose_parts_alternate_between_the_nodes_completes(cluster, cluster_bucket):
    clients = [node.client() for node in cluster.nodes]
    upload = clients[0].create_multipart_upload(Bucket=cluster_bucket, Key="big")["UploadId"]
    parts, bodies = [], []
    for number in range(1, 6):
        body = random_bytes(5 * 1024 * 1024 if number < 5 else 12345)
        bodies.append(body)
        etag = clients[number % 2].upload_part(Bucket=cluster_bucket, Key="big", UploadId=upload, PartNumber=number,
                                              Body=body)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    listed = clients[0].list_parts(Bucket=cluster_bucket, Key="big", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in listed] == [(p["PartNumber"], p["ETag"]) for p in parts]
    # Part 2 again, through the other node than the first time: the later one counts.
    bodies[1] = random_bytes(5 * 1024 * 1024)
    parts[1]["ETag"] = clients[1].upload_part(Bucket=cluster_bucket, Key="big", UploadId=upload, PartNumber=2,
                                              Body=bodies[1])["ETag"]
    done = clients[1].complete_multipart_upload(Bucket=cluster_bucket, Key="big", UploadId=upload,
                                                MultipartUpload={"Parts": parts})
    # The second Complete, through the other node, answers the same object (AWS's idempotent retry).
    again = clients[0].complete_multipart_upload(Bucket=cluster_bucket, Key="big", UploadId=upload,
                                                 MultipartUpload={"Parts": parts})
    assert again["ETag"] == done["ETag"]
    for client in clients:
        got = client.get_object(Bucket=cluster_bucket, Key="big")
        assert got["ETag"] == done["ETag"]
        assert got["Body"].read() == b"".join(bodies)
    assert clients[0].list_multipart_uploads(Bucket=cluster_bucket).get("Uploads", []) == []


def test_kill_9_of_a_node_during_writes_loses_no_acknowledged_write(server_factory):
    cluster = server_factory.start("kill9")
    node_a, node_b = cluster.nodes
    s3 = cluster.client(retries={"max_attempts": 1}, max_pool_connections=64)
    s3.create_bucket(Bucket="writes")
    bodies = {f"k{i:03d}": random_bytes(2000 + i) for i in range(64)}
    gate = threading.Barrier(65)
    acknowledged: dict[str, str] = {}
    failed: dict[str, str] = {}

    def put(key: str):
        gate.wait()
        try:
            acknowledged[key] = s3.put_object(Bucket="writes", Key=key, Body=bodies[key])["ETag"]
        except Exception as e:  # noqa: BLE001 -- a write cut off by the crash may fail any way; it just must not count
            failed[key] = repr(e)

    threads = [threading.Thread(target=put, args=(key,)) for key in bodies]
    for thread in threads:
        thread.start()
    gate.wait()
    time.sleep(0.05)
    node_a.kill()
    for thread in threads:
        thread.join(timeout=60)
    assert acknowledged, f"no PUT succeeded: {failed}"
    b = node_b.client()
    for key, etag in acknowledged.items():
        got = b.get_object(Bucket="writes", Key=key)
        assert got["ETag"] == etag and got["Body"].read() == bodies[key], key
    # Node b keeps serving, directly and through the load balancer (haproxy sends a refused connection to b).
    b.put_object(Bucket="writes", Key="after", Body=b"after")
    for _ in range(4):
        assert cluster.client().get_object(Bucket="writes", Key="after")["Body"].read() == b"after"
    listed = {o["Key"] for o in b.list_objects_v2(Bucket="writes")["Contents"]}
    assert set(acknowledged) | {"after"} <= listed
    # The killed node comes back over the same database and folder and sees everything.
    node_a.start()
    a = node_a.client()
    for key, etag in acknowledged.items():
        assert a.head_object(Bucket="writes", Key=key)["ETag"] == etag


MASTER_KEY_A = "11" * 32
MASTER_KEY_B = "22" * 32


@pytest.mark.parametrize("cluster_key", [None, MASTER_KEY_A], ids=["key-file", "environment"])
def test_a_node_with_another_master_key_refuses_to_start(server_factory, cluster_key):
    cluster = server_factory.start("masterkey", start=False)
    if cluster_key:
        cluster.extra_env = {"MARTLET_MASTER_KEY": cluster_key}
    cluster.start()
    s3 = cluster.client()
    s3.create_bucket(Bucket="sealed")
    s3.put_object(Bucket="sealed", Key="k", Body=b"secret", ServerSideEncryption="AES256")
    stranger = MartletServer(binary=cluster.binary, data_dir=cluster.data_dir, log_dir=cluster.root / "node-c",
                             access_key=cluster.access_key, secret_key=cluster.secret_key, region=cluster.region,
                             extra_args=["--index", cluster.database_url, "--node-id", "c"],
                             extra_env={"MARTLET_MASTER_KEY": MASTER_KEY_B})
    with pytest.raises(ServerStartError) as refused:
        stranger.start(timeout=30)
    assert stranger.proc.returncode not in (0, None)
    assert "master key is not the cluster's" in str(refused.value), stranger.log_tail()
    # The cluster is untouched by the refused node.
    assert s3.get_object(Bucket="sealed", Key="k")["Body"].read() == b"secret"
    # The same key joins.
    friend = MartletServer(binary=cluster.binary, data_dir=cluster.data_dir, log_dir=cluster.root / "node-d",
                           access_key=cluster.access_key, secret_key=cluster.secret_key, region=cluster.region,
                           extra_args=["--index", cluster.database_url, "--node-id", "d"],
                           extra_env={"MARTLET_MASTER_KEY": cluster_key} if cluster_key else {})
    try:
        friend.start(timeout=30)
        assert friend.client().get_object(Bucket="sealed", Key="k")["Body"].read() == b"secret"
    finally:
        friend.stop()


def lease_holder(cluster, lease: str) -> str | None:
    """The node id holding a live lease (the `leases` row's holder is NODE/PROCESS)."""
    rows = psql(cluster.database_url, f"SELECT holder FROM leases WHERE name = '{lease}' AND expires_at > now()")
    return rows[0][0].split("/", 1)[0] if rows else None


def test_lifecycle_expires_each_object_exactly_once_with_both_nodes_running(server_factory, webhook):
    cluster = server_factory.start("lifecycle", extra_args=("--lifecycle-day-seconds", "2",
                                                            "--webhook", f"hook={webhook.url}"))
    s3 = cluster.client()
    s3.create_bucket(Bucket="expiring")
    # Versioned: a second expiry of the same object would leave a second delete marker, which the listing shows.
    s3.put_bucket_versioning(Bucket="expiring", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(Bucket="expiring", NotificationConfiguration=notification_config(
        webhook_arn(), events=("s3:LifecycleExpiration:*",)))
    keys = [f"k{i:02d}" for i in range(24)]
    for key in keys:
        s3.put_object(Bucket="expiring", Key=key, Body=key.encode())
    s3.put_bucket_lifecycle_configuration(Bucket="expiring", LifecycleConfiguration={"Rules": [
        {"ID": "gone", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]})
    records = webhook.wait_for(len(keys), timeout=60)
    assert len(records) >= len(keys), f"{len(records)} of {len(keys)} expirations announced"
    # Two more lifecycle days with both nodes up: nothing may be expired a second time.
    time.sleep(5)
    records = webhook.records()
    assert sorted(r["s3"]["object"]["key"] for r in records) == keys
    assert {r["eventName"] for r in records} == {"LifecycleExpiration:DeleteMarkerCreated"}
    listed = s3.list_object_versions(Bucket="expiring")
    markers = sorted(m["Key"] for m in listed.get("DeleteMarkers", []))
    assert markers == keys, "one delete marker per object"
    assert sorted(v["Key"] for v in listed["Versions"]) == keys
    assert lease_holder(cluster, "lifecycle") in ("a", "b")


def test_kill_9_of_the_node_holding_the_delivery_lease_still_delivers_every_event_in_order(server_factory, webhook):
    cluster = server_factory.start("delivery", extra_args=("--webhook", f"hook={webhook.url}",
                                                           "--event-max-backoff", "1"))
    s3 = cluster.client()
    s3.create_bucket(Bucket="order")
    s3.put_bucket_notification_configuration(Bucket="order", NotificationConfiguration=notification_config(
        webhook_arn()))
    sizes = iter(range(1, 1000))
    written: list[tuple[str, int]] = []

    def put_round(count: int):
        for _ in range(count):
            size = next(sizes)
            key = f"key-{size % 4}"
            s3.put_object(Bucket="order", Key=key, Body=b"x" * size)
            written.append((key, size))

    put_round(20)
    webhook.wait_for(20, timeout=30)
    holder, _ = eventually(lambda: lease_holder(cluster, "event-delivery"), within=15)
    assert holder in ("a", "b"), holder
    # Events pile up undelivered while the receiver fails, then the node that delivers them dies.
    webhook.status = 503
    put_round(20)
    [victim] = [node for node in cluster.nodes if node.name == holder]
    [survivor] = [node for node in cluster.nodes if node.name != holder]
    victim.kill()
    webhook.status = 200
    put_round(20)  # through haproxy, which sends them all to the survivor now
    records = webhook.wait_for(len(written), timeout=60)
    delivered = [(r["s3"]["object"]["key"], r["s3"]["object"]["size"]) for r in records]
    assert set(delivered) == set(written), f"missing: {sorted(set(written) - set(delivered))}"
    # At least once allows a repeat after the failover, never a reordering: per key, first deliveries in write order.
    for k in range(4):
        key = f"key-{k}"
        firsts = list(dict.fromkeys(size for name, size in delivered if name == key))
        assert firsts == [size for name, size in written if name == key], key
    assert lease_holder(cluster, "event-delivery") == survivor.name


def test_sigterm_stops_every_node_cleanly(server_factory, webhook):
    """SIGTERM ends a node with status 0 as it does a single server, whether or not it holds the leases (the node
    without the event-delivery lease never ran its delivery service, but still owns the webhook target's client)."""
    cluster = server_factory.start("sigterm", extra_args=("--webhook", f"hook={webhook.url}"))
    s3 = cluster.client()
    s3.create_bucket(Bucket="stopping")
    s3.put_bucket_notification_configuration(Bucket="stopping", NotificationConfiguration=notification_config(
        webhook_arn()))
    s3.put_object(Bucket="stopping", Key="k", Body=b"x")
    assert webhook.wait_for(1, timeout=20)
    for node in cluster.nodes:
        started = time.monotonic()
        status = node.stop(timeout=10)
        took = time.monotonic() - started
        assert status == 0 and took < 10, f"node {node.name} exited {status} after {took:.1f}s\n{node.log_tail(3000)}"
