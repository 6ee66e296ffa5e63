#!/usr/bin/env bash
# PostgreSQL and Redis for the test suite and the benchmarks, in a private directory on loopback
# ports (never the machine's default ones). Installs Debian's packages when missing and this
# machine can (root with apt-get); otherwise fails with a clear message: nothing is skipped.
#
#   scripts/services.sh start DIR PGPORT REDISPORT   # prints the two URLs as KEY=VALUE lines
#   scripts/services.sh stop DIR
#
# postgres and initdb refuse to run as root, so as root they run as the postgres user; as
# another user they run as that user.
set -euo pipefail

command="${1:-}"
dir="${2:-}"
[ -n "$dir" ] || { echo "usage: $0 start DIR PGPORT REDISPORT | stop DIR" >&2; exit 2; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_missing() {
  local missing=()
  [ -n "$(pg_bin)" ] || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} for the PostgreSQL and Redis suites (apt-get)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    return 0
  fi
  echo "PostgreSQL and Redis are needed for the multi-node suites: install ${missing[*]}" \
    "(sudo apt-get install ${missing[*]}) or set SESSIOND_TEST_DATABASE_URL and SESSIOND_TEST_REDIS_URL" >&2
  exit 1
}

case "$command" in
start)
  pgport="${3:?PGPORT}"
  redisport="${4:?REDISPORT}"
  install_missing
  mkdir -p "$dir"
  chmod 755 "$dir" # the postgres user must be able to enter it
  pgdata="$dir/pg"
  mkdir -p "$pgdata" "$dir/redis"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdata"
  chmod 700 "$pgdata"
  bin="$(pg_bin)"
  as_pg "$bin/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log"
  # Many suites and servers at once: room for their pools. fsync stays on (the default).
  as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 30 \
    -o "-p $pgport -c listen_addresses=127.0.0.1 -k $pgdata -c max_connections=400" start >&2
  redis-server --port "$redisport" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log"
  for _ in $(seq 100); do redis-cli -p "$redisport" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$redisport" ping >/dev/null
  echo "$pgport" >"$dir/pgport"
  echo "$redisport" >"$dir/redisport"
  echo "SESSIOND_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$pgport/postgres"
  echo "SESSIOND_TEST_REDIS_URL=redis://127.0.0.1:$redisport"
  ;;
stop)
  bin="$(pg_bin)"
  if [ -f "$dir/pg/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/redisport" ]; then
    redis-cli -p "$(cat "$dir/redisport")" shutdown nosave >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start DIR PGPORT REDISPORT | stop DIR" >&2
  exit 2
  ;;
esac
