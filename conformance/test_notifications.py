"""Durable event notifications: bucket configurations naming targets configured on the server (a real webhook
receiver and a real Redis server, started here), AWS's event JSON, at-least-once delivery in order per key through
an outbox kept in the index, retries while a receiver is down, kill -9 with events pending, and the dead-letter
list with `martlet admin events`."""
import json
import subprocess
import time
import urllib.parse

import pytest
import requests
from botocore.exceptions import ClientError

from cluster_helpers import data_args
from conftest import make_client
from notification_helpers import WebhookReceiver, notification_config, redis_server, webhook, webhook_arn  # noqa: F401 (fixtures)
from s3helpers import client_error, make_certs


def start(server_factory, receiver, *extra, name="notify"):
    return server_factory.start(name, extra_args=("--webhook", f"hook={receiver.url}", *extra))


def configure(client, bucket, **kwargs):
    client.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=notification_config(webhook_arn(), **kwargs))


def test_configuration_round_trip_and_test_event(server_factory, webhook):
    srv = start(server_factory, webhook)
    s3 = make_client(srv)
    s3.create_bucket(Bucket="cfg")
    assert s3.get_bucket_notification_configuration(Bucket="cfg").get("QueueConfigurations") is None
    configure(s3, "cfg", events=("s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"), prefix="images/", suffix=".jpg")
    got = s3.get_bucket_notification_configuration(Bucket="cfg")["QueueConfigurations"]
    assert len(got) == 1
    assert got[0]["Id"] == "rule" and got[0]["QueueArn"] == webhook_arn()
    assert got[0]["Events"] == ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"]
    rules = {r["Name"].lower(): r["Value"] for r in got[0]["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "images/", "suffix": ".jpg"}
    deadline = time.monotonic() + 10
    while not webhook.test_events() and time.monotonic() < deadline:
        time.sleep(0.05)
    test_event = webhook.test_events()[0]
    assert test_event["Service"] == "Amazon S3" and test_event["Bucket"] == "cfg"
    # An empty configuration turns notifications off.
    s3.put_bucket_notification_configuration(Bucket="cfg", NotificationConfiguration={})
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket="cfg")


@pytest.mark.parametrize("config, message", [
    (notification_config("arn:martlet:sqs:us-east-1:nobody:webhook"), "Unable to validate"),
    (notification_config(webhook_arn(), events=("s3:ObjectRestore:Post",)), "not supported"),
    (notification_config(webhook_arn(), prefix="a", suffix=None) | {"TopicConfigurations": [
        {"Id": "other", "TopicArn": webhook_arn(), "Events": ["s3:ObjectCreated:Put"]}]}, "overlap"),
])
def test_invalid_configurations_are_refused_and_store_nothing(server_factory, webhook, config, message):
    srv = start(server_factory, webhook)
    s3 = make_client(srv)
    s3.create_bucket(Bucket="bad")
    with pytest.raises(ClientError) as failure:
        s3.put_bucket_notification_configuration(Bucket="bad", NotificationConfiguration=config)
    assert client_error(failure.value) == (400, "InvalidArgument")
    assert message in failure.value.response["Error"]["Message"]
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket="bad")


def test_filters_that_cannot_match_one_key_may_share_events(server_factory, webhook):
    srv = start(server_factory, webhook)
    s3 = make_client(srv)
    s3.create_bucket(Bucket="split")
    s3.put_bucket_notification_configuration(Bucket="split", NotificationConfiguration={"QueueConfigurations": [
        {"Id": "jpg", "QueueArn": webhook_arn(), "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}}},
        {"Id": "png", "QueueArn": webhook_arn(), "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".png"}]}}},
    ]})
    for key in ("a.jpg", "b.png", "c.txt"):
        s3.put_object(Bucket="split", Key=key, Body=b"x")
    records = webhook.wait_for(2)
    time.sleep(0.5)
    assert sorted((r["s3"]["configurationId"], r["s3"]["object"]["key"]) for r in webhook.records()) == [("jpg", "a.jpg"), ("png", "b.png")]


def test_event_json_for_each_kind_of_change(server_factory, webhook):
    srv = start(server_factory, webhook)
    s3 = make_client(srv)
    s3.create_bucket(Bucket="kinds")
    configure(s3, "kinds", events=("s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectTagging:*", "s3:ObjectAcl:Put"))
    put = s3.put_object(Bucket="kinds", Key="dir/my file+1.txt", Body=b"hello")
    request_id = put["ResponseMetadata"]["RequestId"]
    s3.copy_object(Bucket="kinds", Key="copy.txt", CopySource={"Bucket": "kinds", "Key": "dir/my file+1.txt"})
    upload = s3.create_multipart_upload(Bucket="kinds", Key="multi")
    part = s3.upload_part(Bucket="kinds", Key="multi", UploadId=upload["UploadId"], PartNumber=1, Body=b"m" * 100)
    s3.complete_multipart_upload(Bucket="kinds", Key="multi", UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    s3.put_object_tagging(Bucket="kinds", Key="copy.txt", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.delete_object_tagging(Bucket="kinds", Key="copy.txt")
    s3.delete_object(Bucket="kinds", Key="copy.txt")
    s3.delete_object(Bucket="kinds", Key="never-existed")
    webhook.wait_for(6)
    time.sleep(0.5)
    records = webhook.records()
    names = [(r["eventName"], urllib.parse.unquote_plus(r["s3"]["object"]["key"])) for r in records]
    assert names == [
        ("ObjectCreated:Put", "dir/my file+1.txt"),
        ("ObjectCreated:Copy", "copy.txt"),
        ("ObjectCreated:CompleteMultipartUpload", "multi"),
        ("ObjectTagging:Put", "copy.txt"),
        ("ObjectTagging:Delete", "copy.txt"),
        ("ObjectRemoved:Delete", "copy.txt"),
    ], "a delete of a key that never existed sends nothing"
    first = records[0]
    assert first["eventVersion"] == "2.1" and first["eventSource"] == "aws:s3" and first["awsRegion"] == "us-east-1"
    assert first["eventTime"].endswith("Z")
    assert first["userIdentity"]["principalId"].endswith(srv.access_key)
    assert first["requestParameters"]["sourceIPAddress"] == "127.0.0.1"
    assert first["responseElements"]["x-amz-request-id"] == request_id
    s3_part = first["s3"]
    assert s3_part["s3SchemaVersion"] == "1.0" and s3_part["configurationId"] == "rule"
    assert s3_part["bucket"]["name"] == "kinds" and s3_part["bucket"]["arn"] == "arn:aws:s3:::kinds"
    assert s3_part["object"]["key"] == "dir/my+file%2B1.txt", "keys are form-encoded as on AWS"
    assert s3_part["object"]["size"] == 5
    assert s3_part["object"]["eTag"] == put["ETag"].strip('"')
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == len(sequencers)
    assert "size" not in records[-1]["s3"]["object"], "a removal has no size, as on AWS"
    assert webhook.headers[-1]["Content-Type"] == "application/json"


def test_versioned_bucket_delete_marker_and_version_ids(server_factory, webhook):
    srv = start(server_factory, webhook)
    s3 = make_client(srv)
    s3.create_bucket(Bucket="ver")
    s3.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
    configure(s3, "ver", events=("s3:ObjectCreated:*", "s3:ObjectRemoved:*"))
    put = s3.put_object(Bucket="ver", Key="k", Body=b"v1")
    marker = s3.delete_object(Bucket="ver", Key="k")
    s3.delete_object(Bucket="ver", Key="k", VersionId=put["VersionId"])
    records = webhook.wait_for(3)
    assert [(r["eventName"], r["s3"]["object"].get("versionId")) for r in records] == [
        ("ObjectCreated:Put", put["VersionId"]),
        ("ObjectRemoved:DeleteMarkerCreated", marker["VersionId"]),
        ("ObjectRemoved:Delete", put["VersionId"]),
    ]


def test_post_form_upload_is_a_post_event(server_factory, webhook):
    srv = start(server_factory, webhook)
    s3 = make_client(srv)
    s3.create_bucket(Bucket="forms")
    configure(s3, "forms")
    post = s3.generate_presigned_post("forms", "uploaded.txt")
    answer = requests.post(post["url"], data=post["fields"], files={"file": ("f.txt", b"form body")}, timeout=10)
    assert answer.status_code in (200, 204), answer.text
    records = webhook.wait_for(1)
    assert [r["eventName"] for r in records] == ["ObjectCreated:Post"]


def test_a_refused_write_records_no_event(server_factory, webhook):
    srv = start(server_factory, webhook)
    s3 = make_client(srv)
    s3.create_bucket(Bucket="cond")
    configure(s3, "cond")
    s3.put_object(Bucket="cond", Key="k", Body=b"first")
    with pytest.raises(ClientError) as failure:
        s3.put_object(Bucket="cond", Key="k", Body=b"second", IfNoneMatch="*")
    assert client_error(failure.value)[0] == 412
    time.sleep(1)
    assert len(webhook.records()) == 1


def test_events_about_one_key_arrive_in_order(server_factory, webhook):
    srv = start(server_factory, webhook)
    s3 = make_client(srv)
    s3.create_bucket(Bucket="order")
    configure(s3, "order")
    for i in range(40):
        s3.put_object(Bucket="order", Key=f"key-{i % 4}", Body=b"x" * (i + 1))
    records = webhook.wait_for(40)
    assert len(records) == 40
    for k in range(4):
        sizes = [r["s3"]["object"]["size"] for r in records if r["s3"]["object"]["key"] == f"key-{k}"]
        assert sizes == [i + 1 for i in range(40) if i % 4 == k]


def test_receiver_down_for_a_while_then_everything_arrives(server_factory, webhook):
    srv = start(server_factory, webhook, "--event-max-backoff", "1")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="down")
    configure(s3, "down")
    webhook.stop()
    started = time.monotonic()
    for i in range(20):
        s3.put_object(Bucket="down", Key=f"k{i}", Body=b"x")
    assert time.monotonic() - started < 10, "a target that is down does not slow PUTs"
    time.sleep(3)
    assert webhook.records() == []
    webhook.start()
    records = webhook.wait_for(20, timeout=30)
    assert sorted(r["s3"]["object"]["key"] for r in records) == sorted(f"k{i}" for i in range(20))


def test_events_pending_at_kill_9_are_delivered_after_restart(server_factory, webhook):
    srv = start(server_factory, webhook, "--event-max-backoff", "1")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="crash")
    configure(s3, "crash")
    webhook.status = 503
    for i in range(15):
        s3.put_object(Bucket="crash", Key=f"k{i}", Body=b"x")
    srv.kill()
    webhook.status = 200
    srv.start()
    records = webhook.wait_for(15, timeout=30)
    keys = {r["s3"]["object"]["key"] for r in records}
    assert keys == {f"k{i}" for i in range(15)}


def test_dead_letter_list_and_retry(server_factory, webhook, martlet_bin):
    srv = start(server_factory, webhook, "--event-max-age", "1", "--event-max-backoff", "0.2")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="dead")
    configure(s3, "dead")
    webhook.wait_for(0)
    time.sleep(0.5)  # the test event goes out first
    webhook.status = 500
    s3.put_object(Bucket="dead", Key="lost", Body=b"x")
    admin = [str(martlet_bin), "admin", "events"]
    deadline = time.monotonic() + 20
    while True:
        listed = json.loads(subprocess.run(admin + ["list", "--failed", "--json", *data_args(srv)],
                                           check=True, capture_output=True, text=True).stdout)
        if listed or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(listed) == 1
    assert listed[0]["key"] == "lost" and listed[0]["event"] == "s3:ObjectCreated:Put"
    assert "500" in listed[0]["lastError"] and listed[0]["attempts"] >= 1
    webhook.status = 200
    out = subprocess.run(admin + ["retry", "--all", *data_args(srv)], check=True, capture_output=True, text=True).stdout
    assert "1 event(s)" in out
    records = webhook.wait_for(1, timeout=10)
    assert [r["s3"]["object"]["key"] for r in records] == ["lost"]
    assert json.loads(subprocess.run(admin + ["list", "--failed", "--json", *data_args(srv)],
                                     check=True, capture_output=True, text=True).stdout) == []


def test_redis_stream_target(server_factory, redis_server):
    srv = server_factory.start("redis", extra_args=("--redis", f"pipeline={redis_server.url}"))
    s3 = make_client(srv)
    s3.create_bucket(Bucket="videos")
    arn = "arn:martlet:sqs:us-east-1:pipeline:redis"
    s3.put_bucket_notification_configuration(Bucket="videos", NotificationConfiguration=notification_config(arn, suffix=".mp4"))
    s3.put_object(Bucket="videos", Key="a.mp4", Body=b"v" * 1000)
    s3.put_object(Bucket="videos", Key="skip.txt", Body=b"t")
    deadline = time.monotonic() + 15
    while True:
        entries = redis_server.client.xrange("uploads")
        messages = [json.loads(fields[b"event"]) for _, fields in entries]
        records = [r for m in messages for r in m.get("Records", [])]
        if records or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert any(m.get("Event") == "s3:TestEvent" for m in messages)
    assert [(r["eventName"], r["s3"]["object"]["key"], r["s3"]["object"]["size"]) for r in records] == [("ObjectCreated:Put", "a.mp4", 1000)]


def test_lifecycle_expiration_events(server_factory, webhook):
    srv = start(server_factory, webhook, "--lifecycle-day-seconds", "1")
    s3 = make_client(srv)
    s3.create_bucket(Bucket="expiring")
    configure(s3, "expiring", events=("s3:LifecycleExpiration:*",))
    s3.put_bucket_lifecycle_configuration(Bucket="expiring", LifecycleConfiguration={"Rules": [
        {"ID": "gone", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]})
    s3.put_object(Bucket="expiring", Key="old", Body=b"x")
    records = webhook.wait_for(1, timeout=20)
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [("LifecycleExpiration:Delete", "old")]
    assert records[0]["userIdentity"]["principalId"] == "s3.amazonaws.com"


def test_targets_from_the_environment(server_factory, webhook):
    srv = server_factory.start("env", start=False)
    srv.extra_env = {"MARTLET_WEBHOOK_FROMENV": webhook.url}
    srv.start()
    s3 = make_client(srv)
    s3.create_bucket(Bucket="env")
    s3.put_bucket_notification_configuration(
        Bucket="env", NotificationConfiguration=notification_config(webhook_arn("FROMENV")))
    s3.put_object(Bucket="env", Key="k", Body=b"x")
    assert [r["s3"]["object"]["key"] for r in webhook.wait_for(1)] == ["k"]


def test_https_webhook_with_its_own_ca_and_an_authorization_header(server_factory, tmp_path):
    """A webhook over HTTPS whose certificate a private CA signed (ca-file in the configuration file), sent the
    Authorization header the receiver expects."""
    certs = make_certs(tmp_path / "receiver-certs")
    receiver = WebhookReceiver(tls=certs)
    try:
        config = tmp_path / "martlet.yaml"
        config.write_text(
            "webhooks:\n"
            f"  - id: secure\n    url: {receiver.url}\n    authorization: Bearer receiver-token\n"
            f"    timeout: 5\n    ca-file: {certs.ca_file}\n")
        srv = server_factory.start("https-hook", extra_args=("--config", str(config)))
        s3 = make_client(srv)
        s3.create_bucket(Bucket="tls")
        s3.put_bucket_notification_configuration(
            Bucket="tls", NotificationConfiguration=notification_config(webhook_arn("secure")))
        s3.put_object(Bucket="tls", Key="k", Body=b"x")
        assert [r["s3"]["object"]["key"] for r in receiver.wait_for(1)] == ["k"]
        assert receiver.headers[-1]["Authorization"] == "Bearer receiver-token"
    finally:
        receiver.stop()
