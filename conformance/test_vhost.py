"""Virtual-hosted-style addressing (`--domain example.test`): the bucket comes from the Host header.

example.test does not resolve, so requests go to 127.0.0.1 with the Host header set by hand; botocore's SigV4
signer signs that Host header exactly as a virtual-hosted client would.
"""

import uuid
from urllib.parse import quote

import pytest

from s3helpers import error_fields, key_path, parse_xml, quoted_etag, random_bytes

pytestmark = pytest.mark.martlet  # the domain is Martlet's; the addressing rules are AWS's

DOMAIN = "example.test"


@pytest.fixture(scope="module")
def vhost_server(martlet_bin, tmp_path_factory):
    from conftest import ServerPool

    pool = ServerPool(martlet_bin, tmp_path_factory.mktemp("vhost"))
    srv = pool.start("vhost", domain=DOMAIN)
    yield srv
    pool.stop_all()


@pytest.fixture
def vraw(vhost_server):
    return vhost_server.raw()


@pytest.fixture
def vbucket(vhost_server, vraw):
    name = "vh-" + uuid.uuid4().hex[:12]
    host = f"{name}.{DOMAIN}:{vhost_server.port}"
    resp = vraw.request("PUT", "/", host=host)
    assert resp.status_code == 200, resp.content
    yield name, host
    s3 = vhost_server.client()
    for obj in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=obj["Key"])
    s3.delete_bucket(Bucket=name)


def test_bucket_created_by_virtual_host_is_visible_path_style(vhost_server, vbucket):
    name, _ = vbucket
    assert name in [b["Name"] for b in vhost_server.client().list_buckets()["Buckets"]]


@pytest.mark.parametrize("key", ["plain.txt", "dir/sub/file name+1.txt", "ünï/日本", "a/"])
def test_put_get_head_delete_virtual_host(vhost_server, vraw, vbucket, key):
    name, host = vbucket
    body = random_bytes(3000)
    path = "/" + quote(key, safe="/~")
    put = vraw.request("PUT", path, body=body, host=host)
    assert put.status_code == 200, put.content
    assert put.headers["ETag"] == quoted_etag(body)

    got = vraw.request("GET", path, host=host)
    assert got.status_code == 200
    assert got.content == body

    head = vraw.request("HEAD", path, host=host)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(body))

    # The same object, path-style on the same server.
    assert vhost_server.client().get_object(Bucket=name, Key=key)["Body"].read() == body

    assert vraw.request("DELETE", path, host=host).status_code == 204
    assert vraw.request("GET", path, host=host).status_code == 404


def test_list_virtual_host(vraw, vbucket):
    name, host = vbucket
    for key in ["x/1", "x/2", "y"]:
        assert vraw.request("PUT", "/" + key, body=b"1", host=host).status_code == 200
    resp = vraw.request("GET", "/", {"list-type": "2", "delimiter": "/"}, host=host)
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.findtext("Name") == name
    assert [c.findtext("Key") for c in root.findall("Contents")] == ["y"]
    assert [p.findtext("Prefix") for p in root.findall("CommonPrefixes")] == ["x/"]
    v1 = vraw.request("GET", "/", {"prefix": "x/"}, host=host)
    assert [c.findtext("Key") for c in parse_xml(v1.content).findall("Contents")] == ["x/1", "x/2"]


def test_host_without_port(vraw, vbucket):
    # A Host header may omit the port; the bucket is still the first label.
    name, _ = vbucket
    host = f"{name}.{DOMAIN}"
    assert vraw.request("PUT", "/no-port", body=b"np", host=host).status_code == 200
    got = vraw.request("GET", "/no-port", host=host)
    assert got.status_code == 200
    assert got.content == b"np"


def test_bare_domain_is_path_style(vhost_server, vraw, vbucket):
    name, _ = vbucket
    host = f"{DOMAIN}:{vhost_server.port}"
    assert vraw.request("PUT", key_path(name, "k"), body=b"path", host=host).status_code == 200
    assert vraw.request("GET", key_path(name, "k"), host=host).content == b"path"
    listing = vraw.request("GET", "/", host=host)
    assert listing.status_code == 200
    assert name in [b.findtext("Name") for b in parse_xml(listing.content).find("Buckets")]


def test_ip_host_is_path_style_on_a_domain_server(vhost_server, vbucket):
    name, _ = vbucket
    s3 = vhost_server.client()
    s3.put_object(Bucket=name, Key="ip", Body=b"via ip")
    assert s3.get_object(Bucket=name, Key="ip")["Body"].read() == b"via ip"


def test_virtual_host_missing_bucket(vhost_server, vraw):
    host = f"nosuch-{uuid.uuid4().hex[:8]}.{DOMAIN}:{vhost_server.port}"
    resp = vraw.request("GET", "/key", host=host)
    assert resp.status_code == 404
    assert error_fields(resp.content)["Code"] == "NoSuchBucket"


def test_virtual_host_signature_covers_host(vhost_server, vraw, vbucket):
    # Signed for one bucket's host, sent to another's: the signature must not verify.
    name, host = vbucket
    s3 = vhost_server.client()
    other = "vh-other-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=other)
    try:
        resp = vraw.request("GET", "/", {"list-type": "2"}, host=host,
                            after={"Host": f"{other}.{DOMAIN}:{vhost_server.port}"})
        assert resp.status_code == 403
        assert error_fields(resp.content)["Code"] == "SignatureDoesNotMatch"
    finally:
        s3.delete_bucket(Bucket=other)


def test_presigned_virtual_host(vhost_server, vraw, vbucket):
    import requests
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    name, host = vbucket
    assert vraw.request("PUT", "/shared", body=b"presigned vhost", host=host).status_code == 200
    req = AWSRequest(method="GET", url=f"http://{host}/shared", headers={"Host": host})
    S3SigV4QueryAuth(Credentials(vhost_server.access_key, vhost_server.secret_key), "s3", vhost_server.region,
                     expires=300).add_auth(req)
    url = req.url.replace(f"http://{host}", vhost_server.endpoint)
    resp = requests.get(url, headers={"Host": host}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"presigned vhost"
