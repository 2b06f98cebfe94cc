-- civicpost initial schema (PostgreSQL). Keep in step with migrations/sqlite.
-- Ids are UUID v7 kept as text so one diesel schema serves both backends.
-- Timestamps are UTC (TIMESTAMP without zone; the application only writes UTC).

-- Administrative units (2025 scheme), loaded from fixtures/admin-units.
CREATE TABLE provinces (
    code        TEXT PRIMARY KEY,            -- 2 digits, 915/CTK-CSCL
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,               -- 'tỉnh' | 'thành phố'
    centroid_lat DOUBLE PRECISION NOT NULL,
    centroid_lon DOUBLE PRECISION NOT NULL
);

CREATE TABLE wards (
    code          TEXT PRIMARY KEY,          -- 5 digits, 2025 scheme (1027/CTK-CSCL)
    province_code TEXT NOT NULL REFERENCES provinces(code),
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,             -- 'xã' | 'phường' | 'đặc khu'
    centroid_lat  DOUBLE PRECISION NOT NULL,
    centroid_lon  DOUBLE PRECISION NOT NULL,
    area_km2      DOUBLE PRECISION NOT NULL
);
CREATE INDEX wards_province_idx ON wards (province_code);

-- Old (pre-2025) ward -> new ward links. old_ward_code is '' for the five
-- old island districts that had no communes. Old codes are never joined to wards.code.
CREATE TABLE legacy_ward_links (
    old_ward_code     TEXT NOT NULL,
    old_ward_name     TEXT NOT NULL,
    old_district_code TEXT NOT NULL,
    old_district_name TEXT NOT NULL,
    old_province_code TEXT NOT NULL,
    old_province_name TEXT NOT NULL,
    new_ward_code     TEXT NOT NULL REFERENCES wards(code),
    is_partial        BOOLEAN NOT NULL,
    PRIMARY KEY (old_district_code, old_ward_code, new_ward_code)
);
CREATE INDEX legacy_ward_links_old_idx ON legacy_ward_links (old_ward_code);

-- Which fixture set is in the database, so loading is idempotent.
CREATE TABLE fixture_loads (
    name        TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    loaded_at   TIMESTAMP NOT NULL
);

-- Agencies (one-stop shops) and API keys.
CREATE TABLE agencies (
    id                      TEXT PRIMARY KEY,
    code                    TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    sender_ward_code        TEXT REFERENCES wards(code),
    sender_line             TEXT,
    sender_phone            TEXT,
    default_postage_paid_by TEXT NOT NULL DEFAULT 'recipient',
    callback_url            TEXT,
    callback_secret         TEXT,
    level                   TEXT,
    active                  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL
);

-- Only a SHA-256 of each key is stored; key_prefix is the public part used to find the row.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    role       TEXT NOT NULL,                -- 'agency' | 'operator'
    agency_id  TEXT REFERENCES agencies(id),
    key_prefix TEXT NOT NULL UNIQUE,
    key_hash   TEXT NOT NULL,
    label      TEXT,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_agency_idx ON api_keys (agency_id);

-- Routing rules: the most specific active rule wins.
CREATE TABLE routing_rules (
    id               TEXT PRIMARY KEY,
    agency_id        TEXT REFERENCES agencies(id),
    province_code    TEXT REFERENCES provinces(code),
    ward_code        TEXT REFERENCES wards(code),
    courier          TEXT NOT NULL,
    service_code     TEXT NOT NULL,
    sla_hours        INTEGER NOT NULL,
    fallback_courier TEXT,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    priority         INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX routing_rules_ward_idx ON routing_rules (ward_code) WHERE active;
CREATE INDEX routing_rules_province_idx ON routing_rules (province_code) WHERE active;

CREATE TABLE deliveries (
    id                      TEXT PRIMARY KEY,
    agency_id               TEXT NOT NULL REFERENCES agencies(id),
    dossier_code            TEXT NOT NULL,
    tracking_code           TEXT NOT NULL UNIQUE,
    state                   TEXT NOT NULL,
    state_reason            TEXT,
    procedure_code          TEXT,
    procedure_name          TEXT,
    agency_office           TEXT,
    recipient_name          TEXT NOT NULL,
    recipient_phone         TEXT NOT NULL,   -- E.164
    recipient_email         TEXT,
    address_line            TEXT NOT NULL,
    ward_code               TEXT NOT NULL REFERENCES wards(code),
    province_code           TEXT NOT NULL REFERENCES provinces(code),
    legacy_ward_code        TEXT,
    latitude                DOUBLE PRECISION,
    longitude               DOUBLE PRECISION,
    weight_grams            INTEGER NOT NULL,
    document_count          INTEGER,
    declared_value_vnd      BIGINT,
    postage_paid_by         TEXT NOT NULL,
    collect_on_delivery_vnd BIGINT NOT NULL DEFAULT 0,
    courier                 TEXT NOT NULL,
    service_code            TEXT NOT NULL,
    sla_hours               INTEGER NOT NULL,
    fallback_courier        TEXT,
    routing_rule_id         TEXT REFERENCES routing_rules(id),
    courier_tracking_number TEXT,
    notes                   TEXT,
    notify_sms              BOOLEAN NOT NULL,
    notify_email            BOOLEAN NOT NULL,
    request_fingerprint     TEXT NOT NULL,   -- hash of the normalised request, for idempotent replays
    request_fields          TEXT NOT NULL,   -- JSON: field path -> hash of its value (names what differs on a 409)
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL,
    last_event_at           TIMESTAMP,
    ended_at                TIMESTAMP,
    anonymised_at           TIMESTAMP,
    UNIQUE (agency_id, dossier_code)
);
CREATE INDEX deliveries_agency_created_idx ON deliveries (agency_id, created_at DESC, id DESC);
CREATE INDEX deliveries_state_idx ON deliveries (state);
CREATE UNIQUE INDEX deliveries_courier_tracking_idx ON deliveries (courier, courier_tracking_number)
    WHERE courier_tracking_number IS NOT NULL;

CREATE TABLE delivery_events (
    id           TEXT PRIMARY KEY,
    delivery_id  TEXT NOT NULL REFERENCES deliveries(id),
    state        TEXT NOT NULL,
    reason       TEXT,
    applied      BOOLEAN NOT NULL,           -- false: duplicate, late or out of order; kept for history
    source       TEXT NOT NULL,              -- 'intake' | 'courier' | 'pull' | 'agency' | 'operator'
    courier      TEXT,
    raw_code     TEXT,
    raw_text     TEXT,
    location     TEXT,
    occurred_at  TIMESTAMP NOT NULL,         -- the courier's own event time, in UTC
    recorded_at  TIMESTAMP NOT NULL,
    inbox_id     TEXT
);
CREATE INDEX delivery_events_delivery_idx ON delivery_events (delivery_id, occurred_at);

-- Courier webhooks: raw bytes kept, deduplicated, processed later.
CREATE TABLE webhook_inbox (
    id           TEXT PRIMARY KEY,
    courier      TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL,
    body         BYTEA NOT NULL,
    received_at  TIMESTAMP NOT NULL,
    status       TEXT NOT NULL,              -- 'pending' | 'processed' | 'ignored' | 'failed'
    processed_at TIMESTAMP,
    error        TEXT,
    UNIQUE (courier, dedupe_key)
);
CREATE INDEX webhook_inbox_pending_idx ON webhook_inbox (received_at) WHERE status = 'pending';

-- Transactional outbox.
CREATE TABLE outbox_jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    delivery_id  TEXT REFERENCES deliveries(id),
    payload      TEXT NOT NULL,              -- JSON
    status       TEXT NOT NULL,              -- 'pending' | 'running' | 'done' | 'parked'
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error   TEXT,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX outbox_jobs_due_idx ON outbox_jobs (run_at) WHERE status IN ('pending', 'running');
CREATE INDEX outbox_jobs_delivery_idx ON outbox_jobs (delivery_id);

CREATE TABLE outbox_attempts (
    id          TEXT PRIMARY KEY,
    job_id      TEXT NOT NULL REFERENCES outbox_jobs(id),
    attempt     INTEGER NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    outcome     TEXT NOT NULL,               -- 'ok' | 'retry' | 'parked'
    error       TEXT
);
CREATE INDEX outbox_attempts_job_idx ON outbox_attempts (job_id);

-- One message per (delivery, state, channel), never twice.
CREATE TABLE notifications (
    id                  TEXT PRIMARY KEY,
    delivery_id         TEXT NOT NULL REFERENCES deliveries(id),
    state               TEXT NOT NULL,
    channel             TEXT NOT NULL,       -- 'sms' | 'email'
    status              TEXT NOT NULL,       -- 'pending' | 'sent' | 'failed' | 'skipped'
    provider            TEXT,
    provider_message_id TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    created_at          TIMESTAMP NOT NULL,
    sent_at             TIMESTAMP,
    UNIQUE (delivery_id, state, channel)
);

CREATE TABLE callback_attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES deliveries(id),
    agency_id        TEXT NOT NULL REFERENCES agencies(id),
    webhook_id       TEXT NOT NULL,          -- Standard Webhooks message id
    url              TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    status_code      INTEGER,
    error            TEXT,
    response_excerpt TEXT,
    attempted_at     TIMESTAMP NOT NULL
);
CREATE INDEX callback_attempts_delivery_idx ON callback_attempts (delivery_id);

-- Official ward code -> the courier's own address ids.
CREATE TABLE courier_unit_mappings (
    courier              TEXT NOT NULL,
    ward_code            TEXT NOT NULL REFERENCES wards(code),
    courier_province_id  TEXT NOT NULL,
    courier_district_id  TEXT,
    courier_ward_id      TEXT NOT NULL,
    courier_ward_name    TEXT NOT NULL,
    matched_at           TIMESTAMP NOT NULL,
    PRIMARY KEY (courier, ward_code)
);

-- Idempotency-Key records, per agency, kept 24 h.
CREATE TABLE idempotency_records (
    agency_id           TEXT NOT NULL REFERENCES agencies(id),
    idempotency_key     TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    delivery_id         TEXT REFERENCES deliveries(id),
    response_status     INTEGER NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    expires_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (agency_id, idempotency_key)
);
CREATE INDEX idempotency_records_expiry_idx ON idempotency_records (expires_at);
