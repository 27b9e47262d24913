"""`talktime create-platform-admin` reads the password from standard input and makes a working login."""
import subprocess
import uuid

import requests

from conftest import login


def create_admin(talktime_bin, email, password):
    return subprocess.run(
        [talktime_bin, "create-platform-admin", "--email", email, "--name", "Interop Admin"],
        input=password + "\n", capture_output=True, text=True, timeout=60,
    )


def test_create_platform_admin_from_standard_input(base_url, talktime_bin):
    email = f"root-{uuid.uuid4().hex[:10]}@platform.example"
    password = "platform passphrase 77"
    made = create_admin(talktime_bin, email, password)
    assert made.returncode == 0, made.stderr
    assert "Platform admin" in made.stdout
    assert password not in made.stdout + made.stderr

    response = login(base_url, email, password, licensee=None)
    assert response.status_code == 200, response.text
    me = requests.get(f"{base_url}/v1/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}, timeout=10)
    assert me.json()["role"] == "platform_admin"

    again = create_admin(talktime_bin, email, "another passphrase 88")
    assert again.returncode != 0
    assert "exists" in again.stderr
    weak = create_admin(talktime_bin, f"weak-{uuid.uuid4().hex[:6]}@platform.example", "password123")
    assert weak.returncode != 0 and "password" in weak.stderr
