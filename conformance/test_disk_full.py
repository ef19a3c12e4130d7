"""A full disk, for real: the server's data folder on a small tmpfs that the test fills.

A PUT, an UploadPart and a CompleteMultipartUpload that hit the full disk answer 503 ServiceUnavailable, leave no
object, part or temporary file behind, reads go on working, and the same requests succeed once space is freed.
"""

import errno
import os
import subprocess
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3helpers import object_absent, random_bytes


@pytest.fixture
def disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the full-disk tests (run as root): {done.stderr.strip()}", pytrace=False)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def full_disk_server(disk, server_factory):
    srv = server_factory.start("full-disk", data_dir=disk / "data")
    yield srv
    srv.stop()  # before the tmpfs goes away


def fill(disk: Path) -> Path:
    """Writes a file until the disk has no page left; returns it (delete it to free the space)."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 20, 4096):
            block = b"\0" * size
            while True:
                try:
                    f.write(block)
                except OSError as e:
                    assert e.errno == errno.ENOSPC
                    break
    return filler


def expect_unavailable(call):
    with pytest.raises(ClientError) as failure:
        call()
    status = failure.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status == 503, failure.value.response
    assert failure.value.response["Error"]["Code"] == "ServiceUnavailable"


def temporary_files(srv) -> list[str]:
    tmp = srv.data_dir / "tmp"
    return sorted(os.listdir(tmp)) if tmp.exists() else []


def test_put_on_a_full_disk(full_disk_server, disk):
    s3 = full_disk_server.client(retries={"max_attempts": 1, "mode": "standard"})
    s3.create_bucket(Bucket="full")
    s3.put_object(Bucket="full", Key="kept", Body=b"kept bytes")
    data = random_bytes(4 << 20, seed=7)
    filler = fill(disk)
    expect_unavailable(lambda: s3.put_object(Bucket="full", Key="new", Body=data))
    assert temporary_files(full_disk_server) == []
    assert object_absent(s3, "full", "new")
    assert s3.get_object(Bucket="full", Key="kept")["Body"].read() == b"kept bytes"
    assert full_disk_server.running()
    filler.unlink()
    s3.put_object(Bucket="full", Key="new", Body=data)
    assert s3.get_object(Bucket="full", Key="new")["Body"].read() == data


def test_upload_part_on_a_full_disk(full_disk_server, disk):
    s3 = full_disk_server.client(retries={"max_attempts": 1, "mode": "standard"})
    s3.create_bucket(Bucket="full")
    upload = s3.create_multipart_upload(Bucket="full", Key="mp")["UploadId"]
    data = random_bytes(6 << 20, seed=8)
    filler = fill(disk)
    expect_unavailable(lambda: s3.upload_part(Bucket="full", Key="mp", UploadId=upload, PartNumber=1, Body=data))
    assert temporary_files(full_disk_server) == []
    assert s3.list_parts(Bucket="full", Key="mp", UploadId=upload).get("Parts", []) == []
    filler.unlink()
    etag = s3.upload_part(Bucket="full", Key="mp", UploadId=upload, PartNumber=1, Body=data)["ETag"]
    s3.complete_multipart_upload(Bucket="full", Key="mp", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket="full", Key="mp")["Body"].read() == data


def test_complete_on_a_full_disk(full_disk_server, disk):
    # Complete writes no object bytes, only index rows: on a freshly started server every new index write must
    # grow SQLite's write-ahead log, which a full disk refuses.
    s3 = full_disk_server.client(retries={"max_attempts": 1, "mode": "standard"})
    s3.create_bucket(Bucket="full")
    upload = s3.create_multipart_upload(Bucket="full", Key="mp")["UploadId"]
    first, last = random_bytes(5 << 20, seed=9), b"tail"
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket="full", Key="mp", UploadId=upload, PartNumber=n,
                                                         Body=body)["ETag"]}
             for n, body in ((1, first), (2, last))]
    filler = fill(disk)
    expect_unavailable(lambda: s3.complete_multipart_upload(
        Bucket="full", Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}))
    assert object_absent(s3, "full", "mp")
    assert len(s3.list_parts(Bucket="full", Key="mp", UploadId=upload)["Parts"]) == 2  # the upload is intact
    filler.unlink()
    s3.complete_multipart_upload(Bucket="full", Key="mp", UploadId=upload, MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket="full", Key="mp")["Body"].read() == first + last
