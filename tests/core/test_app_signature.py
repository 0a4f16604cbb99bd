"""The webhook signature verifier on its own: a pure function of (body, Saleor-Signature, JWKS), held to the
format Saleor signs with (a detached, unencoded RS256 JWS, tests/app_saleor.py)."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from jwt import api_jws

from saleor_livedist.app_server.signature import BadSignature, UnknownKey, verify_delivery
from tests.app_saleor import SigningKey, b64url

BODY = json.dumps({"__typename": "OrderCreated", "order": {"id": "T3JkZXI6MQ=="}}).encode()


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey()


def jwks(*keys: SigningKey) -> dict:
    return {"keys": [k.jwk for k in keys]}


def test_saleors_signature_of_the_body_verifies(key: SigningKey) -> None:
    signature = key.sign(BODY)
    head, middle, _ = signature.split(".")
    assert middle == ""  # detached
    header = verify_delivery(BODY, signature, jwks(key))
    assert header["alg"] == "RS256" and header["kid"] == key.kid and header["b64"] is False
    assert header["crit"] == ["b64"]


def test_the_right_key_is_picked_from_several(key: SigningKey) -> None:
    other = SigningKey()
    assert verify_delivery(BODY, key.sign(BODY), jwks(other, key))["kid"] == key.kid


@pytest.mark.parametrize("body", [BODY + b" ", BODY.replace(b"T3Jk", b"T3Jl"), b"", BODY[:-1]])
def test_a_changed_body_is_refused(key: SigningKey, body: bytes) -> None:
    with pytest.raises(BadSignature, match="does not match"):
        verify_delivery(body, key.sign(BODY), jwks(key))


def test_a_signature_by_another_key_with_the_same_kid_is_refused(key: SigningKey) -> None:
    forger = SigningKey()
    with pytest.raises(BadSignature, match="does not match"):
        verify_delivery(BODY, forger.sign(BODY, kid=key.kid), jwks(key))


def test_an_unknown_kid_says_so_so_the_caller_can_refetch(key: SigningKey) -> None:
    with pytest.raises(UnknownKey) as raised:
        verify_delivery(BODY, SigningKey().sign(BODY), jwks(key))
    assert raised.value.kid != key.kid


@pytest.mark.parametrize("signature", [None, "", "abc", "a.b.c", "..", "a..", "..c"])
def test_missing_or_malformed_signatures_are_refused(key: SigningKey, signature: str | None) -> None:
    with pytest.raises(BadSignature):
        verify_delivery(BODY, signature, jwks(key))


def test_an_attached_payload_is_refused(key: SigningKey) -> None:
    attached = api_jws.encode(BODY, key=key.private, algorithm="RS256", headers={"kid": key.kid})
    with pytest.raises(BadSignature):
        verify_delivery(BODY, attached, jwks(key))


def test_hs256_with_the_public_key_as_secret_is_refused(key: SigningKey) -> None:
    header = b64url(json.dumps({"alg": "HS256", "kid": key.kid, "b64": False, "crit": ["b64"]}).encode())
    for secret in (json.dumps(key.jwk).encode(), key.jwk["n"].encode()):  # what a confused verifier would use
        mac = hmac.new(secret, header.encode() + b"." + BODY, hashlib.sha256).digest()
        with pytest.raises(BadSignature, match="algorithm"):
            verify_delivery(BODY, f"{header}..{b64url(mac)}", jwks(key))


def test_alg_none_is_refused(key: SigningKey) -> None:
    header = b64url(json.dumps({"alg": "none", "kid": key.kid, "b64": False, "crit": ["b64"]}).encode())
    with pytest.raises(BadSignature, match="algorithm"):
        verify_delivery(BODY, header + "..c2ln", jwks(key))


def test_a_key_that_is_not_an_rsa_signing_key_is_refused(key: SigningKey) -> None:
    for changed in ({"use": "enc"}, {"alg": "HS256"}, {"kty": "oct"}):
        with pytest.raises(BadSignature):
            verify_delivery(BODY, key.sign(BODY), {"keys": [{**key.jwk, **changed}]})


@pytest.mark.parametrize("document", [{}, {"keys": "x"}, [], {"keys": [1, "a"]}])
def test_a_broken_jwks_refuses_everything(key: SigningKey, document: object) -> None:
    with pytest.raises(BadSignature):
        verify_delivery(BODY, key.sign(BODY), document)  # type: ignore[arg-type]
