"""Health and metrics on the S3 port: `/_martlet/health/live` and `/_martlet/health/ready` (unauthenticated),
`/_martlet/metrics` (Prometheus text; a bearer token, the operator's signature, or `--metrics-public`)."""
import re
import subprocess
import time

import pytest
import requests

from conftest import make_client


def metric(text: str, name: str, **labels) -> float:
    """The value of one sample of the exposition, 0 if it is not there."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.match(r"([a-zA-Z_:]+)(\{[^}]*\})?\s+(\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return 0.0


def test_health_is_unauthenticated_and_cheap(server):
    for path in ("/_martlet/health/live", "/_martlet/health/ready"):
        answer = requests.get(server.endpoint + path, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "ok"
        assert "x-amz-request-id" in answer.headers
    assert requests.head(server.endpoint + "/_martlet/health/live", timeout=10).status_code == 200


def test_ready_reports_a_data_folder_it_cannot_write(server_factory):
    """The data folder made immutable (chattr +i, which binds root too, unlike permissions): not ready, still live."""
    srv = server_factory.start("readonly")
    client = make_client(srv, retries={"max_attempts": 1, "mode": "standard"})
    client.create_bucket(Bucket="frozen")
    assert requests.get(srv.endpoint + "/_martlet/health/ready", timeout=10).status_code == 200
    folder = srv.data_dir / "tmp"
    subprocess.run(["chattr", "+i", str(folder)], check=True)
    try:
        answer = requests.get(srv.endpoint + "/_martlet/health/ready", timeout=10)
        assert answer.status_code == 503
        assert "not writable" in answer.json()["problems"]
        assert requests.get(srv.endpoint + "/_martlet/health/live", timeout=10).status_code == 200, "still alive"
        with pytest.raises(Exception):
            client.put_object(Bucket="frozen", Key="k", Body=b"x")
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    assert requests.get(srv.endpoint + "/_martlet/health/ready", timeout=10).status_code == 200
    client.put_object(Bucket="frozen", Key="k", Body=b"x")


def test_metrics_count_known_traffic(server_factory):
    srv = server_factory.start("metrics", extra_args=("--metrics-token", "scrape-secret"))
    client = make_client(srv)
    client.create_bucket(Bucket="counted")
    for i in range(7):
        client.put_object(Bucket="counted", Key=f"k{i}", Body=b"x" * 1000)
    for i in range(3):
        client.get_object(Bucket="counted", Key="k0")["Body"].read()
    for _ in range(2):
        with pytest.raises(Exception):
            client.get_object(Bucket="counted", Key="missing")
    scrape = requests.get(srv.endpoint + "/_martlet/metrics", headers={"Authorization": "Bearer scrape-secret"}, timeout=10)
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    assert metric(text, "martlet_requests_total", operation="PutObject", status="2xx") == 7
    assert metric(text, "martlet_requests_total", operation="GetObject", status="2xx") == 3
    assert metric(text, "martlet_requests_total", operation="GetObject", status="4xx") == 2
    assert metric(text, "martlet_request_duration_seconds_count", operation="PutObject") == 7
    assert metric(text, "martlet_received_bytes_total") >= 7000
    assert metric(text, "martlet_sent_bytes_total") >= 3000
    assert metric(text, "martlet_open_connections") >= 1


def test_metrics_are_refused_without_the_token_or_the_operator(server_factory):
    srv = server_factory.start("metrics-private", extra_args=("--metrics-token", "scrape-secret"))
    assert requests.get(srv.endpoint + "/_martlet/metrics", timeout=10).status_code == 403
    wrong = requests.get(srv.endpoint + "/_martlet/metrics", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code in (400, 403)
    # The operator's signed request is answered too.
    signed = srv.raw().request("GET", "/_martlet/metrics")
    assert signed.status_code == 200 and "martlet_requests_total" in signed.text


def test_metrics_public_flag(server_factory):
    srv = server_factory.start("metrics-public", extra_args=("--metrics-public",))
    assert requests.get(srv.endpoint + "/_martlet/metrics", timeout=10).status_code == 200


def test_metrics_of_stored_objects_uploads_and_lifecycle(server_factory):
    """Per-bucket objects and bytes come from counters the index keeps (every version counts), with multipart
    uploads in progress, the notification outbox and lifecycle actions."""
    srv = server_factory.start("metrics-usage", extra_args=("--metrics-public", "--lifecycle-day-seconds", "1"))
    client = make_client(srv)
    client.create_bucket(Bucket="usage")
    client.create_bucket(Bucket="versioned")
    client.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    for i in range(5):
        client.put_object(Bucket="usage", Key=f"k{i}", Body=b"x" * 100)
    client.put_object(Bucket="usage", Key="k0", Body=b"x" * 10)  # an overwrite: 4 x 100 + 10
    client.delete_object(Bucket="usage", Key="k4")
    for body in (b"a" * 7, b"b" * 9):
        client.put_object(Bucket="versioned", Key="v", Body=body)
    client.delete_object(Bucket="versioned", Key="v")  # a delete marker stores nothing
    client.create_multipart_upload(Bucket="usage", Key="pending")

    def scrape():
        return requests.get(srv.endpoint + "/_martlet/metrics", timeout=10).text

    text = scrape()
    assert metric(text, "martlet_bucket_objects", bucket="usage") == 4
    assert metric(text, "martlet_bucket_bytes", bucket="usage") == 310
    assert metric(text, "martlet_bucket_objects", bucket="versioned") == 2
    assert metric(text, "martlet_bucket_bytes", bucket="versioned") == 16
    assert metric(text, "martlet_multipart_uploads_in_progress") == 1
    assert "martlet_notification_outbox_depth 0" in text
    client.put_bucket_lifecycle_configuration(Bucket="usage", LifecycleConfiguration={"Rules": [
        {"ID": "all", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]})
    client.put_object(Bucket="usage", Key="k0", Body=b"y")  # queues a key for the new rule
    deadline = time.monotonic() + 20
    while metric(scrape(), "martlet_lifecycle_actions_total", action="expire_current") < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert metric(scrape(), "martlet_lifecycle_actions_total", action="expire_current") >= 1
