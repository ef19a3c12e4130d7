"""Authentication: SigV4 header auth and its failure modes, presigned URLs (SigV2 and SigV4), SigV2 header auth,
anonymous access, canonicalisation details."""

import datetime as dt
import email.utils
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import make_client
from s3helpers import (
    client_error, error_fields, key_path, MartletServer, object_absent, quoted_etag, sha256_hex, UNSIGNED_PAYLOAD,
)


def _client_with(server: MartletServer, **overrides):
    import boto3

    args = dict(endpoint_url=server.endpoint, region_name=server.region, aws_access_key_id=server.access_key,
                aws_secret_access_key=server.secret_key, verify=server.verify,
                config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    args.update(overrides)
    return boto3.client("s3", **args)


def _get(url: str, **kw) -> requests.Response:
    return requests.get(url, timeout=30, **kw)


# --------------------------------------------------------------------------------------------------------------------
# Header SigV4 failures


@pytest.mark.parametrize("operation", ["get", "put", "list"])
def test_wrong_secret_is_signature_does_not_match(server, s3, bucket, operation):
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    bad = _client_with(server, aws_secret_access_key=server.secret_key + "x")
    with pytest.raises(ClientError) as info:
        if operation == "get":
            bad.get_object(Bucket=bucket, Key="k")
        elif operation == "put":
            bad.put_object(Bucket=bucket, Key="k", Body=b"2")
        else:
            bad.list_objects_v2(Bucket=bucket)
    assert client_error(info.value) == (403, "SignatureDoesNotMatch")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"


def test_unknown_access_key(server, bucket):
    bad = _client_with(server, aws_access_key_id="AKIANOTAREALKEY00000")
    with pytest.raises(ClientError) as info:
        bad.list_objects_v2(Bucket=bucket)
    assert client_error(info.value) == (403, "InvalidAccessKeyId")


@pytest.mark.parametrize("method, path_kind", [("GET", "object"), ("GET", "bucket"), ("GET", "service"),
                                               ("PUT", "object"), ("HEAD", "object")])
def test_anonymous_requests_are_denied(s3, raw, bucket, method, path_kind):
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    path = {"object": key_path(bucket, "private"), "bucket": key_path(bucket), "service": "/"}[path_kind]
    resp = raw.request(method, path, body=b"overwrite" if method == "PUT" else b"", auth=None)
    assert resp.status_code == 403
    if method != "HEAD":
        assert error_fields(resp.content)["Code"] == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="private")["Body"].read() == b"secret"


def test_tampered_payload_is_content_sha256_mismatch(s3, raw, bucket):
    signed_for = b"the body that was signed"
    sent = b"the body that was SENT!!"
    resp = raw.request("PUT", key_path(bucket, "tampered"), body=signed_for, send_body=sent)
    assert resp.status_code == 400, resp.content
    assert error_fields(resp.content)["Code"] == "XAmzContentSHA256Mismatch"
    assert object_absent(s3, bucket, "tampered")


def test_literal_content_sha256_that_does_not_match(s3, raw, bucket):
    resp = raw.request("PUT", key_path(bucket, "tampered"), body=b"abc", payload_hash=sha256_hex(b"xyz"))
    assert resp.status_code == 400
    assert error_fields(resp.content)["Code"] == "XAmzContentSHA256Mismatch"
    assert object_absent(s3, bucket, "tampered")


def test_unsigned_payload_is_accepted(s3, raw, bucket):
    resp = raw.request("PUT", key_path(bucket, "unsigned"), body=b"trust me", payload_hash=UNSIGNED_PAYLOAD)
    assert resp.status_code == 200
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == b"trust me"


@pytest.mark.parametrize("minutes", [-20, 20])
def test_clock_skew(s3, raw, bucket, minutes):
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    resp = raw.request("PUT", key_path(bucket, "skewed"), body=b"x", when=when)
    assert resp.status_code == 403
    assert error_fields(resp.content)["Code"] == "RequestTimeTooSkewed"
    assert object_absent(s3, bucket, "skewed")


def test_small_clock_skew_is_tolerated(s3, raw, bucket):
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    resp = raw.request("PUT", key_path(bucket, "slightly-skewed"), body=b"x", when=when)
    assert resp.status_code == 200


def test_wrong_region_in_scope(s3, raw, bucket):
    resp = raw.request("GET", key_path(bucket), {"list-type": "2"}, region="eu-west-1")
    assert resp.status_code == 400
    fields = error_fields(resp.content)
    assert fields["Code"] == "AuthorizationHeaderMalformed"
    assert "us-east-1" in fields["Message"]  # names the region the server expects


def test_wrong_service_in_scope(raw, bucket):
    from botocore.credentials import Credentials
    from botocore.awsrequest import AWSRequest
    from s3helpers import Signer

    req = AWSRequest(method="GET", url=raw.endpoint + key_path(bucket), headers={"Host": raw.netloc})
    signer = Signer(Credentials(raw.access_key, raw.secret_key), raw.region)
    signer._service_name = "ec2"
    signer.add_auth(req)
    resp = raw.session.get(req.url, headers=dict(req.headers.items()), timeout=30)
    assert resp.status_code in (400, 403)
    assert error_fields(resp.content)["Code"] in ("AuthorizationHeaderMalformed", "SignatureDoesNotMatch")


def test_signed_header_changed_after_signing(s3, raw, bucket):
    resp = raw.request("PUT", key_path(bucket, "meta"), headers={"x-amz-meta-color": "blue"}, body=b"x",
                       after={"x-amz-meta-color": "red"})
    assert resp.status_code == 403
    assert error_fields(resp.content)["Code"] == "SignatureDoesNotMatch"
    assert object_absent(s3, bucket, "meta")


def test_header_values_are_trimmed_and_spaces_collapsed_in_canonical_form(s3, raw, bucket):
    # botocore signs "a   b" as "a b" (SigV4 Trimall); the server must canonicalise the same way.
    resp = raw.request("PUT", key_path(bucket, "spaces"), headers={"x-amz-meta-note": "a   b"}, body=b"x")
    assert resp.status_code == 200, resp.content
    assert s3.head_object(Bucket=bucket, Key="spaces")["Metadata"]["note"].strip() in ("a   b", "a b")


def test_unknown_query_parameter_is_signed_and_ignored(s3, raw, bucket):
    # The JavaScript SDK v3 adds x-id=PutObject / x-id=GetObject to every request.
    resp = raw.request("PUT", key_path(bucket, "js-sdk"), {"x-id": "PutObject"}, body=b"from js")
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_etag(b"from js")
    got = raw.request("GET", key_path(bucket, "js-sdk"), {"x-id": "GetObject"})
    assert got.status_code == 200
    assert got.content == b"from js"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["js-sdk"]


def test_query_parameters_sorted_and_encoded_for_signing(s3, raw, bucket):
    for key in ["q/a b", "q/a+b", "q/a=b&c"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    # Parameters given out of order, with values needing encoding ('+' is not a space here).
    resp = raw.request("GET", key_path(bucket), [("prefix", "q/a+"), ("max-keys", "10"), ("list-type", "2")])
    assert resp.status_code == 200, resp.content
    from s3helpers import parse_xml

    keys = [c.findtext("Key") for c in parse_xml(resp.content).findall("Contents")]
    assert keys == ["q/a+b"]


# --------------------------------------------------------------------------------------------------------------------
# Presigned URLs


def test_default_presigned_urls_are_sigv2_for_us_east_1(s3, bucket):
    # Checked against botocore on this machine: region us-east-1 + default config presigns with SigV2.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    assert "AWSAccessKeyId=" in url and "Signature=" in url and "Expires=" in url


def test_presigned_get_and_put_sigv2(s3, bucket):
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2 key+1"})
    assert "AWSAccessKeyId=" in put_url
    resp = requests.put(put_url, data=b"via sigv2 presigned put", timeout=30)
    assert resp.status_code == 200, resp.text
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2 key+1"})
    resp = _get(get_url)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"via sigv2 presigned put"


@pytest.fixture(scope="module")
def s3v4(server):
    return make_client(server, signature_version="s3v4")


def test_presigned_get_and_put_sigv4(s3v4, bucket):
    put_url = s3v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v4 key+1/ü"})
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in put_url
    resp = requests.put(put_url, data=b"via sigv4 presigned put", timeout=30)
    assert resp.status_code == 200, resp.text
    get_url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v4 key+1/ü"})
    resp = _get(get_url)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"via sigv4 presigned put"


def test_presigned_get_with_response_overrides(s3v4, s3, bucket):
    s3.put_object(Bucket=bucket, Key="dl", Body=b"download me")
    url = s3v4.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "dl", "ResponseContentDisposition": "attachment; filename=\"x.txt\""})
    resp = _get(url)
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == "attachment; filename=\"x.txt\""


@pytest.mark.parametrize("version", ["v2", "v4"])
def test_presigned_url_with_tampered_signature(s3, s3v4, bucket, version):
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    client = s3 if version == "v2" else s3v4
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    param = "Signature=" if version == "v2" else "X-Amz-Signature="
    head, _, tail = url.partition(param)
    sig, sep, rest = tail.partition("&")
    # Change a digit to another digit: a case change alone leaves the same hex value.
    forged = head + param + ("0" if sig[0] != "0" else "1") + sig[1:] + sep + rest
    resp = _get(forged)
    assert resp.status_code == 403
    assert error_fields(resp.content)["Code"] == "SignatureDoesNotMatch"


def test_presigned_url_for_other_key_is_rejected(s3v4, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"})
    resp = _get(url.replace(f"/{bucket}/a?", f"/{bucket}/b?"))
    assert resp.status_code == 403


def test_aws_cli_presign(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="cli/presigned.txt", Body=b"presigned by aws-cli")
    proc = aws("s3", "presign", f"s3://{bucket}/cli/presigned.txt", "--expires-in", "300")
    url = proc.stdout.strip()
    assert url.startswith("http://127.0.0.1:")
    resp = _get(url)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"presigned by aws-cli"


@pytest.mark.slow
def test_expired_presigned_urls(s3, s3v4, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    urls = {
        "v2": s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1),
        "v4": s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1),
    }
    time.sleep(2.5)
    for version, url in urls.items():
        resp = _get(url)
        assert resp.status_code == 403, (version, resp.text)
        fields = error_fields(resp.content)
        assert fields["Code"] == "AccessDenied", version
        assert "Request has expired" in fields["Message"], version


def test_presigned_expiry_longer_than_a_week(s3v4, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    ok = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604800)
    assert _get(ok).status_code == 200
    too_long = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604801)
    assert parse_qs(urlsplit(too_long).query)["X-Amz-Expires"] == ["604801"]
    resp = _get(too_long)
    assert resp.status_code == 400
    assert error_fields(resp.content)["Code"] == "AuthorizationQueryParametersError"


def test_presigned_url_is_not_valid_for_another_method(s3v4, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    resp = requests.put(url, data=b"overwrite", timeout=30)
    assert resp.status_code == 403
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"


# --------------------------------------------------------------------------------------------------------------------
# SigV2 header auth


@pytest.fixture(scope="module")
def s3v2(server):
    return make_client(server, signature_version="s3")


def test_sigv2_header_auth(s3v2, bucket):
    body = b"signed with HmacV1"
    put = s3v2.put_object(Bucket=bucket, Key="v2/obj name+1", Body=body, ContentType="text/plain",
                          Metadata={"m": "v"})
    assert put["ETag"] == quoted_etag(body)
    got = s3v2.get_object(Bucket=bucket, Key="v2/obj name+1")
    assert got["Body"].read() == body
    assert got["Metadata"] == {"m": "v"}
    assert s3v2.head_object(Bucket=bucket, Key="v2/obj name+1")["ContentLength"] == len(body)
    assert [o["Key"] for o in s3v2.list_objects_v2(Bucket=bucket, Prefix="v2/")["Contents"]] == ["v2/obj name+1"]
    assert s3v2.list_objects(Bucket=bucket)["Contents"][0]["Key"] == "v2/obj name+1"
    s3v2.delete_object(Bucket=bucket, Key="v2/obj name+1")
    assert s3v2.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_sigv2_header_auth_wrong_secret(server, bucket):
    bad = _client_with(server, aws_secret_access_key="wrong-secret",
                       config=Config(signature_version="s3", retries={"max_attempts": 1, "mode": "standard"}))
    with pytest.raises(ClientError) as info:
        bad.list_objects(Bucket=bucket)
    assert client_error(info.value) == (403, "SignatureDoesNotMatch")


def _with_headers(client, operation, headers):
    """Adds headers before botocore signs, as an application's hook would."""
    def add(params, **kwargs):
        params["headers"].update(headers)

    client.meta.events.register(f"before-call.s3.{operation}", add)
    return lambda: client.meta.events.unregister(f"before-call.s3.{operation}", add)


@pytest.mark.parametrize("headers", [{"Date": "now", "X-Amz-Date": "now"}, {"Date": "", "X-Amz-Date": "now"}],
                         ids=["date-and-x-amz-date", "x-amz-date-and-empty-date"])
def test_sigv4_signed_with_the_date_header(s3, bucket, headers):
    # Given a Date header, botocore signs with Date in RFC 2822 form ("... -0000") and sends no X-Amz-Date;
    # SigV4 allows either header to carry the request time.
    now = email.utils.formatdate(usegmt=True)
    remove = _with_headers(s3, "PutObject", {k: (now if v == "now" else v) for k, v in headers.items()})
    try:
        s3.put_object(Bucket=bucket, Key="dated", Body=b"bar")
    finally:
        remove()
    assert s3.get_object(Bucket=bucket, Key="dated")["Body"].read() == b"bar"


@pytest.mark.parametrize("when, code", [("Tue, 07 Jul 1950 21:53:04 GMT", "AccessDenied"),
                                        ("Tue, 07 Jul 9999 21:53:04 GMT", "RequestTimeTooSkewed")],
                         ids=["before-1970", "far-future"])
def test_sigv2_request_time_out_of_range(s3v2, s3, bucket, when, code):
    # A time before 1970 is not a valid request time (AccessDenied, "requires a valid Date or x-amz-date");
    # one far off is a skewed clock.
    remove = _with_headers(s3v2, "PutObject", {"x-amz-date": when})
    try:
        with pytest.raises(ClientError) as info:
            s3v2.put_object(Bucket=bucket, Key="dated", Body=b"bar")
    finally:
        remove()
    assert client_error(info.value) == (403, code)
    assert object_absent(s3, bucket, "dated")
