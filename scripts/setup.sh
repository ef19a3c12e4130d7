#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build Martlet (system libraries) and, with --python,
# the Python test tools into .venv. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs those of the named Debian packages that are missing.
install_missing() {
  local need=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
  fi
}

install_missing libssl-dev libsqlite3-dev zlib1g-dev

# bench/compare drives Martlet and nginx with wrk and ApacheBench. RUNLEVEL=1 keeps Debian's nginx package from
# starting a system nginx on port 80: the benchmark starts its own, on a free port.
if [ "${1:-}" = "--bench" ]; then
  export RUNLEVEL=1
  install_missing nginx wrk apache2-utils
fi

# The conformance suite drives a real browser (Debian's Chromium and its WebDriver) and delivers notifications to
# a real Redis server. RUNLEVEL=1 keeps the package from starting a system Redis: the tests start their own.
if [ "${1:-}" = "--python" ]; then
  install_missing chromium chromium-driver
  RUNLEVEL=1 install_missing redis-server
fi

# The conformance suite's cluster topology (pytest --topology cluster) puts Debian's haproxy in front of two nodes
# on a throwaway PostgreSQL server (scripts/with-postgres.sh). RUNLEVEL=1 keeps the packages from starting system
# services: the suite starts its own haproxy on a free port with a generated config, and with-postgres.sh its own
# PostgreSQL cluster. Taken with other modes too (bench/cluster.py asks for --bench --cluster).
if [[ " $* " == *" --cluster "* ]]; then
  RUNLEVEL=1 install_missing haproxy postgresql
fi

if [ "${1:-}" = "--python" ] || [ "${1:-}" = "--s3tests" ]; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv || {
      sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
      $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
      python3 -m venv .venv
    }
  fi
  stamp=.venv/.requirements-installed
  if [ ! -f "$stamp" ] || [ conformance/requirements.txt -nt "$stamp" ]; then
    .venv/bin/pip install -q --disable-pip-version-check -r conformance/requirements.txt
    touch "$stamp"
  fi
fi

# ceph/s3-tests' own requirements, into the same venv, when a checkout is there (S3TESTS_DIR or ../shared/s3-tests).
if [ "${1:-}" = "--s3tests" ]; then
  suite="${S3TESTS_DIR:-../shared/s3-tests}"
  stamp=.venv/.s3tests-requirements-installed
  if [ -f "$suite/requirements.txt" ] && { [ ! -f "$stamp" ] || [ "$suite/requirements.txt" -nt "$stamp" ]; }; then
    .venv/bin/pip install -q --disable-pip-version-check -r "$suite/requirements.txt"
    touch "$stamp"
  fi
fi
