"""aws-cli (v1, from the venv) against Martlet over HTTP and HTTPS: mb, cp, ls, rm, sync, presign, s3api."""

import json
import uuid
from pathlib import Path

import pytest
import requests

from s3helpers import md5_hex, random_bytes

SCHEMES = pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])


def _client(request, tls):
    return request.getfixturevalue("s3_tls" if tls else "s3")


def _verify(request, tls):
    return str(request.getfixturevalue("tls_server").ca_file) if tls else True


@pytest.fixture
def cli_bucket(request, aws):
    """A bucket made with `aws s3 mb` (HTTP or HTTPS per the test's tls parameter) and removed with `s3 rb`."""
    tls = request.node.callspec.params["tls"]
    name = f"mt-cli-{'s' if tls else 'p'}-{uuid.uuid4().hex[:12]}"
    proc = aws("s3", "mb", f"s3://{name}", tls=tls)
    assert f"make_bucket: {name}" in proc.stdout
    yield name
    aws("s3", "rb", f"s3://{name}", "--force", tls=tls, check=False)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@SCHEMES
def test_mb_ls_and_rb(aws, request, tls):
    name = f"mt-cli-mb-{uuid.uuid4().hex[:12]}"
    aws("s3", "mb", f"s3://{name}", tls=tls)
    assert name in aws("s3", "ls", tls=tls).stdout.split()
    proc = aws("s3", "rb", f"s3://{name}", tls=tls)
    assert f"remove_bucket: {name}" in proc.stdout
    assert name not in aws("s3", "ls", tls=tls).stdout.split()


@SCHEMES
def test_cp_up_and_down(aws, request, tls, cli_bucket, tmp_path):
    s3 = _client(request, tls)
    data = random_bytes(2 * 1024 * 1024 + 7)
    src = tmp_path / "report final.pdf"
    src.write_bytes(data)
    proc = aws("s3", "cp", str(src), f"s3://{cli_bucket}/docs/report final.pdf", tls=tls)
    assert "upload:" in proc.stdout
    obj = s3.get_object(Bucket=cli_bucket, Key="docs/report final.pdf")
    assert obj["Body"].read() == data
    assert obj["ContentType"] == "application/pdf"  # aws-cli guesses it from the extension
    assert obj["ETag"] == f'"{md5_hex(data)}"'

    dst = tmp_path / "down.pdf"
    aws("s3", "cp", f"s3://{cli_bucket}/docs/report final.pdf", str(dst), tls=tls)
    assert dst.read_bytes() == data


@SCHEMES
def test_cp_from_stdin_and_to_stdout(aws, request, tls, cli_bucket, tmp_path):
    s3 = _client(request, tls)
    s3.put_object(Bucket=cli_bucket, Key="streamed.txt", Body=b"line one\nline two\n")
    proc = aws("s3", "cp", f"s3://{cli_bucket}/streamed.txt", "-", tls=tls)
    assert proc.stdout == "line one\nline two\n"


@SCHEMES
def test_ls_and_rm(aws, request, tls, cli_bucket):
    s3 = _client(request, tls)
    for key in ["top.txt", "dir/a.txt", "dir/b.txt", "dir/sub/c.txt", "ünï cödé.txt"]:
        s3.put_object(Bucket=cli_bucket, Key=key, Body=key.encode())
    top = aws("s3", "ls", f"s3://{cli_bucket}/", tls=tls).stdout
    assert "PRE dir/" in top
    assert "top.txt" in top
    assert "ünï cödé.txt" in top
    assert "a.txt" not in top
    recursive = aws("s3", "ls", "--recursive", f"s3://{cli_bucket}/", tls=tls).stdout
    for key in ["top.txt", "dir/a.txt", "dir/b.txt", "dir/sub/c.txt", "ünï cödé.txt"]:
        assert key in recursive
    aws("s3", "rm", f"s3://{cli_bucket}/top.txt", tls=tls)
    aws("s3", "rm", "--recursive", f"s3://{cli_bucket}/dir/", tls=tls)
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=cli_bucket).get("Contents", [])]
    assert left == ["ünï cödé.txt"]


@SCHEMES
def test_sync_both_ways(aws, request, tls, cli_bucket, tmp_path):
    s3 = _client(request, tls)
    src = tmp_path / "src"
    files = {
        "a.txt": b"alpha\n",
        "empty.dat": b"",
        "nested/b.bin": random_bytes(300000),
        "nested/deeper/c.txt": b"gamma\n",
        "with space/d e.txt": b"delta\n",
        "unicode/ünï.txt": "ünï".encode(),
    }
    for rel, data in files.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    up = aws("s3", "sync", str(src), f"s3://{cli_bucket}/backup", tls=tls)
    assert up.stdout.count("upload:") == len(files)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=cli_bucket)["Contents"])
    assert keys == sorted(f"backup/{rel}" for rel in files)
    for rel, data in files.items():
        assert s3.get_object(Bucket=cli_bucket, Key=f"backup/{rel}")["Body"].read() == data

    again = aws("s3", "sync", str(src), f"s3://{cli_bucket}/backup", tls=tls)
    assert again.stdout.strip() == "", "second upload sync should find nothing to do"

    dst = tmp_path / "dst"
    down = aws("s3", "sync", f"s3://{cli_bucket}/backup", str(dst), tls=tls)
    assert down.stdout.count("download:") == len(files)
    assert _tree(dst) == files

    again = aws("s3", "sync", f"s3://{cli_bucket}/backup", str(dst), tls=tls)
    assert again.stdout.strip() == "", "second download sync should find nothing to do"

    # A changed local file is uploaded again, and --delete removes what is gone locally.
    (src / "a.txt").write_bytes(b"alpha, changed size\n")
    (src / "nested" / "deeper" / "c.txt").unlink()
    changed = aws("s3", "sync", "--delete", str(src), f"s3://{cli_bucket}/backup", tls=tls)
    assert "upload:" in changed.stdout and "a.txt" in changed.stdout
    assert "delete:" in changed.stdout and "c.txt" in changed.stdout
    assert s3.get_object(Bucket=cli_bucket, Key="backup/a.txt")["Body"].read() == b"alpha, changed size\n"
    assert "backup/nested/deeper/c.txt" not in [o["Key"] for o in s3.list_objects_v2(Bucket=cli_bucket)["Contents"]]


@SCHEMES
def test_presign(aws, request, tls, cli_bucket):
    s3 = _client(request, tls)
    s3.put_object(Bucket=cli_bucket, Key="shared/file.txt", Body=b"shared via presign")
    url = aws("s3", "presign", f"s3://{cli_bucket}/shared/file.txt", tls=tls).stdout.strip()
    assert url.startswith("https://" if tls else "http://")
    resp = requests.get(url, verify=_verify(request, tls), timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"shared via presign"


@SCHEMES
def test_s3api_head_object_and_put_object(aws, request, tls, cli_bucket, tmp_path):
    s3 = _client(request, tls)
    data = random_bytes(12345)
    body = tmp_path / "body.bin"
    body.write_bytes(data)
    put = json.loads(aws("s3api", "put-object", "--bucket", cli_bucket, "--key", "api/obj", "--body", str(body),
                         "--content-type", "application/x-test", "--metadata", "origin=cli", tls=tls).stdout)
    assert put["ETag"] == f'"{md5_hex(data)}"'
    head = json.loads(aws("s3api", "head-object", "--bucket", cli_bucket, "--key", "api/obj", tls=tls).stdout)
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == f'"{md5_hex(data)}"'
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"origin": "cli"}
    missing = aws("s3api", "head-object", "--bucket", cli_bucket, "--key", "api/missing", tls=tls, check=False)
    assert missing.returncode != 0
    assert "404" in missing.stderr
    assert s3.get_object(Bucket=cli_bucket, Key="api/obj")["Body"].read() == data


@SCHEMES
def test_s3api_list_objects_v2(aws, request, tls, cli_bucket):
    s3 = _client(request, tls)
    for i in range(5):
        s3.put_object(Bucket=cli_bucket, Key=f"list/{i}", Body=b"x")
    out = json.loads(aws("s3api", "list-objects-v2", "--bucket", cli_bucket, "--prefix", "list/", "--page-size",
                         "2", tls=tls).stdout)
    assert [o["Key"] for o in out["Contents"]] == [f"list/{i}" for i in range(5)]
