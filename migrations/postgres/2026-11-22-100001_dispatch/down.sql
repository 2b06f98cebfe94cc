DROP TABLE courier_exchanges;
ALTER TABLE deliveries DROP COLUMN dispatched_at;
ALTER TABLE deliveries DROP COLUMN dispatch_courier;
ALTER TABLE deliveries DROP COLUMN courier_fee_vnd;
