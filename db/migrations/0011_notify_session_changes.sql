-- Every authenticated request asks whether its access token still stands (talktime_access_token_account, 0002).
-- Servers now remember the answer for a few seconds, so they must hear at once when it changes: any change to
-- what that function reads sends a notification on the channel 'talktime_sessions', delivered to every server
-- at commit. The payload names what changed: 'account:<id>', 'session:<id>', or 'all' after a TRUNCATE.
CREATE FUNCTION talktime_notify_session_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('talktime_sessions', 'all');
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'refresh_token_families' THEN
        PERFORM pg_notify('talktime_sessions', 'session:' || OLD.id::text);
    ELSE
        PERFORM pg_notify('talktime_sessions', 'account:' || OLD.id::text);
    END IF;
    RETURN NULL;
END
$$;

-- Only the columns the check reads: logins, password upgrades and profile edits of other fields stay quiet.
CREATE TRIGGER users_session_change AFTER UPDATE ON users FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.token_generation IS DISTINCT FROM NEW.token_generation
          OR OLD.role IS DISTINCT FROM NEW.role OR OLD.licensee_id IS DISTINCT FROM NEW.licensee_id
          OR OLD.email IS DISTINCT FROM NEW.email OR OLD.display_name IS DISTINCT FROM NEW.display_name)
    EXECUTE FUNCTION talktime_notify_session_change();
CREATE TRIGGER users_session_delete AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION talktime_notify_session_change();
CREATE TRIGGER users_session_truncate AFTER TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION talktime_notify_session_change();

CREATE TRIGGER platform_admins_session_change AFTER UPDATE ON platform_admins FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.token_generation IS DISTINCT FROM NEW.token_generation
          OR OLD.email IS DISTINCT FROM NEW.email OR OLD.display_name IS DISTINCT FROM NEW.display_name)
    EXECUTE FUNCTION talktime_notify_session_change();
CREATE TRIGGER platform_admins_session_delete AFTER DELETE ON platform_admins FOR EACH ROW
    EXECUTE FUNCTION talktime_notify_session_change();
CREATE TRIGGER platform_admins_session_truncate AFTER TRUNCATE ON platform_admins FOR EACH STATEMENT
    EXECUTE FUNCTION talktime_notify_session_change();

CREATE TRIGGER refresh_token_families_session_change AFTER UPDATE ON refresh_token_families FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.absolute_expires_at IS DISTINCT FROM NEW.absolute_expires_at
          OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.platform_admin_id IS DISTINCT FROM NEW.platform_admin_id)
    EXECUTE FUNCTION talktime_notify_session_change();
CREATE TRIGGER refresh_token_families_session_delete AFTER DELETE ON refresh_token_families FOR EACH ROW
    EXECUTE FUNCTION talktime_notify_session_change();
CREATE TRIGGER refresh_token_families_session_truncate AFTER TRUNCATE ON refresh_token_families FOR EACH STATEMENT
    EXECUTE FUNCTION talktime_notify_session_change();

-- The same check, now also saying until when the session lasts: a remembered answer never outlives it.
DROP FUNCTION talktime_access_token_account(uuid, uuid, text, uuid, integer, timestamptz);
CREATE FUNCTION talktime_access_token_account(
    p_licensee uuid, p_account uuid, p_role text, p_session uuid, p_generation integer, p_now timestamptz
) RETURNS TABLE (email text, display_name text, session_expires_at timestamptz)
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM set_config('talktime.licensee_id', coalesce(p_licensee::text, ''), true),
            set_config('talktime.platform_scope', CASE WHEN p_licensee IS NULL THEN 'on' ELSE 'off' END, true);
    IF p_licensee IS NULL THEN
        RETURN QUERY
            SELECT a.email, a.display_name, f.absolute_expires_at
            FROM platform_admins a JOIN refresh_token_families f ON f.platform_admin_id = a.id
            WHERE p_role = 'platform_admin' AND a.id = p_account AND a.status = 'active' AND a.token_generation = p_generation
              AND f.id = p_session AND f.revoked_at IS NULL AND f.absolute_expires_at > p_now;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT u.email, u.display_name, f.absolute_expires_at
        FROM users u JOIN refresh_token_families f ON f.user_id = u.id
        WHERE u.id = p_account AND u.licensee_id = p_licensee AND u.status = 'active' AND u.token_generation = p_generation
          AND u.role = p_role AND f.id = p_session AND f.revoked_at IS NULL AND f.absolute_expires_at > p_now;
END
$$;
