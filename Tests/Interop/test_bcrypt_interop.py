"""Talktime's password hashes and Python's bcrypt (pyca/bcrypt) accept each other's.

Passwords of up to 72 bytes are hashed as they are, so hashes move freely between the two; longer ones are
documented to be reduced to base64(SHA-256(password)) first, and that is checked here too."""
import base64
import hashlib
import os
import re

import bcrypt
import pytest

from talktime_api import unique_email

BCRYPT_HASH = re.compile(r"^\$2b\$(\d\d)\$[./A-Za-z0-9]{53}$")


def exactly_72_bytes(text):
    """`text` (non-ASCII welcome) padded with ASCII digits to exactly 72 bytes of UTF-8."""
    data = text.encode()
    assert len(data) < 72
    padded = text + "".join(str(index % 10) for index in range(72 - len(data)))
    assert len(padded.encode()) == 72
    return padded


UTF8_72 = exactly_72_bytes("Grüße aus Köln, ☎ 東京 — ")


def stored_user_hash(talktime, licensee_id, email):
    return talktime.scalar(
        "SELECT password_hash FROM users WHERE licensee_id = :'licensee' AND lower(email) = lower(:'email')",
        licensee=licensee_id, email=email,
    )


# (a) Hashes Talktime makes verify with Python's bcrypt.


def test_a_registered_users_hash_verifies_with_python_bcrypt(talktime, demo_licensee_id, registered_user):
    stored = stored_user_hash(talktime, demo_licensee_id, registered_user["email"]).encode()
    match = BCRYPT_HASH.match(stored.decode())
    assert match, f"not a $2b$ BCrypt hash: {stored!r}"
    assert int(match.group(1)) == int(os.environ["BCRYPT_COST"])
    password = registered_user["password"].encode()
    assert bcrypt.checkpw(password, stored)
    assert not bcrypt.checkpw(password + b"!", stored)
    assert not bcrypt.checkpw(password.swapcase(), stored)
    assert not bcrypt.checkpw(b"", stored)


def create_platform_admin_hash(talktime, password):
    """A hash Talktime makes without spending register-ip: create-platform-admin's, read from its table."""
    email = unique_email("hash", domain="platform.example")
    made = talktime.cli("create-platform-admin", "--email", email, "--name", "Hash Probe", stdin=password + "\n")
    assert made.returncode == 0, made.stderr
    return talktime.scalar("SELECT password_hash FROM platform_admins WHERE lower(email) = lower(:'email')", email=email).encode()


def test_a_72_byte_utf8_password_is_hashed_whole_and_verifies_with_python_bcrypt(talktime):
    stored = create_platform_admin_hash(talktime, UTF8_72)
    assert BCRYPT_HASH.match(stored.decode()), stored
    password = UTF8_72.encode()
    assert bcrypt.checkpw(password, stored)
    # Every byte up to the 72nd counts: drop or change the last one and it no longer matches.
    assert not bcrypt.checkpw(password[:71], stored)
    assert not bcrypt.checkpw(password[:71] + b"!", stored)


def test_a_password_over_72_bytes_is_hashed_as_base64_of_its_sha256(talktime):
    long_password = ("long interop passphrase " * 5).strip()  # 119 bytes
    password = long_password.encode()
    assert len(password) > 72
    stored = create_platform_admin_hash(talktime, long_password)
    prehashed = base64.b64encode(hashlib.sha256(password).digest())
    assert bcrypt.checkpw(prehashed, stored)
    # Nothing is silently truncated: the first 72 bytes alone do not match.
    assert not bcrypt.checkpw(password[:72], stored)


# (b) Hashes Python's bcrypt makes log in through the API, under every prefix Talktime accepts.

PASSWORD = "Imported passphrase 42"


def python_made_hash(variant, password):
    if variant == "2a":
        made = bcrypt.hashpw(password, bcrypt.gensalt(rounds=4, prefix=b"2a"))
        assert made.startswith(b"$2a$04$")
        return made.decode()
    made = bcrypt.hashpw(password, bcrypt.gensalt(rounds=4))
    assert made.startswith(b"$2b$04$")
    if variant == "2y":
        # PHP's name for the same algorithm: the body of a $2b$ hash, renamed.
        return "$2y$" + made.decode()[4:]
    return made.decode()


@pytest.mark.parametrize(
    ("variant", "password"),
    [("2b", PASSWORD), ("2a", PASSWORD), ("2y", PASSWORD), ("2b", UTF8_72)],
    ids=["2b", "2a", "2y", "2b-utf8-72-bytes"],
)
def test_python_bcrypt_hashes_log_in_through_the_api(talktime, demo_licensee_id, variant, password):
    email = unique_email(f"imported-{variant}")
    password_hash = python_made_hash(variant, password.encode())
    assert password_hash.startswith(f"${variant}$04$")
    talktime.sql(
        "INSERT INTO users (licensee_id, role, email, password_hash, display_name) "
        "VALUES (:'licensee', 'end_user', :'email', :'hash', 'Imported')",
        licensee=demo_licensee_id, email=email, hash=password_hash,
    )

    accepted = talktime.login(email, password)
    assert accepted.status_code == 200, f"{password_hash[:7]}: {accepted.status_code} {accepted.text}"
    tokens = accepted.json()
    assert tokens["token_type"] == "Bearer" and tokens["access_token"] and tokens["refresh_token"]
    me = talktime.me(tokens["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email and me.json()["role"] == "end_user"

    # A wrong password, differing only in its last byte.
    wrong = password[:-1] + ("!" if password[-1] != "!" else "?")
    refused = talktime.login(email, wrong)
    assert refused.status_code == 401, f"{password_hash[:7]}: {refused.status_code} {refused.text}"
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json()["status"] == 401

    # Whatever Talktime stores after the login (it may upgrade $2a$/$2y$ to $2b$), Python's bcrypt still agrees.
    stored = stored_user_hash(talktime, demo_licensee_id, email)
    assert BCRYPT_HASH.match(stored), stored
    assert bcrypt.checkpw(password.encode(), stored.encode())
    assert not bcrypt.checkpw(wrong.encode(), stored.encode())
