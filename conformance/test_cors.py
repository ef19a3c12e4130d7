"""CORS: Put/Get/DeleteBucketCors with AWS's validation, OPTIONS preflights answered from the rules without
authentication, and the headers a matching rule adds to actual responses, errors included."""

import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from s3helpers import client_error

RULES = {"CORSRules": [
    {"ID": "app", "AllowedOrigins": ["https://app.example.test", "https://*.preview.example.test"],
     "AllowedMethods": ["GET", "PUT", "HEAD"], "AllowedHeaders": ["content-type", "x-amz-*"],
     "ExposeHeaders": ["ETag", "x-amz-version-id"], "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
]}


@pytest.fixture
def cors_bucket(s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    s3.put_object(Bucket=bucket, Key="photo.jpg", Body=b"jpeg")
    return bucket


def _options(server, path, origin=None, method=None, headers=None):
    sent = {}
    if origin:
        sent["Origin"] = origin
    if method:
        sent["Access-Control-Request-Method"] = method
    if headers:
        sent["Access-Control-Request-Headers"] = headers
    return requests.options(f"{server.endpoint}{path}", headers=sent)


def test_cors_configuration_round_trip(s3, bucket):
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert client_error(exc.value) == (404, "NoSuchCORSConfiguration")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got[0] == RULES["CORSRules"][0] and got[1]["AllowedOrigins"] == ["*"]
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert client_error(exc.value) == (404, "NoSuchCORSConfiguration")


@pytest.mark.parametrize("rule, code", [
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}, "InvalidRequest"),
    ({"AllowedOrigins": ["https://*.*.example.test"], "AllowedMethods": ["GET"]}, "InvalidRequest"),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-*-*"]}, "InvalidRequest"),
], ids=["unsupported-method", "two-wildcards-in-origin", "two-wildcards-in-header"])
def test_cors_configuration_validation(s3, bucket, rule, code):
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    assert client_error(exc.value) == (400, code)
    too_many = {"CORSRules": [{"AllowedOrigins": [f"https://{i}.example.test"], "AllowedMethods": ["GET"]} for i in range(101)]}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=too_many)
    assert client_error(exc.value)[0] == 400


def test_preflight_allowed(server, cors_bucket):
    response = _options(server, f"/{cors_bucket}/photo.jpg", "https://app.example.test", "PUT", "Content-Type, X-Amz-Meta-Album")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, PUT, HEAD"
    assert response.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-meta-album"
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["x-amz-request-id"]
    wildcard = _options(server, f"/{cors_bucket}/photo.jpg", "https://pr-12.preview.example.test", "GET")
    assert wildcard.status_code == 200
    anyone = _options(server, f"/{cors_bucket}", "https://elsewhere.test", "GET")
    assert anyone.status_code == 200 and anyone.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("origin, method, headers", [
    ("https://evil.test", "PUT", None),
    ("https://app.example.test", "DELETE", None),
    ("https://app.example.test", "PUT", "authorization-override"),
    ("https://app.example.test.evil.test", "GET", "content-type"),
], ids=["unlisted-origin", "unlisted-method", "unlisted-header", "origin-is-matched-whole"])
def test_preflight_refused(server, cors_bucket, origin, method, headers):
    response = _options(server, f"/{cors_bucket}/photo.jpg", origin, method, headers)
    assert response.status_code == 403
    assert b"<Code>AccessForbidden</Code>" in response.content and b"CORSResponse" in response.content
    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight_without_origin_or_method_is_400(server, cors_bucket):
    assert _options(server, f"/{cors_bucket}/photo.jpg").status_code == 400
    assert _options(server, f"/{cors_bucket}/photo.jpg", "https://app.example.test").status_code == 400


def test_preflight_on_a_bucket_without_cors(server, bucket):
    response = _options(server, f"/{bucket}/x", "https://app.example.test", "GET")
    assert response.status_code == 403 and b"CORS is not enabled for this bucket" in response.content


def test_preflight_of_a_presigned_url_needs_no_signature(s3, server, cors_bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": cors_bucket, "Key": "upload.bin"}, ExpiresIn=300)
    response = requests.options(url, headers={"Origin": "https://app.example.test", "Access-Control-Request-Method": "PUT"})
    assert response.status_code == 200


def test_actual_responses_carry_the_rule(s3, server, cors_bucket):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "photo.jpg"}, ExpiresIn=300)
    ok = requests.get(url, headers={"Origin": "https://app.example.test"})
    assert ok.status_code == 200 and ok.content == b"jpeg"
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
    assert ok.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    assert ok.headers["Vary"] == "Origin"
    missing = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "nope"}, ExpiresIn=300)
    error = requests.get(missing, headers={"Origin": "https://app.example.test"})
    assert error.status_code == 404 and error.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
    not_modified = requests.get(url, headers={"Origin": "https://app.example.test", "If-None-Match": ok.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
    stranger = requests.get(url, headers={"Origin": "https://evil.test"})
    assert stranger.headers["Access-Control-Allow-Origin"] == "*"  # the second rule lets anyone GET
    put = s3.generate_presigned_url("put_object", Params={"Bucket": cors_bucket, "Key": "up"}, ExpiresIn=300)
    refused = requests.put(put, data=b"x", headers={"Origin": "https://evil.test"})
    assert refused.status_code == 200 and "Access-Control-Allow-Origin" not in refused.headers
    no_origin = requests.get(url)
    assert "Access-Control-Allow-Origin" not in no_origin.headers
