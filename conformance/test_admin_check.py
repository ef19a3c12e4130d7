"""`martlet admin check --data DIR [--repair]`: a stopped server's data folder verified object by object (blobs
present, sizes, MD5 and multipart ETags, AES-GCM authentication of sealed blobs) plus orphaned blobs, which
--repair removes."""
import os
import subprocess

import pytest

from conftest import make_client
from s3helpers import random_bytes

PART = 5 * 1024 * 1024


def check(martlet_bin, srv, *extra):
    return subprocess.run([str(martlet_bin), "admin", "check", "--data", str(srv.data_dir), *extra],
                          capture_output=True, text=True, timeout=120)


def blob_with(srv, content: bytes):
    [found] = [p for p in srv.files_under("blobs") if p.stat().st_size == len(content) and p.read_bytes() == content]
    return found


@pytest.fixture
def stocked(server_factory):
    """A stopped server's folder holding plain, multipart, versioned, SSE-S3 and in-progress objects."""
    srv = server_factory.start("check")
    s3 = make_client(srv)
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
    s3.create_bucket(Bucket="history")
    s3.put_bucket_versioning(Bucket="history", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="history", Key="v", Body=b"one")
    s3.put_object(Bucket="history", Key="v", Body=b"two two")
    pending = s3.create_multipart_upload(Bucket="data", Key="pending.bin")
    s3.upload_part(Bucket="data", Key="pending.bin", UploadId=pending["UploadId"], PartNumber=1, Body=random_bytes(3000, seed=5))
    srv.stop()
    return srv, plain, parts


def test_a_sound_folder_passes(martlet_bin, stocked):
    srv, _, _ = stocked
    result = check(martlet_bin, srv)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked 6 objects and parts" in result.stdout and "0 damaged, 0 orphaned" in result.stdout


def test_damage_and_orphans_are_found_and_orphans_repaired(martlet_bin, stocked):
    srv, plain, parts = stocked
    flipped = blob_with(srv, plain)
    data = bytearray(flipped.read_bytes())
    data[5000] ^= 0x01
    flipped.write_bytes(bytes(data))
    blob_with(srv, parts[1]).unlink()
    [sealed] = [p for p in srv.files_under("blobs") if p.read_bytes()[:4] == b"MKE\x01"]
    data = bytearray(sealed.read_bytes())
    data[100_000] ^= 0x80
    sealed.write_bytes(bytes(data))
    orphan = flipped.with_name(flipped.name[:-1] + ("0" if flipped.name[-1] != "0" else "1"))
    orphan.write_bytes(b"left behind")
    os.utime(orphan, (1, 1))

    result = check(martlet_bin, srv)
    assert result.returncode == 1
    out = result.stdout
    assert "damaged: data/plain.bin: its bytes' MD5" in out
    assert "damaged: data/multi.bin: blob" in out and "is missing" in out
    assert "damaged: data/sealed.bin: its sealed bytes fail authentication" in out
    assert f"orphan blob: {orphan.name}" in out
    assert "3 damaged, 1 orphaned" in out
    assert "history/v" not in out and "pending.bin" not in out

    repaired = check(martlet_bin, srv, "--repair")
    assert f"removed blob: {orphan.name}" in repaired.stdout
    assert not orphan.exists()
    assert repaired.returncode == 1, "damaged objects are reported, never changed"
    assert "0 orphaned" in check(martlet_bin, srv).stdout


def test_check_refuses_a_running_server(martlet_bin, server_factory):
    srv = server_factory.start("check-live")
    result = check(martlet_bin, srv)
    assert result.returncode != 0
    assert "stop it first" in result.stderr
