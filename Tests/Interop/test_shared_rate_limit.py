"""Two `talktime serve` processes with RATE_LIMIT_STORE=postgres hold one rate limit between them.

login-ip allows 20 logins a minute per client address. Both servers see this client as 127.0.0.1, so 21 logins
alternating between them must be answered 401 twenty times (wrong credentials), then 429: neither server alone
has seen more than 11. The main server keeps its limits in memory, so it shares nothing with these two; their
state lives in rate_limit_buckets, which this test clears of login-ip rows first so that a rerun against the
same database within the minute starts from a whole quota."""
import time

import pytest

from talktime_api import unique_email

LIMIT = 20
POLICY = '"login-ip";q=20;w=60'
# GCRA gives one request back every 60/20 = 3 seconds: the 21 logins must all arrive within that.
INTERVAL_SECONDS = 3


@pytest.fixture
def two_servers(talktime, extra_servers):
    """Two fresh `talktime serve` processes sharing their rate limits through PostgreSQL."""
    talktime.sql("DELETE FROM rate_limit_buckets WHERE key LIKE 'login-ip|%'")
    # The client address must be the connection's own: no proxy is trusted to name another.
    servers = [extra_servers(f"server-{index}", RATE_LIMIT_STORE="postgres", TRUSTED_PROXIES=None) for index in range(2)]
    for server in servers:
        server.start()
    return [server.wait_until_ready().api for server in servers]


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
