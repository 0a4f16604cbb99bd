"""Saleor's webhook signature: `Saleor-Signature` is a JWS with a detached, unencoded payload (RFC 7797:
`<base64url header>..<base64url signature>`, header {"alg": "RS256", "kid", "b64": false, "crit": ["b64"]}),
signed by the instance's private key, whose public half is in its JWKS (`/.well-known/jwks.json`).

`verify_delivery(body, signature, jwks)` is pure (no I/O, no Django): it returns the JWS header or raises
BadSignature, UnknownKey when no key of the JWKS has the signature's key id (the caller may refetch the JWKS
once and try again).
"""
from __future__ import annotations

import json
from typing import Any

import jwt
from jwt import api_jws

from ..exceptions import LiveDistError

ALGORITHM = "RS256"  # the only one Saleor signs with; never HS256 (a public key is no secret) nor "none"


class BadSignature(LiveDistError, ValueError):
    """The delivery's signature is missing, malformed, or does not match the body."""


class UnknownKey(BadSignature):
    """No key of the JWKS has the signature's key id."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"no key with id {kid!r} in the instance's JWKS")
        self.kid = kid


def verify_delivery(body: bytes, signature: str | None, jwks: dict[str, Any]) -> dict[str, Any]:
    """The signature's JWS header if `signature` signs exactly `body` with a key of `jwks`; else raises."""
    if not signature:
        raise BadSignature("the delivery is not signed")
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "" or not parts[0] or not parts[2]:
        raise BadSignature("not a detached JWS (header..signature)")
    try:
        header = jwt.get_unverified_header(signature)
    except jwt.PyJWTError as exc:
        raise BadSignature(f"unreadable JWS header: {exc}") from None
    if header.get("alg") != ALGORITHM:
        raise BadSignature(f"algorithm {header.get('alg')!r}, not {ALGORITHM}")
    if header.get("b64") is not False or "b64" not in (header.get("crit") or []):
        raise BadSignature("the payload must be detached and unencoded (b64: false, crit: [b64])")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise BadSignature("the JWS header names no key id")
    key = _key(jwks, kid)
    try:
        api_jws.decode_complete(signature, key, algorithms=[ALGORITHM], detached_payload=body)
    except jwt.PyJWTError as exc:
        raise BadSignature(f"the signature does not match the body: {exc}") from None
    return header


def _key(jwks: dict[str, Any], kid: str) -> Any:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    for entry in keys if isinstance(keys, list) else []:
        if not isinstance(entry, dict) or entry.get("kid") != kid:
            continue
        if entry.get("kty") != "RSA" or entry.get("alg", ALGORITHM) != ALGORITHM or entry.get("use", "sig") != "sig":
            raise BadSignature(f"key {kid!r} is not an RS256 signing key")
        try:
            return jwt.PyJWK(entry, ALGORITHM).key
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise BadSignature(f"key {kid!r} is unreadable: {exc}") from None
    raise UnknownKey(kid)


def parse_jwks(text: bytes | str) -> dict[str, Any]:
    """A JWKS document from its JSON text; BadSignature if it is not one."""
    try:
        document = json.loads(text)
    except ValueError:
        raise BadSignature("the instance's JWKS is not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise BadSignature("the instance's JWKS has no keys")
    return document
