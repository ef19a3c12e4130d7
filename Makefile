# Two entry points (see README.md): `make serve` and `make test`.
SWIFT ?= swift
DATA ?= ./data
ADDRESS ?= 127.0.0.1:9000

FUZZ_SECONDS ?= 600

.PHONY: serve test build unit conformance setup fuzz bench

## Set up a fresh machine, build the release binary and serve ./data on 127.0.0.1:9000.
serve: setup build
	./.build/release/martlet server --address $(ADDRESS) --data $(DATA)

## Set up, build, and run every test: Swift unit tests (which replay every committed fuzz input), the fuzz smoke
## (each target replays its committed inputs, then a fixed number of runs from a fixed seed: the same on every
## machine, so it fails only for what the code brought), the conformance suite against the release binary, then the
## core of ceph/s3-tests held to conformance/s3tests-expected.txt.
## `swift test -c release` builds and links .build/release/martlet too, so the code is compiled once. It runs beside a
## throwaway PostgreSQL server (scripts/with-postgres.sh), against which the PostgreSQL index passes the same storage
## contracts as SQLite's.
## The conformance suite runs twice: against single servers (its PostgreSQL tests, migrate-index and admin commands on
## a cluster, beside a throwaway PostgreSQL server), then its object, multipart, versioning, access and notification
## tests and the cluster's own against two nodes on PostgreSQL behind haproxy (pytest --topology cluster; tests that
## need one process are marked single_node and left out there). The s3-tests core runs twice too: against one server,
## then against two nodes behind haproxy, held to the same expected-results list.
test: setup
	./scripts/setup.sh --python
	./scripts/setup.sh --cluster
	./scripts/with-postgres.sh $(SWIFT) test -c release
	./scripts/fuzz.sh --smoke
	./scripts/with-postgres.sh .venv/bin/python -m pytest conformance
	./scripts/with-postgres.sh .venv/bin/python -m pytest --topology cluster $(addprefix conformance/,$(CLUSTER_TESTS))
	./scripts/setup.sh --s3tests
	.venv/bin/python conformance/s3tests_run.py
	./scripts/with-postgres.sh .venv/bin/python conformance/s3tests_run.py --topology cluster

CLUSTER_TESTS = test_cluster.py test_objects.py test_get.py test_conditional.py test_delete_objects.py \
	test_multipart.py test_multipart_listing.py test_multipart_reads_and_clients.py test_versioning.py \
	test_list_object_versions.py test_access_accounts.py test_access_acls.py test_access_iam.py \
	test_access_policies.py test_access_public_block.py test_notifications.py

setup:
	./scripts/setup.sh

build:
	$(SWIFT) build -c release --product martlet

unit:
	./scripts/with-postgres.sh $(SWIFT) test -c release

conformance:
	./scripts/setup.sh --python
	./scripts/with-postgres.sh .venv/bin/python -m pytest conformance

## Explore: run each libFuzzer target for FUZZ_SECONDS (default 600) from a random seed; commit what it finds to
## Tests/FuzzRegressions/<target>/ with the fix.
fuzz: setup
	./scripts/fuzz.sh $(FUZZ_SECONDS)

## Martlet beside nginx (the physical limit) in one run: bench/compare (see bench/README.md). Installs nginx, wrk
## and ApacheBench from Debian; nginx is run on a free port with a generated config, never as a system service.
bench: setup build
	./scripts/setup.sh --python
	./scripts/setup.sh --bench
	./bench/compare
