DROP TABLE notification_optouts;
DROP INDEX notifications_status_idx;
DROP INDEX notifications_unsubscribe_token_idx;
ALTER TABLE notifications DROP COLUMN updated_at;
ALTER TABLE notifications DROP COLUMN unsubscribe_token;
ALTER TABLE notifications DROP COLUMN fallback_of;
ALTER TABLE notifications DROP COLUMN destination_masked;
ALTER TABLE notifications DROP COLUMN due_at;
ALTER TABLE notifications DROP COLUMN event_id;
