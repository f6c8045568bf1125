-- Idempotency records are deleted once their 24 h retry window has passed (the portal's
-- sweep, `LocalPortal::sweep_idempotency`): it finds them, oldest first, by creation time.
CREATE INDEX idempotency_created_at ON idempotency (created_at);
