-- Courier webhook ingestion (SQLite). Keep in step with migrations/postgres.

-- What processing made of each courier event: 'applied', or why it changed nothing
-- ('duplicate', 'out_of_order', 'frozen', 'no_change', 'refused', 'informational',
-- 'unknown_code'). NULL for events that are not from a courier.
ALTER TABLE delivery_events ADD COLUMN outcome TEXT;

-- One courier event (same status code, same courier event time) moves a delivery at most
-- once, even when two workers process two copies of it at the same moment.
CREATE UNIQUE INDEX delivery_events_courier_applied_key
    ON delivery_events (delivery_id, raw_code, occurred_at)
    WHERE applied = 1 AND source = 'courier';

-- Operators list the status codes no mapping knows.
CREATE INDEX delivery_events_unknown_code_idx
    ON delivery_events (recorded_at)
    WHERE outcome = 'unknown_code';

-- Why an inbox row was processed, ignored or failed (counts and codes, never the body).
ALTER TABLE webhook_inbox ADD COLUMN note TEXT;
CREATE INDEX webhook_inbox_status_idx ON webhook_inbox (status, received_at);
