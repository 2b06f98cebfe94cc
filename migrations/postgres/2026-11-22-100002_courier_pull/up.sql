-- When the courier's history was last pulled for a delivery with no news (VNPost), so a
-- quiet parcel is asked about once per stale period, not at every round.
ALTER TABLE deliveries ADD COLUMN courier_pulled_at TIMESTAMP;
