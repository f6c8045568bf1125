-- Offline sync (issue 11).
--
-- Upstream (the portal's database): each device that pushes mutations has a row in
-- sync_clients holding the last mutation id applied for it (pushes are idempotent by
-- (client_id, mutation_id) and refuse a gap), bound to the person who first pushed with it;
-- sync_results keeps every pushed mutation's outcome, so a push retried after its response
-- was lost is answered the same, and a device's own earlier events are known (they never
-- conflict with its later edits).
CREATE TABLE sync_clients (
    client_id         TEXT PRIMARY KEY,
    actor_id          TEXT NOT NULL,
    last_mutation_id  INTEGER NOT NULL CHECK (last_mutation_id >= 0),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE TABLE sync_results (
    client_id    TEXT NOT NULL REFERENCES sync_clients (client_id),
    mutation_id  INTEGER NOT NULL,
    incident_id  TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (client_id, mutation_id)
);
CREATE INDEX sync_results_by_incident ON sync_results (incident_id, client_id);

-- On a device (the replica is a SQLite file; the tables exist in both schemas so the two stay
-- one schema): the replica's state, its outbox, and the last synced copy of each incident and
-- its timeline (what pending mutations are rebased on).
CREATE TABLE sync_replica (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    client_id          TEXT NOT NULL,
    principal          TEXT NOT NULL,
    cursor             INTEGER NOT NULL,
    next_mutation_id   INTEGER NOT NULL,
    last_synced_at     INTEGER,
    last_attempt_at    INTEGER,
    failures           INTEGER NOT NULL,
    offline            INTEGER NOT NULL,
    last_error         TEXT
);
CREATE TABLE sync_outbox (
    mutation_id  INTEGER PRIMARY KEY,
    incident_id  TEXT NOT NULL,
    event_id     TEXT NOT NULL UNIQUE,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'rejected', 'conflict')),
    outcome      TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX sync_outbox_by_incident ON sync_outbox (incident_id, mutation_id);
CREATE TABLE replica_incidents (
    id    TEXT PRIMARY KEY,
    body  TEXT NOT NULL
);
CREATE TABLE replica_events (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL,
    position     INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX replica_events_by_incident ON replica_events (incident_id, position);
