-- Provider Admin portal database. Timestamps are milliseconds since the Unix epoch (UTC);
-- ids are text; sealed secrets are AES-256-GCM envelopes (see crates/domain/src/envelope.rs).

CREATE TABLE clients (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    plan        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX clients_by_name ON clients (lower(name), id);

CREATE TABLE federation_keys (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    hashed_key    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    last_used_at  BIGINT,
    last_used_ip  TEXT,
    rotated_from  TEXT,
    rotated_to    TEXT
);
CREATE INDEX federation_keys_newest ON federation_keys (created_at DESC, id DESC);

CREATE TABLE oidc_configs (
    id                  TEXT PRIMARY KEY,
    issuer              TEXT NOT NULL,
    client_id           TEXT NOT NULL,
    redirect_uri        TEXT NOT NULL,
    enabled             BIGINT NOT NULL CHECK (enabled IN (0, 1)),
    client_secret       BYTEA,
    client_secret_kv    BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX oidc_one_enabled_per_issuer ON oidc_configs (issuer) WHERE enabled = 1;

CREATE TABLE integrations (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    config         BYTEA NOT NULL,
    config_kv      BIGINT NOT NULL,
    config_fields  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    last_sync_at   BIGINT,
    last_error     TEXT
);

-- Replayable results of idempotent writes, sealed because they may hold a one-time key.
CREATE TABLE idempotency (
    id            TEXT PRIMARY KEY,
    request_hash  TEXT NOT NULL,
    response      BYTEA NOT NULL,
    response_kv   BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Public fingerprints of the master-key versions this database was sealed with.
CREATE TABLE master_keys (
    version      BIGINT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- The audit trail: append-only, hash-chained. `audit_head` holds the chain's tip; a writer
-- locks it (UPDATE) just before commit, which orders commits and numbers them without gaps.
CREATE TABLE audit_events (
    seq          BIGINT PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    ts           BIGINT NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    actor_type   TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    action       TEXT NOT NULL,
    before       TEXT,
    after        TEXT,
    ip           TEXT,
    ua           TEXT,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_by_entity ON audit_events (entity_type, entity_id, seq DESC);
CREATE INDEX audit_by_type ON audit_events (entity_type, seq DESC);
CREATE INDEX audit_by_actor ON audit_events (actor_id, seq DESC);
CREATE INDEX audit_by_action ON audit_events (action, seq DESC);
CREATE INDEX audit_by_ts ON audit_events (ts);

CREATE TABLE audit_head (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The change feed: one row per committed change, numbered in commit order (same seq as the
-- audit event of the transaction's first change), so a puller following `seq` never skips.
CREATE TABLE change_feed (
    seq          BIGINT PRIMARY KEY,
    ts           BIGINT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    action       TEXT NOT NULL
);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
