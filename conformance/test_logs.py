"""Logs: one access line per request, as readable text or (`--log-format json`) one JSON object per line."""
import json
import time

import pytest

from conftest import make_client


def wait_for_log(srv, text: str, timeout: float = 5.0) -> str:
    """The server's log once it holds `text`: an access line is written after its response is sent."""
    deadline = time.monotonic() + timeout
    while True:
        log = srv.stderr_path.read_text()
        if text in log or time.monotonic() > deadline:
            return log
        time.sleep(0.02)


def access_lines(srv) -> list[dict]:
    lines = []
    for line in srv.stderr_path.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("log") == "access":
                lines.append(entry)
    return lines


def test_json_access_log_has_one_line_per_request(server_factory):
    srv = server_factory.start("jsonlog", extra_args=("--log-format", "json"))
    client = make_client(srv, retries={"max_attempts": 1, "mode": "standard"})
    client.create_bucket(Bucket="logged")
    put = client.put_object(Bucket="logged", Key="dir/file.txt", Body=b"x" * 1234)
    with pytest.raises(Exception):
        client.get_object(Bucket="logged", Key="missing")
    wait_for_log(srv, '"operation":"GetObject"')
    lines = access_lines(srv)
    by_operation = {entry["operation"]: entry for entry in lines}
    entry = by_operation["PutObject"]
    assert entry["bucket"] == "logged" and entry["key"] == "dir/file.txt"
    assert entry["status"] == "200" and entry["bytes-in"] == "1234"
    assert entry["principal"] == srv.access_key and entry["remote"] == "127.0.0.1"
    assert entry["request-id"] == put["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert float(entry["ms"]) >= 0 and entry["level"] == "info" and "time" in entry
    missing = by_operation["GetObject"]
    assert missing["status"] == "404" and missing["error"] == "NoSuchKey"
    server_lines = [line for line in srv.stderr_path.read_text().splitlines() if line.startswith("{")]
    assert server_lines and not any(srv.secret_key in line for line in server_lines), "secrets are never logged"


def test_text_logs_by_default(server_factory):
    srv = server_factory.start("textlog")
    make_client(srv).list_buckets()
    text = wait_for_log(srv, "operation=ListBuckets")
    assert "access" in text and "operation=ListBuckets" in text and not any(l.startswith("{") for l in text.splitlines())


def test_access_log_can_be_turned_off(server_factory):
    srv = server_factory.start("quietlog", extra_args=("--log-format", "json", "--no-access-log"))
    make_client(srv).list_buckets()
    assert access_lines(srv) == []
