-- Verifications per day (UTC), for the overview's activity chart. Counted in memory by each
-- process and added here with the throttled last-use write (at most once a minute per key).
CREATE TABLE key_usage_daily (
    day            BIGINT PRIMARY KEY,   -- days since the Unix epoch
    verifications  BIGINT NOT NULL
);
