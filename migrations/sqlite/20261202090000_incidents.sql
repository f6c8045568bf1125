-- Incidents (issue 10): the current fields of each incident (a projection of its timeline), the
-- append-only timeline, SLA targets per severity and escalation policies. SLA clocks are not
-- stored: they are computed from the timeline (crates/domain/src/incident/sla.rs).

CREATE TABLE incidents (
    id                 TEXT PRIMARY KEY,
    title              TEXT NOT NULL,
    severity           TEXT NOT NULL CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
    org_id             TEXT,
    status             TEXT NOT NULL
        CHECK (status IN ('open', 'acknowledged', 'waiting', 'resolved', 'closed')),
    assignee           TEXT,
    opened_at          INTEGER NOT NULL,
    acknowledged_at    INTEGER,
    resolved_at        INTEGER,
    closed_at          INTEGER,
    impact_started_at  INTEGER,
    version            INTEGER NOT NULL CHECK (version >= 1),
    created_by         TEXT NOT NULL,
    updated_at         INTEGER NOT NULL
);
-- The list's order (newest first) and its usual filters.
CREATE INDEX incidents_newest ON incidents (opened_at DESC, id DESC);
CREATE INDEX incidents_by_status ON incidents (status, opened_at DESC, id DESC);
CREATE INDEX incidents_by_severity ON incidents (severity, opened_at DESC, id DESC);
CREATE INDEX incidents_by_org ON incidents (org_id, opened_at DESC, id DESC);

-- The timeline: one row per change, never updated or deleted. `version` is the incident's
-- version after the event (1 for `opened`), so the events of an incident are numbered without
-- gaps; `data` is the event's kind and fields as JSON (`domain::model::IncidentEventKind`).
CREATE TABLE incident_events (
    id            TEXT PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    version       INTEGER NOT NULL,
    occurred_at   INTEGER NOT NULL,
    recorded_at   INTEGER NOT NULL,
    actor_id      TEXT NOT NULL,
    actor_name    TEXT NOT NULL,
    type          TEXT NOT NULL,
    data          TEXT NOT NULL,
    base_version  INTEGER NOT NULL,
    UNIQUE (incident_id, version)
);
CREATE TRIGGER incident_events_no_update BEFORE UPDATE ON incident_events
BEGIN
    SELECT RAISE(ABORT, 'incident_events is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER incident_events_no_delete BEFORE DELETE ON incident_events
BEGIN
    SELECT RAISE(ABORT, 'incident_events is append-only: DELETE is not allowed');
END;

-- One row per severity once a provider edits them; a severity without a row uses its default.
CREATE TABLE sla_targets (
    severity              TEXT PRIMARY KEY CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
    target_response_mins  INTEGER NOT NULL,
    target_resolve_mins   INTEGER NOT NULL,
    at_risk_percent       INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

-- The default policy (org_id NULL) and at most one override per organisation.
CREATE TABLE escalation_policies (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    org_id      TEXT,
    rules       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX escalation_policies_one_per_org ON escalation_policies (COALESCE(org_id, ''));
