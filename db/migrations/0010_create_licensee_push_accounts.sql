-- A Licensee's own push credentials: its branded app is its own Firebase project and its own App Store app, so
-- its Advisors' devices can be reached only with its FCM service account and its APNs key. A Licensee without
-- a row uses the platform's credentials from configuration.
--
-- The FCM key file and the APNs private key are stored sealed, as the LiveKit secrets of 0009 are (AES-256-GCM
-- under the service's secrets key, bound to the Licensee). What admins read back is kept beside them in the
-- clear: the Firebase project and account, the APNs key, team and bundle ids.
CREATE TABLE licensee_push_accounts (
    licensee_id uuid PRIMARY KEY REFERENCES licensees (id) ON DELETE CASCADE,
    fcm_project_id text,
    fcm_client_email text,
    fcm_service_account_sealed text CHECK (fcm_service_account_sealed ~ '^[A-Za-z0-9_-]{1,64}:[A-Za-z0-9+/=]+$'),
    apns_key_id text CHECK (apns_key_id ~ '^[A-Za-z0-9]{10}$'),
    apns_team_id text CHECK (apns_team_id ~ '^[A-Za-z0-9]{10}$'),
    apns_bundle_id text CHECK (length(apns_bundle_id) BETWEEN 1 AND 200),
    apns_private_key_sealed text CHECK (apns_private_key_sealed ~ '^[A-Za-z0-9_-]{1,64}:[A-Za-z0-9+/=]+$'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nulls(fcm_project_id, fcm_client_email, fcm_service_account_sealed) IN (0, 3)),
    CHECK (num_nulls(apns_key_id, apns_team_id, apns_bundle_id, apns_private_key_sealed) IN (0, 4)),
    CHECK (fcm_service_account_sealed IS NOT NULL OR apns_private_key_sealed IS NOT NULL)
);

ALTER TABLE licensee_push_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE licensee_push_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON licensee_push_accounts
    USING (talktime_platform_scope() OR licensee_id = talktime_current_licensee())
    WITH CHECK (talktime_platform_scope() OR licensee_id = talktime_current_licensee());
GRANT SELECT, INSERT, UPDATE, DELETE ON licensee_push_accounts TO talktime_app;
