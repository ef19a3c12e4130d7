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
test: setup
	./scripts/setup.sh --python
	./scripts/with-postgres.sh $(SWIFT) test -c release
	./scripts/fuzz.sh --smoke
	.venv/bin/python -m pytest conformance
	./scripts/setup.sh --s3tests
	.venv/bin/python conformance/s3tests_run.py

setup:
	./scripts/setup.sh

build:
	$(SWIFT) build -c release --product martlet

unit:
	./scripts/with-postgres.sh $(SWIFT) test -c release

conformance:
	./scripts/setup.sh --python
	.venv/bin/python -m pytest conformance

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
