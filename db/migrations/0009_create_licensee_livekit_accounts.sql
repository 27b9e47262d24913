-- A Licensee's own LiveKit project: its room tokens are signed, its rooms created and its webhooks verified with
-- its own API key and secret. A Licensee without a row uses the platform's project from configuration.
--
-- The API secret is stored sealed (AES-256-GCM under the service's secrets key, `<key id>:<base64>`, bound to
-- the Licensee as associated data), never in the clear. API keys are unique across Licensees: a webhook names
-- only the key that signed it, and the key must lead to one secret and one Licensee.
CREATE TABLE licensee_livekit_accounts (
    licensee_id uuid PRIMARY KEY REFERENCES licensees (id) ON DELETE CASCADE,
    server_url text NOT NULL CHECK (server_url ~ '^(wss?|https?)://[^/?#[:space:]]+$'),
    api_key text NOT NULL UNIQUE CHECK (api_key ~ '^[!-~]{1,200}$'),
    api_secret_sealed text NOT NULL CHECK (api_secret_sealed ~ '^[A-Za-z0-9_-]{1,64}:[A-Za-z0-9+/=]+$'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE licensee_livekit_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE licensee_livekit_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON licensee_livekit_accounts
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());
GRANT SELECT, INSERT, UPDATE, DELETE ON licensee_livekit_accounts TO talktime_app;
