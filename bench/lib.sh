# Shared by the bench scripts: the database, the release binary, a port, the agency, and
# stopping whatever a script started. Source it after `cd` to the checkout, then call
# `bench_init PART`; it sets:
#   admin  the PostgreSQL URL used to create and drop databases (PGURL)
#   db url the database of this run: DB=name reuses an existing one (such as the 1M-delivery
#          database bench/tracking.sh keeps with KEEP_DB) and leaves it; otherwise a new
#          civicpost_PART_PID, dropped at exit (or renamed to KEEP_DB)
#   bin    the release binary; work: a scratch folder; out: bench/out
#   port base  a free port on 127.0.0.1 and its URL
#   agency a code of this run's own (BENCH-PART-PID), so runs on one database never meet
#   pids   processes killed at exit (append with pids+=($!))
. scripts/lib.sh

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bench_init() {
  local part=$1
  command -v wrk >/dev/null || apt_install wrk
  admin="${PGURL:-postgres://postgres@127.0.0.1:5432/postgres}"
  if [ -n "${DB:-}" ]; then
    db=$DB; own_db=""
  else
    db="civicpost_${part}_$$"; own_db=1
  fi
  url="${admin%/*}/$db"
  out=bench/out; mkdir -p "$out"
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/civicpost"
  [ -z "$own_db" ] || psql -q "$admin" -c "CREATE DATABASE $db"
  work=$(mktemp -d)
  pids=()
  port=$(free_port); base="http://127.0.0.1:$port"
  agency="BENCH-${part^^}-$$"
  trap bench_cleanup EXIT
}

bench_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$own_db" ] && [ -n "${KEEP_DB:-}" ]; then
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $KEEP_DB WITH (FORCE)" >/dev/null || true
    psql -q "$admin" -c "ALTER DATABASE $db RENAME TO $KEEP_DB" >/dev/null && echo "kept the database as $KEEP_DB"
  elif [ -n "$own_db" ]; then
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
  fi
  rm -rf "$work"
}

# Waits up to 30 s for $1 (default $base) to answer /healthz.
wait_healthy() {
  local at="${1:-$base}"
  for _ in $(seq 300); do curl -fsS "$at/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "no answer from $at/healthz" >&2; return 1
}

# Creates this run's agency (sender in Hà Nội) and prints its API key.
bench_agency() {
  "$bin" agency create --code "$agency" --name "Trung tâm PVHCC (benchmark)" --sender-ward 00004 \
    --sender-line "1 Hoàng Hoa Thám" --sender-phone "024 3825 1234" | tail -n 1
}

# The agency's id, for queries that must see this run's rows only.
bench_agency_id() { psql -Atq "$url" -c "SELECT id FROM agencies WHERE code = '$agency'"; }

# Peak resident memory of process $1 in KiB (0 once it is gone).
peak_rss_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

machine() { echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"; }

# Open jobs (pending or running) of this run's deliveries.
open_jobs() {
  psql -Atq "$url" -c "SELECT count(*) FROM outbox_jobs WHERE status IN ('pending', 'running')
    AND delivery_id IN (SELECT id FROM deliveries WHERE agency_id = '$(bench_agency_id)')"
}

# Waits until this run's deliveries have no open job, so that a part sharing the database
# leaves nothing for the next one's workers.
drain_jobs() { while [ "$(open_jobs)" -gt 0 ]; do sleep 0.5; done; }
