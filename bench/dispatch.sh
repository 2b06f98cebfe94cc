#!/usr/bin/env bash
# Dispatch against the built-in courier simulators, on PostgreSQL, with 2 worker processes.
#   1. throughput: N deliveries queued first, then 2 `civicpost worker` processes drain them
#      (quote + create at the simulator + commit per order): orders per second;
#   2. latency: with the 2 workers running, deliveries posted at a steady RATE per second;
#      time from POST /v1/deliveries (created_at) to awaiting_pickup (dispatched_at): p50, p99;
#   3. baseline: the simulator's own createOrder, driven by wrk with the same 2 connections
#      (what dispatch could reach if our side cost nothing).
# On a database of its own, or on DB=name (the 1M-delivery one bench/run.sh seeds).
# Usage: bench/dispatch.sh   (ORDERS=2000 RATE=40 SECONDS_AT_RATE=15 POLL_MS=100 DB=
#                             PGURL=postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
orders="${ORDERS:-2000}"; rate="${RATE:-40}"; at_rate="${SECONDS_AT_RATE:-15}"; poll="${POLL_MS:-100}"
bench_init dispatch
export DATABASE_URL="$url" CIVICPOST__LOG__LEVEL=warn CIVICPOST__APP__PUBLIC_BASE_URL="$base" \
  CIVICPOST__COURIERS__SIMULATOR__AUTOPILOT=false CIVICPOST__JOBS__POLL_INTERVAL_MS="$poll" \
  CIVICPOST__DATABASE__POOL_SIZE=16
unset REDIS_URL CIVICPOST_CONFIG
key=$(bench_agency)
agency_id=$(bench_agency_id)
# The service: HTTP and the simulators only; the workers are separate processes.
CIVICPOST__JOBS__ENABLED=false "$bin" serve --bind "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
pids+=($!); serve=$!
wait_healthy
"$bin" couriers sync-units vnpost > /dev/null
"$bin" couriers sync-units viettelpost > /dev/null

post() { # post N deliveries to alternating wards (VNPost in Hà Nội, Viettel Post in HCMC)
  python3 - "$base" "$key" "$1" "$2" "$3" <<'PY'
import json, sys, time, urllib.request
base, key, run, n, rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
wards = ["00070", "25747"]
start = time.monotonic()
for i in range(n):
    body = {"dossier_code": f"BENCH-{run}-{i}", "procedure_name": "Cấp giấy phép xây dựng",
            "recipient": {"name": "Nguyễn Văn An", "phone": "0912345678",
                          "address": {"line": "Số 12 ngõ 3", "ward_code": wards[i % 2]}},
            "parcel": {"weight_grams": 150}}
    req = urllib.request.Request(f"{base}/v1/deliveries", json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    urllib.request.urlopen(req).read()
    if rate > 0:
        delay = start + (i + 1) / rate - time.monotonic()
        if delay > 0: time.sleep(delay)
PY
}
count() { psql -Atq "$url" -c "SELECT count(*) FROM deliveries WHERE agency_id = '$agency_id' AND state $1"; }
workers() { for _ in 1 2; do "$bin" worker > "$work/worker.$RANDOM.log" 2>&1 & pids+=($!); done; }

echo "== 1. throughput: $orders queued deliveries, 2 workers"
post t "$orders" 0
start=$(date +%s.%N)
workers
while [ "$(count "= 'received'")" -gt 0 ]; do sleep 0.2; done
end=$(date +%s.%N)
failed=$(count "= 'dispatch_failed'")
# The notifications those dispatches queued go out before the latency run, which would
# otherwise wait behind them.
drain_jobs
echo "== 2. latency: $rate deliveries/s for ${at_rate}s with the 2 workers running"
post l $((rate * at_rate)) "$rate"
while [ "$(count "= 'received'")" -gt 0 ]; do sleep 0.2; done
drain_jobs
latency=$(psql -Atq "$url" -F ' ' -c "SELECT
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM dispatched_at - created_at)) * 1000,
  percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM dispatched_at - created_at)) * 1000
  FROM deliveries WHERE agency_id = '$agency_id' AND dossier_code LIKE 'BENCH-l-%'")
worker_rss=0
for p in "${pids[@]}"; do
  [ "$p" = "$serve" ] && continue
  kb=$(peak_rss_kb "$p")
  [ "$kb" -gt "$worker_rss" ] && worker_rss=$kb
done
serve_rss=$(peak_rss_kb "$serve")

echo "== 3. baseline: the simulator's createOrder alone, wrk, 2 connections, 10s"
token=$(curl -fsS -X POST "$base/sim/viettelpost/v2/user/Login" -H 'Content-Type: application/json' \
  -d '{"USERNAME":"0900000000","PASSWORD":"sandbox"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')
ids=$(psql -Atq "$url" -F ' ' -c "SELECT courier_province_id, coalesce(courier_district_id, '0'),
  courier_ward_id FROM courier_unit_mappings WHERE courier = 'viettelpost' AND ward_code = '00004'")
read -r sim_province sim_district sim_ward <<< "$ids"
CIVICPOST_BENCH_PROVINCE="$sim_province" CIVICPOST_BENCH_DISTRICT="$sim_district" CIVICPOST_BENCH_WARD="$sim_ward" \
CIVICPOST_BENCH_TOKEN="$token" wrk -t2 -c2 -d10s --latency -s bench/dispatch.lua "$base" > "$work/wrk.txt"

python3 - "$work" "$out" "$orders" "$start" "$end" "$latency" "$failed" "$worker_rss" "$serve_rss" <<'PY'
import json, re, sys
work, out, orders, start, end, latency, failed, worker_rss, serve_rss = sys.argv[1:10]
orders, elapsed = int(orders), float(end) - float(start)
p50, p99 = (float(x) for x in latency.split())
wrk = open(f"{work}/wrk.txt").read()
sim_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
rate = orders / elapsed
rows = [
  {"what": "dispatch, 2 workers (orders/s)", "per_s": rate, "peak_rss_mb": int(worker_rss) / 1024},
  {"what": "POST -> awaiting_pickup (ms)", "p50_ms": p50, "p99_ms": p99, "peak_rss_mb": int(serve_rss) / 1024},
  {"what": "simulator createOrder alone (baseline)", "per_s": sim_rps},
]
print(f"\n{'what':40} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'peak RSS':>9}")
for r in rows:
    f = lambda k, fmt: format(r[k], fmt) if k in r else ""
    rss = f"{r['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in r else ""
    print(f"{r['what']:40} {f('per_s', '8.0f'):>8} {f('p50_ms', '8.0f'):>8} {f('p99_ms', '8.0f'):>8} {rss:>9}")
print(f"ratio dispatch/simulator: {rate / sim_rps:.2f}; {orders} orders in {elapsed:.1f}s; dispatch_failed: {failed}")
json.dump({"orders": orders, "seconds": elapsed, "rows": rows, "ratio": rate / sim_rps, "dispatch_failed": int(failed)},
          open(f"{out}/dispatch.json", "w"), indent=2)
PY
echo "machine: $(machine); worker poll ${poll} ms; written bench/out/dispatch.json"
