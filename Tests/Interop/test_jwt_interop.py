"""Talktime's access tokens verify with PyJWT, using only the published JWKS document."""
import base64

import jwt
import pytest
import requests

from conftest import register


@pytest.fixture(scope="module")
def jwks(base_url):
    response = requests.get(f"{base_url}/.well-known/jwks.json", timeout=10)
    assert response.status_code == 200
    return response.json()


def key_for(jwks, token):
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = [key for key in jwks["keys"] if key["kid"] == kid]
    return jwt.PyJWK(key)


def test_access_tokens_verify_with_pyjwt(base_url, jwks, fresh_email):
    tokens = register(base_url, fresh_email, "interop passphrase 42")
    token = tokens["access_token"]
    claims = jwt.decode(token, key_for(jwks, token), algorithms=["EdDSA"], audience="talktime-api", issuer="talktime")
    me = requests.get(f"{base_url}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert claims["sub"] == me["id"].lower()
    assert claims["token_use"] == "access"
    assert claims["role"] == "end_user"
    assert claims["exp"] - claims["iat"] == pytest.approx(tokens["expires_in"], abs=1)


def test_pyjwt_refuses_a_wrong_audience_and_a_flipped_signature(base_url, jwks, fresh_email):
    token = register(base_url, fresh_email, "interop passphrase 42")["access_token"]
    key = key_for(jwks, token)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key, algorithms=["EdDSA"], audience="someone-else", issuer="talktime")
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    flipped = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{header}.{payload}.{flipped}", key, algorithms=["EdDSA"], audience="talktime-api", issuer="talktime")


def test_the_jwks_publishes_public_keys_only(jwks):
    assert jwks["keys"]
    for key in jwks["keys"]:
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA"
        assert "d" not in key
