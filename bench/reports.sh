#!/usr/bin/env bash
# The operator's reports over 1,000,000 deliveries on PostgreSQL (issue: each under 1 s).
#   1. seed: 12 agencies of the three levels, N deliveries enqueued over the last 365 days
#      to wards of the five provinces with polygons (states, couriers, SLAs and delivery
#      times spread as in a real year), EVENTS history events per delivery plus the failed
#      attempts and returns with their reasons, and each agency's daily result totals;
#   2. each report endpoint, JSON and CSV, over 30 days and over the whole year, for every
#      agency and for one agency or province, plus the dashboard page: one warm-up, then
#      RUNS timed requests with curl; median and worst;
#   3. baseline: the cheapest question over the same rows, `SELECT count(*)` of the year's
#      deliveries, timed by psql.
# Usage: bench/reports.sh   (DELIVERIES=1000000 EVENTS=3 RUNS=5 KEEP_DB=<name>
#          PGURL=postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${DELIVERIES:-1000000}"; events="${EVENTS:-3}"; runs="${RUNS:-5}"
admin="${PGURL:-postgres://postgres@127.0.0.1:5432/postgres}"
db="${KEEP_DB:-civicpost_reports_$$}"; url="${admin%/*}/$db"
out=bench/out; mkdir -p "$out"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/civicpost"
psql -q "$admin" -c "CREATE DATABASE $db"
work=$(mktemp -d)
serve=""
cleanup() {
  [ -z "$serve" ] || { kill "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; }
  # KEEP_DB=<name> keeps the seeded database for EXPLAIN after the run.
  [ -n "${KEEP_DB:-}" ] || psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export DATABASE_URL="$url" CIVICPOST__LOG__LEVEL=warn CIVICPOST__APP__PUBLIC_BASE_URL="$base"
unset REDIS_URL CIVICPOST_CONFIG

"$bin" migrate > /dev/null
for level in province district commune; do
  for i in 1 2 3 4; do
    code="${level:0:1}$i"
    "$bin" agency create --code "${code^^}" --name "Cơ quan ${code^^}" --level "$level" > /dev/null
  done
done
key=$("$bin" operator create-key --label bench | tail -n 1)

echo "== 1. seeding $n deliveries and their events"
started=$(date +%s)
psql -q -v ON_ERROR_STOP=1 "$url" <<SQL
CREATE TEMP TABLE a AS SELECT array_agg(id ORDER BY code) AS ids FROM agencies;
CREATE TEMP TABLE w AS SELECT array_agg(code ORDER BY code) AS codes, array_agg(province_code ORDER BY code) AS provs
  FROM wards WHERE province_code IN ('01', '31', '44', '48', '79');
-- r spreads states: 70 % delivered, 5 % returned, the rest still moving or stopped.
INSERT INTO deliveries (id, agency_id, dossier_code, tracking_code, state, recipient_name,
    recipient_phone, address_line, ward_code, province_code, weight_grams, postage_paid_by,
    collect_on_delivery_vnd, courier, service_code, sla_hours, notify_sms, notify_email,
    request_fingerprint, request_fields, created_at, updated_at, ended_at, delivered_seconds)
SELECT 'b' || i, a.ids[1 + i % array_length(a.ids, 1)], 'D' || i, 'T' || i, s.state,
    'Nguyễn Văn An', '0912345678', 'Số 1', w.codes[k], w.provs[k], 200, 'agency', 0,
    CASE WHEN i % 2 = 0 THEN 'vnpost' ELSE 'viettelpost' END, 'X',
    (ARRAY[24, 48, 72])[1 + i % 3], true, false, 'f', '{}', c.at, c.at,
    CASE WHEN s.state IN ('delivered', 'returned', 'cancelled') THEN c.at + make_interval(hours => s.hours) END,
    CASE WHEN s.state = 'delivered' THEN s.hours * 3600 END
FROM generate_series(1, $n) AS i, a, w,
  LATERAL (SELECT 1 + (i::bigint * 7919) % array_length(w.codes, 1) AS k) AS ward,
  LATERAL (SELECT now()::timestamp - make_interval(mins => ((i::bigint * 37) % 525600)::int) AS at) AS c,
  LATERAL (SELECT CASE WHEN r < 70 THEN 'delivered' WHEN r < 75 THEN 'returned'
                       WHEN r < 85 THEN 'in_transit' WHEN r < 90 THEN 'out_for_delivery'
                       WHEN r < 95 THEN 'delivery_failed' WHEN r < 97 THEN 'ready_for_pickup'
                       WHEN r < 99 THEN 'cancelled' ELSE 'dispatch_failed' END AS state,
                  6 + (i * 13) % 90 AS hours
           FROM (SELECT (i::bigint * 104729) % 100 AS r) AS x) AS s;
-- The history: EVENTS plain events per delivery, then a failed attempt with its reason for
-- every delivery that had one and a return for every returned one.
INSERT INTO delivery_events (id, delivery_id, state, applied, source, occurred_at, recorded_at)
SELECT d.id || '-' || e, d.id, (ARRAY['received', 'awaiting_pickup', 'picked_up', 'in_transit', 'out_for_delivery'])[1 + (e - 1) % 5],
    true, 'courier', d.created_at + make_interval(hours => e), d.created_at + make_interval(hours => e)
FROM deliveries d, generate_series(1, $events) AS e;
INSERT INTO delivery_events (id, delivery_id, state, reason, applied, source, occurred_at, recorded_at)
SELECT d.id || '-f', d.id, 'delivery_failed',
    (ARRAY['consignee_not_home', 'consignee_unreachable', 'incorrect_address', 'refused'])[1 + substr(d.id, 2)::int % 4],
    true, 'courier', d.created_at + interval '20 hours', d.created_at + interval '20 hours'
FROM deliveries d WHERE d.state IN ('delivery_failed', 'returned') OR substr(d.id, 2)::int % 10 = 0;
INSERT INTO delivery_events (id, delivery_id, state, reason, applied, source, occurred_at, recorded_at)
SELECT d.id || '-r', d.id, 'returning', 'repeated_failures', true, 'courier',
    d.created_at + interval '50 hours', d.created_at + interval '50 hours'
FROM deliveries d WHERE d.state = 'returned';
INSERT INTO agency_result_totals (agency_id, day, results_total, reported_at)
SELECT id, to_char(day, 'YYYY-MM-DD'), 400, now()
FROM agencies, generate_series(now()::date - 365, now()::date, interval '1 day') AS day;
SQL
# What autovacuum does to a table this size within minutes: statistics and the visibility
# map, without which no index-only scan is possible.
psql -q -v ON_ERROR_STOP=1 "$url" -c 'VACUUM ANALYZE'
echo "   $(psql -Atq "$url" -c 'SELECT count(*) FROM deliveries') deliveries, $(psql -Atq "$url" -c 'SELECT count(*) FROM delivery_events') events in $(( $(date +%s) - started )) s"

"$bin" serve --bind "127.0.0.1:$port" >> "$work/serve.log" 2>&1 &
serve=$!
for _ in $(seq 300); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

today=$(TZ=Asia/Ho_Chi_Minh date +%F)
year_ago=$(TZ=Asia/Ho_Chi_Minh date -d '364 days ago' +%F)
year="from=$year_ago&to=$today"
echo "== 2. report endpoints, $runs runs each after one warm-up"
: > "$work/times.tsv"
time_it() { # $1 label, $2 path
  curl -fsS -o /dev/null -H "Authorization: Bearer $key" "$base$2" \
    || { echo "   $1: request failed"; tail -n 5 "$work/serve.log"; exit 1; }
  for _ in $(seq "$runs"); do
    printf '%s\t%s\n' "$1" "$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $key" "$base$2")" >> "$work/times.tsv"
  done
}
time_it "summary, 30 days" "/v1/reports/summary"
time_it "summary, 365 days" "/v1/reports/summary?$year"
time_it "summary, 365 days, one agency" "/v1/reports/summary?$year&agency=P1"
time_it "summary, 365 days, one province" "/v1/reports/summary?$year&province=79"
for section in states share-by-post couriers wards reasons daily; do
  time_it "$section, 365 days" "/v1/reports/$section?$year"
  time_it "$section, 365 days, CSV" "/v1/reports/$section?$year&format=csv"
done
time_it "dashboard /admin, 365 days" "/admin?$year&province=01"

echo "== 3. baseline: SELECT count(*) of the year's deliveries (psql)"
for _ in $(seq "$runs"); do
  psql -Atq "$url" -c '\timing on' -c "SELECT count(*) FROM deliveries WHERE created_at >= now() - interval '365 days'" \
    | awk '/^Time:/ {printf "baseline\t%.6f\n", $2 / 1000}' >> "$work/times.tsv"
done
rss=$(awk '/^VmHWM/ {print $2}' "/proc/$serve/status")

python3 - "$work/times.tsv" "$out" "$n" "$rss" <<'PY'
import collections, json, statistics, sys
times, out, n, rss = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
by = collections.OrderedDict()
for line in open(times):
    label, t = line.rstrip("\n").split("\t")
    by.setdefault(label, []).append(float(t))
base = statistics.median(by.pop("baseline"))
rows = []
print(f"\nreports over {n:,} deliveries (PostgreSQL, {len(by)} queries); target: each under 1 s")
print(f"{'query':42} {'median ms':>10} {'worst ms':>10} {'x baseline':>11}  under 1 s")
for label, ts in by.items():
    med, worst = statistics.median(ts), max(ts)
    rows.append({"query": label, "median_ms": round(med * 1000, 1), "worst_ms": round(worst * 1000, 1),
                 "ratio_to_baseline": round(med / base, 1), "under_1s": worst < 1.0})
    print(f"{label:42} {med*1000:10.1f} {worst*1000:10.1f} {med/base:11.1f}  {'yes' if worst < 1.0 else 'NO'}")
print(f"{'baseline: SELECT count(*) of the year':42} {base*1000:10.1f}")
print(f"service peak RSS: {rss/1024:.1f} MiB")
summary = {"deliveries": n, "baseline_ms": round(base * 1000, 1), "peak_rss_kib": rss, "queries": rows}
json.dump(summary, open(f"{out}/reports.json", "w"), indent=2)
print(f"written: {out}/reports.json")
sys.exit(0 if all(r["under_1s"] for r in rows) else 1)
PY
