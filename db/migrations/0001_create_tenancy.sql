-- Tenancy and identity: Licensees, their domains, users of the three tenant roles, advisor profiles, and
-- platform admins.
--
-- Isolation: every tenant table has row level security enabled and forced. Policies read two settings that
-- the service sets per transaction with set_config(..., true):
--   talktime.licensee_id     the one Licensee the transaction may see
--   talktime.platform_scope  'on' for platform admins and cross-tenant background work
-- A transaction that sets neither sees no tenant rows. The service connects as talktime_app, which owns
-- nothing, so it can neither disable these policies nor bypass them.

REVOKE CREATE ON SCHEMA public FROM PUBLIC;

GRANT SELECT ON talktime_schema_migrations TO talktime_app;

CREATE FUNCTION talktime_current_licensee() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('talktime.licensee_id', true), '')::uuid $$;

CREATE FUNCTION talktime_platform_scope() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(current_setting('talktime.platform_scope', true), '') = 'on' $$;

CREATE TABLE licensees (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- Branding shown by the Licensee's app.
    app_name text NOT NULL CHECK (length(app_name) BETWEEN 1 AND 100),
    primary_color text CHECK (primary_color ~ '^#[0-9a-fA-F]{6}$'),
    accent_color text CHECK (accent_color ~ '^#[0-9a-fA-F]{6}$'),
    logo_url text CHECK (logo_url ~ '^https://'),
    support_email text CHECK (support_email ~ '^[^@\s]+@[^@\s]+$'),
    -- Money: one ISO 4217 currency; shares in basis points (1/100 of a percent).
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    commission_bps integer NOT NULL DEFAULT 2000 CHECK (commission_bps BETWEEN 0 AND 10000),
    platform_fee_bps integer NOT NULL DEFAULT 1000 CHECK (platform_fee_bps BETWEEN 0 AND 10000),
    billing_increment_seconds integer NOT NULL DEFAULT 60 CHECK (billing_increment_seconds BETWEEN 1 AND 3600),
    top_up_min_minor bigint NOT NULL DEFAULT 500 CHECK (top_up_min_minor > 0),
    top_up_max_minor bigint NOT NULL DEFAULT 50000,
    advisor_rate_min_minor bigint NOT NULL DEFAULT 0 CHECK (advisor_rate_min_minor >= 0),
    advisor_rate_max_minor bigint NOT NULL DEFAULT 100000,
    max_concurrent_calls integer NOT NULL DEFAULT 100 CHECK (max_concurrent_calls > 0),
    call_metadata_retention_days integer NOT NULL DEFAULT 90 CHECK (call_metadata_retention_days BETWEEN 1 AND 3650),
    -- Licence.
    licence_plan text NOT NULL DEFAULT 'standard',
    licence_status text NOT NULL DEFAULT 'trialing'
        CHECK (licence_status IN ('trialing', 'active', 'past_due', 'suspended', 'terminated')),
    terminated_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (commission_bps + platform_fee_bps <= 10000),
    CHECK (top_up_max_minor >= top_up_min_minor),
    CHECK (advisor_rate_max_minor >= advisor_rate_min_minor),
    CHECK ((licence_status = 'terminated') = (terminated_at IS NOT NULL))
);

-- Custom domains: a request's host picks its Licensee.
CREATE TABLE licensee_domains (
    domain text PRIMARY KEY CHECK (domain = lower(domain) AND domain ~ '^[a-z0-9.-]+$'),
    licensee_id uuid NOT NULL REFERENCES licensees (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX licensee_domains_licensee ON licensee_domains (licensee_id);

-- Licensee admins, advisors and End Users. Platform admins belong to no Licensee and live apart.
CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    licensee_id uuid NOT NULL REFERENCES licensees (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('licensee_admin', 'advisor', 'end_user')),
    email text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    password_hash text NOT NULL,
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Lets child tables reference (licensee_id, id), so a row can never point at another tenant's user.
    UNIQUE (licensee_id, id)
);
CREATE UNIQUE INDEX users_email_per_licensee ON users (licensee_id, lower(email));

CREATE TABLE advisor_profiles (
    user_id uuid PRIMARY KEY,
    licensee_id uuid NOT NULL,
    bio text NOT NULL DEFAULT '' CHECK (length(bio) <= 4000),
    avatar_url text CHECK (avatar_url ~ '^https://'),
    categories text[] NOT NULL DEFAULT '{}',
    languages text[] NOT NULL DEFAULT '{}',
    rate_per_minute_minor bigint NOT NULL CHECK (rate_per_minute_minor >= 0),
    approval_status text NOT NULL DEFAULT 'pending'
        CHECK (approval_status IN ('pending', 'approved', 'rejected', 'suspended')),
    presence text NOT NULL DEFAULT 'offline' CHECK (presence IN ('offline', 'available', 'busy')),
    payout_account_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (licensee_id, user_id) REFERENCES users (licensee_id, id) ON DELETE CASCADE
);
CREATE INDEX advisor_profiles_listing ON advisor_profiles (licensee_id, presence, approval_status);

CREATE TABLE platform_admins (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    password_hash text NOT NULL,
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX platform_admins_email ON platform_admins (lower(email));

-- Row level security.
ALTER TABLE licensees ENABLE ROW LEVEL SECURITY;
ALTER TABLE licensees FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON licensees
    USING (talktime_platform_scope() OR id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR id = talktime_current_licensee());

ALTER TABLE licensee_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE licensee_domains FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON licensee_domains
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE advisor_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE advisor_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON advisor_profiles
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());

ALTER TABLE platform_admins ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform_admins FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_only ON platform_admins
    USING (talktime_platform_scope())
    WITH CHECK (talktime_platform_scope());

GRANT SELECT, INSERT, UPDATE, DELETE ON licensees, licensee_domains, users, advisor_profiles, platform_admins TO talktime_app;
