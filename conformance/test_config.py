"""One configuration file (`--config`, YAML): settings with flags > MARTLET_* variables > file, notification
targets, and accounts, IAM users and buckets created or brought in line at start-up, idempotently; a file that
does not parse or names something invalid stops start-up with the file, line and reason."""
import subprocess
import textwrap
import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import make_client
from notification_helpers import webhook  # noqa: F401 (fixture)
from s3helpers import client_error, free_port

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "martlet.example.yaml"


def client_for(srv, access_key, secret_key):
    return boto3.client("s3", endpoint_url=srv.endpoint, region_name=srv.region,
                        aws_access_key_id=access_key, aws_secret_access_key=secret_key)


def test_the_sample_file_starts_a_ready_server(server_factory):
    """The commented sample in the repository is a working file: its accounts, user and bucket exist and behave."""
    srv = server_factory.start("sample", extra_args=("--config", str(SAMPLE)))
    web = client_for(srv, "AKIAWEBROOT00000001", "web-root-secret-change-me")
    assert [b["Name"] for b in web.list_buckets()["Buckets"]] == ["web-uploads"]
    assert web.get_bucket_versioning(Bucket="web-uploads")["Status"] == "Enabled"
    rule = web.get_bucket_encryption(Bucket="web-uploads")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert web.get_bucket_lifecycle_configuration(Bucket="web-uploads")["Rules"][0]["ID"] == "tmp"
    assert web.get_bucket_cors(Bucket="web-uploads")["CORSRules"][0]["AllowedOrigins"] == ["https://app.example.com"]
    queue = web.get_bucket_notification_configuration(Bucket="web-uploads")["QueueConfigurations"][0]
    assert queue["Id"] == "new-images" and queue["QueueArn"] == "arn:martlet:sqs:us-east-1:thumbnails:webhook"
    uploader = client_for(srv, "AKIAWEBUPLOADER0001", "uploader-secret-change-me")
    uploader.put_object(Bucket="web-uploads", Key="a.txt", Body=b"hello")
    assert uploader.get_object(Bucket="web-uploads", Key="a.txt")["Body"].read() == b"hello"
    with pytest.raises(ClientError) as denied:
        uploader.delete_object(Bucket="web-uploads", Key="a.txt")
    assert client_error(denied.value) == (403, "AccessDenied"), "the user's policy allows put and get only"
    web.delete_object(Bucket="web-uploads", Key="a.txt")
    with pytest.raises(ClientError) as kept:
        web.delete_bucket(Bucket="web-uploads")
    assert client_error(kept.value) == (403, "AccessDenied"), "the bucket policy keeps the bucket"
    operator = make_client(srv)
    assert "web-uploads" not in [b["Name"] for b in operator.list_buckets()["Buckets"]], "owned by the web account"


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "martlet.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_applying_is_idempotent_and_brings_settings_in_line(server_factory, tmp_path, webhook):
    config = write(tmp_path, f"""
        webhooks:
          - id: hook
            url: {webhook.url}
        users:
          - name: ci
            access-key: AKIACIUSER000000001
            secret-key: first-secret
            policies:
              everything: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]}}'
        buckets:
          - name: ci-artifacts
            versioning: Enabled
            notification: |
              <NotificationConfiguration><QueueConfiguration><Id>n</Id>
                <Queue>arn:martlet:sqs:us-east-1:hook:webhook</Queue><Event>s3:ObjectCreated:*</Event>
              </QueueConfiguration></NotificationConfiguration>
        """)
    srv = server_factory.start("declared", extra_args=("--config", str(config)))
    ci = client_for(srv, "AKIACIUSER000000001", "first-secret")
    ci.put_object(Bucket="ci-artifacts", Key="build.tar", Body=b"x")
    assert [r["s3"]["object"]["key"] for r in webhook.wait_for(1)] == ["build.tar"]
    # A restart with the same file changes nothing and fails nothing.
    srv.stop()
    srv.start()
    assert ci.head_object(Bucket="ci-artifacts", Key="build.tar")["ContentLength"] == 1
    assert len(ci.list_object_versions(Bucket="ci-artifacts")["Versions"]) == 1
    # A changed file is brought in line: a new secret, versioning suspended, the policy gone.
    write(tmp_path, f"""
        webhooks:
          - id: hook
            url: {webhook.url}
        users:
          - name: ci
            access-key: AKIACIUSER000000001
            secret-key: second-secret
        buckets:
          - name: ci-artifacts
            versioning: Suspended
        """)
    srv.stop()
    srv.start()
    with pytest.raises(ClientError) as old_secret:
        ci.list_objects_v2(Bucket="ci-artifacts")
    assert client_error(old_secret.value)[1] == "SignatureDoesNotMatch"
    renewed = client_for(srv, "AKIACIUSER000000001", "second-secret")
    with pytest.raises(ClientError) as no_policy:
        renewed.list_objects_v2(Bucket="ci-artifacts")
    assert client_error(no_policy.value) == (403, "AccessDenied")
    assert make_client(srv).get_bucket_versioning(Bucket="ci-artifacts")["Status"] == "Suspended"


def test_flags_beat_variables_which_beat_the_file(server_factory, tmp_path):
    config = write(tmp_path, """
        metrics-public: true
        log-format: json
        """)
    from_file = server_factory.start("precedence-file", extra_args=("--config", str(config)))
    assert requests.get(from_file.endpoint + "/_martlet/metrics", timeout=10).status_code == 200
    assert from_file.stderr_path.read_text().count('{"') > 0, "log-format json from the file"
    from_env = server_factory.start("precedence-env", start=False, extra_args=("--config", str(config)))
    from_env.extra_env = {"MARTLET_METRICS_PUBLIC": "false"}
    from_env.start()
    assert requests.get(from_env.endpoint + "/_martlet/metrics", timeout=10).status_code == 403
    from_flag = server_factory.start("precedence-flag", start=False, extra_args=("--config", str(config), "--metrics-public"))
    from_flag.extra_env = {"MARTLET_METRICS_PUBLIC": "false"}
    from_flag.start()
    assert requests.get(from_flag.endpoint + "/_martlet/metrics", timeout=10).status_code == 200


@pytest.mark.parametrize("text, line, reason", [
    ("address: 127.0.0.1:1\nmax-conections: 5\n", 2, "unknown setting max-conections"),
    ("idle-timeout: soon\n", 1, '"soon" is not a valid idle-timeout'),
    ("buckets:\n  - name: fine\n  - name: Not_A_Bucket\n", 3, "bucket Not_A_Bucket"),
    ("buckets:\n  - name: bkt\n    lifecycle: <LifecycleConfiguration><Rule/></LifecycleConfiguration>\n", 2, "lifecycle"),
    ("buckets:\n  - name: bkt\n    notification: <NotificationConfiguration><QueueConfiguration><Queue>arn:martlet:sqs:us-east-1:none:webhook</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>\n",
     2, "Unable to validate"),
    ("users:\n  - name: u\n    acces-key: AKIA\n", 3, "unknown key acces-key"),
    ("webhooks:\n  - id: h\n    url: ftp://example.com\n", 2, "http:// or https://"),
    ("region: [a, b\n", 1, "not valid YAML"),
    ("buckets:\n  - name: bkt\n    policy: '{\"Statement\": [{\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"s3:*\", "
     "\"Resource\": \"arn:aws:s3:::bkt/*\", \"Condition\": {\"NotIpAddress\": {\"aws:SourceIp\": \"300.1.1.1/8\"}}}]}'\n",
     2, "300.1.1.1/8"),
    ("users:\n  - name: u\n    policies:\n      p: '{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\", "
     "\"Condition\": {\"IpAddress\": {\"aws:SourceIp\": \"1.2.3.4/33\"}}}]}'\n", 2, "1.2.3.4/33"),
])
def test_a_bad_file_stops_start_up_with_file_line_and_reason(martlet_bin, tmp_path, text, line, reason):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    started = time.monotonic()
    proc = subprocess.run(
        [str(martlet_bin), "server", "--config", str(config), "--data", str(tmp_path / "data"),
         "--address", f"127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert time.monotonic() - started < 20
    assert f"{config}:{line}" in proc.stderr or reason == "not valid YAML", proc.stderr
    assert reason in proc.stderr, proc.stderr
    assert "Usage:" not in proc.stderr or "setting" in reason
