"""Bucket operations: ListBuckets, CreateBucket (naming rules, re-create, location), HeadBucket, DeleteBucket,
GetBucketLocation."""

import datetime as dt
import random
import string
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import bucket_name, empty_and_delete, make_client
from s3helpers import client_error, error_fields, key_path, parse_xml


def _name(length: int, *, chars: str = string.ascii_lowercase + string.digits) -> str:
    """A random valid-looking name of exactly `length` characters (starts and ends with a letter)."""
    rnd = random.Random(uuid.uuid4().int)
    if length <= 2:
        return "".join(rnd.choice(string.ascii_lowercase) for _ in range(length))
    middle = "".join(rnd.choice(chars) for _ in range(length - 2))
    return rnd.choice(string.ascii_lowercase) + middle + rnd.choice(string.ascii_lowercase)


def test_list_buckets_shows_created_buckets(s3, request):
    names = [bucket_name(request, "lb1"), bucket_name(request, "lb2")]
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    try:
        for name in names:
            s3.create_bucket(Bucket=name)
        listing = s3.list_buckets()
        by_name = {b["Name"]: b for b in listing["Buckets"]}
        for name in names:
            assert name in by_name
            created = by_name[name]["CreationDate"]
            assert before <= created <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
        listed = [b["Name"] for b in listing["Buckets"]]
        assert listed == sorted(listed), "ListBuckets is ordered by name"
        assert listing["Owner"]["ID"]
    finally:
        for name in names:
            empty_and_delete(s3, name)


VALID_NAMES = {
    "min-length-3": lambda: _name(3),
    "max-length-63": lambda: _name(63),
    "dots": lambda: f"a.{_name(8)}.b",
    "hyphens": lambda: f"a-{_name(8)}-b",
    "starts-with-digit": lambda: "0" + _name(10),
    "digits-only-not-ip": lambda: str(random.randint(10**9, 10**10 - 1)),
}


@pytest.mark.parametrize("make", VALID_NAMES.values(), ids=VALID_NAMES.keys())
def test_create_bucket_valid_names(s3, make):
    name = make()
    try:
        resp = s3.create_bucket(Bucket=name)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert resp["Location"] == "/" + name
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
        s3.put_object(Bucket=name, Key="k", Body=b"x")
        assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"x"
    finally:
        empty_and_delete(s3, name)


INVALID_NAMES = {
    "too-short": "ab",
    "too-long": "a" * 64,
    "uppercase": "MyBucket-" + uuid.uuid4().hex[:6],
    "underscore": "my_bucket_" + uuid.uuid4().hex[:6],
    "ip-address": "192.168.5.4",
    "starts-with-hyphen": "-abc" + uuid.uuid4().hex[:6],
    "ends-with-hyphen": "abc" + uuid.uuid4().hex[:6] + "-",
    "starts-with-dot": ".abc" + uuid.uuid4().hex[:6],
    "ends-with-dot": "abc" + uuid.uuid4().hex[:6] + ".",
    "double-dot": "abc.." + uuid.uuid4().hex[:6],
    "xn--prefix": "xn--" + uuid.uuid4().hex[:8],
    "s3alias-suffix": uuid.uuid4().hex[:8] + "-s3alias",
}


@pytest.mark.parametrize("name", INVALID_NAMES.values(), ids=INVALID_NAMES.keys())
def test_create_bucket_invalid_names(s3, name):
    with pytest.raises(ClientError) as info:
        s3.create_bucket(Bucket=name)
    assert client_error(info.value) == (400, "InvalidBucketName")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_recreate_owned_bucket_in_us_east_1_is_200_and_keeps_contents(s3, bucket):
    # AWS: "For legacy compatibility, if you re-create an existing bucket that you already own in the North
    # Virginia Region, Amazon S3 returns 200 OK" (BucketAlreadyOwnedByYou docs in the API model).
    s3.put_object(Bucket=bucket, Key="keep-me", Body=b"still here")
    resp = s3.create_bucket(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=bucket, Key="keep-me")["Body"].read() == b"still here"


@pytest.fixture(scope="module")
def eu_server(martlet_bin, tmp_path_factory):
    from conftest import ServerPool

    pool = ServerPool(martlet_bin, tmp_path_factory.mktemp("eu"))
    srv = pool.start("eu-west-1", region="eu-west-1")
    yield srv
    pool.stop_all()


def test_recreate_owned_bucket_outside_us_east_1_is_bucket_already_owned_by_you(eu_server, request):
    s3 = make_client(eu_server)
    name = bucket_name(request)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        with pytest.raises(ClientError) as info:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        assert client_error(info.value) == (409, "BucketAlreadyOwnedByYou")
    finally:
        empty_and_delete(s3, name)


def test_create_bucket_with_location_constraint_matching_region(eu_server, request):
    s3 = make_client(eu_server)
    name = bucket_name(request)
    try:
        resp = s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    finally:
        empty_and_delete(s3, name)


def test_head_bucket(s3, bucket):
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as info:
        s3.head_bucket(Bucket="missing-" + uuid.uuid4().hex)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert info.value.response["Error"]["Code"] == "404"


def test_delete_empty_bucket(s3, request):
    name = bucket_name(request)
    s3.create_bucket(Bucket=name)
    resp = s3.delete_bucket(Bucket=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as info:
        s3.head_bucket(Bucket=name)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_delete_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="blocker", Body=b"1")
    with pytest.raises(ClientError) as info:
        s3.delete_bucket(Bucket=bucket)
    assert client_error(info.value) == (409, "BucketNotEmpty")
    assert s3.get_object(Bucket=bucket, Key="blocker")["Body"].read() == b"1"


def test_delete_missing_bucket(s3):
    with pytest.raises(ClientError) as info:
        s3.delete_bucket(Bucket="missing-" + uuid.uuid4().hex)
    assert client_error(info.value) == (404, "NoSuchBucket")


def test_get_bucket_location_us_east_1_is_empty(s3, raw, bucket):
    # AWS reports us-east-1 as an empty LocationConstraint, which boto3 surfaces as None.
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    resp = raw.request("GET", key_path(bucket), {"location": None})
    assert resp.status_code == 200
    root = parse_xml(resp.content)
    assert root.tag == "LocationConstraint"
    assert (root.text or "") == ""


def test_get_bucket_location_missing_bucket(s3):
    with pytest.raises(ClientError) as info:
        s3.get_bucket_location(Bucket="missing-" + uuid.uuid4().hex)
    assert client_error(info.value) == (404, "NoSuchBucket")


def test_list_buckets_pages_with_max_buckets_and_continuation_token(server_factory):
    srv = server_factory.start("list-buckets")
    s3 = srv.client()
    assert s3.list_buckets(MaxBuckets=1)["Buckets"] == []
    names = ["pb-a", "pb-b", "pb-c", "other"]
    for name in names:
        s3.create_bucket(Bucket=name)
    seen, token = [], None
    while True:
        kwargs = {"MaxBuckets": 2, **({"ContinuationToken": token} if token else {})}
        page = s3.list_buckets(**kwargs)
        seen += [b["Name"] for b in page["Buckets"]]
        assert len(page["Buckets"]) <= 2
        token = page.get("ContinuationToken")
        if not token:
            break
    assert seen == sorted(names)
    assert [b["Name"] for b in s3.list_buckets(Prefix="pb-")["Buckets"]] == ["pb-a", "pb-b", "pb-c"]
    assert s3.list_buckets(Prefix="pb-")["Prefix"] == "pb-"
    assert "ContinuationToken" not in s3.list_buckets()


@pytest.mark.parametrize("value", ["0", "10001", "x"])
def test_list_buckets_refuses_bad_max_buckets(raw, value):
    resp = raw.request("GET", "/", query={"max-buckets": value})
    assert resp.status_code == 400
    assert error_fields(resp.content)["Code"] == "InvalidArgument"
