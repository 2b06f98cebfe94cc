-- The durable-write baseline: the same three inserts intake commits per delivery
-- (delivery row, its first event, its dispatch job), as one transaction.
\set n random(1, 2000000000)
BEGIN;
INSERT INTO deliveries (id, agency_id, dossier_code, tracking_code, state, procedure_name,
  recipient_name, recipient_phone, recipient_email, address_line, ward_code, province_code,
  weight_grams, postage_paid_by, collect_on_delivery_vnd, courier, service_code, sla_hours,
  notify_sms, notify_email, request_fingerprint, request_fields, created_at, updated_at, last_event_at)
VALUES ('pgb-' || :client_id || '-' || :n || '-' || txid_current(), ':agency', 'PGB-' || :client_id || '-' || :n || '-' || txid_current(),
  upper(substr(md5(random()::text), 1, 10)), 'received', 'Cấp giấy phép xây dựng',
  'Nguyễn Văn An', '+84912345678', 'an@example.vn', 'Số 12 ngõ 3 Đội Cấn', '00004', '01',
  150, 'recipient', 0, 'vnpost', 'CTN007', 72, true, true, md5(random()::text),
  '{"dossier_code":"0000000000000000"}', now(), now(), now());
INSERT INTO delivery_events (id, delivery_id, state, applied, source, occurred_at, recorded_at)
VALUES ('pge-' || :client_id || '-' || :n || '-' || txid_current(), 'pgb-' || :client_id || '-' || :n || '-' || txid_current(), 'received', true, 'intake', now(), now());
INSERT INTO outbox_jobs (id, kind, delivery_id, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
VALUES ('pgj-' || :client_id || '-' || :n || '-' || txid_current(), 'dispatch', 'pgb-' || :client_id || '-' || :n || '-' || txid_current(), '{}', 'pending', 0, 12, now(), now(), now());
COMMIT;
