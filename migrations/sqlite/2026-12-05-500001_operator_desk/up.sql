-- The operator's desk (SQLite). Keep in step with migrations/postgres.

-- Seconds from enqueue to delivery, written once when a delivery reaches `delivered`, so
-- the reports compare it with the SLA and rank it (median, p90) in portable SQL, and the
-- figure survives the purge of personal data.
ALTER TABLE deliveries ADD COLUMN delivered_seconds BIGINT;
UPDATE deliveries
   SET delivered_seconds = MAX(0, CAST(ROUND((julianday(ended_at) - julianday(created_at)) * 86400) AS INTEGER))
 WHERE state = 'delivered' AND ended_at IS NOT NULL;
-- The local enqueue day (Asia/Ho_Chi_Minh, UTC+7 all year), computed by the database for
-- the reports' daily grouping; virtual, as SQLite adds only those to an existing table.
-- Diesel's schema leaves it out (nothing writes it).
ALTER TABLE deliveries ADD COLUMN local_day TEXT
    GENERATED ALWAYS AS (date(created_at, '+7 hours')) VIRTUAL;
-- Reports filter on the enqueue time first; the purge walks ended deliveries.
CREATE INDEX deliveries_created_idx ON deliveries (created_at, agency_id, state);
CREATE INDEX deliveries_ended_idx ON deliveries (ended_at) WHERE anonymised_at IS NULL;
CREATE INDEX delivery_events_state_idx ON delivery_events (state, occurred_at) WHERE applied;
-- The parked-jobs gauge and the failure queue read parked jobs on every poll.
CREATE INDEX outbox_jobs_parked_idx ON outbox_jobs (kind) WHERE status = 'parked';

-- How many results an agency returned in total on a day (by post or over the counter), as
-- the agency reports it: the denominator of "share returned by post". Day in Vietnam time.
CREATE TABLE agency_result_totals (
    agency_id     TEXT NOT NULL REFERENCES agencies (id),
    day           TEXT NOT NULL,            -- YYYY-MM-DD, Asia/Ho_Chi_Minh
    results_total INTEGER NOT NULL CHECK (results_total >= 0),
    reported_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (agency_id, day)
);

-- Who did what to which record, and when: operator actions and each retention run. No
-- personal data in `detail` (JSON).
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    at           TIMESTAMP NOT NULL,
    actor        TEXT NOT NULL,             -- 'operator:<key prefix>', 'cli', 'system:retention'
    action       TEXT NOT NULL,
    subject_kind TEXT,
    subject_id   TEXT,
    detail       TEXT NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_kind, subject_id);

-- Failure-queue entries an operator marked handled; the entry leaves the queue.
CREATE TABLE failures_handled (
    kind       TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    handled_at TIMESTAMP NOT NULL,
    handled_by TEXT NOT NULL,
    PRIMARY KEY (kind, subject_id)
);

-- Dashboard sessions: the browser keeps a random token, we keep its SHA-256 and the
-- operator key it was opened with (revoking the key ends the session).
CREATE TABLE operator_sessions (
    token_hash TEXT PRIMARY KEY,
    api_key_id TEXT NOT NULL REFERENCES api_keys (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
