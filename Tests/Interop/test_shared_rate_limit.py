"""Two `talktime serve` processes with RATE_LIMIT_STORE=postgres hold one rate limit between them.

login-ip allows 20 logins a minute per client address. Both servers see this client as 127.0.0.1, so 21 logins
alternating between them must be answered 401 twenty times (wrong credentials), then 429: neither server alone
has seen more than 11. The main server keeps its limits in memory, so it shares nothing with these two; their
state lives in rate_limit_buckets, which this test clears of login-ip rows first so that a rerun against the
same database within the minute starts from a whole quota."""
import os
import socket
import subprocess
import time

import pytest
import requests

from talktime_api import Talktime, unique_email

LIMIT = 20
POLICY = '"login-ip";q=20;w=60'
# GCRA gives one request back every 60/20 = 3 seconds: the 21 logins must all arrive within that.
INTERVAL_SECONDS = 3


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(server, process, log_path, deadline_seconds=60):
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"talktime serve on {server.base_url} exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if server.http.get(server.url("/readyz"), timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"talktime serve on {server.base_url} was not ready within {deadline_seconds} s:\n{log_path.read_text()}")


@pytest.fixture
def two_servers(talktime, tmp_path, request):
    """Two fresh `talktime serve` processes sharing their rate limits through PostgreSQL; always stopped."""
    talktime.sql("DELETE FROM rate_limit_buckets WHERE key LIKE 'login-ip|%'")
    processes = []

    def stop():
        for process, _ in processes:
            if process.poll() is None:
                process.terminate()
        for process, log in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
            log.close()

    request.addfinalizer(stop)
    servers = []
    for index in range(2):
        port = free_port()
        environment = dict(os.environ, RATE_LIMIT_STORE="postgres", HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), LOG_LEVEL="warning")
        # The client address must be the connection's own: no proxy is trusted to name another.
        environment.pop("TRUSTED_PROXIES", None)
        log_path = tmp_path / f"server-{index}.log"
        log = open(log_path, "wb")
        process = subprocess.Popen(
            [environment["TALKTIME_BIN"], "serve"], env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
        processes.append((process, log))
        servers.append((Talktime(f"http://127.0.0.1:{port}"), process, log_path))
    for server, process, log_path in servers:
        wait_until_ready(server, process, log_path)
    return [server for server, _, _ in servers]


def test_the_login_limit_holds_across_two_processes(talktime, two_servers):
    responses = []
    started = time.monotonic()
    for attempt in range(LIMIT + 1):
        server = two_servers[attempt % 2]
        responses.append((server.base_url, server.login(unique_email("nobody"), "Wrong passphrase 1")))
    elapsed = time.monotonic() - started
    statuses = [(url.rsplit(":", 1)[1], response.status_code) for url, response in responses]
    context = f"(port, status) in order: {statuses}; {elapsed:.2f} s"
    assert elapsed < INTERVAL_SECONDS, f"too slow to test a 20-a-minute limit exactly: {context}"

    for _, response in responses[:LIMIT]:
        assert response.status_code == 401, context
        assert response.json()["type"] == "urn:talktime:problem:invalid-credentials", response.text

    refused = responses[LIMIT][1]
    assert refused.status_code == 429, context
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json()["status"] == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60, refused.headers
    assert POLICY in refused.headers["RateLimit-Policy"], refused.headers
    assert '"login-ip";r=0;' in refused.headers["RateLimit"], refused.headers

    # The other server refuses too: the quota is spent for both, not just for the one that answered 429.
    other = two_servers[(LIMIT + 1) % 2].login(unique_email("nobody"), "Wrong passphrase 1")
    assert other.status_code == 429, other.text
    assert POLICY in other.headers["RateLimit-Policy"]

    # One bucket for the one client address, shared by both processes, keyed by a hash rather than the address.
    keys = [row[0] for row in talktime.sql("SELECT key FROM rate_limit_buckets WHERE key LIKE 'login-ip|%'")]
    assert len(keys) == 1, keys
    assert "127.0.0.1" not in keys[0]
