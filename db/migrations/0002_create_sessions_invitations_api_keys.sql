-- Identity: login sessions (refresh token families), invitations, password resets, API keys, the email
-- outbox, and the shared rate limit store.
--
-- Every secret token is stored as the SHA-256 of the token; the token itself is shown to its holder once.
-- Sessions and password resets of platform admins have no Licensee: their rows are visible only under
-- talktime.platform_scope.

-- Bumped on logout-all, password change or reset, and blocking: every access token issued before carries an
-- older generation and is refused.
ALTER TABLE users ADD COLUMN token_generation integer NOT NULL DEFAULT 0;
ALTER TABLE platform_admins ADD COLUMN token_generation integer NOT NULL DEFAULT 0;

-- One login session: a chain of refresh tokens, each used once. Presenting a used one revokes the family.
CREATE TABLE refresh_token_families (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    licensee_id uuid REFERENCES licensees (id) ON DELETE CASCADE,
    user_id uuid,
    platform_admin_id uuid REFERENCES platform_admins (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    absolute_expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('logout', 'logout_all', 'reuse_detected', 'password_changed', 'blocked')),
    FOREIGN KEY (licensee_id, user_id) REFERENCES users (licensee_id, id) ON DELETE CASCADE,
    CHECK (num_nonnulls(user_id, platform_admin_id) = 1),
    CHECK ((user_id IS NULL) = (licensee_id IS NULL))
);
CREATE INDEX refresh_token_families_user ON refresh_token_families (user_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_token_families_admin ON refresh_token_families (platform_admin_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    family_id uuid NOT NULL REFERENCES refresh_token_families (id) ON DELETE CASCADE,
    licensee_id uuid REFERENCES licensees (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    idle_expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Advisors and Licensee admins join by invitation: single use, expiring.
CREATE TABLE invitations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    licensee_id uuid NOT NULL REFERENCES licensees (id) ON DELETE CASCADE,
    email text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    role text NOT NULL CHECK (role IN ('licensee_admin', 'advisor')),
    token_hash bytea NOT NULL UNIQUE,
    invited_by_user_id uuid,
    invited_by_platform_admin_id uuid REFERENCES platform_admins (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_user_id uuid,
    FOREIGN KEY (licensee_id, accepted_user_id) REFERENCES users (licensee_id, id) ON DELETE SET NULL (accepted_user_id)
);
CREATE INDEX invitations_licensee ON invitations (licensee_id, created_at DESC);

CREATE TABLE password_reset_tokens (
    token_hash bytea PRIMARY KEY,
    licensee_id uuid REFERENCES licensees (id) ON DELETE CASCADE,
    user_id uuid,
    platform_admin_id uuid REFERENCES platform_admins (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    FOREIGN KEY (licensee_id, user_id) REFERENCES users (licensee_id, id) ON DELETE CASCADE,
    CHECK (num_nonnulls(user_id, platform_admin_id) = 1)
);

-- Mail waiting for a sender. Holds short-lived secrets (reset links) until sent; purged after sending.
CREATE TABLE email_outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    licensee_id uuid REFERENCES licensees (id) ON DELETE CASCADE,
    recipient text NOT NULL,
    template text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);

-- Keys for a Licensee's own servers.
CREATE TABLE api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    licensee_id uuid NOT NULL REFERENCES licensees (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The first characters of the key, so an admin can tell keys apart without the secret.
    display_prefix text NOT NULL,
    key_hash bytea NOT NULL UNIQUE,
    scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
    created_by_user_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    FOREIGN KEY (licensee_id, created_by_user_id) REFERENCES users (licensee_id, id) ON DELETE SET NULL (created_by_user_id)
);
CREATE INDEX api_keys_licensee ON api_keys (licensee_id, created_at DESC);

-- Audit log of admin actions.
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    licensee_id uuid REFERENCES licensees (id) ON DELETE CASCADE,
    actor_user_id uuid,
    actor_platform_admin_id uuid,
    actor_api_key_id uuid,
    action text NOT NULL,
    target_type text,
    target_id text,
    details jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_licensee ON audit_log (licensee_id, created_at DESC);

-- GCRA rate limit state shared by every instance: one theoretical arrival time per key. Keys are hashed
-- client addresses and account names, never the raw values.
CREATE TABLE rate_limit_buckets (
    key text PRIMARY KEY,
    tat timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX rate_limit_buckets_expiry ON rate_limit_buckets (expires_at);

-- Consecutive failed logins per account (hashed email and Licensee), for the growing delay and the cap.
CREATE TABLE login_failures (
    account_key text PRIMARY KEY,
    failures integer NOT NULL,
    window_started_at timestamptz NOT NULL,
    last_failed_at timestamptz NOT NULL
);

-- The account behind an access token, if the token still stands: the account active, in the token's role and
-- generation, its session live. Every authenticated request asks, so it is one statement: called outside any
-- explicit transaction, it scopes its own single-statement transaction exactly as Database.withTransaction
-- would (set_config with is_local = true), then reads under row level security like any other tenant query.
-- Never call it inside a transaction of other work: it would re-scope that transaction.
CREATE FUNCTION talktime_access_token_account(
    p_licensee uuid, p_account uuid, p_role text, p_session uuid, p_generation integer, p_now timestamptz
) RETURNS TABLE (email text, display_name text)
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM set_config('talktime.licensee_id', coalesce(p_licensee::text, ''), true),
            set_config('talktime.platform_scope', CASE WHEN p_licensee IS NULL THEN 'on' ELSE 'off' END, true);
    IF p_licensee IS NULL THEN
        RETURN QUERY
            SELECT a.email, a.display_name FROM platform_admins a JOIN refresh_token_families f ON f.platform_admin_id = a.id
            WHERE p_role = 'platform_admin' AND a.id = p_account AND a.status = 'active' AND a.token_generation = p_generation
              AND f.id = p_session AND f.revoked_at IS NULL AND f.absolute_expires_at > p_now;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT u.email, u.display_name FROM users u JOIN refresh_token_families f ON f.user_id = u.id
        WHERE u.id = p_account AND u.licensee_id = p_licensee AND u.status = 'active' AND u.token_generation = p_generation
          AND u.role = p_role AND f.id = p_session AND f.revoked_at IS NULL AND f.absolute_expires_at > p_now;
END
$$;

ALTER TABLE refresh_token_families ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_token_families FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_token_families
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_tokens
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE password_reset_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE password_reset_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON password_reset_tokens
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE email_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_outbox
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

GRANT SELECT, INSERT, UPDATE, DELETE ON refresh_token_families, refresh_tokens, invitations, password_reset_tokens,
    email_outbox, api_keys, rate_limit_buckets, login_failures TO talktime_app;
-- The audit log is append-only for the service.
GRANT SELECT, INSERT ON audit_log TO talktime_app;
