#!/usr/bin/env python3
"""The cost of authorization: GET 4 KiB through presigned URLs driven by wrk, as the account root with no policies
and as an IAM user whose request passes through a 10-statement identity policy and a 20-statement bucket policy.

Starts the release binary on a free port with a temporary data folder; for each scenario runs wrk (16 connections,
2 threads, --duration seconds), checks every answer was 200, and reads the server's CPU time from /proc, so the
difference in CPU microseconds per request between the scenarios is what evaluating the policies costs.

    swift build -c release --product martlet && .venv/bin/python bench/authz.py [--duration 10] [--rounds 3]

Needs wrk (Debian: apt-get install wrk). Results go in closing notes, not in tests.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import boto3
from botocore.config import Config

from bench import ACCESS, SECRET, free_port, start_martlet

BUCKET, KEY = "authz-bench", "objects/a.bin"


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def identity_policy():
    """Ten statements; the last allows the GET, the others allow or deny other things, with conditions."""
    statements = [{"Sid": f"Other{i}", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
                   "Resource": f"arn:aws:s3:::other-bucket-{i}/*",
                   "Condition": {"StringLike": {"s3:prefix": [f"team{i}/*"]}}} for i in range(7)]
    statements.append({"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"})
    statements.append({"Sid": "Insecure", "Effect": "Deny", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/secret/*",
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    statements.append({"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                       "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]})
    return {"Version": "2012-10-17", "Statement": statements}


def bucket_policy(account_id):
    """Twenty statements naming other principals, prefixes and conditions; none decides this GET."""
    statements = []
    for i in range(20):
        statement = {"Sid": f"S{i}", "Effect": "Allow" if i % 4 else "Deny",
                     "Principal": {"AWS": f"arn:aws:iam::{account_id}:user/partner-{i}"},
                     "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{BUCKET}/partners/{i}/*"}
        if i % 3 == 0:
            statement["Condition"] = {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def run_wrk(url, duration):
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{duration}s", "--latency", url], capture_output=True, text=True,
                         check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, total, int(bad.group(1)) if bad else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="martlet-authz-") as data:
        server = start_martlet(data, port)
        try:
            session = dict(endpoint_url=endpoint, region_name="us-east-1", config=Config(signature_version="s3v4"))
            root = boto3.client("s3", aws_access_key_id=ACCESS, aws_secret_access_key=SECRET, **session)
            iam = boto3.client("iam", aws_access_key_id=ACCESS, aws_secret_access_key=SECRET, **session)
            sts = boto3.client("sts", aws_access_key_id=ACCESS, aws_secret_access_key=SECRET, **session)
            account = sts.get_caller_identity()["Account"]
            root.create_bucket(Bucket=BUCKET)
            root.put_object(Bucket=BUCKET, Key=KEY, Body=os.urandom(4096))
            iam.create_user(UserName="reader")
            key = iam.create_access_key(UserName="reader")["AccessKey"]
            iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps(identity_policy()))
            user = boto3.client("s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], **session)
            scenarios = {
                "root, no policies": root.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=3600),
                "user, 10 + 20 statements": user.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=3600),
            }
            results = {name: [] for name in scenarios}
            for _ in range(args.rounds):
                for name, url in scenarios.items():
                    if name.startswith("user"):
                        root.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(bucket_policy(account)))
                    else:
                        root.delete_bucket_policy(Bucket=BUCKET)
                    before = cpu_seconds(server.pid)
                    rate, total, bad = run_wrk(url, args.duration)
                    cpu = cpu_seconds(server.pid) - before
                    if bad:
                        sys.exit(f"{name}: {bad} non-2xx answers")
                    results[name].append((rate, cpu / total * 1e6))
            print(f"{'scenario':28} {'GET 4 KiB req/s':>16} {'server CPU us/req':>18}")
            medians = {}
            for name, runs in results.items():
                rates = sorted(r for r, _ in runs)
                cpus = sorted(c for _, c in runs)
                medians[name] = (rates[len(rates) // 2], cpus[len(cpus) // 2])
                print(f"{name:28} {medians[name][0]:16.0f} {medians[name][1]:18.1f}")
            (base_rate, base_cpu), (policy_rate, policy_cpu) = medians.values()
            print(f"policies cost {policy_cpu - base_cpu:.1f} us of server CPU per request; "
                  f"throughput {100 * (policy_rate / base_rate - 1):+.1f}%")
            print(json.dumps({"rounds": results}))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
