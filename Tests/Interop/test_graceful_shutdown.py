"""PRODUCT.md: graceful shutdown finishes in-flight requests. A registration is being hashed (BCrypt at cost 15,
about two seconds) when its server gets SIGTERM: the client still gets its 201, and the server exits 0. (The billing
round's side of graceful shutdown is in test_billing_when_servers_stop.py.)"""
import time
from concurrent.futures import ThreadPoolExecutor

from talktime_api import DEMO_LICENSEE, unique_email


def test_a_server_stopped_with_sigterm_answers_the_request_it_is_working_on(extra_servers):
    server = extra_servers("slow-hashing", BCRYPT_COST="15").start().wait_until_ready()

    def register():
        response = server.api.http.post(
            server.api.url("/v1/auth/register"), headers={"X-Licensee": DEMO_LICENSEE},
            json={"email": unique_email("shutdown"), "password": "Shutdown passphrase 42", "display_name": "Shutdown"},
            timeout=60,
        )
        return response, time.monotonic()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(register)
        time.sleep(0.5)  # the request has arrived and is being hashed
        stopped_at = time.monotonic()
        server.process.terminate()
        response, answered_at = pending.result(timeout=60)

    assert answered_at > stopped_at, "the request was answered before the server was stopped: nothing was in flight"
    assert response.status_code == 201, response.text
    assert response.json()["access_token"]
    assert server.process.wait(timeout=30) == 0, server.log_path.read_text()
