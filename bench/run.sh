#!/usr/bin/env bash
# The benchmark suite: every measurement next to its baseline from the same run, then one
# table (bench/out/summary.txt), its JSON (summary.json) and a chart (summary.svg).
#   tracking reads, uncached and cached, over 1,000,000 deliveries and 10,000,000 events,
#     against a bare actix-web handler and redis-benchmark (bench/tracking.sh);
#   the growth curve: tracking reads at 10^4, 10^5 and 10^6 deliveries;
#   intake against pgbench (bench/intake.sh); courier webhooks against pgbench
#   (bench/webhooks.sh); dispatch against the courier simulator alone (bench/dispatch.sh);
#   notifications against the SMS gateway simulator alone (bench/notify.sh);
#   the fuzzers, FUZZ_SECONDS each, FUZZ_JOBS at a time (bench/fuzz.sh; FUZZ_SECONDS=0 skips);
#   schemathesis against /openapi.json, API_FUZZ_SECONDS per key (bench/api-fuzz.sh; 0 skips).
# Needs PostgreSQL and Redis (as scripts/test starts them); installs wrk and pgbench.
# Usage: bench/run.sh   (SIZES="10000 100000 1000000" WEBHOOK_SECONDS=5 FUZZ_SECONDS=600
#                       FUZZ_JOBS=1 API_FUZZ_SECONDS=300)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/civicpost/target}"
admin="${PGURL:-postgres://postgres@127.0.0.1:5432/postgres}"
out=bench/out; mkdir -p "$out"
rm -f "$out"/tracking-*.json
sizes="${SIZES:-10000 100000 1000000}"
largest="${sizes##* }"
# The largest tracking database is kept, and the other parts run on it: every figure is
# taken with 1,000,000 deliveries and 10,000,000 events already in the tables.
seeded="civicpost_seeded_$$"
trap 'psql -q "$admin" -c "DROP DATABASE IF EXISTS $seeded WITH (FORCE)" >/dev/null || true' EXIT
started=$(date -u +%FT%TZ)
for n in $sizes; do
  echo "=== tracking reads over $n deliveries"
  keep=""; [ "$n" = "$largest" ] && keep="$seeded"
  DELIVERIES="$n" EVENTS=10 KEEP_DB="$keep" bench/tracking.sh
done
cp "$out/tracking-$largest.json" "$out/tracking.json"
export DB="$seeded"
echo "=== the other parts on the $largest-delivery database"
for part in dispatch notify; do
  echo "=== $part"
  "bench/$part.sh"
done
# Webhooks: a short burst, since the check that nothing is lost waits for the one ingesting
# worker to drain the inbox.
echo "=== webhooks"
DURATION="${WEBHOOK_SECONDS:-5}" bench/webhooks.sh
# Intake last: its deliveries wait for couriers it switches off.
echo "=== intake"
bench/intake.sh
unset DB
if [ "${FUZZ_SECONDS:-600}" != 0 ]; then
  echo "=== fuzzing, ${FUZZ_SECONDS:-600}s per target"
  bench/fuzz.sh
fi
if [ "${API_FUZZ_SECONDS:-300}" != 0 ]; then
  echo "=== schemathesis, ${API_FUZZ_SECONDS:-300}s per key"
  bench/api-fuzz.sh
fi
python3 bench/summary.py "$out" "$started" "$largest"
