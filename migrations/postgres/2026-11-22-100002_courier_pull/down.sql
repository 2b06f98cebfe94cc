ALTER TABLE deliveries DROP COLUMN courier_pulled_at;
