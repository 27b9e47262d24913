"""Webhooks signed by Stripe's official Python library (`stripe.WebhookSignature`) against Talktime's
verification, with the server holding two secrets as during a rotation; and `talktime ledger verify` after."""
import os
import time
import uuid

import pytest
from stripe import WebhookSignature

from talktime_api import payment_succeeded_event


@pytest.fixture(scope="module")
def secrets():
    old, new = os.environ["STRIPE_WEBHOOK_SECRETS"].split(",")
    return old, new


@pytest.fixture()
def pending_top_up(talktime, registered_user):
    """A top-up of the session's user awaiting its payment, as POST /v1/wallet/top-ups leaves it (the server in
    these tests has no Stripe key, so the row is written directly)."""
    payment_id = f"pi_interop_{uuid.uuid4().hex[:16]}"
    me = talktime.me(registered_user["tokens"]["access_token"]).json()
    talktime.pending_top_up(me["id"], payment_id, 1500)
    return payment_id


def wallet_balance(talktime, registered_user):
    response = talktime.http.get(
        talktime.url("/v1/wallet"), headers={"Authorization": f"Bearer {registered_user['tokens']['access_token']}"}, timeout=15)
    assert response.status_code == 200, response.text
    return response.json()["balance"]


def deliver(talktime, payload, header):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return talktime.http.post(talktime.url("/v1/webhooks/stripe"), data=payload.encode(), headers=headers, timeout=15)


@pytest.mark.parametrize("signer", ["old", "new"])
def test_a_header_from_the_stripe_library_with_either_secret_is_accepted(talktime, registered_user, pending_top_up, secrets, signer):
    before = wallet_balance(talktime, registered_user)
    payload = payment_succeeded_event(pending_top_up)
    header = WebhookSignature.generate_signature_header(payload, secrets[0] if signer == "old" else secrets[1])
    response = deliver(talktime, payload, header)
    assert response.status_code == 200, response.text
    assert wallet_balance(talktime, registered_user) == before + 1500


def test_two_v1_signatures_during_a_secret_roll_are_accepted_and_credit_once(talktime, registered_user, pending_top_up, secrets):
    before = wallet_balance(talktime, registered_user)
    payload = payment_succeeded_event(pending_top_up)
    timestamp = int(time.time())
    signed = f"{timestamp}.{payload}"
    header = (f"t={timestamp},v1={WebhookSignature._compute_signature(signed, secrets[0])},"
              f"v1={WebhookSignature._compute_signature(signed, secrets[1])}")
    for _ in range(3):
        response = deliver(talktime, payload, header)
        assert response.status_code == 200, response.text
    assert wallet_balance(talktime, registered_user) == before + 1500


def test_a_foreign_secret_a_stale_timestamp_and_a_changed_body_are_rejected(talktime, registered_user, pending_top_up, secrets):
    before = wallet_balance(talktime, registered_user)
    payload = payment_succeeded_event(pending_top_up)
    attempts = [
        (payload, WebhookSignature.generate_signature_header(payload, "whsec_" + uuid.uuid4().hex)),
        (payload, WebhookSignature.generate_signature_header(payload, secrets[1], timestamp=int(time.time()) - 301)),
        (payload.replace("1500", "9500"), WebhookSignature.generate_signature_header(payload, secrets[1])),
        (payload, None),
    ]
    for body, header in attempts:
        response = deliver(talktime, body, header)
        assert response.status_code == 400, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert "whsec" not in response.text
    assert wallet_balance(talktime, registered_user) == before


def test_ledger_verify_passes_after_the_webhooks(talktime):
    result = talktime.cli("ledger", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The ledger is consistent." in result.stdout
