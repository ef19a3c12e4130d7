#!/usr/bin/env bash
# Run COMMAND against a real, throwaway PostgreSQL server:
#   ./scripts/with-postgres.sh COMMAND [ARGS...]   # exports MARTLET_TEST_POSTGRES, exits with COMMAND's status
#   ./scripts/with-postgres.sh                     # prints the URL, waits for Ctrl-C / SIGTERM
# Each run gets its own temp cluster on a free 127.0.0.1 port, so runs can overlap and never touch
# the system cluster (port 5432). The server and its folder are removed on exit, error or signal.
set -euo pipefail

# Server binaries: Debian's highest /usr/lib/postgresql/<version>/bin with a full server (client-only
# versions lack initdb), then pg_config --bindir, then PATH.
find_bindir() {
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV) "$(pg_config --bindir 2>/dev/null)" \
           "$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || echo /nonexistent)")")"; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  done
  return 1
}
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if ! BIN=$(find_bindir); then
  echo "with-postgres: installing Debian's postgresql package" >&2
  apt_install() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; }
  # Only refresh package lists if the install fails (a fresh image may have none).
  { apt_install || { $SUDO apt-get update && apt_install; }; } >&2
  BIN=$(find_bindir) || { echo "with-postgres: no PostgreSQL server binaries found" >&2; exit 1; }
fi
PSQL="$BIN/psql"; [ -x "$PSQL" ] || PSQL=psql

# PostgreSQL refuses to run as root, so root runs the server as a dedicated unprivileged system user.
# (pg commands run from inside the temp folder so that user never needs access to our cwd.)
if [ "$(id -u)" -eq 0 ]; then
  PGOS_USER=martlet-pg
  # "|| getent": a concurrent first run may have created the user between our check and useradd.
  getent passwd "$PGOS_USER" >/dev/null ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PGOS_USER" 2>/dev/null ||
    getent passwd "$PGOS_USER" >/dev/null
  as_pg() { (cd "$TMP" && runuser -u "$PGOS_USER" -- "$@"); }
else
  as_pg() { (cd "$TMP" && "$@"); }
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/martlet-pg.XXXXXX")
DATA="$TMP/data"
# Stop the server and delete everything on any exit; INT/TERM go through exit so the EXIT trap runs once.
# "immediate" skips the shutdown checkpoint: the data is thrown away anyway.
# shellcheck disable=SC2317  # only reached through the traps
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -d "$DATA" ]; then as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[ -z "${PGOS_USER:-}" ] || chown "$PGOS_USER" "$TMP"

PGUSER_NAME=postgres
PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')   # hex: safe to put in a URL unescaped
(umask 077; echo "$PASSWORD" >"$TMP/pwfile"); [ -z "${PGOS_USER:-}" ] || chown "$PGOS_USER" "$TMP/pwfile"
# --no-sync: durability of a throwaway cluster is irrelevant, and it saves seconds on a busy disk.
as_pg "$BIN/initdb" -D "$DATA" -U "$PGUSER_NAME" -A scram-sha-256 --pwfile="$TMP/pwfile" \
  -E UTF8 --no-locale --no-sync >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; exit 1; }
rm -f "$TMP/pwfile"

# Ask the kernel for a free port (bind port 0, then release). Another process could grab it before
# the server binds, so retry with a fresh port. perl is always there with Debian's postgresql package.
free_port() {
  if command -v perl >/dev/null; then
    perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1",LocalPort=>0)->sockport'
  else
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
  fi
}
if ! command -v openssl >/dev/null; then
  openssl_install() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssl; }
  { openssl_install || { $SUDO apt-get update && openssl_install; }; } >&2
fi
# TLS with a throwaway self-signed certificate, so clients that ask for it (sslmode=prefer, the default, or require)
# get it, as from a production server; tests that need a plain connection say sslmode=disable.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=martlet-test-postgres" \
  -keyout "$TMP/server.key" -out "$TMP/server.crt" >"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log" >&2; exit 1; }
chmod 600 "$TMP/server.key"
[ -z "${PGOS_USER:-}" ] || chown "$PGOS_USER" "$TMP/server.key" "$TMP/server.crt"
started=
for _ in 1 2 3; do
  PORT=$(free_port)
  # fsync/synchronous_commit/full_page_writes off: crash safety is pointless for a throwaway test
  # server and they make tests much faster. The Unix socket goes in the temp folder, not /var/run.
  if as_pg "$BIN/pg_ctl" -w -t 60 -D "$DATA" -l "$TMP/server.log" -o "-p $PORT -k $TMP \
      -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
      -c max_connections=400 -c ssl=on -c ssl_cert_file=$TMP/server.crt -c ssl_key_file=$TMP/server.key" \
      start >/dev/null 2>&1; then started=1; break; fi
done
if [ -z "$started" ]; then
  echo "with-postgres: PostgreSQL failed to start; server log:" >&2; cat "$TMP/server.log" >&2 || true; exit 1
fi

# The URL's user is the cluster superuser, so tests can create and drop their own databases.
PGPASSWORD=$PASSWORD "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" \
  -d postgres -c 'CREATE DATABASE martlet' >&2
export MARTLET_TEST_POSTGRES="postgres://$PGUSER_NAME:$PASSWORD@127.0.0.1:$PORT/martlet"

if [ $# -eq 0 ]; then
  echo "$MARTLET_TEST_POSTGRES"
  echo "export MARTLET_TEST_POSTGRES='$MARTLET_TEST_POSTGRES'"
  echo "with-postgres: running until Ctrl-C / SIGTERM" >&2
  # Foreground sleep (not "sleep infinity &"): a background child would ignore Ctrl-C and outlive us.
  while :; do sleep 1; done
fi
status=0
"$@" || status=$?
exit "$status"
