#!/usr/bin/env python3
"""Runs the core selection of ceph/s3-tests against the release binary and holds it to conformance/s3tests-expected.txt.

The suite comes from S3TESTS_DIR, else ../shared/s3-tests beside the repository; where neither exists it says so and
skips. The run fails on any core test that fails but is not listed as expected to, and on any listed test that now
passes (so the list only shrinks and always tells the truth). The suite runs in two passes, each against a fresh
server: most tests with a 4-second lifecycle day, and the few that count real days in a date with real-length days.

`--topology cluster` runs the same selection, held to the same list, against two nodes on a fresh PostgreSQL database
(from MARTLET_TEST_POSTGRES, a superuser's postgres:// URL) and one shared data folder, behind haproxy round robin
per request: a test that fails only there is a cluster bug, never a new entry in the list.

    .venv/bin/python conformance/s3tests_run.py [--topology single|cluster] [extra pytest arguments, e.g. -k versioning]
    ./scripts/with-postgres.sh .venv/bin/python conformance/s3tests_run.py --topology cluster
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from cluster_helpers import POSTGRES_ENV, HAProxy, MartletCluster, create_database  # noqa: E402
from s3helpers import Certs, MartletServer, make_certs  # noqa: E402

EXPECTED = HERE / "s3tests-expected.txt"


PER_TEST_TIMEOUT = 180
CORE = ("not fails_on_aws and not bucket_logging and not bucket_logging_cleanup and not cloud_transition and "
        "not cloud_restore and not iam_account and not iam_user and not iam_role and not iam_tenant and "
        "not iam_cross_account and not test_of_sts and not webidentity_test and not user_policy and "
        "not role_policy and not session_policy and not group_policy and not abac_test and not sns and "
        "not s3select")
ACCESS_KEY = "S3TESTSMAINKEY000001"
SECRET_KEY = "s3tests/main+Secret0123456789abcdefghij"


@dataclass(frozen=True)
class SuiteAccount:
    """One of the suite's three accounts, as the server reports it."""
    access_key: str
    secret_key: str
    display_name: str
    user_id: str
    email: str

    def section(self) -> str:
        return (f"display_name = {self.display_name}\nuser_id = {self.user_id}\nemail = {self.email}\n"
                f"access_key = {self.access_key}\nsecret_key = {self.secret_key}\n")


# The operator's account is the suite's main one; alt and tenant are created with `martlet admin account add`.
OTHER_ACCOUNTS = {"alt": ("S3TESTSALTKEY0000001", "s3tests/alt+Secret0123456789abcdefghijk"),
                  "tenant": ("S3TESTSTENANTKEY0001", "s3tests/tenant+Secret0123456789abcdefgh")}


@dataclass(frozen=True)
class Pass:
    """One run of the suite against a fresh server whose lifecycle day is `day` seconds (the suite's
    lc_debug_interval)."""
    name: str
    day: int


# Most tests run against a 4-second lifecycle day, so lifecycle rules run while the suite waits for them.
FAST = Pass("fast-days", 4)
# The x-amz-expiration tests need real time: they count whole real days in the date they read.
REAL_TIME = Pass("real-days", 86_400)
REAL_TIME_TESTS = ("test_lifecycle_expiration_header_put", "test_lifecycle_expiration_header_head",
                   "test_lifecycle_expiration_header_tags_head")


def suite_dir() -> Path | None:
    given = os.environ.get("S3TESTS_DIR")
    candidate = Path(given) if given else REPO.parent / "shared" / "s3-tests"
    return candidate if (candidate / "s3tests" / "functional" / "test_s3.py").is_file() else None


def expected_failures() -> dict[str, str]:
    """test id -> reason. Lines are `test_name  # reason`; a `## heading` line gives the reason for the lines under it
    that carry none."""
    found: dict[str, str] = {}
    heading = ""
    for line in EXPECTED.read_text().splitlines():
        line = line.strip()
        if line.startswith("## "):
            heading = line[3:].strip()
            continue
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition("#")
        found[name.strip()] = reason.strip() or heading
    return found


def admin(binary: Path, endpoint: str, *args: str) -> dict:
    """Runs `martlet admin --endpoint ... ARGS --json` as the operator and returns its JSON."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    done = subprocess.run([str(binary), "admin", "--endpoint", endpoint, *args, "--json"], env=env,
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"martlet admin {' '.join(args)} failed: {done.stderr}")
    return json.loads(done.stdout)


def create_accounts(binary: Path, endpoint: str) -> dict[str, SuiteAccount]:
    """The suite's main, alt and tenant accounts, with the ids and names the server reports."""
    main = admin(binary, endpoint, "account", "info", "martlet")
    accounts = {"main": SuiteAccount(ACCESS_KEY, SECRET_KEY, main["displayName"], main["canonicalId"],
                                     main.get("email") or "martlet@example.test")}
    for name, (access_key, secret_key) in OTHER_ACCOUNTS.items():
        email = f"{name}@example.test"
        made = admin(binary, endpoint, "account", "add", name, "--access-key", access_key, "--secret-key", secret_key,
                     "--display-name", f"s3tests-{name}", "--email", email)
        accounts[name] = SuiteAccount(access_key, secret_key, made["displayName"], made["canonicalId"], email)
    return accounts


def create_kms_keys(binary: Path, data_dir: Path, index: str | None = None) -> list[str]:
    """Two keys of the server's key service, made with `martlet admin kms create-key`: their ARNs. A cluster's keys
    are rows of its PostgreSQL index (`index`), sealed under the master key in its shared data folder."""
    arns = []
    for alias in ("s3tests-1", "s3tests-2"):
        where = ["--data", str(data_dir)] + (["--index", index] if index else [])
        done = subprocess.run([str(binary), "admin", "kms", "create-key", *where, "--alias", alias, "--json"],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"martlet admin kms create-key failed: {done.stderr}")
        arns.append(json.loads(done.stdout)[0]["arn"])
    return arns


def write_config(path: Path, port: int, day: int, accounts: dict[str, SuiteAccount], kms_keys: list[str]) -> None:
    main, alt, tenant = accounts["main"].section(), accounts["alt"].section(), accounts["tenant"].section()
    # HTTPS, since S3 (and Martlet) refuse SSE-C over plain HTTP; the suite does not verify the throwaway CA.
    path.write_text(
        f"[DEFAULT]\nhost = 127.0.0.1\nport = {port}\nis_secure = True\nssl_verify = False\n\n"
        "[fixtures]\nbucket prefix = s3t-{random}-\n\n"
        f"[s3 main]\n{main}api_name = us-east-1\nlc_debug_interval = {day}\n"
        f"kms_keyid = {kms_keys[0]}\nkms_keyid2 = {kms_keys[1]}\n\n"
        f"[s3 alt]\n{alt}\n[s3 tenant]\n{tenant}tenant = tenant\n\n"
        f"[iam]\n{main}\n[iam root]\n{main}\n[iam alt root]\n{alt}")


def outcomes(junit: Path) -> dict[str, bool]:
    """test name -> passed (skips count as passed: the suite skips what its configuration does not cover)."""
    result: dict[str, bool] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        failed = any(child.tag in ("failure", "error") for child in case)
        result[case.get("name")] = not failed
    return result


def server_args(settings: Pass) -> list[str]:
    # The suite expects buckets with ACLs on and no Block Public Access, as S3 made them before April 2023 and as
    # Ceph RGW still does: the server's `open` bucket defaults (its `aws` defaults are AWS's current ones).
    return ["--lifecycle-day-seconds", str(settings.day), "--bucket-defaults", "open"]


@dataclass
class Target:
    """What the suite runs against: an HTTPS port, its CA, the suite's accounts and KMS keys, and the servers' logs."""
    port: int
    certs: Certs
    accounts: dict[str, SuiteAccount]
    kms_keys: list[str]
    log_tail: Callable[[], str]


@contextmanager
def single_server(binary: Path, work: Path, settings: Pass) -> Iterator[Target]:
    """One server on SQLite in its own data folder."""
    server = MartletServer(binary=binary, data_dir=work / "data", log_dir=work / "logs", access_key=ACCESS_KEY,
                           secret_key=SECRET_KEY)
    server.extra_args = server_args(settings)
    server.start()
    try:
        # Accounts are made through the admin API on plain HTTP, keys in the stopped server's folder; then the
        # same folder is served over HTTPS for the suite.
        accounts = create_accounts(binary, server.endpoint)
        server.stop()
        kms_keys = create_kms_keys(binary, server.data_dir)
        certs = make_certs(work / "certs")
        server.certs_dir, server.ca_file = certs.dir, certs.ca_file
        server.start()
        yield Target(server.port, certs, accounts, kms_keys, lambda: server.log_tail(4000))
    finally:
        server.stop()


class TLSBalancer(HAProxy):
    """The cluster's haproxy, HTTPS on both sides: S3 (and Martlet) refuse SSE-C over plain HTTP, and a node judges
    that by its own connection, so haproxy terminates the client's TLS with the nodes' certificate and opens TLS to
    each node, verified against the throwaway CA. It logs one line per request (which node answered, with what
    status) to haproxy.log, to tell apart what a cluster-only failure went through."""

    def __init__(self, directory: Path, certs: Certs):
        super().__init__(directory)
        self.certs = certs

    def config(self, backends: Sequence[tuple[str, int]]) -> str:
        pem = self.directory / "balancer.pem"
        pem.write_text((self.certs.dir / "public.crt").read_text() + (self.certs.dir / "private.key").read_text())
        pem.chmod(0o600)
        text = super().config(backends)
        changes = {"global\n": "global\n    log stderr format raw local0\n",
                   "defaults\n": "defaults\n    log global\n    option httplog\n",
                   f"    bind 127.0.0.1:{self.port}\n": f"    bind 127.0.0.1:{self.port} ssl crt {pem}\n"}
        changes.update({f"    server {name} 127.0.0.1:{port}\n":
                        f"    server {name} 127.0.0.1:{port} ssl verify required ca-file {self.certs.ca_file}\n"
                        for name, port in backends})
        if any(text.count(line) != 1 for line in changes):
            raise RuntimeError("cluster_helpers.HAProxy's configuration changed: update TLSBalancer")
        return "".join(changes.get(line, line) for line in text.splitlines(keepends=True))


@contextmanager
def cluster_servers(binary: Path, work: Path, settings: Pass) -> Iterator[Target]:
    """Two nodes on a fresh PostgreSQL database and one shared data folder, behind haproxy round robin."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        raise SystemExit(f"s3-tests: --topology cluster needs {POSTGRES_ENV} (a superuser's postgres:// URL): run it "
                         "under ./scripts/with-postgres.sh")
    database = create_database(admin_url)
    cluster = MartletCluster(binary, work, database, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    cluster.extra_args = server_args(settings)
    try:
        # As for one server: accounts through the admin API on plain HTTP (through the balancer), keys in the
        # stopped cluster's database and folder; then every node and the balancer serve HTTPS for the suite.
        cluster.start()
        accounts = create_accounts(binary, cluster.endpoint)
        cluster.shutdown()
        kms_keys = create_kms_keys(binary, cluster.data_dir, database)
        certs = make_certs(work / "certs")
        for node in cluster.nodes:
            node.certs_dir, node.ca_file = certs.dir, certs.ca_file
        cluster.lb = TLSBalancer(work / "haproxy-tls", certs)
        # The readiness probe of MartletCluster.start goes to each node's HTTPS endpoint.
        os.environ["REQUESTS_CA_BUNDLE"] = str(certs.ca_file)
        cluster.start()
        yield Target(cluster.port, certs, accounts, kms_keys,
                     lambda: cluster.log_tail(8000) + "\n--- haproxy (tail)\n" +
                     cluster.lb.log_path.read_text(errors="replace")[-2000:])
    finally:
        cluster.shutdown()


TOPOLOGIES = {"single": single_server, "cluster": cluster_servers}


def run_pass(suite: Path, binary: Path, work: Path, settings: Pass, selection: list[str], topology: str,
             pytest_args: list[str]) -> tuple[dict[str, bool], str]:
    """Runs the selected tests against fresh servers with these settings: test name -> passed, and the log tail."""
    with TOPOLOGIES[topology](binary, work, settings) as target:
        certs, port, accounts, kms_keys = target.certs, target.port, target.accounts, target.kms_keys
        config = work / "s3tests.conf"
        write_config(config, port, settings.day, accounts, kms_keys)
        # S3TESTS_JUNIT keeps the JUnit report (failure messages included) for a closer look.
        junit = Path(os.environ.get("S3TESTS_JUNIT") or work / "junit.xml").with_suffix(f".{settings.name}.xml")
        command = [sys.executable, "-m", "pytest", *selection, "-m", CORE, "-q", "-p", "no:cacheprovider",
                   f"--timeout={PER_TEST_TIMEOUT}", f"--junitxml={junit}", "-o", "junit_family=xunit1",
                   "--tb=no", "-rN", *pytest_args]
        # The suite's own HTTP calls (POST forms, presigned URLs through requests) verify certificates: trust the CA.
        env = dict(os.environ, S3TEST_CONF=str(config), REQUESTS_CA_BUNDLE=str(certs.ca_file), SSL_CERT_FILE=str(certs.ca_file))
        print(f"s3-tests ({settings.name}, {topology}):", " ".join(command[1:3]), f"... against https://127.0.0.1:{port}",
              flush=True)
        started = time.monotonic()
        subprocess.run(command, cwd=suite, env=env, stdout=subprocess.DEVNULL if not os.environ.get("S3TESTS_VERBOSE") else None)
        print(f"s3-tests ({settings.name}, {topology}): {time.monotonic() - started:.0f} s", flush=True)
        results = outcomes(junit) if junit.exists() else {}
        return results, target.log_tail()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--topology", choices=sorted(TOPOLOGIES), default="single",
                        help="single (default): one server on SQLite. cluster: two nodes on PostgreSQL "
                             f"({POSTGRES_ENV}) and one shared data folder, behind haproxy")
    # Everything else goes to pytest, as before.
    options, pytest_args = parser.parse_known_args()
    suite = suite_dir()
    if suite is None:
        print("s3-tests: skipped: no ceph/s3-tests checkout at ../shared/s3-tests (set S3TESTS_DIR to one)")
        return 0
    binary = Path(os.environ.get("MARTLET_BIN") or REPO / ".build" / "release" / "martlet")
    files = ["s3tests/functional/test_s3.py", "s3tests/functional/test_headers.py"]
    elsewhere = [f"{files[0]}::{name}" for name in REAL_TIME_TESTS]
    results: dict[str, bool] = {}
    log_tail = ""
    # S3TESTS_WORK keeps the servers' folders and logs (both nodes' and haproxy's, in the cluster) for a closer look.
    kept = os.environ.get("S3TESTS_WORK")
    with nullcontext(kept) if kept else tempfile.TemporaryDirectory(prefix="martlet-s3tests-") as work:
        for settings, selection in ((FAST, files + [f"--deselect={test}" for test in elsewhere]), (REAL_TIME, elsewhere)):
            (Path(work) / settings.name).mkdir(parents=True)
            found, tail = run_pass(suite, binary, Path(work) / settings.name, settings, selection, options.topology,
                                   pytest_args)
            results.update(found)
            log_tail += tail
    expected = expected_failures()
    selected = set(results)
    failing = {name for name, passed in results.items() if not passed}
    unexpected = sorted(failing - set(expected))
    now_passing = sorted(name for name in expected if name in selected and name not in failing)
    passed = len(selected) - len(failing)
    print(f"s3-tests ({options.topology}): {passed} of {len(selected)} core tests pass; the expected-failures list has {len(expected)} entries")
    if unexpected:
        print("s3-tests: failing but not listed in conformance/s3tests-expected.txt:")
        for name in unexpected:
            print("  ", name)
    if now_passing:
        print("s3-tests: listed as failing but now pass (remove them from conformance/s3tests-expected.txt):")
        for name in now_passing:
            print("  ", name)
    if (unexpected or now_passing) and re.search(r" (error|critical) ", log_tail):
        print("--- server log (tail)\n" + log_tail)
    # "failed" counts what breaks the run: failures not listed, and listed tests that pass.
    print(f"s3-tests: {passed} passed, {len(unexpected) + len(now_passing)} failed")
    return 1 if unexpected or now_passing else 0


if __name__ == "__main__":
    sys.exit(main())
