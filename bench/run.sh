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
out=bench/out; mkdir -p "$out"
rm -f "$out"/tracking-*.json
sizes="${SIZES:-10000 100000 1000000}"
started=$(date -u +%FT%TZ)
for n in $sizes; do
  echo "=== tracking reads over $n deliveries"
  DELIVERIES="$n" EVENTS=10 bench/tracking.sh
done
cp "$out/tracking-${sizes##* }.json" "$out/tracking.json"
for part in intake dispatch notify; do
  echo "=== $part"
  "bench/$part.sh"
done
# Webhooks: a short burst, since the check that nothing is lost waits for the one ingesting
# worker to drain the inbox (about 170 bodies a second).
echo "=== webhooks"
DURATION="${WEBHOOK_SECONDS:-5}" bench/webhooks.sh
if [ "${FUZZ_SECONDS:-600}" != 0 ]; then
  echo "=== fuzzing, ${FUZZ_SECONDS:-600}s per target"
  bench/fuzz.sh
fi
if [ "${API_FUZZ_SECONDS:-300}" != 0 ]; then
  echo "=== schemathesis, ${API_FUZZ_SECONDS:-300}s per key"
  bench/api-fuzz.sh
fi
python3 bench/summary.py "$out" "$started"
