-- The billing engine's work list in a table of its own: one row per active call, due when its paid time runs out
-- (`paid_until`, which is also `ends_at` once an increment could not be paid).
--
-- Why: the engine moves `paid_until` of every active call once an increment. While `calls` indexed it
-- (calls_billing_due), each of those updates wrote a new entry into all nine indexes of `calls`, four of them
-- unique: about 60 µs a call at 100,000 active calls, the largest single cost of a charge after the ledger
-- itself. Now no index of `calls` names a column the engine changes, so its updates can stay on the page
-- (HOT, hence the fillfactor), and only this narrow table's two indexes take new entries.
--
-- The list is kept by triggers on `calls`, whatever statement changes a call: a call is listed while it is
-- active, at its `paid_until`, and removed once it is not. Set-based (statement triggers over the changed
-- rows), so a batch of 500 calls costs two statements, not 500 trigger calls.
CREATE TABLE call_billing_due (
    call_id uuid PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    licensee_id uuid NOT NULL,
    due_at timestamptz NOT NULL
);
CREATE INDEX call_billing_due_at ON call_billing_due (due_at);

-- The calls already active, read across every Licensee (row level security applies to the owner too).
SELECT set_config('talktime.platform_scope', 'on', true);
INSERT INTO call_billing_due (call_id, licensee_id, due_at)
SELECT id, licensee_id, paid_until FROM calls WHERE status = 'active';
SELECT set_config('talktime.platform_scope', 'off', true);
DROP INDEX calls_billing_due;
ALTER TABLE calls SET (fillfactor = 80);

CREATE FUNCTION talktime_calls_list_billing_due() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM call_billing_due q USING changed_calls c WHERE q.call_id = c.id AND c.status <> 'active';
    INSERT INTO call_billing_due (call_id, licensee_id, due_at)
    SELECT c.id, c.licensee_id, c.paid_until FROM changed_calls c WHERE c.status = 'active'
    ON CONFLICT (call_id) DO UPDATE SET due_at = excluded.due_at WHERE call_billing_due.due_at <> excluded.due_at;
    RETURN NULL;
END
$$;
-- A trigger with transition tables takes one event only: one for inserts, one for updates.
CREATE TRIGGER list_billing_due_on_insert AFTER INSERT ON calls
    REFERENCING NEW TABLE AS changed_calls FOR EACH STATEMENT EXECUTE FUNCTION talktime_calls_list_billing_due();
CREATE TRIGGER list_billing_due_on_update AFTER UPDATE ON calls
    REFERENCING NEW TABLE AS changed_calls FOR EACH STATEMENT EXECUTE FUNCTION talktime_calls_list_billing_due();

ALTER TABLE call_billing_due ENABLE ROW LEVEL SECURITY;
ALTER TABLE call_billing_due FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON call_billing_due
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());
GRANT SELECT, INSERT, UPDATE, DELETE ON call_billing_due TO talktime_app;
