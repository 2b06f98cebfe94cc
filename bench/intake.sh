#!/usr/bin/env bash
# Intake throughput on PostgreSQL: POST /v1/deliveries at 32 concurrent clients (wrk), next to
# pgbench committing the same three inserts per transaction on the same database in the same
# run (this machine's durable-write limit). Target: >= 50 % of pgbench, p99 < 20 ms.
# On a database of its own, or on DB=name (the 1M-delivery one bench/run.sh seeds); the jobs
# its deliveries and pgbench's rows queued are removed after, so later parts never see them.
# Usage: bench/intake.sh   (DURATION=20 CONNS=32 DB= PGURL=postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v pgbench >/dev/null || apt_install postgresql-contrib
duration="${DURATION:-20}"; conns="${CONNS:-32}"
bench_init intake
# No couriers: intake alone (outside sandbox mode an enabled courier needs its credentials).
export DATABASE_URL="$url" CIVICPOST__LOG__LEVEL=warn CIVICPOST__APP__SANDBOX=false CIVICPOST__DATABASE__POOL_SIZE=32 \
  CIVICPOST__COURIERS__VIETTELPOST__ENABLED=false CIVICPOST__COURIERS__VNPOST__ENABLED=false
key=$(bench_agency)
agency_id=$(bench_agency_id)
"$bin" serve --bind "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
pid=$!; pids+=("$pid")
wait_healthy

echo "== warm-up"; CIVICPOST_BENCH_KEY="$key" CIVICPOST_BENCH_RUN="w$$" wrk -t2 -c"$conns" -d3s -s bench/intake.lua "$base" >/dev/null
echo "== service: POST /v1/deliveries, $conns clients, ${duration}s"
CIVICPOST_BENCH_KEY="$key" CIVICPOST_BENCH_RUN="r$$" wrk -t2 -c"$conns" -d"${duration}s" --latency -s bench/intake.lua \
  "$base" | tee "$work/wrk.txt"
rss_kb=$(peak_rss_kb "$pid")
kill "$pid"; wait "$pid" 2>/dev/null || true

echo "== baseline: pgbench, the same inserts, $conns clients, ${duration}s"
(cd "$work" && pgbench -n -c "$conns" -j 2 -T "$duration" -D agency="$agency_id" -l -f "$OLDPWD/bench/intake.pgbench.sql" "$url" | tee pgbench.txt)
# Nobody is to dispatch what this run and pgbench queued (their deliveries stay, as history).
# ANALYZE first: with the agency's rows not yet in the statistics the planner expects one
# delivery and nests a scan of every pending job inside each (minutes on the 1M database).
psql -q "$url" -c "ANALYZE deliveries, outbox_jobs" -c "DELETE FROM outbox_jobs WHERE status IN ('pending', 'running')
  AND delivery_id IN (SELECT id FROM deliveries WHERE agency_id = '$agency_id')"

python3 - "$work" "$out" "$conns" "$rss_kb" <<'PY'
import glob, json, re, sys
work, out, conns, rss_kb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def ms(v, unit): return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
wrk = open(f"{work}/wrk.txt").read()
svc_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
lat = {p: ms(*re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", wrk).groups()) for p in ("50", "99")}
errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)) else 0
pg = open(f"{work}/pgbench.txt").read()
pg_tps = float(re.search(r"tps = ([\d.]+)", pg).group(1))
samples = sorted(int(line.split()[2]) for f in glob.glob(f"{work}/pgbench_log.*") for line in open(f))
pct = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))] / 1000.0
rows = [
  {"what": "POST /v1/deliveries (service)", "per_s": svc_rps, "p50_ms": lat["50"], "p99_ms": lat["99"], "peak_rss_mb": rss_kb / 1024, "non_2xx": errors},
  {"what": "pgbench, same inserts (baseline)", "per_s": pg_tps, "p50_ms": pct(0.50), "p99_ms": pct(0.99)},
]
ratio = svc_rps / pg_tps
print(f"\n{'what':36} {'per s':>9} {'p50 ms':>8} {'p99 ms':>8} {'peak RSS':>9}")
for r in rows:
    rss = f"{r['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in r else ""
    print(f"{r['what']:36} {r['per_s']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {rss:>9}")
print(f"ratio service/pgbench: {ratio:.2f} (target >= 0.50); p99 target < 20 ms; non-2xx: {errors}")
json.dump({"clients": conns, "rows": rows, "ratio": ratio}, open(f"{out}/intake.json", "w"), indent=2)
PY
echo "machine: $(machine); written bench/out/intake.json"
