-- Lighter ledger writes, for the billing engine's batches (issue 5) and every posting (issue 4), each step measured
-- with bench/billing-engine.sh (10,000 due calls, batches of 500, 2 cores, fsync on):
--
-- 1. The ledger's foreign keys on its write path go. PostgreSQL checks each one with a query and a row lock per
--    written row: four entries a charge made 8 checks, each transaction one more against its Licensee. With
--    them the engine charged about 3,400 increments a second with two engines; without them about 6,000.
--    The references still hold, by construction and by check: the service's role cannot write the ledger at
--    all; the two posting functions (SECURITY DEFINER) write entries only for accounts they have just locked
--    and transactions they have just inserted, with the Licensee of both; accounts and transactions are never
--    deleted (no grant; transactions refuse DELETE by trigger); and `talktime ledger verify` reports any entry
--    whose transaction or account is missing or belongs to another Licensee, and any transaction whose
--    Licensee is missing. Accounts keep their foreign keys (they are written once, not per charge).
-- 2. Indexes nothing reads: (licensee_id, id) on transactions and accounts served only those foreign keys, and
--    ledger_transactions_time served no query.
-- 3. talktime_ledger_post_batch, rewritten without per-leg work in SQL:
--    * each distinct account is looked up once (the hot shards are named by every posting of a batch) and
--      joined back to its legs without a second join, which the planner, guessing 10 rows for unnest, ran as a
--      nested loop over legs × accounts (2,000 × 1,000 comparisons a batch);
--    * the currency check is read from the locked rows instead of a second lookup;
--    * the transactions' ids are made before they are written, so entries need no join back to the inserted
--      rows, and posted postings are flagged in a boolean array rather than found by comparing texts.
--    Its guarantees and outcomes are unchanged (migration 0004 describes them).

ALTER TABLE ledger_entries
    DROP CONSTRAINT ledger_entries_licensee_id_transaction_id_fkey,
    DROP CONSTRAINT ledger_entries_licensee_id_account_id_fkey;
ALTER TABLE ledger_transactions
    DROP CONSTRAINT ledger_transactions_licensee_id_fkey,
    DROP CONSTRAINT ledger_transactions_licensee_id_id_key;
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_licensee_id_id_key;
DROP INDEX ledger_transactions_time;

CREATE OR REPLACE FUNCTION talktime_ledger_post_batch(
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
    v_leg_after := array_fill(NULL::int8, ARRAY[v_legs]);
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

    RETURN QUERY SELECT s.n::integer, s.status, s.id FROM unnest(v_status, v_transactions) WITH ORDINALITY AS s(status, id, n);
END
$$;
