"""Small helpers shared by the interoperability tests: Talktime's HTTP API, its CLI, and its database via psql."""
import json
import os
import subprocess
import time
import uuid

import requests
from stripe import WebhookSignature

# What scripts/test hands these tests, and what each is for.
REQUIRED_ENVIRONMENT = {
    "TALKTIME_BASE_URL": "a running `talktime serve` with the demo data (e.g. http://127.0.0.1:8080)",
    "TALKTIME_BIN": "the talktime binary, for the CLI and for extra servers",
    "TALKTIME_SUPERUSER_DATABASE_URL": "a PostgreSQL superuser URL for the server's database, used with psql",
    "DATABASE_URL": "the service role's URL, as the running server got it",
    "DATABASE_OWNER_URL": "the schema owner's URL, as the running server got it",
    "JWT_SIGNING_KEY": "the server's base64 Ed25519 seed",
    "MIGRATIONS_DIRECTORY": "the migrations folder, as the running server got it",
    "BCRYPT_COST": "the server's BCrypt cost",
    "LOGIN_FAILURE_DELAY_MS": "the server's failed-login delay (0 in tests)",
    "STRIPE_WEBHOOK_SECRETS": "the server's two webhook signing secrets (old,new), as during a rotation",
    "LIVEKIT_API_KEY": "the server's LiveKit API key",
    "LIVEKIT_API_SECRET": "the server's LiveKit API secret",
    "LIVEKIT_API_BASE_URL": "fake_livekit.py, serving as the server's LiveKit",
}

DEMO_LICENSEE = "demo"
TIMEOUT = 15


def missing_environment():
    return [name for name in REQUIRED_ENVIRONMENT if not os.environ.get(name)]


def unique_email(prefix, domain="demo.example"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}@{domain}"


def payment_succeeded_event(payment_id, amount=1500):
    """A `payment_intent.succeeded` event body as Stripe sends it."""
    return json.dumps({
        "id": f"evt_{uuid.uuid4().hex}", "object": "event", "api_version": "2024-06-20", "created": int(time.time()),
        "livemode": False, "type": "payment_intent.succeeded",
        "data": {"object": {"id": payment_id, "object": "payment_intent", "amount": amount, "amount_received": amount,
                            "currency": "eur", "status": "succeeded"}},
    }, separators=(",", ":"))


class Talktime:
    """One Talktime server (by base URL) plus the binary and database the tests were given."""

    def __init__(self, base_url, wait_out_rate_limits=False):
        """wait_out_rate_limits: when a login is answered 429, wait for Retry-After and try again (a few times),
        so that tests that are not about rate limits survive a rerun against the same server within the minute."""
        self.base_url = base_url.rstrip("/")
        self.wait_out_rate_limits = wait_out_rate_limits
        self.bin = os.environ["TALKTIME_BIN"]
        self.superuser_url = os.environ["TALKTIME_SUPERUSER_DATABASE_URL"]
        self.http = requests.Session()

    # HTTP

    def url(self, path):
        return f"{self.base_url}{path}"

    def register(self, email, password, display_name="Interop"):
        """Registers an end user of the demo Licensee; returns the token pair. Counts against register-ip."""
        response = self.http.post(
            self.url("/v1/auth/register"), headers={"X-Licensee": DEMO_LICENSEE},
            json={"email": email, "password": password, "display_name": display_name}, timeout=TIMEOUT,
        )
        assert response.status_code == 201, f"register {email}: {response.status_code} {response.text}"
        return response.json()

    def login(self, email, password, licensee=DEMO_LICENSEE):
        """POST /v1/auth/login; licensee=None logs in a platform admin. Counts against login-ip."""
        headers = {"X-Licensee": licensee} if licensee else {}
        for attempt in range(4):
            response = self.http.post(self.url("/v1/auth/login"), headers=headers, json={"email": email, "password": password}, timeout=TIMEOUT)
            if response.status_code != 429 or not self.wait_out_rate_limits or attempt == 3:
                return response
            time.sleep(min(int(response.headers.get("Retry-After", "3")), 15))

    def me(self, access_token):
        return self.http.get(self.url("/v1/me"), headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT)

    def credit_wallet(self, user_id, amount):
        """Credits an End User of the demo Licensee as a paid top-up does: the top-up row POST /v1/wallet/top-ups
        would write (these servers have no Stripe key), then its payment's webhook, signed with Stripe's library."""
        payment_id = f"pi_interop_{uuid.uuid4().hex[:16]}"
        self.pending_top_up(user_id, payment_id, amount)
        payload = payment_succeeded_event(payment_id, amount)
        secret = os.environ["STRIPE_WEBHOOK_SECRETS"].split(",")[-1]
        response = self.http.post(
            self.url("/v1/webhooks/stripe"), data=payload.encode(), timeout=TIMEOUT,
            headers={"Content-Type": "application/json", "Stripe-Signature": WebhookSignature.generate_signature_header(payload, secret)})
        assert response.status_code == 200, response.text

    def pending_top_up(self, user_id, payment_id, amount):
        self.sql(
            """
            INSERT INTO top_ups (licensee_id, user_id, amount, currency, payment_id, idempotency_key)
            SELECT l.id, :'user'::uuid, :amount, l.currency, :'payment', :'key' FROM licensees l WHERE l.slug = :'slug'
            """,
            user=user_id, amount=amount, payment=payment_id, key=payment_id, slug=DEMO_LICENSEE,
        )

    def jwks(self):
        response = self.http.get(self.url("/.well-known/jwks.json"), timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()

    # Database

    def sql(self, statement, **parameters):
        """Runs SQL as the superuser; parameters are psql variables, quoted in the SQL as :'name'.
        Returns the rows as lists of strings."""
        arguments = ["psql", self.superuser_url, "-X", "-q", "-t", "-A", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
        for name, value in parameters.items():
            arguments += ["-v", f"{name}={value}"]
        result = subprocess.run(arguments + ["-f", "-"], input=statement, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"psql failed ({result.returncode}): {result.stderr.strip()}\nSQL: {statement}"
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def scalar(self, statement, **parameters):
        rows = self.sql(statement, **parameters)
        assert len(rows) == 1 and len(rows[0]) == 1, f"expected one value, got {rows!r}\nSQL: {statement}"
        return rows[0][0]

    # CLI

    def cli(self, *arguments, stdin="", environment=None):
        return subprocess.run(
            [self.bin, *arguments], input=stdin, capture_output=True, text=True, timeout=120,
            env=dict(os.environ, **(environment or {})),
        )
