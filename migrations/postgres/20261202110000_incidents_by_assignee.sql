-- The incident list filtered by assignee ("my incidents", usually with status active), newest
-- first: without it the list walks incidents_newest (or sorts every active incident) to find a
-- page — 16,000 rows skipped for one page over 100,000 incidents (docs/benchmarks.md,
-- "Incidents, issue 10").
CREATE INDEX incidents_by_assignee ON incidents (assignee, opened_at DESC, id DESC);

-- The title search is `lower(title) LIKE '%words%'`. Without statistics on lower(title) the
-- planner guesses that a common word matches ~10 rows and plans a scan of every title and a sort
-- (130 ms over 100,000 incidents) instead of walking incidents_newest until the page is full
-- (0.6 ms); a prepared statement's first executions on each connection took that plan. The
-- statistics (collected by ANALYZE / autovacuum) give it the word's real frequency.
CREATE STATISTICS incidents_lower_title ON (lower(title)) FROM incidents;
