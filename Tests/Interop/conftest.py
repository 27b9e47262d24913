"""Fixtures for the interoperability tests. scripts/test runs them after `swift test`, against a live server with
the demo data; every setting comes from the environment (see talktime_api.REQUIRED_ENVIRONMENT).

Rate limits of the main server, kept in its memory, are shared by every test here and by what scripts/test does
afterwards (one login, then schemathesis): register-ip allows 10 registrations an hour and login-ip 20 logins a
minute per client address, so the tests register one user for the whole session and log in sparingly."""
import os
import uuid

import pytest
import requests

from extra_servers import ServerProcess
from talktime_api import REQUIRED_ENVIRONMENT, Talktime, missing_environment, unique_email


def pytest_configure(config):
    missing = missing_environment()
    if missing:
        lines = "\n".join(f"  {name}: {REQUIRED_ENVIRONMENT[name]}" for name in missing)
        raise pytest.UsageError(
            f"Tests/Interop needs a running Talktime and its settings; not set:\n{lines}\n"
            "Run these tests through scripts/test, which starts PostgreSQL and the server and sets them."
        )


@pytest.fixture(scope="session")
def talktime():
    """The server scripts/test started (rate limits in memory), its binary and its database."""
    server = Talktime(os.environ["TALKTIME_BASE_URL"], wait_out_rate_limits=True)
    try:
        ready = server.http.get(server.url("/readyz"), timeout=10)
    except requests.RequestException as error:
        ready = None
        problem = f"TALKTIME_BASE_URL={server.base_url} does not answer: {error}"
    else:
        problem = f"{server.base_url}/readyz answered {ready.status_code}: {ready.text}"
    if ready is None or ready.status_code != 200:
        pytest.fail(problem, pytrace=False)
    return server


@pytest.fixture(scope="session")
def demo_licensee_id(talktime):
    value = talktime.scalar("SELECT id FROM licensees WHERE slug = 'demo'")
    return str(uuid.UUID(value))


@pytest.fixture(scope="session")
def registered_user(talktime):
    """One end user registered through the API for the whole session (register-ip allows 10 an hour)."""
    email = unique_email("interop")
    password = "Interop passphrase 42"
    tokens = talktime.register(email, password)
    return {"email": email, "password": password, "tokens": tokens}


@pytest.fixture
def extra_servers(tmp_path):
    """Makes `talktime serve` processes of the test's own: `extra_servers(name, **settings)` returns one, not yet
    started. Whatever is still running when the test ends is stopped."""
    made = []

    def make(name, **settings):
        server = ServerProcess(name, settings, tmp_path)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()
