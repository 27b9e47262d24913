"""LiveKit's official server SDK (`livekit-api`) against Talktime: the room tokens POST /v1/calls hands out verify
with `TokenVerifier` and grant exactly one room; webhooks signed with `AccessToken(...).with_sha256(...)` are
accepted and end the call once; expired, forged and body-mismatched webhooks get 401 and change nothing. The
server's admin tokens are checked by the same SDK in fake_livekit.py, which scripts/test runs as its LiveKit."""
import base64
import datetime
import hashlib
import os
import time
import uuid

import pytest
import requests
from google.protobuf.json_format import MessageToJson
from livekit.api import AccessToken, TokenVerifier
from livekit.protocol import models
from livekit.protocol.models import ParticipantInfo, Room
from livekit.protocol.webhook import WebhookEvent

from talktime_api import TIMEOUT


@pytest.fixture(scope="module")
def livekit():
    return {
        "key": os.environ["LIVEKIT_API_KEY"], "secret": os.environ["LIVEKIT_API_SECRET"],
        "fake": os.environ["LIVEKIT_API_BASE_URL"],
    }


def fake_state(livekit):
    return requests.get(f"{livekit['fake']}/_fake/state", timeout=TIMEOUT).json()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def ringing_call(talktime, registered_user, funded):
    """A call from the session's user to the demo Advisor, cancelled afterwards so the Advisor is free again."""
    access = registered_user["tokens"]["access_token"]
    advisors = talktime.http.get(talktime.url("/v1/advisors?presence=available"), headers=bearer(access), timeout=TIMEOUT)
    assert advisors.status_code == 200, advisors.text
    advisor = advisors.json()["data"][0]["id"]
    response = talktime.http.post(
        talktime.url("/v1/calls"), json={"advisor_id": advisor},
        headers={**bearer(access), "Idempotency-Key": str(uuid.uuid4())}, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    yield response.json()
    talktime.http.post(talktime.url(f"/v1/calls/{response.json()['call']['id']}/cancel"), headers=bearer(access), timeout=TIMEOUT)


@pytest.fixture()
def funded(talktime, registered_user):
    """Enough money in the session's user's wallet for a call."""
    me = talktime.me(registered_user["tokens"]["access_token"]).json()
    balance = talktime.http.get(
        talktime.url("/v1/wallet"), headers=bearer(registered_user["tokens"]["access_token"]), timeout=TIMEOUT).json()["balance"]
    if balance < 1000:
        talktime.credit_wallet(me["id"], 1000)


def test_room_tokens_verify_with_the_livekit_sdk_and_grant_one_room(talktime, registered_user, ringing_call, livekit):
    join = ringing_call["livekit"]
    claims = TokenVerifier(livekit["key"], livekit["secret"]).verify(join["token"])
    me = talktime.me(registered_user["tokens"]["access_token"]).json()
    # Identities in the room are lower-case ids; the API writes ids as Foundation does, in upper case.
    assert claims.identity == me["id"].lower()
    assert claims.video.room == join["room"]
    assert claims.video.room_join is True
    assert claims.video.can_publish and claims.video.can_subscribe and claims.video.can_publish_data
    assert not claims.video.room_admin and not claims.video.room_create and not claims.video.room_list
    # Another secret does not verify it.
    with pytest.raises(Exception):
        TokenVerifier(livekit["key"], "x" * 40).verify(join["token"])
    # The room was created through the server API, whose admin token the SDK verified, for two at most.
    room = fake_state(livekit)["rooms"][join["room"]]
    assert room["max_participants"] == 2
    fresh = talktime.http.get(
        talktime.url(f"/v1/calls/{ringing_call['call']['id']}/token"), headers=bearer(registered_user["tokens"]["access_token"]),
        timeout=TIMEOUT)
    assert fresh.status_code == 200, fresh.text
    assert TokenVerifier(livekit["key"], livekit["secret"]).verify(fresh.json()["livekit"]["token"]).video.room == join["room"]


def webhook(event, room, identity=None, session="PA_x", disconnect_reason=None):
    message = WebhookEvent(event=event, id=f"EV_{uuid.uuid4().hex[:12]}", created_at=int(time.time()), room=Room(name=room, sid="RM_x"))
    if identity:
        message.participant.CopyFrom(ParticipantInfo(identity=identity, sid=session, disconnect_reason=disconnect_reason))
    return MessageToJson(message)


def signed(body, key, secret, ttl=datetime.timedelta(minutes=5)):
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return AccessToken(key, secret).with_sha256(digest).with_ttl(ttl).to_jwt()


def deliver(talktime, body, token):
    headers = {"Content-Type": "application/webhook+json"}
    if token is not None:
        headers["Authorization"] = token
    return talktime.http.post(talktime.url("/v1/webhooks/livekit"), data=body.encode(), headers=headers, timeout=TIMEOUT)


def call_status(talktime, registered_user, call_id):
    response = talktime.http.get(talktime.url(f"/v1/calls/{call_id}"), headers=bearer(registered_user["tokens"]["access_token"]), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def test_webhooks_signed_by_the_sdk_are_accepted_once(talktime, registered_user, ringing_call, livekit):
    me = talktime.me(registered_user["tokens"]["access_token"]).json()
    body = webhook("participant_left", ringing_call["livekit"]["room"], me["id"].lower())
    token = signed(body, livekit["key"], livekit["secret"])
    for _ in range(3):
        response = deliver(talktime, body, token)
        assert response.status_code == 200, response.text
    call = call_status(talktime, registered_user, ringing_call["call"]["id"])
    assert call["status"] == "cancelled"
    assert call["end_reason"] == "participant_left"
    assert ringing_call["livekit"]["room"] in fake_state(livekit)["deleted"]


def test_a_session_the_sdk_marks_replaced_does_not_end_the_call(talktime, registered_user, ringing_call, livekit):
    # What livekit-server sends when the caller reconnects with a fresh token: the old session leaves as a
    # duplicate identity. The call goes on until a session leaves for good.
    me = talktime.me(registered_user["tokens"]["access_token"]).json()
    room = ringing_call["livekit"]["room"]
    for body in [
        webhook("participant_joined", room, me["id"].lower(), session="PA_first"),
        webhook("participant_joined", room, me["id"].lower(), session="PA_second"),
        webhook("participant_left", room, me["id"].lower(), session="PA_first", disconnect_reason=models.DUPLICATE_IDENTITY),
    ]:
        assert deliver(talktime, body, signed(body, livekit["key"], livekit["secret"])).status_code == 200
    assert call_status(talktime, registered_user, ringing_call["call"]["id"])["status"] == "ringing"
    body = webhook("participant_left", room, me["id"].lower(), session="PA_second", disconnect_reason=models.CLIENT_INITIATED)
    assert deliver(talktime, body, signed(body, livekit["key"], livekit["secret"])).status_code == 200
    call = call_status(talktime, registered_user, ringing_call["call"]["id"])
    assert call["status"] == "cancelled"
    assert call["end_reason"] == "participant_left"


def test_expired_forged_and_mismatched_webhooks_are_refused(talktime, registered_user, ringing_call, livekit):
    me = talktime.me(registered_user["tokens"]["access_token"]).json()
    body = webhook("participant_left", ringing_call["livekit"]["room"], me["id"].lower())
    attempts = [
        (body, signed(body, livekit["key"], livekit["secret"], ttl=datetime.timedelta(seconds=-60))),
        (body, signed(body, livekit["key"], "forged-" + "y" * 40)),
        (body, signed(body, "APIsomeoneelse", livekit["secret"])),
        (body.replace("participant_left", "room_finished"), signed(body, livekit["key"], livekit["secret"])),
        (body, None),
    ]
    for payload, token in attempts:
        response = deliver(talktime, payload, token)
        assert response.status_code == 401, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert livekit["secret"] not in response.text
    assert call_status(talktime, registered_user, ringing_call["call"]["id"])["status"] == "ringing"
