"""`martlet admin import DIR s3://bucket/prefix` and `martlet admin export s3://bucket/prefix DIR` against a running
server: trees copied both ways byte for byte (large files in parts), resumed runs that send only what is missing,
an export killed with -9 leaving no half-written file, and keys that would leave the folder refused."""
import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import make_client
from s3helpers import random_bytes


def run(martlet_bin, srv, *args, timeout=300):
    env = {**os.environ, "MARTLET_ACCESS_KEY": srv.access_key, "MARTLET_SECRET_KEY": srv.secret_key}
    return subprocess.run([str(martlet_bin), "admin", *args, "--endpoint", srv.endpoint], env=env,
                          capture_output=True, text=True, timeout=timeout)


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def local_tree(tmp_path):
    root = tmp_path / "site"
    (root / "img" / "2026").mkdir(parents=True)
    (root / "docs").mkdir()
    for i in range(40):
        (root / "img" / "2026" / f"photo {i}.jpg").write_bytes(random_bytes(1000 + i, seed=i))
    (root / "docs" / "résumé.txt").write_text("unicode names survive")
    (root / "empty.txt").write_bytes(b"")
    (root / "video.mp4").write_bytes(random_bytes(20 * 1024 * 1024 + 17, seed=99))
    return root


def test_import_then_export_round_trips_a_tree(martlet_bin, server, local_tree, tmp_path):
    s3 = make_client(server)
    s3.create_bucket(Bucket="transfer")
    first = run(martlet_bin, server, "import", str(local_tree), "s3://transfer/site")
    assert first.returncode == 0, first.stderr
    assert "imported 43 file(s)" in first.stdout
    assert "importing" in first.stderr and "files" in first.stderr, "plain progress lines when not a terminal"
    head = s3.head_object(Bucket="transfer", Key="site/video.mp4")
    assert head["ContentLength"] == 20 * 1024 * 1024 + 17 and head["ETag"].endswith('-3"'), "a large file goes in parts"
    assert s3.get_object(Bucket="transfer", Key="site/docs/résumé.txt")["Body"].read() == b"unicode names survive"
    again = run(martlet_bin, server, "import", str(local_tree), "s3://transfer/site")
    assert "imported 0 file(s)" in again.stdout and "43 already there" in again.stdout
    time.sleep(1.1)
    (local_tree / "docs" / "résumé.txt").write_text("changed, and longer than before")
    changed = run(martlet_bin, server, "import", str(local_tree), "s3://transfer/site")
    assert "imported 1 file(s)" in changed.stdout

    out = tmp_path / "out"
    exported = run(martlet_bin, server, "export", "s3://transfer/site", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "exported 43 object(s)" in exported.stdout
    assert tree(out) == tree(local_tree)
    resumed = run(martlet_bin, server, "export", "s3://transfer/site", str(out))
    assert "exported 0 object(s)" in resumed.stdout


def test_an_export_killed_midway_resumes_without_half_files(martlet_bin, server, tmp_path):
    s3 = make_client(server)
    s3.create_bucket(Bucket="bigexport")
    big = os.urandom(160 * 1024 * 1024)
    s3.put_object(Bucket="bigexport", Key="big.bin", Body=big)
    for i in range(5):
        s3.put_object(Bucket="bigexport", Key=f"small/{i}", Body=b"s" * i)
    out = tmp_path / "out"
    env = {**os.environ, "MARTLET_ACCESS_KEY": server.access_key, "MARTLET_SECRET_KEY": server.secret_key}
    proc = subprocess.Popen([str(martlet_bin), "admin", "export", "s3://bigexport", str(out), "--endpoint", server.endpoint,
                             "--parallel", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not list(out.glob(".martlet-partial-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "big.bin").exists(), "never a half-written file under the object's name"
    finished = run(martlet_bin, server, "export", "s3://bigexport", str(out))
    assert finished.returncode == 0, finished.stderr
    assert hashlib.md5((out / "big.bin").read_bytes()).digest() == hashlib.md5(big).digest()
    assert not list(out.rglob(".martlet-partial-*"))


def test_export_refuses_keys_that_leave_the_folder(martlet_bin, server, tmp_path):
    s3 = make_client(server)
    s3.create_bucket(Bucket="escape")
    s3.put_object(Bucket="escape", Key="a/../../outside.txt", Body=b"evil")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="escape")["Contents"]] == ["a/../../outside.txt"]
    s3.put_object(Bucket="escape", Key="fine.txt", Body=b"ok")
    out = tmp_path / "inside" / "out"
    result = run(martlet_bin, server, "export", "s3://escape", str(out))
    assert result.returncode == 0, result.stderr
    assert "would be written outside the folder" in result.stderr
    assert (out / "fine.txt").read_bytes() == b"ok"
    assert not (tmp_path / "inside" / "outside.txt").exists() and not (tmp_path / "outside.txt").exists()
