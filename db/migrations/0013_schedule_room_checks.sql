-- Reconciliation now keeps when a live call's room is next to be asked who is in it (`reconcile_at`) rather than
-- when it was last asked (`reconciled_at`). The next look is no longer always one interval after the last: a call
-- held because a party was missing is looked at again after the grace, and a party joining the room of a held
-- call brings the look forward to now. Storing the time itself saves writing a made-up "last look" from which
-- the next one would follow. NULL: one interval after the call was answered.
ALTER TABLE calls ADD COLUMN reconcile_at timestamptz;

-- Live calls already looked at are due a look at once: one early look, and nothing is missed.
SELECT set_config('talktime.platform_scope', 'on', true);
UPDATE calls SET reconcile_at = reconciled_at WHERE status = 'active' AND reconciled_at IS NOT NULL;
SELECT set_config('talktime.platform_scope', 'off', true);

ALTER TABLE calls DROP COLUMN reconciled_at;
