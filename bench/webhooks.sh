#!/usr/bin/env bash
# Courier webhook ingestion on PostgreSQL, 64 concurrent senders.
#   1. N deliveries dispatched to Viettel Post through the built-in simulator (autopilot off,
#      so every later status comes from this benchmark);
#   2. wrk, 64 connections, posts native Viettel Post webhooks (each body different: a new
#      status time per request) to POST /v1/webhooks/viettelpost while `serve`'s own worker
#      ingests them: requests per second, p50/p99 of the 200;
#   3. no loss: every acknowledged webhook is in the inbox, and once the worker has drained
#      the queue every inbox row is processed (none pending, none failed);
#   4. baseline: pgbench, the same 64 clients, one single-row INSERT of a body of the same
#      size per transaction (what a bare "store the bytes" costs on this database).
# On a database of its own, or on DB=name (the 1M-delivery one bench/run.sh seeds).
# Usage: bench/webhooks.sh   (DELIVERIES=1000 DURATION=20 CONNECTIONS=64 DB=
#                             PGURL=postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
deliveries="${DELIVERIES:-1000}"; seconds="${DURATION:-20}"; conns="${CONNECTIONS:-64}"
bench_init webhooks
export DATABASE_URL="$url" CIVICPOST__LOG__LEVEL=warn CIVICPOST__APP__PUBLIC_BASE_URL="$base" \
  CIVICPOST__COURIERS__SIMULATOR__AUTOPILOT=false CIVICPOST__JOBS__POLL_INTERVAL_MS=50 \
  CIVICPOST__DATABASE__POOL_SIZE=24
unset REDIS_URL CIVICPOST_CONFIG
key=$(bench_agency)
agency_id=$(bench_agency_id)
"$bin" serve --bind "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
pids+=($!); serve=$!
wait_healthy
"$bin" couriers sync-units viettelpost > /dev/null

echo "== 1. $deliveries deliveries dispatched to Viettel Post (simulator)"
python3 - "$base" "$key" "$deliveries" <<'PY'
import json, sys, urllib.request
base, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    body = {"dossier_code": f"BENCH-W-{i}", "procedure_name": "Cấp giấy phép xây dựng",
            "courier": "viettelpost",
            "recipient": {"name": "Nguyễn Văn An", "phone": "0912345678",
                          "address": {"line": "Số 12 ngõ 3", "ward_code": "25747"}},
            "parcel": {"weight_grams": 150}}
    req = urllib.request.Request(f"{base}/v1/deliveries", json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    urllib.request.urlopen(req).read()
PY
count() { psql -Atq "$url" -c "$1"; }
ours="agency_id = '$agency_id'"
while [ "$(count "SELECT count(*) FROM deliveries WHERE $ours AND state = 'received'")" -gt 0 ]; do sleep 0.2; done
count "SELECT courier_tracking_number FROM deliveries WHERE $ours AND courier_tracking_number IS NOT NULL
       AND courier = 'viettelpost'" > "$work/tracking.txt"
echo "   $(wc -l < "$work/tracking.txt") parcels with a Viettel Post tracking number;" \
  "states: $(count "SELECT string_agg(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM deliveries WHERE $ours GROUP BY state) s")"

echo "== 2. wrk: $conns connections, ${seconds}s of webhooks"
before=$(count "SELECT (now() AT TIME ZONE 'utc')::text")
CIVICPOST_BENCH_TRACKING="$work/tracking.txt" \
  wrk -t2 -c"$conns" -d"${seconds}s" --latency -s bench/webhooks.lua "$base" > "$work/wrk.txt"
acked=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt"); non2xx=${non2xx:-0}
stored=$(count "SELECT count(*) FROM webhook_inbox WHERE received_at >= '$before'")

echo "== 3. draining the inbox"
drain_start=$(date +%s.%N)
while [ "$(count "SELECT count(*) FROM webhook_inbox WHERE status = 'pending'")" -gt 0 ]; do sleep 0.5; done
drain_end=$(date +%s.%N)
statuses=$(count "SELECT string_agg(status || '=' || n, ' ') FROM
  (SELECT status, count(*) n FROM webhook_inbox WHERE received_at >= '$before' GROUP BY status ORDER BY status) s")
events=$(count "SELECT count(*) FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id
  WHERE d.$ours AND e.source = 'courier'")
serve_rss=$(peak_rss_kb "$serve")
# The notifications those events queued go out before the next part shares the database.
drain_jobs

echo "== 4. baseline: pgbench, $conns clients, single-row INSERT, ${seconds}s"
count "DROP TABLE IF EXISTS bench_insert;
       CREATE TABLE bench_insert (id bigserial PRIMARY KEY, dedupe_key text UNIQUE,
       body bytea NOT NULL, received_at timestamp NOT NULL)" > /dev/null
body_len=$(count "SELECT coalesce(avg(length(body))::int, 1200) FROM webhook_inbox WHERE received_at >= '$before'")
cat > "$work/insert.sql" <<SQL
INSERT INTO bench_insert (dedupe_key, body, received_at)
VALUES (md5(random()::text || clock_timestamp()::text), convert_to(repeat('x', $body_len), 'UTF8'), now());
SQL
(cd "$work" && pgbench -n -c "$conns" -j 2 -T "$seconds" -f insert.sql -l --log-prefix=pgb "$url" > pgbench.txt 2>&1)
count "DROP TABLE bench_insert" > /dev/null

python3 - "$work" "$out" "$acked" "$non2xx" "$stored" "$drain_start" "$drain_end" "$statuses" \
  "$events" "$serve_rss" "$seconds" "$conns" <<'PY'
import glob, json, re, sys
(work, out, acked, non2xx, stored, d0, d1, statuses, events, rss, seconds, conns) = sys.argv[1:13]
acked, non2xx, stored, seconds = int(acked), int(non2xx), int(stored), float(seconds)
wrk = open(f"{work}/wrk.txt").read()
def ms(label):
    m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", wrk, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
lat = []
for path in glob.glob(f"{work}/pgb.*"):
    for line in open(path):
        parts = line.split()
        if len(parts) >= 3:
            lat.append(int(parts[2]) / 1000)
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
pg_tps = len(lat) / seconds
rows = [
    {"what": f"webhooks, {conns} senders (req/s)", "per_s": rps, "p50_ms": ms("50%"), "p99_ms": ms("99%"),
     "peak_rss_mb": int(rss) / 1024},
    {"what": "pgbench single-row insert (baseline)", "per_s": pg_tps, "p50_ms": pct(0.5), "p99_ms": pct(0.99)},
]
print(f"\n{'what':40} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}")
for r in rows:
    print(f"{r['what']:40} {r['per_s']:8.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f}")
lost = max(0, acked - non2xx - stored)
print(f"ratio webhooks/pgbench: {rps / pg_tps:.2f}")
print(f"acknowledged {acked - non2xx} (non-2xx {non2xx}), stored {stored}, lost {lost}; "
      f"inbox after drain: {statuses}; courier events {events}; "
      f"drained in {float(d1) - float(d0):.1f}s after the senders stopped; serve peak RSS {int(rss) / 1024:.0f} MB")
json.dump({"rows": rows, "acknowledged": acked - non2xx, "non_2xx": non2xx, "stored": stored,
           "lost": lost, "inbox": statuses, "ratio": rps / pg_tps}, open(f"{out}/webhooks.json", "w"), indent=2)
if lost or non2xx:
    sys.exit("webhooks were lost or refused")
PY
