-- Analytics (issue 12): saved funnels, snapshotted daily by the refresh.
CREATE TABLE analytics_funnels (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    -- The domain's FunnelSpec as JSON: steps, window, step windows, exclusions.
    spec         TEXT NOT NULL,
    subject      TEXT NOT NULL CHECK (subject IN ('user', 'org')),
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    -- The last day its snapshot covers (NULL until the first refresh after it was saved).
    snapshot_to  BIGINT
);
-- Each subject's progress through a funnel, per day it entered (the first step that day): the
-- deepest step reached and the fastest time to each step ("0,5000,93000", milliseconds).
CREATE TABLE analytics_funnel_days (
    funnel_id  TEXT NOT NULL REFERENCES analytics_funnels (id),
    day        BIGINT NOT NULL,
    org_id     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    depth      BIGINT NOT NULL,
    times      TEXT NOT NULL,
    PRIMARY KEY (funnel_id, day, subject)
);
CREATE INDEX analytics_funnel_days_org ON analytics_funnel_days (funnel_id, org_id, day);
