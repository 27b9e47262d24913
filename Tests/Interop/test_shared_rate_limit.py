"""Two `talktime serve` processes on one PostgreSQL store hold one rate limit between them."""
import os
import socket
import subprocess
import time
import uuid

import pytest
import requests


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def two_servers(talktime_bin):
    ports = [free_port(), free_port()]
    processes = []
    try:
        for port in ports:
            environment = dict(os.environ, RATE_LIMIT_STORE="postgres", HTTP_PORT=str(port), LOG_LEVEL="warning")
            processes.append(subprocess.Popen([talktime_bin, "serve"], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, f"server on {port} never became ready"
                time.sleep(0.1)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_the_login_limit_holds_across_two_processes(two_servers):
    # login-ip: 20 a minute per client address. GCRA gives one request back every 3 seconds, so a slow run may
    # see one or two more accepted; never fewer than 20, and a refusal must come.
    started = time.monotonic()
    statuses = []
    for attempt in range(30):
        response = requests.post(
            f"{two_servers[attempt % 2]}/v1/auth/login", headers={"X-Licensee": "demo"},
            json={"email": f"nobody-{uuid.uuid4().hex[:8]}@demo.example", "password": "wrong passphrase"}, timeout=10,
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"]
            assert '"login-ip";q=20;w=60' in response.headers["RateLimit-Policy"]
            assert '"login-ip";r=0;' in response.headers["RateLimit"]
            break
    elapsed = time.monotonic() - started
    assert statuses[-1] == 429, statuses
    accepted = len(statuses) - 1
    assert all(status == 401 for status in statuses[:-1]), statuses
    assert 20 <= accepted <= 20 + int(elapsed / 3) + 1, (accepted, elapsed)
    # Both processes answered part of the run.
    assert accepted >= 2
