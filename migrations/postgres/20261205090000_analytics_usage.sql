-- Analytics (issue 12): the usage snapshots, aggregated from `product_events` by a refresh.
--
-- Growth per day: sign-ups, and active users and organisations on the day and in the trailing
-- 7 and 30 days (`domain::analytics::growth`).
CREATE TABLE analytics_growth_days (
    day            BIGINT PRIMARY KEY,
    signups        BIGINT NOT NULL,
    users_daily    BIGINT NOT NULL,
    users_weekly   BIGINT NOT NULL,
    users_monthly  BIGINT NOT NULL,
    orgs_daily     BIGINT NOT NULL,
    orgs_weekly    BIGINT NOT NULL,
    orgs_monthly   BIGINT NOT NULL
);
-- Each organisation's events and distinct users per day (top clients by usage).
CREATE TABLE analytics_org_days (
    day     BIGINT NOT NULL,
    org_id  TEXT NOT NULL,
    events  BIGINT NOT NULL,
    users   BIGINT NOT NULL,
    PRIMARY KEY (day, org_id)
);
-- Each feature's uses per organisation and day (top features by uses and by organisations).
CREATE TABLE analytics_feature_days (
    day      BIGINT NOT NULL,
    feature  TEXT NOT NULL,
    org_id   TEXT NOT NULL,
    uses     BIGINT NOT NULL,
    PRIMARY KEY (day, feature, org_id)
);
-- A dirty mark moves on each time its day is marked again, so a refresh forgets only the marks
-- it read: a fact stored while it ran keeps its day dirty for the next one.
ALTER TABLE analytics_dirty_days ADD COLUMN mark BIGINT NOT NULL DEFAULT 0;
