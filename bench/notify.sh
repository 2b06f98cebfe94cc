#!/usr/bin/env bash
# Citizen notifications on PostgreSQL with 2 `civicpost worker` processes.
#   1. seed: one delivery made through the API and dispatched to the simulator, copied in SQL
#      to N deliveries awaiting pickup (each with its own id, phone and email), each with the
#      `notify` job its state change would have enqueued;
#   2. 2 workers plan and send every "shipment created" message: SMS through the built-in
#      eSMS gateway simulator over HTTP, email over SMTP to a real server on 127.0.0.1
#      (tests/notify/smtp_sink.py on aiosmtpd, writing a Maildir): messages per second;
#   3. baseline: the gateway simulator's send endpoint alone (wrk, 2 connections).
# On a database of its own, or on DB=name (the 1M-delivery one bench/run.sh seeds).
# Usage: bench/notify.sh   (DELIVERIES=2000 DB= PGURL=postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
ensure_smtp
n="${DELIVERIES:-2000}"
bench_init notify
smtp_port=$(free_port)
"$CIVICPOST_TEST_SMTP_PYTHON" tests/notify/smtp_sink.py "$smtp_port" "$work/maildir" > "$work/smtp.log" 2>&1 &
pids+=($!)
export DATABASE_URL="$url" CIVICPOST__LOG__LEVEL=warn CIVICPOST__APP__PUBLIC_BASE_URL="$base" \
  CIVICPOST__COURIERS__SIMULATOR__AUTOPILOT=false CIVICPOST__JOBS__POLL_INTERVAL_MS=100 \
  CIVICPOST__DATABASE__POOL_SIZE=16 \
  CIVICPOST__NOTIFY__QUIET_HOURS_START=00:00 CIVICPOST__NOTIFY__QUIET_HOURS_END=00:00 \
  CIVICPOST__NOTIFY__SMS__TRANSPORT=gateway CIVICPOST__NOTIFY__EMAIL__TRANSPORT=smtp \
  CIVICPOST__NOTIFY__EMAIL__SMTP__HOST=127.0.0.1 CIVICPOST__NOTIFY__EMAIL__SMTP__PORT="$smtp_port" \
  CIVICPOST__NOTIFY__EMAIL__SMTP__SECURITY=none
unset REDIS_URL CIVICPOST_CONFIG
key=$(bench_agency)
agency_id=$(bench_agency_id)
# HTTP and the simulators only; the workers are separate processes.
CIVICPOST__JOBS__ENABLED=false "$bin" serve --bind "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
pids+=($!)
wait_healthy
"$bin" couriers sync-units vnpost > /dev/null

echo "== 1. seeding $n deliveries awaiting pickup, each with its notify job"
template=$(curl -fsS -X POST "$base/v1/deliveries" -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' -d '{"dossier_code": "BENCH-N-TEMPLATE",
  "procedure_name": "Cấp phiếu lý lịch tư pháp", "recipient": {"name": "Nguyễn Văn An",
  "phone": "0912345678", "email": "an.nguyen@example.vn", "address": {"line": "Số 12 ngõ 3",
  "ward_code": "00070"}}, "parcel": {"weight_grams": 150}}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$bin" worker > "$work/seed-worker.log" 2>&1 &
seeder=$!; pids+=("$seeder")
for _ in $(seq 300); do
  [ "$(psql -Atq "$url" -c "SELECT count(*) FROM notifications WHERE delivery_id = '$template' AND status = 'sent'")" = 2 ] && break
  sleep 0.1
done
[ "$(psql -Atq "$url" -c "SELECT count(*) FROM notifications WHERE delivery_id = '$template' AND status = 'sent'")" = 2 ] ||
  { echo "the template delivery's SMS and email were not sent within 30 s" >&2; exit 1; }
kill "$seeder"; wait "$seeder" 2>/dev/null || true
psql -q -v ON_ERROR_STOP=1 "$url" <<SQL
CREATE TEMP TABLE seed AS
  SELECT gen_random_uuid()::text AS id, 'BENCH-N-' || g AS dossier,
         'N' || upper(substr(md5('$agency' || g), 1, 9)) AS code,
         '+8491' || lpad(g::text, 7, '0') AS phone, 'citizen' || g || '@example.vn' AS email
  FROM generate_series(1, $n) g;
-- Every column but the generated ones (local_day), which take no value.
SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) AS cols
  FROM information_schema.columns
 WHERE table_name = 'deliveries' AND is_generated = 'NEVER' \\gset
INSERT INTO deliveries (:cols)
  SELECT :cols FROM (SELECT (jsonb_populate_record(d, jsonb_build_object('id', s.id, 'dossier_code', s.dossier,
          'tracking_code', s.code, 'courier_tracking_number', 'EB' || s.dossier,
          'recipient_phone', s.phone, 'recipient_email', s.email))).*
  FROM deliveries d CROSS JOIN seed s WHERE d.id = '$template') AS copy;
INSERT INTO delivery_events
  SELECT (jsonb_populate_record(e, jsonb_build_object('id', s.id || '-e', 'delivery_id', s.id,
          'inbox_id', null))).*
  FROM delivery_events e CROSS JOIN seed s WHERE e.delivery_id = '$template' AND e.state = 'awaiting_pickup';
INSERT INTO outbox_jobs (id, kind, delivery_id, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
  SELECT gen_random_uuid()::text, 'notify', s.id,
         json_build_object('delivery_id', s.id, 'event_id', s.id || '-e', 'state', 'awaiting_pickup',
                           'occurred_at', now())::text,
         'pending', 0, 15, now() at time zone 'utc', now() at time zone 'utc', now() at time zone 'utc'
  FROM seed s;
SQL

echo "== 2. 2 workers send $((2 * n)) messages ($n SMS, $n emails)"
ours="delivery_id IN (SELECT id FROM deliveries WHERE agency_id = '$agency_id')"
start=$(date +%s.%N)
workers=()
for _ in 1 2; do "$bin" worker > "$work/worker.$RANDOM.log" 2>&1 & pids+=($!); workers+=($!); done
while [ "$(open_jobs)" -gt 0 ]; do sleep 0.2; done
end=$(date +%s.%N)
worker_rss=0
for p in "${workers[@]}"; do kb=$(peak_rss_kb "$p"); [ "$kb" -gt "$worker_rss" ] && worker_rss=$kb; done
outcome=$(psql -Atq "$url" -c "SELECT string_agg(channel || ' ' || status || '=' || c, ', ') FROM
  (SELECT channel, status, count(*) c FROM notifications WHERE $ours GROUP BY 1, 2 ORDER BY 1, 2) s")
sms_count=$(curl -fsS "$base/sim/sms/_control/messages" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))')
mail_count=$(find "$work/maildir" -type f | wc -l)

echo "== 3. baseline: the gateway simulator alone, wrk, 2 connections, 10s"
wrk -t2 -c2 -d10s --latency -s bench/notify.lua "$base" > "$work/wrk.txt"

python3 - "$work" "$out" "$n" "$start" "$end" "$outcome" "$sms_count" "$mail_count" "$worker_rss" <<'PY'
import json, re, sys
work, out, n, start, end, outcome, sms_count, mail_count, worker_rss = sys.argv[1:10]
n, elapsed = int(n), float(end) - float(start)
sent = 2 * n / elapsed
sim = float(re.search(r"Requests/sec:\s+([\d.]+)", open(f"{work}/wrk.txt").read()).group(1))
print(f"\n{'what':44} {'per s':>8}")
print(f"{'messages sent, 2 workers (SMS + email)':44} {sent:8.0f}")
print(f"{'gateway simulator send alone (baseline)':44} {sim:8.0f}")
print(f"ratio: {sent / sim:.2f}; {2 * n} messages in {elapsed:.1f}s; rows: {outcome}; "
      f"simulator holds {sms_count} SMS, the SMTP server {mail_count} emails (1 + 1 of the template)")
json.dump({"messages": 2 * n, "seconds": elapsed, "per_s": sent, "simulator_per_s": sim,
           "peak_rss_mb": int(worker_rss) / 1024,
           "rows": outcome, "sms": int(sms_count), "emails": int(mail_count)},
          open(f"{out}/notify.json", "w"), indent=2)
PY
