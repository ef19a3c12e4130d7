"""Response hygiene: request-id headers on every response, the error XML document, NotImplemented for
sub-resources Martlet does not serve, MalformedXML."""

import uuid

import pytest

from s3helpers import error_fields, key_path, parse_xml

# (name, method, path builder, query, body, sign kwargs, expected status)
REQUESTS = [
    ("list-buckets", "GET", lambda b: "/", None, b"", {}, 200),
    ("put-object", "PUT", lambda b: key_path(b, "rid"), None, b"x", {}, 200),
    ("get-object", "GET", lambda b: key_path(b, "seed"), None, b"", {}, 200),
    ("head-object", "HEAD", lambda b: key_path(b, "seed"), None, b"", {}, 200),
    ("list-objects", "GET", lambda b: key_path(b), {"list-type": "2"}, b"", {}, 200),
    ("delete-object", "DELETE", lambda b: key_path(b, "seed-2"), None, b"", {}, 204),
    ("no-such-key", "GET", lambda b: key_path(b, "missing"), None, b"", {}, 404),
    ("head-no-such-key", "HEAD", lambda b: key_path(b, "missing"), None, b"", {}, 404),
    ("no-such-bucket", "GET", lambda b: key_path("missing-" + b[-10:], "k"), None, b"", {}, 404),
    ("bad-signature", "GET", lambda b: key_path(b, "seed"), None, b"", {"secret_key": "wrong"}, 403),
    ("anonymous", "GET", lambda b: key_path(b, "seed"), None, b"", {"auth": None}, 403),
    ("invalid-bucket-name", "PUT", lambda b: "/Invalid_Name", None, b"", {}, 400),
    ("bucket-not-empty", "DELETE", lambda b: key_path(b), None, b"", {}, 409),
    ("invalid-range", "GET", lambda b: key_path(b, "seed"), None, b"", {}, 416),
]


@pytest.fixture
def seeded(s3, bucket):
    s3.put_object(Bucket=bucket, Key="seed", Body=b"seed")
    s3.put_object(Bucket=bucket, Key="seed-2", Body=b"seed")
    return bucket


@pytest.mark.parametrize("name, method, path, query, body, sign, expected", REQUESTS, ids=[r[0] for r in REQUESTS])
def test_every_response_has_request_ids(raw, seeded, name, method, path, query, body, sign, expected):
    headers = {"Range": "bytes=100-200"} if name == "invalid-range" else None
    resp = raw.request(method, path(seeded), query, headers, body, **sign)
    assert resp.status_code == expected, resp.content
    assert resp.headers.get("x-amz-request-id"), "missing x-amz-request-id"
    assert resp.headers.get("x-amz-id-2"), "missing x-amz-id-2"
    if expected >= 400 and method != "HEAD":
        fields = error_fields(resp.content)
        assert fields.get("Code"), resp.content
        assert fields.get("Message")
        assert fields.get("RequestId") == resp.headers["x-amz-request-id"]
        assert resp.headers["Content-Type"].startswith("application/xml")


def test_request_ids_are_unique(raw, seeded):
    ids = {raw.request("GET", key_path(seeded, "seed")).headers["x-amz-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_no_such_key_document(raw, bucket):
    resp = raw.request("GET", key_path(bucket, "dir/missing.txt"))
    assert resp.status_code == 404
    assert resp.content.startswith(b"<?xml")
    fields = error_fields(resp.content)
    assert fields["Code"] == "NoSuchKey"
    assert fields["Message"] == "The specified key does not exist."
    assert fields["Key"] == "dir/missing.txt"


def test_no_such_bucket_document(raw):
    name = "missing-" + uuid.uuid4().hex
    resp = raw.request("GET", key_path(name), {"list-type": "2"})
    assert resp.status_code == 404
    fields = error_fields(resp.content)
    assert fields["Code"] == "NoSuchBucket"
    assert fields["Message"] == "The specified bucket does not exist"
    assert fields["BucketName"] == name


@pytest.mark.martlet  # AWS's documented error format lists Resource; AWS itself often omits it
@pytest.mark.parametrize("what", ["key", "bucket"])
def test_error_resource_element(raw, bucket, what):
    path = key_path(bucket, "dir/missing.txt") if what == "key" else key_path("missing-" + bucket[-12:])
    resp = raw.request("GET", path)
    fields = error_fields(resp.content)
    assert fields["Resource"]
    assert (bucket if what == "key" else "missing-" + bucket[-12:]) in fields["Resource"]
    assert fields["RequestId"] == resp.headers["x-amz-request-id"]


UNIMPLEMENTED = [
    ("GET", "replication"), ("GET", "analytics"), ("GET", "inventory"), ("GET", "metrics"),
    ("GET", "intelligent-tiering"), ("GET", "requestPayment"), ("GET", "logging"), ("GET", "accelerate"),
]


@pytest.mark.martlet  # AWS implements these; Martlet answers 501 until it does
@pytest.mark.parametrize("method, subresource", UNIMPLEMENTED, ids=[u[1] for u in UNIMPLEMENTED])
def test_unimplemented_subresources(raw, bucket, method, subresource):
    resp = raw.request(method, key_path(bucket), {subresource: None})
    assert resp.status_code == 501, resp.content
    fields = error_fields(resp.content)
    assert fields["Code"] == "NotImplemented"
    assert resp.headers.get("x-amz-request-id")


@pytest.mark.martlet
def test_unimplemented_subresource_put_does_nothing(raw, s3, bucket):
    resp = raw.request("PUT", key_path(bucket), {"replication": None},
                       body=b"<ReplicationConfiguration><Role>arn:aws:iam::123456789012:role/r</Role>"
                            b"</ReplicationConfiguration>")
    assert resp.status_code == 501
    assert error_fields(resp.content)["Code"] == "NotImplemented"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@pytest.mark.parametrize("body", [
    b"<CreateBucketConfiguration><LocationConstraint>us-east-1",
    b"this is not xml",
    b"<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
    b"</WrongClose></CreateBucketConfiguration>",
], ids=["truncated", "not-xml", "mismatched-tags"])
def test_malformed_create_bucket_configuration(raw, s3, body):
    name = "mt-malformed-" + uuid.uuid4().hex[:12]
    resp = raw.request("PUT", key_path(name), body=body)
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "MalformedXML"
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_xml_success_documents_have_declaration_and_namespace(raw, bucket):
    resp = raw.request("GET", key_path(bucket), {"list-type": "2"})
    assert resp.content.startswith(b"<?xml")
    assert b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' in resp.content
    assert parse_xml(resp.content).tag == "ListBucketResult"
