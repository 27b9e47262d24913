"""Fixtures for the interoperability tests: a running server, its binary and database, given by scripts/test."""
import os
import subprocess
import uuid

import pytest
import requests


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests through scripts/test")
    return value


@pytest.fixture(scope="session")
def base_url():
    return _env("TALKTIME_BASE_URL")


@pytest.fixture(scope="session")
def talktime_bin():
    return _env("TALKTIME_BIN")


@pytest.fixture(scope="session")
def sql():
    """Runs SQL as the superuser and returns the rows as lists of strings."""
    url = _env("TALKTIME_SUPERUSER_DATABASE_URL")

    def run(statement):
        output = subprocess.run(
            ["psql", url, "-X", "-q", "-tA", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", statement],
            check=True, capture_output=True, text=True,
        ).stdout
        return [line.split("\t") for line in output.splitlines() if line]

    return run


@pytest.fixture(scope="session")
def demo_licensee_id(sql):
    return sql("SELECT id FROM licensees WHERE slug = 'demo'")[0][0]


@pytest.fixture
def fresh_email():
    return f"interop-{uuid.uuid4().hex[:12]}@demo.example"


def register(base_url, email, password):
    response = requests.post(
        f"{base_url}/v1/auth/register", headers={"X-Licensee": "demo"},
        json={"email": email, "password": password, "display_name": "Interop"}, timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def login(base_url, email, password, licensee="demo"):
    headers = {"X-Licensee": licensee} if licensee else {}
    return requests.post(f"{base_url}/v1/auth/login", headers=headers, json={"email": email, "password": password}, timeout=10)
