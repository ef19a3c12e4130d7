"""Deep JSON costs nothing (issue 24, item 3).

A keyless `POST /anybucket` whose base64 `policy` held `{"a":` 500 deep cost a second of server CPU for 3 KB, as
the policy JSON reader's time grew with the cube of the depth; bucket and IAM policies went through the same
reader. Every policy document is now read in one pass with a small depth bound (8 for bucket and IAM policies, 4
for POST policies), so each such request is refused at once with the operation's error, and the health check
stays quick while several are in flight.

Times are the best of three tries (a slow parse is slow every time; a busy machine is not), each under 50 ms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time

import pytest
import requests
from botocore.exceptions import ClientError

from s3helpers import client_error, parse_xml

LIMIT_SECONDS = 0.050
HEAD = '{"expiration":"2030-01-01T00:00:00Z","conditions":[],"z":'


def deep_post_policy(depth: int) -> bytes:
    return (HEAD + '{"a":' * depth + "1" + "}" * depth + "}").encode()


def deep_policy(depth: int, resource: str) -> str:
    """A bucket or identity policy whose condition value is `{"a":` nested `depth` deep: 16 KB at 2,650."""
    deep = '{"a":' * depth + "1" + "}" * depth
    return ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",'
            f'"Resource":"{resource}","Condition":{{"StringEquals":{{"aws:x":{deep}}}}}}}]}}')


# The 3 KB document, and the deepest one whose base64 still fits the 20 KB a form may carry before its file.
KEYLESS_DOCUMENTS = {"issue-3KB": deep_post_policy(500), "form-limit-14KB": deep_post_policy(2400)}


def best_of_three(call):
    results = []
    for _ in range(3):
        start = time.perf_counter()
        outcome = call()
        results.append((time.perf_counter() - start, outcome))
    return min(results, key=lambda result: result[0])


def post_form(server, fields, session=None):
    files = list(fields.items()) + [("file", ("f.bin", b"x", "application/octet-stream"))]
    return (session or requests).post(f"{server.endpoint}/anybucket", files=files, timeout=30)


def error_of(response):
    root = parse_xml(response.content)
    return response.status_code, root.findtext("Code")


def signed_v2_fields(server, document: bytes) -> dict:
    encoded = base64.b64encode(document)
    signature = base64.b64encode(hmac.new(server.secret_key.encode(), encoded, hashlib.sha1).digest())
    return {"key": "k", "AWSAccessKeyId": server.access_key, "policy": encoded.decode(), "signature": signature.decode()}


@pytest.mark.parametrize("name", KEYLESS_DOCUMENTS)
def test_keyless_form_with_a_deep_policy_is_refused_unread(server, name):
    # AWS requires AWSAccessKeyId with a policy: the form is refused before the policy is decoded.
    fields = {"key": "k", "policy": base64.b64encode(KEYLESS_DOCUMENTS[name]).decode()}
    elapsed, response = best_of_three(lambda: post_form(server, fields))
    assert error_of(response) == (400, "InvalidArgument")
    assert "AWSAccessKeyId" in response.text
    assert elapsed < LIMIT_SECONDS, f"{elapsed * 1000:.1f} ms"


def test_keyless_16KB_policy_is_over_the_form_limit(server):
    fields = {"key": "k", "policy": base64.b64encode(deep_post_policy(2700)).decode()}
    assert len(deep_post_policy(2700)) >= 16_000
    elapsed, response = best_of_three(lambda: post_form(server, fields))
    assert error_of(response) == (400, "MaxPostPreDataLengthExceededError")
    assert elapsed < LIMIT_SECONDS, f"{elapsed * 1000:.1f} ms"


@pytest.mark.parametrize("depth", [4, 500, 2400])
def test_signed_form_with_a_deep_policy_is_an_invalid_policy_document(server, depth):
    # A valid signature gets the policy read: the reader stops at the fifth container.
    fields = signed_v2_fields(server, deep_post_policy(depth))
    elapsed, response = best_of_three(lambda: post_form(server, fields))
    assert error_of(response) == (400, "InvalidPolicyDocument")
    assert elapsed < LIMIT_SECONDS, f"{elapsed * 1000:.1f} ms"


def test_health_stays_quick_while_deep_forms_are_in_flight(server):
    keyless = {"key": "k", "policy": base64.b64encode(deep_post_policy(2400)).decode()}
    signed = signed_v2_fields(server, deep_post_policy(2400))
    stop = threading.Event()
    answers: list[int] = []

    def flood(fields):
        with requests.Session() as session:
            while not stop.is_set():
                answers.append(post_form(server, fields, session).status_code)

    senders = [threading.Thread(target=flood, args=(fields,)) for fields in (keyless, signed, keyless, signed)]
    for sender in senders:
        sender.start()
    try:
        time.sleep(0.2)
        probes = []
        with requests.Session() as session:
            for _ in range(10):
                start = time.perf_counter()
                assert session.get(f"{server.endpoint}/_martlet/health/live", timeout=10).status_code == 200
                probes.append(time.perf_counter() - start)
                time.sleep(0.05)
    finally:
        stop.set()
        for sender in senders:
            sender.join()
    assert answers and set(answers) == {400}
    assert sorted(probes)[len(probes) // 2] < LIMIT_SECONDS, [f"{p * 1000:.1f}" for p in probes]
    assert max(probes) < LIMIT_SECONDS, [f"{p * 1000:.1f} ms" for p in probes]


def test_deep_bucket_policy_is_malformed_at_once(s3, bucket):
    document = deep_policy(2650, f"arn:aws:s3:::{bucket}/*")
    assert 16_000 <= len(document) <= 20_480

    def put():
        try:
            s3.put_bucket_policy(Bucket=bucket, Policy=document)
        except ClientError as error:
            return client_error(error)
        return None

    elapsed, outcome = best_of_three(put)
    assert outcome == (400, "MalformedPolicy")
    assert elapsed < LIMIT_SECONDS, f"{elapsed * 1000:.1f} ms"
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket=bucket)
    assert client_error(exc.value)[1] == "NoSuchBucketPolicy"


def test_deep_iam_user_policy_is_malformed_at_once(iam, make_user):
    user = make_user()
    document = deep_policy(2650, "*")

    def put():
        try:
            iam.put_user_policy(UserName=user.name, PolicyName="deep", PolicyDocument=document)
        except ClientError as error:
            return error.response["Error"]["Code"]
        return None

    elapsed, outcome = best_of_three(put)
    assert outcome == "MalformedPolicyDocument"
    assert elapsed < LIMIT_SECONDS, f"{elapsed * 1000:.1f} ms"
    assert iam.list_user_policies(UserName=user.name)["PolicyNames"] == []


def test_a_policy_at_the_grammar_depth_still_works(s3, bucket):
    # Six containers: document, Statement, statement, Condition, operator, value list.
    document = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"aws:username": ["nobody-at-all"]}}}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=document)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(document)
