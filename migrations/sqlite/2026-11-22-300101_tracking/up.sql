-- Public tracking: citizens look a delivery up by its dossier code (plus the last 4 phone
-- digits), typed in any case. Dossier codes are unique per agency only, so the lookup is by
-- the code alone; ASCII upper() is enough for TT 01/2018 codes.
CREATE INDEX deliveries_dossier_code_idx ON deliveries (upper(dossier_code));
