"""Fixtures for access-control tests: IAM clients, throwaway IAM users with their own S3 clients, and a second
account made with `martlet admin account add`."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config



def client_for(server, access_key: str, secret_key: str, service: str = "s3", **config):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=server.region, aws_access_key_id=access_key,
                        aws_secret_access_key=secret_key, verify=server.verify,
                        config=Config(**config) if config else None)


def anonymous_client(server):
    """boto3 that signs nothing, as a browser or CDN asks."""
    return boto3.client("s3", endpoint_url=server.endpoint, region_name=server.region, verify=server.verify,
                        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def admin(binary, server, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`martlet admin --endpoint` signed with the server's start-up (operator) keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MARTLET_"))}
    env.update(AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key)
    proc = subprocess.run([str(binary), "admin", "--endpoint", server.endpoint, *args], env=env, capture_output=True,
                          text=True, timeout=60)
    if check and proc.returncode != 0:
        pytest.fail(f"martlet admin {' '.join(args)} failed: {proc.stderr}", pytrace=False)
    return proc


@dataclass
class IAMUserKeys:
    name: str
    arn: str
    access_key: str
    secret_key: str
    s3: object


@dataclass
class OtherAccount:
    name: str
    account_id: str
    canonical_id: str
    display_name: str
    access_key: str
    secret_key: str
    s3: object
    iam: object


@pytest.fixture(scope="session")
def iam(server):
    return client_for(server, server.access_key, server.secret_key, "iam")


@pytest.fixture
def make_user(iam, server):
    """make_user(policy_json=None, name=None) -> an IAM user of the main account with keys and an S3 client; all
    removed after the test."""
    made: list[str] = []

    def make(policy_json: str | None = None, name: str | None = None) -> IAMUserKeys:
        name = name or f"user-{uuid.uuid4().hex[:10]}"
        user = iam.create_user(UserName=name)["User"]
        made.append(name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        if policy_json:
            iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=policy_json)
        return IAMUserKeys(name, user["Arn"], key["AccessKeyId"], key["SecretAccessKey"],
                           client_for(server, key["AccessKeyId"], key["SecretAccessKey"], retries={"max_attempts": 1}))

    yield make
    for name in made:
        try:
            for p in iam.list_user_policies(UserName=name)["PolicyNames"]:
                iam.delete_user_policy(UserName=name, PolicyName=p)
            for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
            iam.delete_user(UserName=name)
        except Exception:  # clean-up must not mask the test's result
            pass


def add_account(binary, server, name: str | None = None) -> OtherAccount:
    name = name or f"acct-{uuid.uuid4().hex[:8]}"
    made = json.loads(admin(binary, server, "account", "add", name, "--display-name", f"{name}-display",
                            "--email", f"{name}@example.test", "--json").stdout)
    access_key, secret_key = made["accessKeys"][0]["accessKeyId"], made["secretAccessKey"]
    return OtherAccount(name, made["accountId"], made["canonicalId"], made["displayName"], access_key, secret_key,
                        client_for(server, access_key, secret_key, retries={"max_attempts": 1}),
                        client_for(server, access_key, secret_key, "iam"))


@pytest.fixture(scope="session")
def other_account(martlet_bin, server) -> OtherAccount:
    """A second account on the shared server, for cross-account grants."""
    return add_account(martlet_bin, server)
