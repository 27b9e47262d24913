"""`talktime create-platform-admin` reads the password from standard input, never echoes it, and makes a
platform admin who logs in without X-Licensee."""
import re
import uuid

from talktime_api import unique_email

PASSWORD = "Platform passphrase 77"


def create_admin(talktime, email, password, name="Interop Admin"):
    return talktime.cli("create-platform-admin", "--email", email, "--name", name, stdin=password + "\n")


def assert_not_echoed(result, password):
    assert password not in result.stdout, result.stdout
    assert password not in result.stderr, result.stderr


def test_create_platform_admin_then_log_in_without_a_licensee(talktime):
    email = unique_email("root", domain="platform.example")
    made = create_admin(talktime, email, PASSWORD)
    assert made.returncode == 0, f"exit {made.returncode}: {made.stderr}"
    assert_not_echoed(made, PASSWORD)
    printed = re.search(r"Platform admin ([0-9a-fA-F-]{36}) created", made.stdout)
    assert printed, made.stdout
    admin_id = uuid.UUID(printed.group(1))
    assert talktime.scalar("SELECT count(*) FROM platform_admins WHERE id = :'id'", id=admin_id) == "1"

    response = talktime.login(email, PASSWORD, licensee=None)
    assert response.status_code == 200, response.text
    me = talktime.me(response.json()["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "platform_admin"
    assert uuid.UUID(me.json()["id"]) == admin_id
    assert me.json()["email"] == email
    assert me.json().get("licensee_id") is None

    # A platform admin is no account of a Licensee.
    as_tenant = talktime.login(email, PASSWORD, licensee="demo")
    assert as_tenant.status_code == 401, as_tenant.text


def test_create_platform_admin_refuses_an_email_that_exists(talktime):
    email = unique_email("twice", domain="platform.example")
    first = create_admin(talktime, email, PASSWORD)
    assert first.returncode == 0, first.stderr

    other_password = "Another passphrase 88"
    for again_email in (email, email.upper()):
        again = create_admin(talktime, again_email, other_password)
        assert again.returncode != 0, f"{again_email} was accepted twice: {again.stdout}"
        assert "exists" in again.stderr, again.stderr
        assert_not_echoed(again, other_password)
    assert talktime.scalar("SELECT count(*) FROM platform_admins WHERE lower(email) = lower(:'email')", email=email) == "1"


def test_create_platform_admin_refuses_bad_passwords_without_echoing_them(talktime):
    email = unique_email("weak", domain="platform.example")
    # Common, too short, and the account's own email address.
    for password in ("password123", "Qz7!kp", email):
        refused = create_admin(talktime, email, password)
        assert refused.returncode != 0, f"{password!r} was accepted"
        assert "password" in refused.stderr.lower(), refused.stderr
        assert_not_echoed(refused, password)
    missing = talktime.cli("create-platform-admin", "--email", email, stdin="")
    assert missing.returncode != 0 and "standard input" in missing.stderr, missing.stderr
    assert talktime.scalar("SELECT count(*) FROM platform_admins WHERE lower(email) = lower(:'email')", email=email) == "0"


def test_secrets_reseal_needs_a_key_and_reseals_what_there_is(talktime):
    """`talktime secrets reseal` against the test server's database: with the server's key it succeeds (the
    Swift tests check what it does to sealed rows); without a key it refuses, and says why."""
    done = talktime.cli("secrets", "reseal")
    assert done.returncode == 0, f"exit {done.returncode}: {done.stdout} {done.stderr}"
    assert re.search(r"Sealed again under key primary: \d+; already under it: \d+\.", done.stdout), done.stdout
    refused = talktime.cli("secrets", "reseal", environment={"SECRETS_KEY": ""})
    assert refused.returncode == 1, refused.stdout
    assert "SECRETS_KEY is not set" in refused.stdout
