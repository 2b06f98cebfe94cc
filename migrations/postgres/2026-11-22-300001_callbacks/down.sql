DROP INDEX delivery_events_recorded_applied_idx;
ALTER TABLE callback_attempts DROP COLUMN duration_ms;
ALTER TABLE callback_attempts DROP COLUMN job_id;
ALTER TABLE agencies DROP COLUMN callback_disabled_at;
