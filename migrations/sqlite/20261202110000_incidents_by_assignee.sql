-- The incident list filtered by assignee ("my incidents", usually with status active), newest
-- first: without it the list walks incidents_newest (or sorts every active incident) to find a
-- page — 16,000 rows skipped for one page over 100,000 incidents (docs/benchmarks.md,
-- "Incidents, issue 10").
CREATE INDEX incidents_by_assignee ON incidents (assignee, opened_at DESC, id DESC);
