-- Calls: users' push devices, calls with the price snapshot they were started at, the media service's room
-- events, and the batch posting function the billing engine charges many calls with in one round trip.

-- A device that receives pushes: an FCM registration token (android) or an APNs VoIP token (ios). A token
-- belongs to one user at a time: registering it again, under another account, moves it.
CREATE TABLE devices (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    licensee_id uuid NOT NULL,
    user_id uuid NOT NULL,
    platform text NOT NULL CHECK (platform IN ('android', 'ios')),
    token text NOT NULL CHECK (length(token) BETWEEN 1 AND 4096),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (licensee_id, platform, token),
    FOREIGN KEY (licensee_id, user_id) REFERENCES users (licensee_id, id) ON DELETE CASCADE
);
CREATE INDEX devices_user ON devices (licensee_id, user_id);

-- A call from an End User to an Advisor. The price is a snapshot taken when the call was made: later changes
-- of the Advisor's rate or the Licensee's shares never touch it.
--
-- Billing: `billed_increments` increments are paid, and the paid time runs until `paid_until`. The billing
-- engine charges increment `billed_increments + 1` when `paid_until` comes, under the ledger idempotency key
-- `call:<id>:<number>`, in the same database transaction as it moves these columns. When an increment cannot
-- be paid, `ends_at` is set to `paid_until`: the call ends then.
CREATE TABLE calls (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    licensee_id uuid NOT NULL REFERENCES licensees (id),
    caller_id uuid NOT NULL,
    advisor_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'ringing'
        CHECK (status IN ('ringing', 'active', 'ended', 'missed', 'declined', 'cancelled')),
    room_name text NOT NULL UNIQUE CHECK (length(room_name) BETWEEN 1 AND 128),
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    rate_per_minute_minor bigint NOT NULL CHECK (rate_per_minute_minor >= 0),
    increment_seconds integer NOT NULL CHECK (increment_seconds BETWEEN 1 AND 3600),
    increment_price_minor bigint NOT NULL CHECK (increment_price_minor >= 0),
    commission_bps integer NOT NULL CHECK (commission_bps BETWEEN 0 AND 10000),
    platform_fee_bps integer NOT NULL CHECK (platform_fee_bps BETWEEN 0 AND 10000),
    created_at timestamptz NOT NULL,
    ring_deadline timestamptz NOT NULL,
    answered_at timestamptz,
    billed_increments integer NOT NULL DEFAULT 0 CHECK (billed_increments >= 0),
    billed_amount_minor bigint NOT NULL DEFAULT 0 CHECK (billed_amount_minor >= 0),
    paid_until timestamptz,
    ends_at timestamptz,
    ended_at timestamptz,
    end_reason text CHECK (end_reason IN ('caller_ended', 'advisor_ended', 'insufficient_funds', 'participant_left',
        'room_finished', 'room_empty', 'room_unavailable', 'declined', 'cancelled', 'missed')),
    caller_joined_at timestamptz,
    advisor_joined_at timestamptz,
    -- When the room was deleted at the media service; NULL on a finished call means it is still to be done.
    room_closed_at timestamptz,
    -- When the billing engine last asked the media service who is in the room (events may be lost).
    reconciled_at timestamptz,
    UNIQUE (licensee_id, id),
    FOREIGN KEY (licensee_id, caller_id) REFERENCES users (licensee_id, id),
    FOREIGN KEY (licensee_id, advisor_id) REFERENCES users (licensee_id, id),
    CHECK (caller_id <> advisor_id),
    CHECK (commission_bps + platform_fee_bps <= 10000),
    CHECK ((status IN ('ringing', 'active')) = (ended_at IS NULL)),
    CHECK ((status IN ('ringing', 'active')) = (end_reason IS NULL)),
    CHECK (status <> 'active' OR (answered_at IS NOT NULL AND paid_until IS NOT NULL))
);
-- One live call per End User and per Advisor, whatever races the requests run.
CREATE UNIQUE INDEX calls_live_caller ON calls (caller_id) WHERE status IN ('ringing', 'active');
CREATE UNIQUE INDEX calls_live_advisor ON calls (advisor_id) WHERE status IN ('ringing', 'active');
-- The billing engine's work lists.
CREATE INDEX calls_billing_due ON calls (paid_until) WHERE status = 'active';
CREATE INDEX calls_ring_due ON calls (ring_deadline) WHERE status = 'ringing';
CREATE INDEX calls_room_to_close ON calls (ended_at) WHERE room_closed_at IS NULL AND status NOT IN ('ringing', 'active');
CREATE INDEX calls_live_per_licensee ON calls (licensee_id) WHERE status IN ('ringing', 'active');
-- Histories, newest first.
CREATE INDEX calls_caller_history ON calls (licensee_id, caller_id, created_at DESC, id DESC);
CREATE INDEX calls_advisor_history ON calls (licensee_id, advisor_id, created_at DESC, id DESC);

-- The inbox of the media service's webhook events: each event id is handled once.
CREATE TABLE call_room_events (
    id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    licensee_id uuid REFERENCES licensees (id) ON DELETE CASCADE,
    call_id uuid REFERENCES calls (id) ON DELETE CASCADE,
    kind text NOT NULL,
    outcome text NOT NULL,
    created_at timestamptz NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_room_events_processed ON call_room_events (processed_at);

ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE devices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON devices
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE calls FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON calls
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE call_room_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE call_room_events FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_only ON call_room_events
    USING (talktime_platform_scope())
    WITH CHECK (talktime_platform_scope());

GRANT SELECT, INSERT, UPDATE, DELETE ON devices TO talktime_app;
GRANT SELECT, INSERT, UPDATE ON calls TO talktime_app;
GRANT SELECT, INSERT ON call_room_events TO talktime_app;
GRANT UPDATE (licensee_id, call_id, outcome) ON call_room_events TO talktime_app;

-- Many postings in one call: the billing engine charges every due call of a round with one round trip.
-- The same guarantees as talktime_ledger_post, for a batch, in the caller's transaction and scope:
--   1. refuse a malformed batch: a posting without two or more non-zero legs that sum to zero, legs not grouped
--      by posting in ascending order, or one key twice;
--   2. make sure every account exists (INSERT ... ON CONFLICT DO NOTHING, in a fixed order), then lock all of
--      them with SELECT ... FOR UPDATE in id order, like every other posting;
--   3. only then look for keys posted before (a posting of the same key that committed while this one waited
--      for its locks is seen): those postings are 'replayed' and change nothing;
--   4. walk the postings in order against the locked balances: one whose debit would take an account below
--      zero where p_leg_may_overdraw does not allow it is 'insufficient_funds' and changes nothing; the
--      others are 'posted' and move the balances the later ones see;
--   5. write the transactions, the new balances (one UPDATE per account, however many postings touched it)
--      and the entries with their balances after, in three set-based statements.
-- A hot account touched by every posting of the batch is locked and written once per batch, not once per
-- posting: that is what makes a batch cheaper than its postings one by one.
CREATE FUNCTION talktime_ledger_post_batch(
    p_licensees uuid[], p_currencies text[], p_kinds text[], p_keys text[], p_metadata jsonb[],
    p_leg_postings int4[], p_leg_kinds text[], p_leg_owners uuid[], p_leg_shards int2[], p_leg_amounts int8[],
    p_leg_may_overdraw boolean[]
) RETURNS TABLE (o_posting integer, o_outcome text, o_transaction uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    v_count integer := coalesce(cardinality(p_keys), 0);
    v_legs integer := coalesce(cardinality(p_leg_postings), 0);
    v_leg_accounts uuid[];
    v_leg_slots int4[];
    v_leg_after int8[];
    v_slot_ids uuid[] := '{}';
    v_balances int8[] := '{}';
    v_status text[];
    v_transactions uuid[];
    v_first int4[];
    v_last int4[];
    v_row record;
    v_ok boolean;
    v_slot integer;
BEGIN
    IF v_count = 0 THEN
        RETURN;
    END IF;
    IF cardinality(p_licensees) <> v_count OR cardinality(p_currencies) <> v_count OR cardinality(p_kinds) <> v_count
       OR cardinality(p_metadata) <> v_count OR cardinality(p_leg_kinds) <> v_legs OR cardinality(p_leg_owners) <> v_legs
       OR cardinality(p_leg_shards) <> v_legs OR cardinality(p_leg_amounts) <> v_legs
       OR cardinality(p_leg_may_overdraw) <> v_legs
       OR EXISTS (SELECT 1 FROM generate_subscripts(p_leg_postings, 1) i
                  WHERE p_leg_postings[i] IS NULL OR p_leg_postings[i] NOT BETWEEN 1 AND v_count
                     OR (i > 1 AND p_leg_postings[i] < p_leg_postings[i - 1]))
       OR EXISTS (SELECT 1 FROM unnest(p_leg_postings, p_leg_amounts) AS l(posting, amount)
                  GROUP BY l.posting HAVING count(*) < 2 OR sum(l.amount) <> 0 OR bool_or(l.amount IS NULL OR l.amount = 0))
       OR (SELECT count(DISTINCT l.posting) FROM unnest(p_leg_postings) AS l(posting)) <> v_count
       OR (SELECT count(DISTINCT (k.licensee, k.key)) FROM unnest(p_licensees, p_keys) AS k(licensee, key)) <> v_count THEN
        RAISE EXCEPTION 'a batch needs postings of two or more non-zero legs that sum to zero, grouped in order, keys unique'
            USING ERRCODE = 'check_violation';
    END IF;

    -- Each posting's legs run from v_first to v_last.
    SELECT array_agg(r.first ORDER BY r.posting), array_agg(r.last ORDER BY r.posting) INTO v_first, v_last
    FROM (SELECT l.posting, min(l.n)::int4 AS first, max(l.n)::int4 AS last
          FROM unnest(p_leg_postings) WITH ORDINALITY AS l(posting, n) GROUP BY l.posting) r;

    FOR attempt IN 1..2 LOOP
        SELECT array_agg(a.id ORDER BY l.n) INTO v_leg_accounts
        FROM unnest(p_leg_postings, p_leg_kinds, p_leg_owners, p_leg_shards) WITH ORDINALITY AS l(posting, kind, owner_id, shard, n)
        LEFT JOIN ledger_accounts a
          ON a.licensee_id = p_licensees[l.posting] AND a.kind = l.kind AND a.owner_id = l.owner_id AND a.shard = l.shard;
        EXIT WHEN array_position(v_leg_accounts, NULL) IS NULL OR attempt = 2;
        INSERT INTO ledger_accounts (licensee_id, kind, owner_id, shard, currency)
        SELECT DISTINCT p_licensees[l.posting], l.kind, l.owner_id, l.shard, p_currencies[l.posting]
        FROM unnest(p_leg_postings, p_leg_kinds, p_leg_owners, p_leg_shards) AS l(posting, kind, owner_id, shard)
        ORDER BY 1, 2, 3, 4
        ON CONFLICT DO NOTHING;
    END LOOP;
    IF array_position(v_leg_accounts, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'a ledger account of the batch is not visible in this scope' USING ERRCODE = 'insufficient_privilege';
    END IF;

    FOR v_row IN
        SELECT a.id, a.balance FROM ledger_accounts a WHERE a.id = ANY (v_leg_accounts) ORDER BY a.id FOR UPDATE
    LOOP
        v_slot_ids := v_slot_ids || v_row.id;
        v_balances := v_balances || v_row.balance;
    END LOOP;
    SELECT array_agg(s.slot::int4 ORDER BY l.n) INTO v_leg_slots
    FROM unnest(v_leg_accounts) WITH ORDINALITY AS l(account_id, n)
    JOIN unnest(v_slot_ids) WITH ORDINALITY AS s(account_id, slot) ON s.account_id = l.account_id;
    IF EXISTS (SELECT 1 FROM unnest(p_leg_postings, v_leg_accounts) AS l(posting, account_id)
               JOIN ledger_accounts a ON a.id = l.account_id WHERE a.currency <> p_currencies[l.posting]) THEN
        RAISE EXCEPTION 'a ledger account of the batch is in another currency than its posting' USING ERRCODE = 'check_violation';
    END IF;

    v_status := array_fill(NULL::text, ARRAY[v_count]);
    v_transactions := array_fill(NULL::uuid, ARRAY[v_count]);
    FOR v_row IN
        SELECT k.n, t.id FROM unnest(p_licensees, p_keys) WITH ORDINALITY AS k(licensee, key, n)
        JOIN ledger_transactions t ON t.licensee_id = k.licensee AND t.idempotency_key = k.key
    LOOP
        v_status[v_row.n] := 'replayed';
        v_transactions[v_row.n] := v_row.id;
    END LOOP;

    v_leg_after := array_fill(NULL::int8, ARRAY[v_legs]);
    FOR i IN 1..v_count LOOP
        CONTINUE WHEN v_status[i] IS NOT NULL;
        v_ok := true;
        FOR leg IN v_first[i]..v_last[i] LOOP
            v_slot := v_leg_slots[leg];
            IF p_leg_amounts[leg] < 0 AND v_balances[v_slot] + p_leg_amounts[leg] < 0 AND NOT p_leg_may_overdraw[leg] THEN
                v_ok := false;
            END IF;
        END LOOP;
        IF NOT v_ok THEN
            v_status[i] := 'insufficient_funds';
            CONTINUE;
        END IF;
        v_status[i] := 'posted';
        FOR leg IN v_first[i]..v_last[i] LOOP
            v_slot := v_leg_slots[leg];
            v_balances[v_slot] := v_balances[v_slot] + p_leg_amounts[leg];
            v_leg_after[leg] := v_balances[v_slot];
        END LOOP;
    END LOOP;

    WITH inserted AS (
        INSERT INTO ledger_transactions (licensee_id, kind, idempotency_key, currency, metadata)
        SELECT p_licensees[i], p_kinds[i], p_keys[i], p_currencies[i], coalesce(p_metadata[i], '{}')
        FROM generate_subscripts(p_keys, 1) i WHERE v_status[i] = 'posted' ORDER BY i
        RETURNING id, licensee_id, idempotency_key
    )
    SELECT array_agg(inserted.id ORDER BY k.n) INTO v_transactions
    FROM unnest(p_licensees, p_keys, v_transactions) WITH ORDINALITY AS k(licensee, key, earlier, n)
    LEFT JOIN inserted ON inserted.licensee_id = k.licensee AND inserted.idempotency_key = k.key;
    -- The earlier transactions of replayed postings, which the join above replaced by NULL.
    FOR v_row IN
        SELECT k.n, t.id FROM unnest(p_licensees, p_keys) WITH ORDINALITY AS k(licensee, key, n)
        JOIN ledger_transactions t ON t.licensee_id = k.licensee AND t.idempotency_key = k.key
        WHERE v_status[k.n] = 'replayed'
    LOOP
        v_transactions[v_row.n] := v_row.id;
    END LOOP;

    UPDATE ledger_accounts a SET balance = s.balance, updated_at = now()
    FROM unnest(v_slot_ids, v_balances) AS s(id, balance)
    WHERE a.id = s.id AND a.balance <> s.balance;

    INSERT INTO ledger_entries (licensee_id, transaction_id, account_id, amount, balance_after)
    SELECT p_licensees[p_leg_postings[l]], v_transactions[p_leg_postings[l]], v_leg_accounts[l], p_leg_amounts[l], v_leg_after[l]
    FROM generate_subscripts(p_leg_postings, 1) l
    WHERE v_status[p_leg_postings[l]] = 'posted'
    ORDER BY l;

    RETURN QUERY SELECT i::integer, v_status[i], v_transactions[i] FROM generate_subscripts(p_keys, 1) i ORDER BY i;
END
$$;
REVOKE ALL ON FUNCTION talktime_ledger_post_batch FROM PUBLIC;
GRANT EXECUTE ON FUNCTION talktime_ledger_post_batch TO talktime_app;
