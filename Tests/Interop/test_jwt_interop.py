"""Talktime's access tokens verify with PyJWT using only the published JWKS, and Talktime verifies EdDSA tokens
PyJWT signs: it accepts one made with its own key and the claims it issued, and refuses every forgery."""
import base64
import os
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ISSUER = "talktime"
AUDIENCE = "talktime-api"
PUBLIC_JWK_MEMBERS = {"kty", "crv", "x", "kid", "alg", "use"}
# Every private member of any JWK type (RFC 7518 section 6, RFC 8037): none may be published.
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.fixture(scope="module")
def genuine(talktime, registered_user):
    """An access token Talktime issued, its unverified claims, and /v1/me for it."""
    token = registered_user["tokens"]["access_token"]
    me = talktime.me(token)
    assert me.status_code == 200, me.text
    return {"token": token, "claims": jwt.decode(token, options={"verify_signature": False}), "me": me.json()}


@pytest.fixture(scope="module")
def signing_key():
    """The server's Ed25519 private key, from the same JWT_SIGNING_KEY (a base64 32-byte seed) it was given."""
    seed = base64.b64decode(os.environ["JWT_SIGNING_KEY"])
    assert len(seed) == 32
    return Ed25519PrivateKey.from_private_bytes(seed)


def published_key(talktime, token):
    """The JWKS entry named by the token's kid."""
    kid = jwt.get_unverified_header(token)["kid"]
    matching = [key for key in talktime.jwks()["keys"] if key["kid"] == kid]
    assert len(matching) == 1, f"kid {kid!r}: {matching}"
    return matching[0]


def decode(token, key, **overrides):
    arguments = {
        "algorithms": ["EdDSA"], "audience": AUDIENCE, "issuer": ISSUER,
        "options": {"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
    }
    arguments.update(overrides)
    return jwt.decode(token, key, **arguments)


def test_access_tokens_verify_with_pyjwt_and_the_published_jwks(talktime, genuine, registered_user, demo_licensee_id):
    token = genuine["token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header.get("typ") == "JWT" and header["kid"]

    # PyJWKClient fetches the JWKS and picks the key by the token's kid.
    client = jwt.PyJWKClient(talktime.url("/.well-known/jwks.json"), cache_keys=False)
    signing_key = client.get_signing_key_from_jwt(token)
    assert signing_key.key_id == header["kid"]
    assert isinstance(signing_key.key, Ed25519PublicKey)
    claims = decode(token, signing_key)

    # The same with the key built from the JWKS document by hand.
    assert decode(token, jwt.PyJWK(published_key(talktime, token))) == claims

    me = genuine["me"]
    assert claims["sub"] == claims["sub"].lower()
    assert uuid.UUID(claims["sub"]) == uuid.UUID(me["id"])
    assert claims["token_use"] == "access"
    assert claims["role"] == me["role"] == "end_user"
    assert uuid.UUID(claims["lic"]) == uuid.UUID(me["licensee_id"]) == uuid.UUID(demo_licensee_id)
    assert me["email"] == registered_user["email"]
    uuid.UUID(claims["sid"])
    assert isinstance(claims["gen"], int) and claims["gen"] >= 0
    assert claims["nbf"] <= claims["iat"] + 1
    assert claims["exp"] - claims["iat"] == pytest.approx(registered_user["tokens"]["expires_in"], abs=1)
    assert claims["exp"] > time.time()


def test_pyjwt_refuses_a_wrong_audience_a_wrong_issuer_and_a_flipped_signature(talktime, genuine):
    token = genuine["token"]
    key = jwt.PyJWK(published_key(talktime, token))
    decode(token, key)
    with pytest.raises(jwt.InvalidAudienceError):
        decode(token, key, audience="someone-else")
    with pytest.raises(jwt.InvalidIssuerError):
        decode(token, key, issuer="someone-else")

    header, payload, signature = token.split(".")
    raw = bytearray(b64url_decode(signature))
    assert len(raw) == 64  # Ed25519
    raw[len(raw) // 2] ^= 0x01
    flipped = f"{header}.{payload}.{b64url_encode(bytes(raw))}"
    with pytest.raises(jwt.InvalidSignatureError):
        decode(flipped, key)
    # And Talktime refuses it just the same.
    refused = talktime.me(flipped)
    assert refused.status_code == 401, refused.text


def test_the_jwks_publishes_the_public_half_of_the_signing_key_only(talktime, genuine, signing_key):
    keys = talktime.jwks()["keys"]
    assert keys
    for key in keys:
        assert set(key) <= PUBLIC_JWK_MEMBERS, f"unexpected members: {set(key) - PUBLIC_JWK_MEMBERS}"
        assert not set(key) & PRIVATE_JWK_MEMBERS
        assert "d" not in key
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA" and key["use"] == "sig"
        assert len(b64url_decode(key["x"])) == 32
    assert len({key["kid"] for key in keys}) == len(keys)
    # The key that signed our token is the public half of JWT_SIGNING_KEY.
    public = signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert b64url_decode(published_key(talktime, genuine["token"])["x"]) == public


def resigned(genuine, key, algorithm="EdDSA", kid="same", **claim_changes):
    """The genuine token's claims with fresh times (whole seconds, as PyJWT writes them), signed by PyJWT.
    A claim changed to None is left out."""
    now = int(time.time())
    claims = dict(genuine["claims"], iat=now, nbf=now, exp=now + 300)
    claims.update(claim_changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    headers = {}
    if kid is not None:
        headers["kid"] = jwt.get_unverified_header(genuine["token"])["kid"] if kid == "same" else kid
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


@pytest.mark.parametrize("audience", ["talktime-api", ["talktime-api"]], ids=["aud-string", "aud-list"])
def test_talktime_accepts_a_token_pyjwt_signs_with_its_key(talktime, genuine, signing_key, audience):
    token = resigned(genuine, signing_key, aud=audience)
    assert token != genuine["token"]
    response = talktime.me(token)
    assert response.status_code == 200, response.text
    assert response.json() == genuine["me"]


def now():
    return int(time.time())


# Each builds a token PyJWT signs that Talktime must refuse, from (genuine, signing_key, public_x).
FORGERIES = {
    "another Ed25519 key under the same kid": lambda g, key, x: resigned(g, Ed25519PrivateKey.generate()),
    "alg none": lambda g, key, x: resigned(g, None, algorithm="none"),
    "HS256 keyed with the public key": lambda g, key, x: resigned(g, x, algorithm="HS256"),
    "no kid": lambda g, key, x: resigned(g, key, kid=None),
    "unknown kid": lambda g, key, x: resigned(g, key, kid="not-a-key"),
    "wrong audience": lambda g, key, x: resigned(g, key, aud="someone-else"),
    "wrong issuer": lambda g, key, x: resigned(g, key, iss="someone-else"),
    "expired": lambda g, key, x: resigned(g, key, iat=now() - 600, nbf=now() - 600, exp=now() - 60),
    "not yet valid": lambda g, key, x: resigned(g, key, nbf=now() + 600, exp=now() + 900),
    "no exp": lambda g, key, x: resigned(g, key, exp=None),
    "token_use refresh": lambda g, key, x: resigned(g, key, token_use="refresh"),
    "a later session generation": lambda g, key, x: resigned(g, key, gen=g["claims"]["gen"] + 1),
    "another session": lambda g, key, x: resigned(g, key, sid=str(uuid.uuid4())),
    "role raised to licensee_admin": lambda g, key, x: resigned(g, key, role="licensee_admin"),
    "another subject": lambda g, key, x: resigned(g, key, sub=str(uuid.uuid4())),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_talktime_refuses_tokens_pyjwt_forges(talktime, genuine, signing_key, forgery):
    public_x = b64url_decode(published_key(talktime, genuine["token"])["x"])
    token = FORGERIES[forgery](genuine, signing_key, public_x)
    response = talktime.me(token)
    assert response.status_code == 401, f"{forgery}: {response.status_code} {response.text}"
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
