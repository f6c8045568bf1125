-- Analytics (issue 12): the billing facts and product events the metrics are computed from, and
-- the daily snapshots the charts read.
--
-- Billing facts. A subscription is its effective-dated changes (`domain::analytics::revenue`):
-- each change's `event` is a `SubscriptionEvent` as JSON (the price travels with `started` and
-- `plan_changed`, so a plan's later price change never rewrites history). Money is integer minor
-- units with its ISO 4217 currency, never a float.
CREATE TABLE plans (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    amount_minor  BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency      TEXT NOT NULL CHECK (length(currency) = 3),
    billing       TEXT NOT NULL CHECK (billing IN ('month', 'year')),
    created_at    BIGINT NOT NULL
);
CREATE TABLE subscription_changes (
    id               TEXT PRIMARY KEY,
    subscription_id  TEXT NOT NULL,
    org_id           TEXT NOT NULL,
    day              BIGINT NOT NULL,
    seq              BIGINT NOT NULL,
    event            TEXT NOT NULL,
    recorded_at      BIGINT NOT NULL,
    UNIQUE (subscription_id, day, seq)
);
CREATE INDEX subscription_changes_by_day ON subscription_changes (day, seq);
CREATE INDEX subscription_changes_by_org ON subscription_changes (org_id, day);

-- Product events, idempotent by their id (a batch sent twice inserts nothing the second time):
-- `signup`, `active` (daily/weekly/monthly actives), `feature_used` (with `feature`) and any
-- other name (a funnel's steps). `day` is the UTC day of `at`.
CREATE TABLE product_events (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    user_id      TEXT,
    name         TEXT NOT NULL,
    feature      TEXT,
    at           BIGINT NOT NULL,
    day          BIGINT NOT NULL,
    received_at  BIGINT NOT NULL
);
CREATE INDEX product_events_by_day ON product_events (day, name);
CREATE INDEX product_events_by_subject ON product_events (org_id, user_id, at);

-- Snapshots: the MRR ledger per currency and day, and the movements behind it (the drill-down).
CREATE TABLE analytics_mrr_days (
    currency               TEXT NOT NULL,
    day                    BIGINT NOT NULL,
    mrr_start              BIGINT NOT NULL,
    new                    BIGINT NOT NULL,
    expansion              BIGINT NOT NULL,
    reactivation           BIGINT NOT NULL,
    contraction            BIGINT NOT NULL,
    churn                  BIGINT NOT NULL,
    mrr_end                BIGINT NOT NULL,
    customers_start        BIGINT NOT NULL,
    customers_end          BIGINT NOT NULL,
    new_customers          BIGINT NOT NULL,
    reactivated_customers  BIGINT NOT NULL,
    churned_customers      BIGINT NOT NULL,
    PRIMARY KEY (currency, day)
);
CREATE TABLE analytics_movements (
    currency  TEXT NOT NULL,
    day       BIGINT NOT NULL,
    org_id    TEXT NOT NULL,
    kind      TEXT NOT NULL
        CHECK (kind IN ('new', 'expansion', 'reactivation', 'contraction', 'churn')),
    before    BIGINT NOT NULL,
    after     BIGINT NOT NULL,
    PRIMARY KEY (currency, day, org_id)
);
-- Days whose facts changed since their snapshot (late-arriving events included): what an
-- incremental refresh recomputes. `fact` is 'revenue' or 'events'.
CREATE TABLE analytics_dirty_days (
    fact  TEXT NOT NULL CHECK (fact IN ('revenue', 'events')),
    day   BIGINT NOT NULL,
    PRIMARY KEY (fact, day)
);
