-- Concurrent single postings share one database transaction (Ledger.post, through PostingCombiner): a batch of
-- postings that arrived while another was being posted is posted by talktime_ledger_post_batch in one statement,
-- outside any explicit transaction, as talktime_ledger_post posts one. For that the batch function gains:
--   * p_scope: scope the statement's own transaction to the batch's one Licensee, as talktime_ledger_post's
--     p_scope does (refused when the batch names several Licensees or the transaction is scoped to another);
--   * for each posted posting, the time, accounts and balances after of its legs, in the order of its legs, which
--     Ledger.post returns to its caller.
-- Its guarantees and outcomes are otherwise unchanged (migrations 0004 and 0005 describe them). The return type
-- changes, so the function is dropped and created again, with its grants.

DROP FUNCTION talktime_ledger_post_batch(uuid[], text[], text[], text[], jsonb[], int4[], text[], uuid[], int2[], int8[], boolean[]);

CREATE FUNCTION talktime_ledger_post_batch(
    p_scope boolean, p_licensees uuid[], p_currencies text[], p_kinds text[], p_keys text[], p_metadata jsonb[],
    p_leg_postings int4[], p_leg_kinds text[], p_leg_owners uuid[], p_leg_shards int2[], p_leg_amounts int8[],
    p_leg_may_overdraw boolean[]
) RETURNS TABLE (
    o_posting integer, o_outcome text, o_transaction uuid, o_created_at timestamptz, o_accounts uuid[],
    o_balances_after int8[]
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    v_count integer := coalesce(cardinality(p_keys), 0);
    v_legs integer := coalesce(cardinality(p_leg_postings), 0);
    v_leg_accounts uuid[];
    v_leg_slots int4[];
    v_leg_after int8[];
    v_slot_ids uuid[];
    v_balances int8[];
    v_status text[];
    v_posted boolean[];
    v_transactions uuid[];
    v_first int4[];
    v_last int4[];
    v_bad boolean;
    v_ok boolean;
    v_slot integer;
    v_now timestamptz := now();
    v_current text := coalesce(current_setting('talktime.licensee_id', true), '');
BEGIN
    IF v_count = 0 THEN
        RETURN;
    END IF;
    IF cardinality(p_licensees) <> v_count OR cardinality(p_currencies) <> v_count OR cardinality(p_kinds) <> v_count
       OR cardinality(p_metadata) <> v_count OR cardinality(p_leg_kinds) <> v_legs OR cardinality(p_leg_owners) <> v_legs
       OR cardinality(p_leg_shards) <> v_legs OR cardinality(p_leg_amounts) <> v_legs
       OR cardinality(p_leg_may_overdraw) <> v_legs THEN
        RAISE EXCEPTION 'a batch needs postings of two or more non-zero legs that sum to zero, grouped in order, keys unique'
            USING ERRCODE = 'check_violation';
    END IF;
    -- Legs grouped by posting in ascending order; each posting two or more non-zero legs summing to zero; keys
    -- unique. Each posting's legs run from v_first to v_last.
    SELECT array_agg(g.first ORDER BY g.posting), array_agg(g.last ORDER BY g.posting),
           count(*) <> v_count OR bool_or(g.legs < 2 OR g.total <> 0 OR g.zero)
    INTO v_first, v_last, v_bad
    FROM (SELECT l.posting, min(l.n)::int4 AS first, max(l.n)::int4 AS last, count(*) AS legs, sum(l.amount) AS total,
                 bool_or(l.amount IS NULL OR l.amount = 0) AS zero
          FROM unnest(p_leg_postings, p_leg_amounts) WITH ORDINALITY AS l(posting, amount, n) GROUP BY l.posting) g;
    IF v_bad
       OR EXISTS (SELECT 1 FROM generate_subscripts(p_leg_postings, 1) i
                  WHERE p_leg_postings[i] IS NULL OR p_leg_postings[i] NOT BETWEEN 1 AND v_count
                     OR (i > 1 AND p_leg_postings[i] < p_leg_postings[i - 1]))
       OR (SELECT count(DISTINCT (k.licensee, k.key)) FROM unnest(p_licensees, p_keys) AS k(licensee, key)) <> v_count THEN
        RAISE EXCEPTION 'a batch needs postings of two or more non-zero legs that sum to zero, grouped in order, keys unique'
            USING ERRCODE = 'check_violation';
    END IF;
    IF p_scope THEN
        IF EXISTS (SELECT 1 FROM unnest(p_licensees) l WHERE l IS DISTINCT FROM p_licensees[1]) THEN
            RAISE EXCEPTION 'a scoped batch posts for one Licensee' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF v_current <> '' AND v_current <> p_licensees[1]::text THEN
            RAISE EXCEPTION 'the transaction is scoped to another Licensee' USING ERRCODE = 'insufficient_privilege';
        END IF;
        PERFORM set_config('talktime.licensee_id', p_licensees[1]::text, true),
                set_config('talktime.platform_scope', 'off', true);
    END IF;

    -- Each distinct account is looked up once, however many legs name it (a hot shard is named by every posting).
    FOR attempt IN 1..2 LOOP
        SELECT array_agg(x.id ORDER BY x.n) INTO v_leg_accounts
        FROM (SELECT a.id, unnest(k.legs) AS n
              FROM (SELECT p_licensees[l.posting] AS licensee_id, l.kind, l.owner_id, l.shard, array_agg(l.n) AS legs
                    FROM unnest(p_leg_postings, p_leg_kinds, p_leg_owners, p_leg_shards) WITH ORDINALITY
                         AS l(posting, kind, owner_id, shard, n)
                    GROUP BY 1, 2, 3, 4) k
              LEFT JOIN LATERAL (
                  SELECT a.id FROM ledger_accounts a
                  WHERE a.licensee_id = k.licensee_id AND a.kind = k.kind AND a.owner_id = k.owner_id AND a.shard = k.shard
              ) a ON true) x;
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

    -- The lock, in id order; each account gets a slot (its place in that order) holding its running balance.
    WITH locked AS (
        SELECT a.id, a.balance, a.currency FROM ledger_accounts a WHERE a.id = ANY (v_leg_accounts) ORDER BY a.id FOR UPDATE
    ), slots AS (
        SELECT locked.*, row_number() OVER (ORDER BY locked.id)::int4 AS slot FROM locked
    )
    SELECT (SELECT array_agg(s.id ORDER BY s.slot) FROM slots s), (SELECT array_agg(s.balance ORDER BY s.slot) FROM slots s),
           array_agg(s.slot ORDER BY l.n), bool_or(s.currency <> c.currency)
    INTO v_slot_ids, v_balances, v_leg_slots, v_bad
    FROM unnest(v_leg_accounts, p_leg_postings) WITH ORDINALITY AS l(account_id, posting, n)
    JOIN slots s ON s.id = l.account_id
    JOIN unnest(p_currencies) WITH ORDINALITY AS c(currency, posting) ON c.posting = l.posting;
    IF v_bad THEN
        RAISE EXCEPTION 'a ledger account of the batch is in another currency than its posting' USING ERRCODE = 'check_violation';
    END IF;

    -- Keys posted before (perhaps while this batch waited for its locks) are replays.
    SELECT array_agg(t.id ORDER BY k.n) INTO v_transactions
    FROM unnest(p_licensees, p_keys) WITH ORDINALITY AS k(licensee, key, n)
    LEFT JOIN ledger_transactions t ON t.licensee_id = k.licensee AND t.idempotency_key = k.key;

    v_status := array_fill(NULL::text, ARRAY[v_count]);
    v_posted := array_fill(false, ARRAY[v_count]);
    -- Zeros, not NULLs: only posted legs are read, and a slice of an array that once held a NULL keeps its null
    -- bitmap, which the service's driver refuses to decode as [Int64].
    v_leg_after := array_fill(0::int8, ARRAY[v_legs]);
    FOR i IN 1..v_count LOOP
        IF v_transactions[i] IS NOT NULL THEN
            v_status[i] := 'replayed';
            CONTINUE;
        END IF;
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
        v_posted[i] := true;
        v_transactions[i] := gen_random_uuid();
        FOR leg IN v_first[i]..v_last[i] LOOP
            v_slot := v_leg_slots[leg];
            v_balances[v_slot] := v_balances[v_slot] + p_leg_amounts[leg];
            v_leg_after[leg] := v_balances[v_slot];
        END LOOP;
    END LOOP;

    INSERT INTO ledger_transactions (id, licensee_id, kind, idempotency_key, currency, metadata, created_at)
    SELECT p.id, p.licensee, p.kind, p.key, p.currency, coalesce(p.metadata, '{}'), v_now
    FROM unnest(v_transactions, p_licensees, p_kinds, p_keys, p_currencies, p_metadata, v_posted)
         AS p(id, licensee, kind, key, currency, metadata, posted)
    WHERE p.posted;

    UPDATE ledger_accounts a SET balance = s.balance, updated_at = v_now
    FROM unnest(v_slot_ids, v_balances) AS s(id, balance)
    WHERE a.id = s.id AND a.balance <> s.balance;

    INSERT INTO ledger_entries (licensee_id, transaction_id, account_id, amount, balance_after)
    SELECT p.licensee, p.id, l.account_id, l.amount, l.after
    FROM unnest(p_leg_postings, v_leg_accounts, p_leg_amounts, v_leg_after) WITH ORDINALITY AS l(posting, account_id, amount, after, n)
    JOIN unnest(v_transactions, p_licensees, v_posted) WITH ORDINALITY AS p(id, licensee, posted, posting) ON p.posting = l.posting
    WHERE p.posted
    ORDER BY l.n;

    -- A posted posting's accounts and balances after, in the order of its legs; nothing for the others.
    RETURN QUERY
    SELECT s.n::integer, s.status, s.id, v_now,
           CASE WHEN v_posted[s.n] THEN v_leg_accounts[v_first[s.n]:v_last[s.n]] END,
           CASE WHEN v_posted[s.n] THEN v_leg_after[v_first[s.n]:v_last[s.n]] END
    FROM unnest(v_status, v_transactions) WITH ORDINALITY AS s(status, id, n);
END
$$;

REVOKE ALL ON FUNCTION talktime_ledger_post_batch FROM PUBLIC;
GRANT EXECUTE ON FUNCTION talktime_ledger_post_batch TO talktime_app;
