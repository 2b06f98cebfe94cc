-- Agency callbacks (PostgreSQL). Keep in step with migrations/sqlite.

-- Set when the agency's endpoint answered 410 Gone: no more callbacks are sent to it until
-- the operator sets a callback URL again (which clears it).
ALTER TABLE agencies ADD COLUMN callback_disabled_at TIMESTAMP;

-- Which outbox job made the attempt (an original send or a replay), and how long it took.
ALTER TABLE callback_attempts ADD COLUMN job_id TEXT;
ALTER TABLE callback_attempts ADD COLUMN duration_ms INTEGER;

-- Replays by time range pick the state changes recorded in it.
CREATE INDEX delivery_events_recorded_applied_idx ON delivery_events (recorded_at) WHERE applied;
