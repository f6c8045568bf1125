-- The server's scheduled jobs (issue 10): what each job last did, the escalation notifications
-- recorded (one per incident, step and repeat, whatever runs the job), and the outbound webhook
-- deliveries with their attempts (the delivery log).

CREATE TABLE job_runs (
    name              TEXT PRIMARY KEY,
    last_started_at   BIGINT,
    last_finished_at  BIGINT,
    last_outcome      TEXT,
    last_summary      TEXT,
    runs              BIGINT NOT NULL DEFAULT 0,
    last_runner       TEXT
);

CREATE TABLE incident_notifications (
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    step         INTEGER NOT NULL,
    repeat       INTEGER NOT NULL,
    event_id     TEXT NOT NULL,
    due_at       BIGINT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    PRIMARY KEY (incident_id, step, repeat)
);

-- `id` is the `webhook-id` every attempt of a delivery carries.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    incident_id      TEXT NOT NULL REFERENCES incidents (id),
    step             INTEGER NOT NULL,
    repeat           INTEGER NOT NULL,
    url              TEXT NOT NULL,
    payload          TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    delivered_at     BIGINT,
    failed_at        BIGINT,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    UNIQUE (incident_id, step, repeat, url)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
