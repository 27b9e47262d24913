-- Money: a double-entry ledger, idempotency keys for money-moving requests, top-ups and the payment
-- provider's event inbox.
--
-- Guarantees held by the database itself, whatever the service does:
--   * entries and transactions are immutable (the service may insert, never update or delete);
--   * an account's balance changes only through its entries: a trigger adds each entry's amount to the balance
--     in the same statement and records the balance after it, and the service has no UPDATE on balances;
--   * at commit, every transaction's entries sum to zero and share the transaction's currency.
-- Locking (SELECT ... FOR UPDATE in a fixed order) and the rules on who may go below zero live in the one
-- posting path, Ledger.post, and are checked after the fact by `talktime ledger verify`.

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
-- account's balance once the entry was applied (set by the trigger below, whatever the insert says).
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

-- Applies an entry to its account's balance. SECURITY DEFINER: it runs as the schema's owner, because the
-- service itself may not update balances. Row level security still applies (the tables force it).
-- An entry may only join a ledger transaction written by the same database transaction (its row's xmin is
-- ours): the balance check at commit runs once per ledger transaction, so a later entry would escape it.
-- The posting path uses no savepoints, whose rows would carry a subtransaction's id.
CREATE FUNCTION talktime_ledger_apply_entry() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_transactions
                   WHERE id = NEW.transaction_id AND xmin = pg_current_xact_id()::xid) THEN
        RAISE EXCEPTION 'entries may only be added to a ledger transaction written in the same database transaction'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE ledger_accounts SET balance = balance + NEW.amount, updated_at = now()
    WHERE id = NEW.account_id AND licensee_id = NEW.licensee_id
    RETURNING balance INTO NEW.balance_after;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger account % does not exist', NEW.account_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER apply_entry BEFORE INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION talktime_ledger_apply_entry();

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

-- At commit: the transaction's entries sum to zero, there are at least two, and every account they touch is
-- in the transaction's currency. Deferred, so a transaction is checked once all its entries are in.
CREATE FUNCTION talktime_ledger_check_balanced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    total numeric;
    entries integer;
    foreign_currencies integer;
BEGIN
    SELECT coalesce(sum(e.amount), 0), count(*), count(*) FILTER (WHERE a.currency <> t.currency)
    INTO total, entries, foreign_currencies
    FROM ledger_transactions t
    LEFT JOIN ledger_entries e ON e.transaction_id = t.id
    LEFT JOIN ledger_accounts a ON a.id = e.account_id
    WHERE t.id = NEW.id;
    IF total <> 0 OR entries < 2 OR foreign_currencies > 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced (sum %, % entries, % in another currency)',
            NEW.id, total, entries, foreign_currencies USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER balanced AFTER INSERT ON ledger_transactions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION talktime_ledger_check_balanced();

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

-- The ledger is append-only for the service. Balances change only through the entry trigger; the service may
-- update `updated_at` alone, because SELECT ... FOR UPDATE requires UPDATE on at least one column.
GRANT SELECT, INSERT ON ledger_accounts, ledger_transactions, ledger_entries TO talktime_app;
GRANT UPDATE (updated_at) ON ledger_accounts TO talktime_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys, top_ups TO talktime_app;
-- An event's row is written first (so a concurrent duplicate waits for it), its outcome once processed.
GRANT SELECT, INSERT ON payment_events TO talktime_app;
GRANT UPDATE (licensee_id, outcome) ON payment_events TO talktime_app;
