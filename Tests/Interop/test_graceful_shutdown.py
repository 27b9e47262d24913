"""PRODUCT.md: graceful shutdown finishes in-flight requests. A registration is being hashed (BCrypt at cost 15,
about two seconds) when its server gets SIGTERM: the client still gets its 201, and the server exits 0. (The billing
round's side of graceful shutdown is in test_billing_when_servers_stop.py.)"""
import time
from concurrent.futures import ThreadPoolExecutor

from talktime_api import unique_email


def test_a_server_stopped_with_sigterm_answers_the_request_it_is_working_on(extra_servers):
    server = extra_servers("slow-hashing", BCRYPT_COST="15").start().wait_until_ready()

    def register():
        # Talktime.register requires the 201 and returns the token pair.
        tokens = server.api.register(unique_email("shutdown"), "Shutdown passphrase 42", display_name="Shutdown")
        return tokens, time.monotonic()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(register)
        time.sleep(0.5)  # the request has arrived and is being hashed
        stopped_at = time.monotonic()
        server.process.terminate()
        tokens, answered_at = pending.result(timeout=60)

    assert answered_at > stopped_at, "the request was answered before the server was stopped: nothing was in flight"
    assert tokens["access_token"]
    assert server.process.wait(timeout=30) == 0, server.log_path.read_text()
