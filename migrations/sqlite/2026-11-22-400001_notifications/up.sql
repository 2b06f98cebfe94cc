-- Citizen notifications (SQLite). Keep in step with migrations/postgres.

-- The state change that asked for the message, when it is due (quiet hours move SMS to the
-- morning), where it went (masked: the delivery holds the real address until it is purged),
-- the message it stands in for when a channel kept failing, and the email's unsubscribe token.
-- Status: pending | sending (handed to the provider, answer not yet recorded) | sent |
-- failed | skipped (opted out) | unconfirmed (a send was interrupted and the channel cannot
-- repeat it safely: not sent again, shown to the operator).
ALTER TABLE notifications ADD COLUMN event_id TEXT;
ALTER TABLE notifications ADD COLUMN due_at TIMESTAMP;
ALTER TABLE notifications ADD COLUMN destination_masked TEXT;
ALTER TABLE notifications ADD COLUMN fallback_of TEXT;
ALTER TABLE notifications ADD COLUMN unsubscribe_token TEXT;
ALTER TABLE notifications ADD COLUMN updated_at TIMESTAMP;
CREATE UNIQUE INDEX notifications_unsubscribe_token_idx ON notifications (unsubscribe_token);
CREATE INDEX notifications_status_idx ON notifications (status, created_at);

-- Citizens who said no to a channel, by SHA-256 of the normalised address, so the choice
-- outlives the delivery's retention (the address itself is purged with the delivery). A
-- suppression list, not a secret: a phone number's hash can be found by trying them all.
CREATE TABLE notification_optouts (
    channel      TEXT NOT NULL,             -- 'sms' | 'email'
    address_hash TEXT NOT NULL,
    source       TEXT NOT NULL,             -- 'unsubscribe_link' | 'agency'
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (channel, address_hash)
);
