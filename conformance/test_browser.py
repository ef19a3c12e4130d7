"""A real browser as the client: Debian's headless Chromium, driven by Selenium, loads a page from an origin of its
own that uploads with a presigned PUT, presigned POST forms (SigV4 and SigV2) and a multipart upload of presigned
parts whose ETags it reads, downloads and checks the bytes and the version id, is refused by the browser where CORS
does not list its origin, and finally loads a single-page app from the website endpoint, deep link included.
Screenshots of each step go to $MARTLET_ARTIFACTS/browser (default: .artifacts/browser)."""

from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from access_helpers import client_for, policy
from conftest import empty_and_delete
from s3helpers import free_port

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

HERE = Path(__file__).parent
ARTIFACTS = Path(os.environ.get("MARTLET_ARTIFACTS", HERE.parent / ".artifacts")) / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


class _PageHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(HERE), **kwargs)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def page_origin():
    """The app's own origin: a second local port serving browser_page.html."""
    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), _PageHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def web_server(website_server):
    return website_server


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        pytest.fail("Chromium and chromium-driver are missing: run ./scripts/setup.sh --python", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_script_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _shot(driver, name):
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def _call(driver, function, *args):
    """Runs one of the page's async functions and returns what it resolved to."""
    script = f"const done = arguments[arguments.length - 1]; {function}(...Array.from(arguments).slice(0, -1))" \
             ".then(done, e => done({thrown: String(e)}));"
    result = driver.execute_async_script(script, *args)
    assert not (isinstance(result, dict) and "thrown" in result), result
    return result


@pytest.fixture
def app_bucket(web_server, page_origin):
    s3 = client_for(web_server, web_server.access_key, web_server.secret_key)
    name = f"browser-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [page_origin], "AllowedMethods": ["GET", "PUT", "POST"], "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag", "x-amz-version-id"], "MaxAgeSeconds": 60}]})
    yield s3, name
    empty_and_delete(s3, name)


def test_uploads_and_downloads_from_a_page_of_another_origin(browser, web_server, page_origin, app_bucket):
    s3, bucket = app_bucket
    browser.get(f"{page_origin}/browser_page.html")
    _shot(browser, "0-page-loaded")

    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "put.txt", "ContentType": "text/plain"})
    put = _call(browser, "presignedPut", put_url, "sent with a presigned PUT")
    assert put["status"] == 200
    stored = s3.get_object(Bucket=bucket, Key="put.txt")
    assert stored["Body"].read() == b"sent with a presigned PUT" and put["etag"] == stored["ETag"]
    _shot(browser, "1-presigned-put")

    sigv4 = client_for(web_server, web_server.access_key, web_server.secret_key, signature_version="s3v4")
    sigv2 = client_for(web_server, web_server.access_key, web_server.secret_key, signature_version="s3")
    for label, signer in (("SigV4", sigv4), ("SigV2", sigv2), ("boto3 default", s3)):
        form = signer.generate_presigned_post(bucket, "forms/${filename}", Conditions=[["content-length-range", 1, 1024]])
        posted = _call(browser, "presignedPost", label, form, f"{label.replace(' ', '-')}.txt", f"posted with {label}")
        assert posted["status"] == 204, posted
        key = f"forms/{label.replace(' ', '-')}.txt"
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"posted with {label}".encode()
    _shot(browser, "2-presigned-post")

    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    part_size = 5 * 1024 * 1024
    part_urls = [sigv4.generate_presigned_url("upload_part", Params={"Bucket": bucket, "Key": "big.bin", "UploadId": upload,
                                                                  "PartNumber": n}) for n in (1, 2)]
    complete_url = sigv4.generate_presigned_url("complete_multipart_upload",
                                             Params={"Bucket": bucket, "Key": "big.bin", "UploadId": upload})
    result = _call(browser, "multipart", part_urls, complete_url, part_size)
    assert result["status"] == 200 and all(result["etags"]), result
    body = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == result["sha256"]
    _shot(browser, "3-multipart")

    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "big.bin"})
    download = _call(browser, "download", get_url)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert download["sha256"] == result["sha256"] and download["length"] == head["ContentLength"]
    assert download["versionId"] == head["VersionId"]
    _shot(browser, "4-download")


def test_the_browser_refuses_an_origin_cors_does_not_list(browser, web_server, page_origin):
    s3 = client_for(web_server, web_server.access_key, web_server.secret_key)
    name = f"elsewhere-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=name)
    try:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": ["https://other-app.example.test"], "AllowedMethods": ["GET"]}]})
        s3.put_object(Bucket=name, Key="secret.txt", Body=b"not for this page")
        browser.get(f"{page_origin}/browser_page.html")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "secret.txt"})
        refused = _call(browser, "refusedFetch", url)
        assert refused["refused"], refused
        _shot(browser, "5-unlisted-origin-refused")
        # The same request succeeds once the rules list the page: it was CORS that refused it.
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": [page_origin], "AllowedMethods": ["GET"]}]})
        allowed = _call(browser, "download", url)
        assert allowed["status"] == 200 and allowed["text"] == "not for this page"
    finally:
        empty_and_delete(s3, name)


SPA_INDEX = """<!doctype html><html><head><meta charset="utf-8"><title>Site</title>
<script src="/assets/app.js"></script></head><body><div id="app">loading</div></body></html>"""
SPA_SCRIPT = """window.addEventListener("DOMContentLoaded", () => {
  document.getElementById("app").textContent = "route " + location.pathname;
});"""


def test_single_page_app_from_the_website_endpoint(browser, web_server, tmp_path):
    s3 = client_for(web_server, web_server.access_key, web_server.secret_key)
    name = f"site-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=name)
    try:
        dist = tmp_path / "dist"
        (dist / "assets").mkdir(parents=True)
        (dist / "index.html").write_text(SPA_INDEX)
        (dist / "assets" / "app.js").write_text(SPA_SCRIPT)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=web_server.access_key, AWS_SECRET_ACCESS_KEY=web_server.secret_key,
                   AWS_DEFAULT_REGION=web_server.region, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        aws = str(Path(os.sys.executable).parent / "aws")
        subprocess.run([aws, "--endpoint-url", web_server.endpoint, "s3", "sync", str(dist), f"s3://{name}"],
                       env=env, check=True, capture_output=True, timeout=120)
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "index.html"}})
        s3.delete_public_access_block(Bucket=name)
        s3.put_bucket_policy(Bucket=name, Policy=policy({
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}))

        site = f"http://{name}.localhost:{web_server.website_port}"
        browser.get(f"{site}/")
        assert browser.find_element(By.ID, "app").text == "route /"
        _shot(browser, "6-website-index")
        browser.get(f"{site}/settings/profile")
        assert browser.find_element(By.ID, "app").text == "route /settings/profile"
        _shot(browser, "7-website-deep-link")
    finally:
        empty_and_delete(s3, name)
