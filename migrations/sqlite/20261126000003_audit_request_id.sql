-- The portal API request that made each change (absent for local profiles). Part of the
-- event's hash when set; events chained before this column existed keep their hashes.
ALTER TABLE audit_events ADD COLUMN request_id TEXT;
