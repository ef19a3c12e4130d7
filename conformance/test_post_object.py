"""POST Object: browser form uploads signed by boto3's generate_presigned_post (SigV2 and SigV4), policy conditions
and their failures, the success fields, and anonymous forms into buckets whose policy allows them. A refused form
stores nothing."""

import base64
import datetime
import hashlib
import hmac
import json

import pytest
import requests
from botocore.exceptions import ClientError

from access_helpers import client_for, policy
from s3helpers import client_error, parse_xml, random_bytes


def _client(server, signature_version):
    return client_for(server, server.access_key, server.secret_key, signature_version=signature_version)


def _post(url, fields, content=b"hello", filename="upload.bin", **kwargs):
    files = list(fields.items()) + [("file", (filename, content, "application/octet-stream"))]
    return requests.post(url, files=files, allow_redirects=False, **kwargs)


def _error(response):
    root = parse_xml(response.content)
    return response.status_code, root.findtext("Code"), root.findtext("Message")


def _v2_form(server, bucket, conditions, fields, expires_in=600, expiration=None):
    """A SigV2 form built by hand, so tests can shape the policy freely."""
    expiration = expiration or (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in))
    document = {"expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"), "conditions": [{"bucket": bucket}, *conditions]}
    encoded = base64.b64encode(json.dumps(document).encode())
    signature = base64.b64encode(hmac.new(server.secret_key.encode(), encoded, hashlib.sha1).digest())
    return {**fields, "AWSAccessKeyId": server.access_key, "policy": encoded.decode(), "signature": signature.decode()}


def _missing(s3, bucket, key):
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key=key)
    assert client_error(exc.value)[0] == 404


@pytest.mark.parametrize("signature_version", [None, "s3v4", "s3"], ids=["boto3-default", "sigv4", "sigv2"])
def test_presigned_post_stores_the_file_with_its_fields(server, s3, bucket, signature_version):
    signer = _client(server, signature_version) if signature_version else s3
    data = random_bytes(70_000, seed=3) + b"\r\n--not-the-boundary\r\n"
    form = signer.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"Content-Type": "text/csv", "x-amz-meta-origin": "browser", "success_action_status": "201"},
        Conditions=[["starts-with", "$key", "uploads/"], {"Content-Type": "text/csv"}, {"x-amz-meta-origin": "browser"},
                    {"success_action_status": "201"}, ["content-length-range", 1, 10_000_000]])
    if signature_version == "s3v4":
        assert form["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    if signature_version == "s3":
        assert "AWSAccessKeyId" in form["fields"]
    response = _post(form["url"], form["fields"], data, filename="report.csv")
    assert response.status_code == 201, response.text
    document = parse_xml(response.content)
    assert document.tag == "PostResponse"
    assert document.findtext("Bucket") == bucket and document.findtext("Key") == "uploads/report.csv"
    assert document.findtext("ETag") == f'"{hashlib.md5(data).hexdigest()}"' == response.headers["ETag"]
    assert response.headers["Location"].endswith(f"/{bucket}/uploads/report.csv")
    stored = s3.get_object(Bucket=bucket, Key="uploads/report.csv")
    assert stored["Body"].read() == data
    assert stored["ContentType"] == "text/csv" and stored["Metadata"] == {"origin": "browser"}


def test_default_answer_is_204_and_200_on_request(s3, bucket):
    form = s3.generate_presigned_post(bucket, "a.txt")
    response = _post(form["url"], form["fields"])
    assert response.status_code == 204 and response.content == b""
    assert response.headers["ETag"] == f'"{hashlib.md5(b"hello").hexdigest()}"'
    form = s3.generate_presigned_post(bucket, "b.txt", Fields={"success_action_status": "200"},
                                      Conditions=[{"success_action_status": "200"}])
    assert _post(form["url"], form["fields"]).status_code == 200
    form = s3.generate_presigned_post(bucket, "c.txt", Fields={"success_action_status": "404"},
                                      Conditions=[{"success_action_status": "404"}])
    assert _post(form["url"], form["fields"]).status_code == 204


def test_success_action_redirect_names_bucket_key_and_etag(s3, bucket):
    target = "https://app.example.test/done?step=2"
    form = s3.generate_presigned_post(bucket, "photo.jpg", Fields={"success_action_redirect": target},
                                      Conditions=[{"success_action_redirect": target}])
    response = _post(form["url"], form["fields"], b"jpeg")
    assert response.status_code == 303
    etag = hashlib.md5(b"jpeg").hexdigest()
    assert response.headers["Location"] == f"{target}&bucket={bucket}&key=photo.jpg&etag=%22{etag}%22"


def test_tagging_and_checksum_fields(s3, bucket):
    data = b"x" * 2048
    tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag></TagSet></Tagging>"
    form = s3.generate_presigned_post(bucket, "tagged", Fields={"tagging": tagging}, Conditions=[{"tagging": tagging}])
    checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
    response = _post(form["url"], {**form["fields"], "x-amz-checksum-sha256": checksum}, data)
    assert response.status_code == 204, response.text
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"] == [{"Key": "team", "Value": "web"}]
    head = s3.head_object(Bucket=bucket, Key="tagged", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == checksum

    form = s3.generate_presigned_post(bucket, "bad-checksum")
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    response = _post(form["url"], {**form["fields"], "x-amz-checksum-sha256": wrong}, data)
    assert _error(response)[:2] == (400, "BadDigest")
    _missing(s3, bucket, "bad-checksum")


@pytest.mark.parametrize("conditions, fields, status, code, message", [
    ([["starts-with", "$key", "uploads/"]], {"key": "elsewhere/x"}, 403, "AccessDenied",
     'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]'),
    ([["starts-with", "$key", ""]], {"key": "x", "x-amz-meta-unlisted": "1"}, 403, "AccessDenied",
     "Invalid according to Policy: Extra input fields: x-amz-meta-unlisted"),
    ([{"key": "x"}, {"acl": "private"}], {"key": "x", "acl": "public-read"}, 403, "AccessDenied",
     'Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "private"]'),
    ([{"key": "x"}, ["content-length-range", 0]], {"key": "x"}, 400, "InvalidPolicyDocument", None),
    ([{"key": "x"}, {}], {"key": "x"}, 400, "InvalidPolicyDocument",
     "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."),
], ids=["starts-with-mismatch", "field-without-condition", "eq-mismatch", "bad-length-range", "empty-condition"])
def test_policy_violations_store_nothing(server, s3, bucket, conditions, fields, status, code, message):
    response = _post(f"{server.endpoint}/{bucket}", _v2_form(server, bucket, conditions, fields))
    got = _error(response)
    assert got[:2] == (status, code), response.text
    if message:
        assert got[2] == message
    _missing(s3, bucket, fields["key"])


def test_expired_forged_and_unsigned_forms(server, s3, bucket):
    url = f"{server.endpoint}/{bucket}"
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    expired = _v2_form(server, bucket, [{"key": "k"}], {"key": "k"}, expiration=past)
    assert _error(_post(url, expired)) == (403, "AccessDenied", "Invalid according to Policy: Policy expired.")

    form = s3.generate_presigned_post(bucket, "k", Conditions=[["content-length-range", 0, 10]])
    document = json.loads(base64.b64decode(form["fields"]["policy"]))
    document["conditions"] = [c for c in document["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")]
    forged = {**form["fields"], "policy": base64.b64encode(json.dumps(document).encode()).decode()}
    assert _error(_post(url, forged, b"y" * 100))[:2] == (403, "SignatureDoesNotMatch")

    unknown = {**form["fields"]}
    key_field = "AWSAccessKeyId" if "AWSAccessKeyId" in unknown else "x-amz-credential"
    unknown[key_field] = unknown[key_field].replace(server.access_key, "AKIANOSUCHKEY0000000")
    assert _error(_post(url, unknown))[:2] == (403, "InvalidAccessKeyId")

    no_signature = {k: v for k, v in form["fields"].items() if k not in ("signature", "x-amz-signature")}
    assert _error(_post(url, no_signature))[:2] == (400, "InvalidArgument")

    # A private bucket refuses a form that signs nothing.
    assert _error(_post(url, {"key": "k"}))[:2] == (403, "AccessDenied")
    _missing(s3, bucket, "k")


def test_file_outside_content_length_range(s3, bucket):
    form = s3.generate_presigned_post(bucket, "sized", Conditions=[["content-length-range", 10, 1000]])
    too_big = _post(form["url"], form["fields"], b"z" * 5000)
    assert _error(too_big)[:2] == (400, "EntityTooLarge")
    too_small = _post(form["url"], form["fields"], b"z" * 5)
    assert _error(too_small)[:2] == (400, "EntityTooSmall")
    _missing(s3, bucket, "sized")
    assert _post(form["url"], form["fields"], b"z" * 500).status_code == 204


def test_disjoint_content_length_ranges_admit_no_file(s3, bucket):
    # Every condition must hold: a file that fits one range but not the other is refused, whatever its size.
    form = s3.generate_presigned_post(
        bucket, "disjoint", Conditions=[["content-length-range", 10, 20], ["content-length-range", 30, 40]])
    for size in (5, 15, 25, 30, 35, 45):
        response = _post(form["url"], form["fields"], b"d" * size)
        assert _error(response)[:2] in ((400, "EntityTooSmall"), (400, "EntityTooLarge")), (size, response.text)
    _missing(s3, bucket, "disjoint")


def test_malformed_forms(server, s3, bucket):
    url = f"{server.endpoint}/{bucket}"
    form = s3.generate_presigned_post(bucket, "m")
    not_a_form = requests.post(url, data=b"key=m", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert _error(not_a_form)[:2] == (412, "PreconditionFailed")
    without_file = requests.post(url, files=[(k, (None, v)) for k, v in form["fields"].items()])
    assert _error(without_file)[:2] == (400, "IncorrectNumberOfFilesInPostRequest")
    parts = b"".join(f'--xyz\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                     for k, v in form["fields"].items())
    truncated = requests.post(url, data=parts + b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
                              b"unterminated", headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert _error(truncated)[:2] == (400, "MalformedPOSTRequest")
    oversized_fields = _post(url, {**form["fields"], "x-ignore-padding": "p" * 30_000})
    assert _error(oversized_fields)[:2] == (400, "MaxPostPreDataLengthExceededError")
    no_key = {k: v for k, v in form["fields"].items() if k != "key"}
    assert _error(_post(url, no_key))[:2] == (400, "InvalidArgument")
    _missing(s3, bucket, "m")


def test_anonymous_form_into_a_bucket_whose_policy_allows_it(server, s3, bucket):
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({
        "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/inbox/*"}))
    url = f"{server.endpoint}/{bucket}"
    assert _post(url, {"key": "inbox/${filename}"}, b"dropped", filename="note.txt").status_code == 204
    assert s3.get_object(Bucket=bucket, Key="inbox/note.txt")["Body"].read() == b"dropped"
    assert _error(_post(url, {"key": "elsewhere"}))[:2] == (403, "AccessDenied")
    _missing(s3, bucket, "elsewhere")


def test_iam_user_needs_put_object(make_user, s3, bucket, server):
    reader = make_user(policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    signer = client_for(server, reader.access_key, reader.secret_key, signature_version="s3v4")
    form = signer.generate_presigned_post(bucket, "by-reader")
    assert _error(_post(form["url"], form["fields"]))[:2] == (403, "AccessDenied")
    _missing(s3, bucket, "by-reader")
    writer = make_user(policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    signer = client_for(server, writer.access_key, writer.secret_key, signature_version="s3v4")
    form = signer.generate_presigned_post(bucket, "by-writer")
    assert _post(form["url"], form["fields"]).status_code == 204


def test_large_file_streams_through(s3, bucket):
    data = random_bytes(12 * 1024 * 1024 + 7, seed=11)
    form = s3.generate_presigned_post(bucket, "large.bin", Conditions=[["content-length-range", 0, 64 * 1024 * 1024]])
    response = _post(form["url"], form["fields"], data)
    assert response.status_code == 204
    assert response.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="large.bin")["Body"].read() == data


def test_form_fields_after_the_file_are_ignored(server, s3, bucket):
    form = s3.generate_presigned_post(bucket, "ordered")
    files = list(form["fields"].items()) + [("file", ("f", b"body", "text/plain")), ("x-amz-meta-late", "ignored")]
    assert requests.post(form["url"], files=files).status_code == 204
    assert s3.head_object(Bucket=bucket, Key="ordered")["Metadata"] == {}


def test_a_large_form_streams_with_bounded_memory(server_factory):
    """256 MiB through a POST form, sent as a stream: the server's peak RSS stays far below the file's size."""
    srv = server_factory.start("post-memory")
    s3 = client_for(srv, srv.access_key, srv.secret_key)
    s3.create_bucket(Bucket="memory")
    form = s3.generate_presigned_post("memory", "big.bin", Conditions=[["content-length-range", 0, 1 << 30]])
    boundary = "martlet-memory-test"
    head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in form["fields"].items())
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'.encode()
    block = random_bytes(1 << 20, seed=5)
    md5 = hashlib.md5()

    def body():
        yield head
        for _ in range(256):
            md5.update(block)
            yield block
        yield f"\r\n--{boundary}--\r\n".encode()

    response = requests.post(form["url"], data=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 204, response.text
    assert response.headers["ETag"] == f'"{md5.hexdigest()}"'
    status = open(f"/proc/{srv.proc.pid}/status").read()
    peak_kib = int(status.split("VmHWM:")[1].split()[0])
    assert peak_kib < 100 * 1024, f"peak RSS {peak_kib} KiB after a 256 MiB form"
