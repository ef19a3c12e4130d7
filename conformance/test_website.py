"""Static website hosting: Put/Get/DeleteBucketWebsite with AWS's validation, and the website endpoint (a listener
of its own, and `bucket.<website domain>` host names on the S3 port): index documents, error documents with the
error's status, redirects (per object, per routing rule, for every request), HTML errors, and the bucket's policy
deciding what is public."""

import os

import pytest
import requests
from botocore.exceptions import ClientError

from access_helpers import client_for, policy
from conftest import empty_and_delete
from s3helpers import client_error


@pytest.fixture
def site(website_server):
    """A public website bucket: index.html, docs/index.html, 404.html, and a policy letting anyone read and list, so
    that a missing key is a 404 (without s3:ListBucket it is a 403, as on AWS)."""
    s3 = client_for(website_server, website_server.access_key, website_server.secret_key)
    name = f"site-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=name)
    for key, body in (("index.html", "home"), ("docs/index.html", "docs home"), ("404.html", "custom not found"),
                      ("style.css", "body{}")):
        s3.put_object(Bucket=name, Key=key, Body=body.encode(), ContentType="text/css" if key.endswith("css") else "text/html")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"}})
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{name}"}))
    yield s3, name, f"http://127.0.0.1:{website_server.website_port}"
    empty_and_delete(s3, name)


def _get(base, name, path, method="GET", headers=None):
    """A website request naming its bucket by host name, as `name.localhost` does in a browser."""
    return requests.request(method, base + path, headers={"Host": f"{name}.localhost", **(headers or {})}, allow_redirects=False)


def test_website_configuration_round_trip_and_validation(website_server):
    s3 = client_for(website_server, website_server.access_key, website_server.secret_key)
    name = f"cfg-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=name)
    try:
        with pytest.raises(ClientError) as exc:
            s3.get_bucket_website(Bucket=name)
        assert client_error(exc.value) == (404, "NoSuchWebsiteConfiguration")
        rules = [{"Condition": {"KeyPrefixEquals": "old/"}, "Redirect": {"ReplaceKeyPrefixWith": "new/"}},
                 {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
                  "Redirect": {"HostName": "example.test", "HttpRedirectCode": "302", "Protocol": "https"}}]
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"}, "RoutingRules": rules})
        got = s3.get_bucket_website(Bucket=name)
        assert got["IndexDocument"] == {"Suffix": "index.html"} and got["ErrorDocument"] == {"Key": "err.html"}
        assert got["RoutingRules"] == rules
        for bad in ({"ErrorDocument": {"Key": "e.html"}},
                    {"IndexDocument": {"Suffix": "a/index.html"}},
                    {"RedirectAllRequestsTo": {"HostName": "x.test"}, "IndexDocument": {"Suffix": "index.html"}},
                    {"IndexDocument": {"Suffix": "index.html"},
                     "RoutingRules": [{"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}}]}):
            with pytest.raises(ClientError) as exc:
                s3.put_bucket_website(Bucket=name, WebsiteConfiguration=bad)
            assert client_error(exc.value)[0] == 400, bad
        s3.delete_bucket_website(Bucket=name)
        with pytest.raises(ClientError) as exc:
            s3.get_bucket_website(Bucket=name)
        assert client_error(exc.value) == (404, "NoSuchWebsiteConfiguration")
    finally:
        empty_and_delete(s3, name)


def test_index_documents_and_objects(site):
    s3, name, base = site
    root = _get(base, name, "/")
    assert (root.status_code, root.text, root.headers["Content-Type"]) == (200, "home", "text/html")
    assert _get(base, name, "/docs/").text == "docs home"
    folder = _get(base, name, "/docs")
    assert folder.status_code == 302 and folder.headers["Location"] == "/docs/"
    css = _get(base, name, "/style.css")
    assert css.status_code == 200 and css.headers["Content-Type"] == "text/css" and "x-amz-request-id" in css.headers
    head = _get(base, name, "/style.css", method="HEAD")
    assert head.status_code == 200 and head.headers["Content-Length"] == "6"
    ranged = _get(base, name, "/index.html", headers={"Range": "bytes=1-2"})
    assert (ranged.status_code, ranged.text) == (206, "om")


def test_missing_keys_serve_the_error_document_with_404(site):
    s3, name, base = site
    missing = _get(base, name, "/no/such/page")
    assert (missing.status_code, missing.text) == (404, "custom not found")
    s3.put_bucket_policy(Bucket=name, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}))
    unlisted = _get(base, name, "/no/such/page")
    assert (unlisted.status_code, unlisted.text) == (403, "custom not found")
    s3.delete_object(Bucket=name, Key="404.html")
    plain = _get(base, name, "/no/such/page")
    assert plain.status_code in (403, 404) and plain.headers["Content-Type"].startswith("text/html")
    assert "<h1>" in plain.text and "RequestId:" in plain.text


def test_the_s3_port_serves_website_host_names(website_server, site):
    _, name, _ = site
    response = requests.get(f"{website_server.endpoint}/", headers={"Host": f"{name}.localhost"})
    assert (response.status_code, response.text) == (200, "home")


def test_redirects(site):
    s3, name, base = site
    s3.put_object(Bucket=name, Key="moved.html", Body=b"", WebsiteRedirectLocation="/docs/")
    moved = _get(base, name, "/moved.html")
    assert moved.status_code == 301 and moved.headers["Location"] == "/docs/"
    assert s3.head_object(Bucket=name, Key="moved.html")["WebsiteRedirectLocation"] == "/docs/"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=name, Key="bad.html", Body=b"", WebsiteRedirectLocation="elsewhere")
    assert client_error(exc.value) == (400, "InvalidArgument")

    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "blog/"}, "Redirect": {"ReplaceKeyPrefixWith": "posts/"}},
            {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
             "Redirect": {"HostName": "fallback.example.test", "Protocol": "https", "HttpRedirectCode": "302"}},
        ]})
    blog = _get(base, name, "/blog/2026/hello")
    assert blog.status_code == 301 and blog.headers["Location"] == f"http://{name}.localhost/posts/2026/hello"
    gone = _get(base, name, "/nothing-here")
    assert gone.status_code == 302 and gone.headers["Location"] == "https://fallback.example.test/nothing-here"

    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "www.example.test"}})
    everything = _get(base, name, "/a/b?c=d")
    assert everything.status_code == 301 and everything.headers["Location"] == "http://www.example.test/a/b?c=d"


def test_private_buckets_and_other_methods(site, website_server):
    s3, name, base = site
    s3.delete_bucket_policy(Bucket=name)
    private = _get(base, name, "/")
    assert private.status_code == 403 and "<li>Code: AccessDenied</li>" in private.text
    assert _get(base, name, "/", method="POST").status_code == 405
    unconfigured = f"plain-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=unconfigured)
    try:
        response = _get(base, unconfigured, "/")
        assert response.status_code == 404 and "NoSuchWebsiteConfiguration" in response.text
    finally:
        empty_and_delete(s3, unconfigured)
    nobody = _get(base, "no-such-bucket-here", "/")
    assert nobody.status_code == 404 and "NoSuchBucket" in nobody.text


def test_redirect_locations_are_percent_encoded(site):
    """The decoded key goes into Location percent-encoded as UTF-8 (a space as %20), never raw: NUL, non-ASCII and
    characters a URL cannot hold are escaped in routing-rule, folder and per-object redirects alike."""
    s3, name, base = site
    s3.put_object(Bucket=name, Key="café dir/index.html", Body=b"cafe", ContentType="text/html")
    folder = _get(base, name, "/caf%C3%A9%20dir")
    assert folder.status_code == 302 and folder.headers["Location"] == "/caf%C3%A9%20dir/"
    assert _get(base, name, "/caf%C3%A9%20dir/").text == "cafe"

    s3.put_object(Bucket=name, Key="quoted.html", Body=b"", WebsiteRedirectLocation='/a b"c<d>.html')
    quoted = _get(base, name, "/quoted.html")
    assert quoted.status_code == 301 and quoted.headers["Location"] == "/a%20b%22c%3Cd%3E.html"

    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "blog/"}, "Redirect": {"ReplaceKeyPrefixWith": "posts/"}}]})
    for path, location in (("/blog/caf%C3%A9%20menu", "/posts/caf%C3%A9%20menu"),
                           ("/blog/nul%00here", "/posts/nul%00here"),
                           ("/blog/line%0D%0ASet-Cookie:%20x=y", "/posts/line%0D%0ASet-Cookie%3A%20x%3Dy"),
                           ("/blog/%E6%97%A5%E6%9C%AC/a+b", "/posts/%E6%97%A5%E6%9C%AC/a%2Bb")):
        response = _get(base, name, path)
        assert response.status_code == 301, path
        assert response.headers["Location"] == f"http://{name}.localhost{location}", path
        assert "Set-Cookie" not in response.headers
        raw = response.raw._original_response.msg.get_all("Location")
        assert raw and all(0x20 < ord(c) < 0x7F for c in raw[0]), raw
