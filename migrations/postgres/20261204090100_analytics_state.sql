-- Analytics (issue 12): the snapshots' version, bumped by every refresh in its transaction. A
-- read cache keeps a result with the version it was computed at and serves it only while the
-- version is unchanged (one cheap read), so any instance's refresh invalidates every cache.
CREATE TABLE analytics_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    version        BIGINT NOT NULL,
    refreshed_at   BIGINT NOT NULL,
    full_at        BIGINT
);
