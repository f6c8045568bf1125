-- The audit trail against the application's own database role (issue 9, finding 4).
--
-- Migrations run as the schema's owner; the server grants its runtime role (store::roles) only
-- SELECT and INSERT on `audit_events` and `change_feed`, SELECT on `audit_head`. A role that does
-- not own a table cannot disable its triggers, so the append-only triggers hold against it.
--
-- The chain's tip moves only through this trigger, which runs as the owner: each inserted event
-- must continue the chain exactly (next seq, previous hash), and the tip follows it. Writers
-- lock the tip with `audit_lock_head()` (also the owner's), which serialises commits as before.

CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER change_feed_no_update BEFORE UPDATE OR DELETE ON change_feed
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER change_feed_no_truncate BEFORE TRUNCATE ON change_feed
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

CREATE FUNCTION audit_lock_head() RETURNS TABLE (head_seq BIGINT, head_hash TEXT)
LANGUAGE sql SECURITY DEFINER AS $$
    SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE
$$;

CREATE FUNCTION audit_events_continue_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    tip_seq  BIGINT;
    tip_hash TEXT;
BEGIN
    SELECT seq, hash INTO tip_seq, tip_hash FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NEW.seq IS DISTINCT FROM tip_seq + 1 OR NEW.prev_hash IS DISTINCT FROM tip_hash THEN
        RAISE EXCEPTION 'audit event % does not continue the chain, whose tip is event %',
            NEW.seq, tip_seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_continue_chain();

-- Definer functions resolve names in the schema they were created in, never the caller's path.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_lock_head() SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION audit_events_continue_chain() SET search_path = %I, pg_temp', current_schema());
END;
$$;
REVOKE ALL ON FUNCTION audit_lock_head() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_events_continue_chain() FROM PUBLIC;
