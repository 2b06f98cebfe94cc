-- Dispatch: the courier's fee, and the courier a create call went to whose outcome is not
-- yet recorded (so a retry asks that courier again instead of creating a second order
-- elsewhere).
ALTER TABLE deliveries ADD COLUMN courier_fee_vnd BIGINT;
ALTER TABLE deliveries ADD COLUMN dispatch_courier TEXT;
ALTER TABLE deliveries ADD COLUMN dispatched_at TIMESTAMP;

-- Every courier HTTP call made for a delivery, bodies masked, for support.
CREATE TABLE courier_exchanges (
    id            TEXT PRIMARY KEY,
    delivery_id   TEXT NOT NULL REFERENCES deliveries(id),
    job_id        TEXT,
    courier       TEXT NOT NULL,
    operation     TEXT NOT NULL,             -- the courier's endpoint path
    status_code   INTEGER,
    duration_ms   INTEGER NOT NULL,
    request_body  TEXT,                      -- masked: no names, phones, addresses, secrets
    response_body TEXT,                      -- masked
    error         TEXT,
    occurred_at   TIMESTAMP NOT NULL
);
CREATE INDEX courier_exchanges_delivery_idx ON courier_exchanges (delivery_id, occurred_at);
