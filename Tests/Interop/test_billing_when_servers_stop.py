"""The billing engine when the servers running it stop in the middle of their work.

Each test gives a Licensee of its own CALLS calls, each answered CATCH_UP_SECONDS ago and paid for nothing yet,
so that every call has eleven increments due at once: hundreds of batches of work, charged by extra servers in
small batches beside the server scripts/test started (which charges them too).

- Killed (SIGKILL) and started again, KILLS times at random moments while work is left: afterwards every call is
  paid ahead of the clock with increments 1..n under its keys `call:<id>:<n>`, nothing charged twice and nothing
  skipped; its paid time, billed amount and wallet agree with n; `talktime ledger verify` passes. The seed is
  printed; TALKTIME_KILL_SEED=<seed> repeats the schedule of kills (where in a batch each lands is the machine's
  doing).
- Stopped gracefully (SIGTERM) in the middle of a round: the server rolls back nothing it had begun (its batch in
  flight is committed) and exits 0.
"""
import os
import random
import time
import uuid

CALLS = 1500
INCREMENT_SECONDS = 60
RATE_PER_MINUTE = 120
INCREMENT_PRICE = 120
FUNDS = 100_000
CATCH_UP_SECONDS = 600
KILLS = 8
ENGINE_SETTINGS = {"BILLING_BATCH_SIZE": "50", "BILLING_POLL_INTERVAL_MS": "200"}


def seed_calls(talktime, slug):
    """CALLS End Users, each funded with FUNDS (one top-up posting) and in an active call with an Advisor of their
    own, answered CATCH_UP_SECONDS ago and paid for nothing. No one is in their rooms, so the rooms are not checked
    for a day. Returns the Licensee's id."""
    parameters = dict(
        slug=slug, calls=CALLS, increment=INCREMENT_SECONDS, rate=RATE_PER_MINUTE, price=INCREMENT_PRICE, funds=FUNDS,
        catch_up=CATCH_UP_SECONDS,
    )
    talktime.sql(
        """
        BEGIN;
        INSERT INTO licensees (slug, name, app_name, currency, platform_fee_bps, commission_bps, billing_increment_seconds,
            licence_status, max_concurrent_calls)
        VALUES (:'slug', :'slug', :'slug', 'EUR', 1000, 2000, :increment, 'active', 1000000);
        INSERT INTO users (licensee_id, role, email, password_hash, display_name)
        SELECT l.id, r.role, r.role || g || '@' || l.slug || '.example', 'x', r.role || ' ' || g
        FROM licensees l, generate_series(1, :calls) g, unnest(ARRAY['end_user', 'advisor']) AS r(role)
        WHERE l.slug = :'slug';
        INSERT INTO advisor_profiles (user_id, licensee_id, rate_per_minute_minor, approval_status, presence)
        SELECT u.id, u.licensee_id, :rate, 'approved', 'busy'
        FROM users u JOIN licensees l ON l.id = u.licensee_id WHERE l.slug = :'slug' AND u.role = 'advisor';
        SELECT count(*) FROM licensees l,
            LATERAL (SELECT array_agg(u.id) AS ids FROM users u WHERE u.licensee_id = l.id AND u.role = 'end_user') w,
            LATERAL talktime_ledger_post(true, l.id, 'EUR', 'topup', 'kill-test-funding', '{}'::jsonb,
                array_fill('wallet'::text, ARRAY[:calls]) || 'payment_clearing'::text, w.ids || l.id,
                array_fill(0::int2, ARRAY[:calls + 1]), array_fill(:funds::int8, ARRAY[:calls]) || (-:funds::int8 * :calls),
                array_fill(false, ARRAY[:calls]) || true)
        WHERE l.slug = :'slug';
        INSERT INTO calls (licensee_id, caller_id, advisor_id, status, room_name, currency, rate_per_minute_minor,
            increment_seconds, increment_price_minor, commission_bps, platform_fee_bps, created_at, ring_deadline, answered_at,
            paid_until, reconcile_at)
        SELECT l.id, caller.id, advisor.id, 'active', 'kill-' || gen_random_uuid(), 'EUR', :rate, :increment, :price, 2000, 1000,
            s.started, s.started, s.started, s.started, now() + interval '1 day'
        FROM licensees l
        CROSS JOIN LATERAL (SELECT now() - make_interval(secs => :catch_up)) AS s(started)
        JOIN users caller ON caller.licensee_id = l.id AND caller.role = 'end_user'
        JOIN users advisor ON advisor.licensee_id = l.id AND advisor.role = 'advisor'
            AND split_part(advisor.display_name, ' ', 2) = split_part(caller.display_name, ' ', 2)
        WHERE l.slug = :'slug';
        COMMIT;
        """,
        **parameters,
    )
    return talktime.scalar("SELECT id FROM licensees WHERE slug = :'slug'", slug=slug)


def calls_behind(talktime, licensee):
    """Active calls whose paid time does not reach the present."""
    return int(talktime.scalar(
        "SELECT count(*) FROM calls WHERE licensee_id = :'licensee' AND status = 'active' AND paid_until <= now()",
        licensee=licensee,
    ))


def charged(talktime, licensee):
    return int(talktime.scalar(
        "SELECT coalesce(sum(billed_increments), 0) FROM calls WHERE licensee_id = :'licensee'", licensee=licensee,
    ))


def end_calls(talktime, licensee):
    """Ends the test's calls: the server scripts/test started would charge them for the rest of the run."""
    talktime.sql(
        """
        UPDATE calls SET status = 'ended', ended_at = now(), end_reason = 'caller_ended', room_closed_at = now()
        WHERE licensee_id = :'licensee' AND status = 'active'
        """,
        licensee=licensee,
    )


def rolled_back(talktime):
    return int(talktime.scalar("SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()"))


def test_billing_charges_every_increment_once_while_its_servers_are_killed(talktime, extra_servers):
    seed = int(os.environ.get("TALKTIME_KILL_SEED") or random.randrange(2**32))
    print(f"kill schedule seed: {seed} (TALKTIME_KILL_SEED={seed} repeats it)")
    schedule = random.Random(seed)
    licensee = seed_calls(talktime, f"kill-{uuid.uuid4().hex[:12]}")
    rolled_back_before = rolled_back(talktime)
    try:
        engines = [extra_servers(f"engine-{index}", **ENGINE_SETTINGS).start() for index in range(2)]
        for engine in engines:
            engine.wait_until_ready()
        behind_at_kills = []
        for _ in range(KILLS):
            time.sleep(schedule.uniform(0.05, 0.6))
            victim = schedule.choice(engines)
            victim.kill()
            behind_at_kills.append(calls_behind(talktime, licensee))
            victim.start().wait_until_ready()

        deadline = time.monotonic() + 180
        while calls_behind(talktime, licensee) > 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert calls_behind(talktime, licensee) == 0, "the engines did not catch up within 180 s"
        # Most kills must have struck while there was work: otherwise this test proves little.
        assert sum(1 for behind in behind_at_kills if behind > 0) >= KILLS // 2, f"calls behind at each kill: {behind_at_kills}"
        # A killed server's open transaction is rolled back by PostgreSQL when its connection drops: at least one
        # kill must have struck in the middle of a batch (most do).
        interrupted = rolled_back(talktime) - rolled_back_before
        print(f"calls behind at each kill: {behind_at_kills}; transactions rolled back meanwhile: {interrupted}")
        assert interrupted >= 1, "no kill struck inside a transaction"

        (wrong_keys, wrong_paid_until, wrong_amount, wrong_wallet, not_active, fewest, most, charged) = talktime.sql(
            """
            WITH charges AS (
                SELECT split_part(idempotency_key, ':', 2)::uuid AS call_id, split_part(idempotency_key, ':', 3)::int AS n
                FROM ledger_transactions WHERE licensee_id = :'licensee' AND kind = 'call_charge'
            ), per_call AS (
                SELECT call_id, count(*) AS charges, count(DISTINCT n) AS numbers, min(n) AS first, max(n) AS last
                FROM charges GROUP BY call_id
            )
            SELECT
                count(*) FILTER (WHERE p.call_id IS NULL OR p.charges <> c.billed_increments OR p.numbers <> p.charges
                                 OR p.first <> 1 OR p.last <> c.billed_increments),
                count(*) FILTER (WHERE c.paid_until <> c.answered_at + make_interval(secs => c.billed_increments * c.increment_seconds)),
                count(*) FILTER (WHERE c.billed_amount_minor <> c.billed_increments * c.increment_price_minor),
                count(*) FILTER (WHERE w.balance <> :funds - c.billed_amount_minor),
                count(*) FILTER (WHERE c.status <> 'active'),
                min(c.billed_increments), max(c.billed_increments), sum(c.billed_increments)
            FROM calls c
            LEFT JOIN per_call p ON p.call_id = c.id
            JOIN ledger_accounts w ON w.licensee_id = c.licensee_id AND w.kind = 'wallet' AND w.owner_id = c.caller_id
            WHERE c.licensee_id = :'licensee'
            """,
            licensee=licensee, funds=FUNDS,
        )[0]
        print(f"{charged} increments charged over {CALLS} calls ({fewest} to {most} each)")
        assert (wrong_keys, wrong_paid_until, wrong_amount, wrong_wallet, not_active) == ("0", "0", "0", "0", "0")
        # Every call was answered CATCH_UP_SECONDS ago: at least that much time and the increment running now are paid.
        assert int(fewest) >= CATCH_UP_SECONDS // INCREMENT_SECONDS + 1

        verify = talktime.cli("ledger", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
    finally:
        end_calls(talktime, licensee)


def test_a_server_stopped_with_sigterm_finishes_its_billing_round_before_it_exits(talktime, extra_servers):
    """PRODUCT.md: graceful shutdown finishes the current billing round. SIGTERM while the engine is charging: the
    process exits 0, and nothing it had begun is rolled back (pg_stat_database.xact_rollback stays as it was; a
    SIGKILL at the same point moves it)."""
    licensee = seed_calls(talktime, f"term-{uuid.uuid4().hex[:12]}")
    try:
        engine = extra_servers("engine", **ENGINE_SETTINGS).start()
        engine.wait_until_ready()
        deadline = time.monotonic() + 60
        while charged(talktime, licensee) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        rolled_back_before = rolled_back(talktime)
        behind = calls_behind(talktime, licensee)
        assert behind > 0, "the work was done before the server could be stopped in the middle of it"

        engine.process.terminate()
        assert engine.process.wait(timeout=60) == 0, engine.log_path.read_text()
        time.sleep(1.5)  # the backends' statistics are flushed as they exit
        assert rolled_back(talktime) == rolled_back_before, engine.log_path.read_text()
        print(f"stopped with {behind} of {CALLS} calls behind; nothing rolled back")
        verify = talktime.cli("ledger", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
    finally:
        end_calls(talktime, licensee)
