-- Money: a double-entry ledger, idempotency keys for money-moving requests, top-ups and the payment
-- provider's event inbox.
--
-- The ledger's guarantees are held by the database, whatever the service does:
--   * the service role can only read the ledger and call talktime_ledger_post, the one posting path; it cannot
--     insert, update or delete an account, transaction or entry by itself;
--   * that function refuses a posting whose amounts do not sum to zero, moves each balance in the same
--     statements that write its entries, and records every entry's balance after it;
--   * transactions and entries are immutable: even the owner's UPDATE, DELETE and TRUNCATE are refused by
--     triggers.
-- `talktime ledger verify` checks all of it after the fact.

-- One row per account. Accounts of a person (a wallet, an advisor's earnings) are owned by that user; the
-- Licensee-wide ones (its earnings, platform revenue earned from it, payment clearing, payouts in transit,
-- promotions) are owned by the Licensee itself. The two hot ones, touched by every call charge, are split
-- into shards so that concurrent charges do not queue behind one row lock; their balance is the sum of the
-- shards.
CREATE TABLE ledger_accounts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    licensee_id uuid NOT NULL REFERENCES licensees (id),
    kind text NOT NULL CHECK (kind IN ('wallet', 'advisor_earnings', 'licensee_earnings', 'platform_revenue',
        'payment_clearing', 'payouts_in_transit', 'promotions')),
    owner_id uuid NOT NULL,
    shard smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 255),
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    balance bigint NOT NULL DEFAULT 0,
    -- The user behind a person's account, so it can reference users; NULL for Licensee-wide accounts.
    user_id uuid GENERATED ALWAYS AS (CASE WHEN kind IN ('wallet', 'advisor_earnings') THEN owner_id END) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (licensee_id, kind, owner_id, shard),
    UNIQUE (licensee_id, id),
    FOREIGN KEY (licensee_id, user_id) REFERENCES users (licensee_id, id),
    CHECK ((kind IN ('wallet', 'advisor_earnings')) = (owner_id <> licensee_id)),
    CHECK (kind IN ('licensee_earnings', 'platform_revenue') OR shard = 0)
);

CREATE TABLE ledger_transactions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    licensee_id uuid NOT NULL REFERENCES licensees (id),
    kind text NOT NULL CHECK (kind IN ('topup', 'call_charge', 'refund', 'dispute', 'dispute_reversal', 'adjustment',
        'promo', 'payout', 'payout_reversal')),
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 300),
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (licensee_id, idempotency_key),
    UNIQUE (licensee_id, id)
);
CREATE INDEX ledger_transactions_time ON ledger_transactions (licensee_id, created_at);

-- The entries; `id` orders them, so an account's history is its entries by id, and `balance_after` is the
-- account's balance once the entry was applied.
CREATE TABLE ledger_entries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    licensee_id uuid NOT NULL,
    transaction_id uuid NOT NULL,
    account_id uuid NOT NULL,
    amount bigint NOT NULL CHECK (amount <> 0),
    balance_after bigint NOT NULL,
    FOREIGN KEY (licensee_id, transaction_id) REFERENCES ledger_transactions (licensee_id, id),
    FOREIGN KEY (licensee_id, account_id) REFERENCES ledger_accounts (licensee_id, id)
);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id);
CREATE INDEX ledger_entries_transaction ON ledger_entries (transaction_id);

CREATE FUNCTION talktime_ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION talktime_ledger_refuse_change();
CREATE TRIGGER immutable_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION talktime_ledger_refuse_change();
CREATE TRIGGER immutable BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION talktime_ledger_refuse_change();
CREATE TRIGGER immutable_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION talktime_ledger_refuse_change();

-- The posting path: every money movement goes through this one function (called by Ledger.post), in one round
-- trip. It runs as the schema's owner (SECURITY DEFINER), since the service role may not write the ledger
-- itself; row level security still applies (the tables force it), under the caller's scope. In order:
--   1. refuse a malformed posting: fewer than two legs, a zero leg, amounts that do not sum to zero;
--   2. with p_scope, scope the transaction to the Licensee: for a call outside any explicit transaction, which
--      is then this statement's own; refused if the transaction is already scoped to another Licensee;
--   3. return the first result if the key was posted before (a replay takes no lock);
--   4. make sure every account exists: when one is missing, INSERT ... ON CONFLICT DO NOTHING, because FOR
--      UPDATE locks nothing that is not there; rows go in a fixed order so that two postings creating accounts
--      never deadlock;
--   5. lock the accounts with SELECT ... FOR UPDATE in id order, the same order for every posting, so two
--      postings never wait on each other in a cycle; balances read after the lock are the latest committed;
--   6. check the rules: a debit may take an account below zero only where p_may_overdraw says so (the caller
--      decides: a wallet through a refund or dispute); otherwise return 'insufficient_funds', writing nothing;
--   7. write the transaction, move the balances and write the entries with their balances after: three
--      set-based statements, so the locks of a hot account are held as briefly as possible.
-- Outcomes are rows, not exceptions, so that a caller's surrounding transaction stays usable.
CREATE FUNCTION talktime_ledger_post(
    p_scope boolean, p_licensee uuid, p_currency text, p_kind text, p_key text, p_metadata jsonb,
    p_kinds text[], p_owners uuid[], p_shards int2[], p_amounts int8[], p_may_overdraw boolean[]
) RETURNS TABLE (
    o_outcome text, o_transaction uuid, o_created_at timestamptz, o_leg integer, o_account uuid, o_kind text,
    o_owner uuid, o_shard int2, o_amount int8, o_balance_after int8, o_transaction_kind text, o_currency text
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    v_legs integer := cardinality(p_kinds);
    v_locked record;
    v_balances int8[];
    v_accounts uuid[];
    v_earlier uuid;
    v_transaction uuid;
    v_created timestamptz;
    v_current text := coalesce(current_setting('talktime.licensee_id', true), '');
BEGIN
    IF v_legs IS NULL OR v_legs < 2 OR cardinality(p_owners) <> v_legs OR cardinality(p_shards) <> v_legs
       OR cardinality(p_amounts) <> v_legs OR cardinality(p_may_overdraw) <> v_legs
       OR EXISTS (SELECT 1 FROM unnest(p_amounts) a WHERE a IS NULL OR a = 0)
       OR (SELECT sum(a) FROM unnest(p_amounts) a) <> 0 THEN
        RAISE EXCEPTION 'a posting needs two or more non-zero legs that sum to zero' USING ERRCODE = 'check_violation';
    END IF;
    IF p_scope THEN
        IF v_current <> '' AND v_current <> p_licensee::text THEN
            RAISE EXCEPTION 'the transaction is scoped to another Licensee' USING ERRCODE = 'insufficient_privilege';
        END IF;
        PERFORM set_config('talktime.licensee_id', p_licensee::text, true),
                set_config('talktime.platform_scope', 'off', true);
    END IF;

    SELECT t.id INTO v_earlier FROM ledger_transactions t WHERE t.licensee_id = p_licensee AND t.idempotency_key = p_key;
    IF v_earlier IS NULL THEN
        -- The accounts' ids first, then the lock by id alone: locking through the join would re-evaluate the
        -- join for every row a concurrent posting changed while this one waited, which costs a hot wallet dearly.
        -- Accounts that do not exist yet are created first (and the ids looked up again).
        v_accounts := array_fill(NULL::uuid, ARRAY[v_legs]);
        v_balances := array_fill(NULL::int8, ARRAY[v_legs]);
        FOR attempt IN 1..2 LOOP
            FOR v_locked IN
                SELECT a.id, w.leg
                FROM ledger_accounts a
                JOIN unnest(p_kinds, p_owners, p_shards) WITH ORDINALITY AS w(kind, owner_id, shard, leg)
                  ON a.licensee_id = p_licensee AND a.kind = w.kind AND a.owner_id = w.owner_id AND a.shard = w.shard
            LOOP
                v_accounts[v_locked.leg] := v_locked.id;
            END LOOP;
            EXIT WHEN array_position(v_accounts, NULL) IS NULL OR attempt = 2;
            INSERT INTO ledger_accounts (licensee_id, kind, owner_id, shard, currency)
            SELECT p_licensee, w.kind, w.owner_id, w.shard, p_currency
            FROM unnest(p_kinds, p_owners, p_shards) AS w(kind, owner_id, shard)
            ORDER BY w.kind, w.owner_id, w.shard
            ON CONFLICT DO NOTHING;
        END LOOP;
        FOR v_locked IN
            SELECT a.id, a.balance, a.currency FROM ledger_accounts a WHERE a.id = ANY (v_accounts) ORDER BY a.id FOR UPDATE
        LOOP
            IF v_locked.currency <> p_currency THEN
                RAISE EXCEPTION 'ledger account % is in %, the posting in %', v_locked.id, v_locked.currency, p_currency
                    USING ERRCODE = 'check_violation';
            END IF;
            v_balances[array_position(v_accounts, v_locked.id)] := v_locked.balance;
        END LOOP;

        FOR i IN 1..v_legs LOOP
            IF v_accounts[i] IS NULL OR v_balances[i] IS NULL THEN
                RAISE EXCEPTION 'ledger account % % of leg % is not visible in this scope', p_kinds[i], p_owners[i], i
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF p_amounts[i] < 0 AND v_balances[i] + p_amounts[i] < 0 AND NOT p_may_overdraw[i] THEN
                RETURN QUERY SELECT 'insufficient_funds'::text, NULL::uuid, NULL::timestamptz, i, v_accounts[i], p_kinds[i],
                    p_owners[i], p_shards[i], p_amounts[i], v_balances[i], p_kind, p_currency;
                RETURN;
            END IF;
        END LOOP;

        INSERT INTO ledger_transactions (licensee_id, kind, idempotency_key, currency, metadata)
        VALUES (p_licensee, p_kind, p_key, p_currency, p_metadata)
        ON CONFLICT (licensee_id, idempotency_key) DO NOTHING
        RETURNING id, created_at INTO v_transaction, v_created;
        IF v_transaction IS NOT NULL THEN
            RETURN QUERY
                WITH moved AS (
                    UPDATE ledger_accounts a SET balance = a.balance + x.amount, updated_at = v_created
                    FROM unnest(v_accounts, p_amounts) AS x(account_id, amount)
                    WHERE a.id = x.account_id
                    RETURNING a.id, a.balance
                ), entries AS (
                    INSERT INTO ledger_entries (licensee_id, transaction_id, account_id, amount, balance_after)
                    SELECT p_licensee, v_transaction, x.account_id, x.amount, moved.balance
                    FROM unnest(v_accounts, p_amounts) WITH ORDINALITY AS x(account_id, amount, n)
                    JOIN moved ON moved.id = x.account_id
                    ORDER BY x.n
                    RETURNING account_id, amount, balance_after
                )
                SELECT 'posted'::text, v_transaction, v_created, x.n::integer, e.account_id, p_kinds[x.n], p_owners[x.n],
                       p_shards[x.n], e.amount, e.balance_after, p_kind, p_currency
                FROM entries e JOIN unnest(v_accounts) WITH ORDINALITY AS x(account_id, n) ON x.account_id = e.account_id;
            RETURN;
        END IF;
        -- A posting of the same key committed while this one waited for its locks.
        SELECT t.id INTO v_earlier FROM ledger_transactions t WHERE t.licensee_id = p_licensee AND t.idempotency_key = p_key;
    END IF;

    RETURN QUERY
        SELECT 'replayed'::text, t.id, t.created_at, NULL::integer, e.account_id, a.kind, a.owner_id, a.shard, e.amount,
               e.balance_after, t.kind, t.currency::text
        FROM ledger_transactions t
        JOIN ledger_entries e ON e.transaction_id = t.id
        JOIN ledger_accounts a ON a.id = e.account_id
        WHERE t.id = v_earlier
        ORDER BY e.id;
END
$$;
REVOKE ALL ON FUNCTION talktime_ledger_post FROM PUBLIC;

-- Stored outcomes of money-moving requests, by the caller's Idempotency-Key (Stripe's semantics): the same
-- key with the same request replays the response; with a different request it is refused; while the first is
-- still running a duplicate gets 409. `fingerprint` is SHA-256 of method, path and body.
CREATE TABLE idempotency_keys (
    licensee_id uuid NOT NULL REFERENCES licensees (id) ON DELETE CASCADE,
    principal_id uuid NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint bytea NOT NULL,
    -- Set while the first request runs; a request that died leaves it to expire, then the key may run again.
    locked_until timestamptz,
    response_status integer,
    response_content_type text,
    response_body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (licensee_id, principal_id, key),
    CHECK ((completed_at IS NULL) = (response_status IS NULL))
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- An End User's request to add money: a payment at the provider, credited when its success event arrives.
CREATE TABLE top_ups (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    licensee_id uuid NOT NULL,
    user_id uuid NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    -- The provider's payment (a Stripe PaymentIntent id), once created.
    payment_id text UNIQUE,
    failure_code text,
    -- The End User's Idempotency-Key: a retried request finds its top-up instead of making a second one.
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    -- How much of the payment refunds have already taken back from the wallet (cumulative, minor units).
    refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    succeeded_at timestamptz,
    UNIQUE (licensee_id, id),
    UNIQUE (licensee_id, user_id, idempotency_key),
    FOREIGN KEY (licensee_id, user_id) REFERENCES users (licensee_id, id)
);
CREATE INDEX top_ups_user ON top_ups (licensee_id, user_id, created_at DESC);

-- The inbox of the payment provider's webhook events: each event id is processed once, in the same database
-- transaction as its effects. Only ids, types and outcomes are kept, never the payload (it holds personal data).
CREATE TABLE payment_events (
    id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    type text NOT NULL,
    licensee_id uuid REFERENCES licensees (id) ON DELETE SET NULL,
    outcome text NOT NULL,
    created_at timestamptz NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_events_processed ON payment_events (processed_at);

-- Row level security.
ALTER TABLE ledger_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ledger_accounts
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE ledger_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_transactions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ledger_transactions
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE ledger_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ledger_entries
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE top_ups ENABLE ROW LEVEL SECURITY;
ALTER TABLE top_ups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON top_ups
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE payment_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_events FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_only ON payment_events
    USING (talktime_platform_scope())
    WITH CHECK (talktime_platform_scope());

-- The service reads the ledger and writes it only through the posting function.
GRANT SELECT ON ledger_accounts, ledger_transactions, ledger_entries TO talktime_app;
GRANT EXECUTE ON FUNCTION talktime_ledger_post TO talktime_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys, top_ups TO talktime_app;
-- An event's row is written first (so a concurrent duplicate waits for it), its outcome once processed.
GRANT SELECT, INSERT ON payment_events TO talktime_app;
GRANT UPDATE (licensee_id, outcome) ON payment_events TO talktime_app;
