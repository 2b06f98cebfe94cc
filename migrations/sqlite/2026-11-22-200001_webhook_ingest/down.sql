DROP INDEX webhook_inbox_status_idx;
ALTER TABLE webhook_inbox DROP COLUMN note;
DROP INDEX delivery_events_unknown_code_idx;
DROP INDEX delivery_events_courier_applied_key;
ALTER TABLE delivery_events DROP COLUMN outcome;
