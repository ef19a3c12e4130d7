#!/usr/bin/env python3
"""Event notifications: what a live webhook costs a PUT, and how fast the outbox drains.

1. PUT 4 KiB (wrk, 16 connections, presigned, 1,000 keys cycled) into a bucket with no notification configuration
   and into one whose every ObjectCreated event goes to a webhook, rounds alternating. The webhook is nginx on a free
   port answering 204, so the receiver is never the bottleneck; its deliveries run during the PUT rounds, as they
   would in production.
2. The delivery rate: with the webhook down, `--events` PUTs are recorded in the outbox; the webhook comes up and
   the time from the first delivery to an empty outbox (polled through /_martlet/metrics) gives events/s.

Run: make build && ./scripts/setup.sh --python && ./scripts/setup.sh --bench && .venv/bin/python bench/notifications.py
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from bench import ACCESS, REPO, SECRET, free_port, peak_rss_mib, wait_for_port  # noqa: E402
from compare import wrk  # noqa: E402

NGINX_CONF = """
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/body;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 204; }}
    }}
}}
"""


def start_webhook(tmp, port):
    conf = os.path.join(tmp, "nginx.conf")
    user = "user root;" if os.geteuid() == 0 else ""
    open(conf, "w").write(NGINX_CONF.format(user=user, tmp=tmp, port=port))
    nginx = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf, "-p", tmp, "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, nginx, "nginx")
    return nginx


def outbox_depth(endpoint):
    text = urllib.request.urlopen(endpoint + "/_martlet/metrics", timeout=10).read().decode()
    match = re.search(r"^martlet_notification_outbox_depth (\S+)$", text, re.M)
    return float(match.group(1)) if match else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="martlet-notify-bench-")
    os.makedirs(os.path.join(tmp, "nginx"))
    port, hook_port = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{port}"
    martlet = subprocess.Popen(
        [os.path.join(REPO, ".build", "release", "martlet"), "server", "--address", f"127.0.0.1:{port}",
         "--data", os.path.join(tmp, "data"), "--access-key", ACCESS, "--secret-key", SECRET, "--log-level", "warning",
         "--metrics-public", "--event-max-backoff", "0.2", "--webhook", f"hook=http://127.0.0.1:{hook_port}/events"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, martlet)
    nginx = start_webhook(os.path.join(tmp, "nginx"), hook_port)
    try:
        signed = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ACCESS, aws_secret_access_key=SECRET)
        s3 = boto3.client("s3", **signed)
        presigner = boto3.client("s3", config=Config(signature_version="s3v4"), **signed)
        config = {"QueueConfigurations": [{"Id": "all", "QueueArn": "arn:martlet:sqs:us-east-1:hook:webhook",
                                           "Events": ["s3:ObjectCreated:*"]}]}
        for bucket in ("plain", "notified"):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_notification_configuration(Bucket="notified", NotificationConfiguration=config)
        urls = {b: [presigner.generate_presigned_url("put_object", Params={"Bucket": b, "Key": f"k/{i:04d}"}, ExpiresIn=7200)
                    for i in range(1000)] for b in ("plain", "notified")}
        rates = {"plain": [], "notified": []}
        for round_number in range(args.rounds):
            # The order alternates, so neither side always runs first.
            for bucket in ("plain", "notified") if round_number % 2 == 0 else ("notified", "plain"):
                paths = [u.replace(endpoint, "") for u in urls[bucket]]
                rate, _, bad = wrk(paths, "PUT", 4096, args.duration, endpoint)
                assert bad == 0, f"{bad} failed PUTs"
                rates[bucket].append(rate)
                # Let the outbox drain so each round starts alike.
                while outbox_depth(endpoint) > 0:
                    time.sleep(0.1)
        plain, notified = statistics.median(rates["plain"]), statistics.median(rates["notified"])
        print(f"PUT 4 KiB, no notifications:      {plain:8.0f} req/s  (rounds {', '.join(f'{r:.0f}' for r in rates['plain'])})")
        print(f"PUT 4 KiB, webhook on every PUT:  {notified:8.0f} req/s  (rounds {', '.join(f'{r:.0f}' for r in rates['notified'])})")
        print(f"  notified / plain: {notified / plain:.3f}  ({(1 - notified / plain) * 100:+.1f}% slower)")

        # Delivery rate: fill the outbox with the receiver down, then bring it up.
        nginx.terminate()
        nginx.wait()
        paths = [u.replace(endpoint, "") for u in urls["notified"]]
        while outbox_depth(endpoint) < args.events:
            wrk(paths, "PUT", 4096, 2, endpoint)
        queued = outbox_depth(endpoint)
        nginx = start_webhook(os.path.join(tmp, "nginx"), hook_port)
        while outbox_depth(endpoint) >= queued:
            time.sleep(0.005)
        started = time.monotonic()
        first = outbox_depth(endpoint)
        while outbox_depth(endpoint) > 0:
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        rate = first / elapsed
        print(f"outbox delivery: {first:.0f} events in {elapsed:.2f} s = {rate:.0f} events/s (webhook, 8 lanes)")
        print(f"martlet peak RSS: {peak_rss_mib(martlet.pid):.0f} MiB")
        print(json.dumps({"put_4k_plain": plain, "put_4k_notified": notified, "ratio": notified / plain,
                          "delivery_events_per_s": rate, "queued": queued}))
    finally:
        for process in (martlet, nginx):
            process.terminate()
            process.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
