#!/usr/bin/env bash
# Public tracking reads, GET /v1/track/{code}, over 100,000 seeded deliveries on PostgreSQL.
#   1. seed: one delivery made through the API and driven to `delivered` by the simulator's
#      autopilot, then copied in SQL to N deliveries (each its own id, dossier and valid
#      tracking code) with its 6-event timeline;
#   2. uncached: wrk, 64 connections, every request a code not read before (database);
#   3. cached: wrk over 1,000 codes read once beforehand, with the cache in Redis, then with
#      the in-process cache (no REDIS_URL);
#   4. baseline: redis-benchmark GET, the same 64 connections, against the same Redis.
#   5. baseline: a bare actix-web handler (examples/bare_actix.rs), the same wrk run.
# Each delivery gets EVENTS timeline rows (the template's, then in-transit scans kept as
# history), so DELIVERIES=1000000 EVENTS=10 is the 1M-delivery, 10M-event database.
# The per-address rate limit is switched off for the run (every request comes from 127.0.0.1).
# Usage: bench/tracking.sh   (DELIVERIES=100000 EVENTS=10 DURATION=10 CONNECTIONS=64
#          PGURL=postgres://postgres@127.0.0.1:5432/postgres REDIS=redis://127.0.0.1:6379
#          KEEP_DB=name: keep the seeded database under that name)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
[ -z "${DB:-}" ] || { echo "bench/tracking.sh seeds its own database; DB= is for the other parts" >&2; exit 2; }
n="${DELIVERIES:-100000}"; events="${EVENTS:-10}"; seconds="${DURATION:-10}"; conns="${CONNECTIONS:-64}"
redis="${REDIS:-redis://127.0.0.1:6379}"
redis_host=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.hostname, p.port or 6379)' "$redis")
bench_init tracking
cargo build --release --quiet --example bare_actix
bare_bin="${CARGO_TARGET_DIR:-target}/release/examples/bare_actix"
serve=""
stop_serve() { [ -z "$serve" ] || { kill "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; serve=""; }; }
export DATABASE_URL="$url" CIVICPOST__LOG__LEVEL=warn CIVICPOST__APP__PUBLIC_BASE_URL="$base" \
  CIVICPOST__COURIERS__SIMULATOR__STEP_MS=100 CIVICPOST__JOBS__POLL_INTERVAL_MS=50 \
  CIVICPOST__TRACKING__RATE_LIMIT_PER_MINUTE=0 CIVICPOST__DATABASE__POOL_SIZE=16 \
  CIVICPOST__REDIS__NAMESPACE="bench-tracking-$$"
unset REDIS_URL CIVICPOST_CONFIG
start_serve() { # $1: redis url or empty
  REDIS_URL="$1" "$bin" serve --bind "127.0.0.1:$port" >> "$work/serve.log" 2>&1 &
  serve=$!; pids+=("$serve")
  wait_healthy
}
key=$(bench_agency)
start_serve "$redis"
"$bin" couriers sync-units vnpost > /dev/null

echo "== 1. seeding $n deliveries"
template=$(curl -fsS -X POST "$base/v1/deliveries" -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' -d '{"dossier_code": "BENCH-T-TEMPLATE",
  "procedure_name": "Cấp giấy phép xây dựng", "recipient": {"name": "Nguyễn Văn An",
  "phone": "0912345678", "address": {"line": "Số 12 ngõ 3", "ward_code": "00070"}},
  "parcel": {"weight_grams": 150}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 600); do
  [ "$(psql -Atq "$url" -c "SELECT state FROM deliveries WHERE id = '$template'")" = delivered ] && break
  sleep 0.1
done
python3 - "$n" "$work/seed.csv" "$work/codes.txt" <<'PY'
# Tracking codes as src/domain/tracking.rs makes them: 9 random symbols of a 29-letter
# alphabet and a check symbol bringing the position-weighted sum to 0 mod 29.
import random, sys, uuid
n, seed_csv, codes_txt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
alphabet = "23456789ABCDEFGHJKMNPQRTUVWXY"
seen = set()
with open(seed_csv, "w") as seed, open(codes_txt, "w") as codes:
    while len(seen) < n:
        values = [random.randrange(29) for _ in range(9)]
        s = sum((i + 1) * v for i, v in enumerate(values)) % 29
        check = next(x for x in range(29) if (s + 10 * x) % 29 == 0)
        code = "".join(alphabet[v] for v in values + [check])
        if code in seen: continue
        seen.add(code)
        seed.write(f"{uuid.uuid4()},BENCH-T-{len(seen)},{code}\n")
        codes.write(code + "\n")
PY
psql -q -v ON_ERROR_STOP=1 "$url" <<SQL
CREATE TEMP TABLE seed (id text, dossier text, code text);
\copy seed FROM '$work/seed.csv' WITH (FORMAT csv)
-- Every column but the generated ones (local_day), which take no value.
SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) AS cols
  FROM information_schema.columns
 WHERE table_name = 'deliveries' AND is_generated = 'NEVER' \\gset
INSERT INTO deliveries (:cols)
  SELECT :cols FROM (SELECT (jsonb_populate_record(d, jsonb_build_object('id', s.id, 'dossier_code', s.dossier,
          'tracking_code', s.code, 'courier_tracking_number', 'EB' || s.dossier))).*
  FROM deliveries d CROSS JOIN seed s WHERE d.id = '$template') AS copy;
INSERT INTO delivery_events
  SELECT (jsonb_populate_record(e, jsonb_build_object('id', s.id || '-' || e.id,
          'delivery_id', s.id, 'inbox_id', null))).*
  FROM delivery_events e CROSS JOIN seed s WHERE e.delivery_id = '$template';
-- Up to EVENTS rows per delivery: in-transit scans after the template's timeline, kept as
-- history (applied = false), as couriers send many between the states that count.
INSERT INTO delivery_events
  SELECT (jsonb_populate_record(e, jsonb_build_object('id', s.id || '-scan-' || g,
          'delivery_id', s.id, 'inbox_id', null, 'applied', false, 'state', 'in_transit',
          'raw_code', '300', 'source', 'courier', 'courier', d.courier,
          'occurred_at', e.occurred_at + g * interval '1 minute'))).*
  FROM delivery_events e
  CROSS JOIN (SELECT courier FROM deliveries WHERE id = '$template') d
  CROSS JOIN seed s
  CROSS JOIN generate_series(1, greatest(0, $events - (SELECT count(*) FROM delivery_events
                                                       WHERE delivery_id = '$template'))) g
 WHERE e.id = (SELECT id FROM delivery_events WHERE delivery_id = '$template'
                ORDER BY occurred_at LIMIT 1);
ANALYZE deliveries; ANALYZE delivery_events;
SQL
echo "   $(psql -Atq "$url" -c 'SELECT count(*) FROM deliveries') deliveries, $(psql -Atq "$url" -c 'SELECT count(*) FROM delivery_events') events"
head -n 1000 "$work/codes.txt" > "$work/hot.txt"
warm() { while read -r c; do curl -fsS -o /dev/null "$base/v1/track/$c"; done < "$work/hot.txt"; }
run_wrk() { # $1 codes file, $2 mode (seq|random), $3 output
  CIVICPOST_BENCH_CODES="$1" CIVICPOST_BENCH_MODE="$2" \
    wrk -t2 -c"$conns" -d"${seconds}s" --latency -s bench/tracking.lua "$base" > "$3"
}

echo "== 2. uncached: every request a new code"
tail -n +1001 "$work/codes.txt" > "$work/cold.txt"
run_wrk "$work/cold.txt" seq "$work/uncached.txt"
echo "== 3. cached (Redis), 1,000 codes read once first"
warm
run_wrk "$work/hot.txt" random "$work/cached-redis.txt"
stop_serve
start_serve ""
echo "   cached (in process)"
warm
run_wrk "$work/hot.txt" random "$work/cached-memory.txt"
serve_rss=$(peak_rss_kb "$serve")
echo "== 4. baseline: a bare actix-web handler, the same wrk run"
bare_port=$(free_port)
"$bare_bin" "127.0.0.1:$bare_port" & bare=$!; pids+=("$bare")
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$bare_port/" >/dev/null 2>&1 && break; sleep 0.1; done
CIVICPOST_BENCH_CODES="$work/hot.txt" CIVICPOST_BENCH_MODE=random \
  wrk -t2 -c"$conns" -d"${seconds}s" --latency -s bench/tracking.lua "http://127.0.0.1:$bare_port" > "$work/bare.txt"
kill "$bare"; wait "$bare" 2>/dev/null || true
echo "== 5. baseline: redis-benchmark GET, $conns connections"
read -r rhost rport <<< "$redis_host"
redis-benchmark -h "$rhost" -p "$rport" -c "$conns" -n 400000 -t get --csv > "$work/redis.csv"

python3 - "$work" "$out" "$conns" "$n" "$serve_rss" <<'PY'
import csv, json, re, sys
work, out, conns, n, rss = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def wrk(name):
    text = open(f"{work}/{name}.txt").read()
    def ms(label):
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    return {"per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            "p50_ms": ms("50%"), "p99_ms": ms("99%"), "requests": requests,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0}
rows = [dict(what="uncached (PostgreSQL)", **wrk("uncached")),
        dict(what="cached, Redis", **wrk("cached-redis")),
        dict(what="cached, in process", **wrk("cached-memory")),
        dict(what="bare actix-web handler (baseline)", **wrk("bare"))]
with open(f"{work}/redis.csv") as f:
    r = list(csv.DictReader(f))[0]
redis = {"what": "redis-benchmark GET (baseline)", "per_s": float(r["rps"]),
         "p50_ms": float(r["p50_latency_ms"]), "p99_ms": float(r["p99_latency_ms"])}
print(f"\n{'what':34} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
for row in rows + [redis]:
    print(f"{row['what']:34} {row['per_s']:8.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {row.get('non_2xx', ''):>8}")
print(f"ratio cached (Redis)/redis-benchmark: {rows[1]['per_s'] / redis['per_s']:.2f}; "
      f"cached (in process)/redis-benchmark: {rows[2]['per_s'] / redis['per_s']:.2f}; "
      f"{n} deliveries; {conns} connections; serve peak RSS {rss / 1024:.0f} MB")
if rows[0]["requests"] > n - 1000:
    print("note: the uncached run read more codes than were seeded; later reads were cached")
result = {"rows": rows + [redis], "deliveries": n, "serve_peak_rss_mb": rss / 1024}
json.dump(result, open(f"{out}/tracking.json", "w"), indent=2)
json.dump(result, open(f"{out}/tracking-{n}.json", "w"), indent=2)
if any(row["non_2xx"] for row in rows[:3]):
    sys.exit("some reads did not answer 200")
PY
