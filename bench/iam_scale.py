#!/usr/bin/env python3
"""IAM at scale: CreateUser, PutUserPolicy and a signed GET as the server fills up with users.

Starts the server on a free port with a temporary data folder, adds `--accounts` accounts (martlet admin account add),
then fills them with IAM users through the IAM API (boto3 CreateUser and CreateAccessKey on `--threads` threads,
round-robin over the accounts: the same code path, index then directory, as any client). At each checkpoint of users on the server
(`--checkpoints`, default 0, 1,000, 5,000, 10,000) it times, one request at a time:
  - CreateUser of `--samples` new users in the first account (they count towards the total),
  - PutUserPolicy on each of them,
  - `--gets` signed GETs of a 4 KiB object by an IAM user whose inline policy allows it (boto3, so each request is
    signed and its key looked up in the directory).
Each figure is the median and p90 in milliseconds; all three must stay flat as users grow. At the end the server is
restarted and the time until the IAM user's first signed GET succeeds is the start-up cost of loading every user
and unsealing every key.

    swift build -c release --product martlet && .venv/bin/python bench/iam_scale.py [--users 10000] [--accounts 10]
    .venv/bin/python bench/iam_scale.py --binary .build-dev/debug/martlet   # a debug build: figures are debug's

Results go in closing notes, not in tests.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from bench import ACCESS, REPO, SECRET, free_port, start_martlet  # noqa: E402

BUCKET, KEY = "iam-scale", "object.bin"
CONFIG = Config(retries={"max_attempts": 1}, max_pool_connections=64)


def client(endpoint, access, secret, service):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=access,
                        aws_secret_access_key=secret, config=CONFIG)


def add_account(binary, endpoint, name):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MARTLET_"))}
    env.update(AWS_ACCESS_KEY_ID=ACCESS, AWS_SECRET_ACCESS_KEY=SECRET)
    out = subprocess.run([binary, "admin", "--endpoint", endpoint, "account", "add", name, "--json"], env=env,
                         capture_output=True, text=True, check=True, timeout=60).stdout
    made = json.loads(out)
    return made["accessKeys"][0]["accessKeyId"], made["secretAccessKey"]


def millis(samples):
    ordered = sorted(samples)
    return {"median": round(statistics.median(ordered) * 1000, 2),
            "p90": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000, 2)}


def timed(call):
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


class Filler:
    """Creates users round-robin over the accounts' IAM clients, on a thread pool, counting every user made."""

    def __init__(self, iams, threads):
        self.iams = iams
        self.threads = threads
        self.made = 0

    def fill(self, count):
        def create(n):
            iam = self.iams[n % len(self.iams)]
            name = f"fill-{self.made + n}"
            iam.create_user(UserName=name)
            iam.create_access_key(UserName=name)

        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            list(pool.map(create, range(count)))
        self.made += count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "martlet"))
    parser.add_argument("--users", type=int, default=10_000, help="users on the server at the last checkpoint")
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--checkpoints", default="0,1000,5000,10000")
    parser.add_argument("--samples", type=int, default=50, help="CreateUser and PutUserPolicy timed per checkpoint")
    parser.add_argument("--gets", type=int, default=200, help="signed GETs timed per checkpoint")
    parser.add_argument("--threads", type=int, default=8, help="client threads filling users")
    args = parser.parse_args()
    checkpoints = sorted(int(c) for c in args.checkpoints.split(",") if int(c) <= args.users)
    binary = os.path.abspath(args.binary)

    tmp = tempfile.mkdtemp(prefix="martlet-iam-scale-")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = start_martlet(os.path.join(tmp, "data"), port, binary=binary)
    try:
        keys = [add_account(binary, endpoint, f"tenant-{n}") for n in range(args.accounts)]
        iams = [client(endpoint, access, secret, "iam") for access, secret in keys]
        s3 = client(endpoint, keys[0][0], keys[0][1], "s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=os.urandom(4096))
        # The reader is a user of the first account, made before any checkpoint (not counted).
        reader_policy = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]})
        iams[0].create_user(UserName="reader")
        iams[0].put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=reader_policy)
        reader_key = iams[0].create_access_key(UserName="reader")["AccessKey"]
        reader = client(endpoint, reader_key["AccessKeyId"], reader_key["SecretAccessKey"], "s3")
        reader.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()

        filler = Filler(iams, args.threads)
        total = 0  # users on the server, the reader aside
        rows = []
        for checkpoint in checkpoints:
            if checkpoint > total:
                started = time.perf_counter()
                filler.fill(checkpoint - total)
                fill_seconds = time.perf_counter() - started
                fill_rate = (checkpoint - total) / fill_seconds
                total = checkpoint
            else:
                fill_rate = None
            names = [f"probe-{checkpoint}-{i}" for i in range(args.samples)]
            creates = [timed(lambda name=name: iams[0].create_user(UserName=name)) for name in names]
            policies = [timed(lambda name=name: iams[0].put_user_policy(
                UserName=name, PolicyName="read", PolicyDocument=reader_policy)) for name in names]
            gets = [timed(lambda: reader.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()) for _ in range(args.gets)]
            total += args.samples
            row = {"users": checkpoint, "create_user_ms": millis(creates), "put_user_policy_ms": millis(policies),
                   "signed_get_ms": millis(gets), "fill_users_per_s": round(fill_rate, 1) if fill_rate else None}
            rows.append(row)
            print(f"{checkpoint:>7} users: CreateUser {row['create_user_ms']['median']:7.2f} ms "
                  f"(p90 {row['create_user_ms']['p90']:.2f}), PutUserPolicy {row['put_user_policy_ms']['median']:7.2f} ms "
                  f"(p90 {row['put_user_policy_ms']['p90']:.2f}), signed GET {row['signed_get_ms']['median']:6.2f} ms "
                  f"(p90 {row['signed_get_ms']['p90']:.2f})"
                  + (f"; filled at {fill_rate:.0f} users/s" if fill_rate else ""), flush=True)

        # Start-up with every user: the time until the reader's first signed GET succeeds.
        server.terminate()
        server.wait(timeout=30)
        started = time.perf_counter()
        server = start_martlet(os.path.join(tmp, "data"), port, binary=binary)
        while True:
            try:
                reader.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
                break
            except Exception:
                if time.perf_counter() - started > 120:
                    raise
                time.sleep(0.02)
        restart = time.perf_counter() - started
        print(f"restart with {total + 1} users until the first signed GET: {restart * 1000:.0f} ms")
        print(json.dumps({"bench": "iam_scale", "binary": binary, "accounts": args.accounts, "rows": rows,
                          "restart_ms": round(restart * 1000)}))
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", tmp], check=False)


if __name__ == "__main__":
    main()
