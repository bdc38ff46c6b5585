#!/usr/bin/env bash
# Idempotent: install Debian's PostgreSQL, start a private test server on 127.0.0.1 (its own data
# dir and port, so the distribution's cluster and other engineers' servers are left alone), create
# a login role with CREATEDB and a database, and print the URL on stdout, e.g.
#   export JOBPIPELINE_TEST_PG_URL="$(bash jobpipeline_tests/ops/setup_postgres.sh)"
# Also installs the `postgres` extra (psycopg 3, dagster-postgres) into the venv.
# Settings (env): JOBPIPELINE_PG_PORT (55432), JOBPIPELINE_PG_ROOT (/var/tmp/jobpipeline-pg).
# Stop it with: bash jobpipeline_tests/ops/setup_postgres.sh stop
set -euo pipefail

PORT="${JOBPIPELINE_PG_PORT:-55432}"
ROOT="${JOBPIPELINE_PG_ROOT:-/var/tmp/jobpipeline-pg}"
DATA="$ROOT/data"
ROLE="jobpipeline"
PASSWORD="jobpipeline"  # a throwaway test server on loopback only
DB="jobpipeline_test"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { echo "setup_postgres: $*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
# initdb and postgres refuse to run as root: root runs them as the `postgres` user.
if [ "$(id -u)" -eq 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi

pg_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

BIN="$(pg_bin || true)"
if [ -z "$BIN" ]; then
  log "installing postgresql (apt)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
  as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends postgresql >/dev/null
  BIN="$(pg_bin)"
fi

if [ "${1:-}" = "stop" ]; then
  as_pg "$BIN/pg_ctl" -D "$DATA" -m fast stop >&2 || true
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$ROOT" && chown postgres:postgres "$ROOT"
else
  mkdir -p "$ROOT"
fi

if [ ! -s "$DATA/PG_VERSION" ]; then
  log "initdb $DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
fi

if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  log "starting PostgreSQL on 127.0.0.1:$PORT"
  # Durability off: a test server whose data is recreated at will; it makes DDL-heavy tests fast.
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$ROOT/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $ROOT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2
fi

psql_su() { as_pg "$BIN/psql" -h "$ROOT" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_su -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  psql_su -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'" >/dev/null
fi
# DROP DATABASE ... WITH (FORCE) ends every session on that database, and refuses (the whole drop)
# when one of them belongs to another role, which an autovacuum worker does: the tests' clean-up
# needs the right to signal those sessions.
psql_su -c "GRANT pg_signal_backend TO $ROLE" >/dev/null 2>&1
if [ "$(psql_su -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
  psql_su -c "CREATE DATABASE $DB OWNER $ROLE" >/dev/null
fi

# The Python side: psycopg 3 (SQLAlchemy's postgresql+psycopg) and dagster-postgres.
if [ -n "${VIRTUAL_ENV:-}" ]; then PY="$VIRTUAL_ENV/bin/python"
elif [ -x "$REPO/.venv/bin/python" ]; then PY="$REPO/.venv/bin/python"
else PY="$(command -v python3)"; fi
if ! "$PY" -c "import psycopg, dagster_postgres" 2>/dev/null; then
  log "installing the postgres extra into $PY"
  "$PY" -m pip install -q "psycopg[binary]==3.3.6" "dagster-postgres==0.29.27" >&2  # = pyproject's `postgres` extra
fi

echo "postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
