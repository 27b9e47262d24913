"""PRODUCT.md: graceful shutdown finishes in-flight requests. A registration is being hashed (BCrypt at cost 15,
about two seconds) when its server gets SIGTERM: the client still gets its 201, and the server exits 0. A client that
stops sending in the middle of a request is cut off after HTTP_IDLE_TIMEOUT_SECONDS, so it cannot hold a connection,
or the shutdown that waits for its request, for ever. (The billing round's side of graceful shutdown is in
test_billing_when_servers_stop.py.)"""
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

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


# A request cut off in its head, and one cut off in its body (after the head, so a handler is waiting for it).
STALLED_REQUESTS = {
    "head": b"GET /healthz HTTP/1.1\r\nHost: talktime\r\n",
    "body": b"POST /v1/auth/login HTTP/1.1\r\nHost: talktime\r\nX-Licensee: demo\r\nContent-Type: application/json\r\n"
    b"Content-Length: 200\r\n\r\n{\"email\": ",
}


def stalled_connection(server, request):
    address = urlsplit(server.api.base_url)
    connection = socket.create_connection((address.hostname, address.port), timeout=30)
    connection.sendall(request)
    return connection


def seconds_until_closed(connection):
    """Waits for the server to close the connection without answering; returns how long that took."""
    started = time.monotonic()
    try:
        received = connection.recv(4096)
    except ConnectionResetError:
        received = b""
    assert received == b"", f"the server answered a request it never fully received: {received[:200]!r}"
    return time.monotonic() - started


def test_a_client_that_stops_sending_is_cut_off_after_the_idle_timeout(extra_servers):
    server = extra_servers("idle-timeout", HTTP_IDLE_TIMEOUT_SECONDS="1").start().wait_until_ready()
    connections = {name: stalled_connection(server, request) for name, request in STALLED_REQUESTS.items()}
    for name, connection in connections.items():
        with connection:
            waited = seconds_until_closed(connection)
        # The timer runs from the last bytes received; closed well before the socket's own 30 s.
        assert waited < 10, f"a connection stalled in its {name} stayed open {waited:.1f} s"
    assert server.api.http.get(server.api.url("/healthz"), timeout=5).status_code == 200


def test_a_stalled_request_does_not_hold_up_graceful_shutdown(extra_servers):
    server = extra_servers("stalled-shutdown", HTTP_IDLE_TIMEOUT_SECONDS="2").start().wait_until_ready()
    with stalled_connection(server, STALLED_REQUESTS["body"]) as connection:
        time.sleep(0.5)  # the head has been read: the request is in flight, waiting for its body
        stopped_at = time.monotonic()
        server.process.terminate()
        assert server.process.wait(timeout=30) == 0, server.log_path.read_text()
        assert time.monotonic() - stopped_at < 15
        assert seconds_until_closed(connection) < 5
