"""Saleor's own access tokens (JWT) for the plugin's API."""
from __future__ import annotations

from typing import Any


def saleor_authenticate(request: Any) -> Any:
    import jwt
    from saleor.core.auth import get_token_from_request
    from saleor.core.jwt import get_user_from_access_payload, jwt_decode

    token = get_token_from_request(request)
    if not token:
        return None
    try:
        return get_user_from_access_payload(jwt_decode(token), request)
    except jwt.PyJWTError:
        return None
