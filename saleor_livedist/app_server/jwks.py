"""The signing keys of each Saleor instance, fetched from its `/.well-known/jwks.json` and cached: a delivery
signed with a key id the cached set lacks (Saleor rotated its key) fetches the set again, once, and at most
every REFETCH_INTERVAL seconds per instance, so forged key ids cannot make us hammer the instance."""
from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urljoin
from urllib.request import Request, urlopen

from .signature import BadSignature, UnknownKey, parse_jwks, verify_delivery

TTL_SECONDS = 3600.0
REFETCH_INTERVAL = 30.0
TIMEOUT_SECONDS = 5.0
MAX_BYTES = 256 * 1024

_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, Any]]] = {}  # JWKS URL -> (fetched at, document)
_refreshed: dict[str, float] = {}  # JWKS URL -> when a key id it lacked last made us fetch it again


def jwks_url(api_url: str) -> str:
    """Saleor serves its JWKS next to its GraphQL API: https://shop/graphql/ -> https://shop/.well-known/jwks.json."""
    return urljoin(api_url if api_url.endswith("/") else api_url + "/", "../.well-known/jwks.json")


def fetch(url: str) -> dict[str, Any]:
    request = Request(url, headers={"Accept": "application/json", "User-Agent": "saleor-livedist"})
    try:
        with urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - the tenant's own URL
            body = response.read(MAX_BYTES + 1)
    except OSError as exc:
        raise BadSignature(f"cannot fetch the instance's JWKS from {url}: {exc}") from None
    if len(body) > MAX_BYTES:
        raise BadSignature(f"the instance's JWKS at {url} is larger than {MAX_BYTES} bytes")
    return parse_jwks(body)


def keys_of(api_url: str, refresh: bool = False) -> dict[str, Any]:
    """The instance's key set: cached for TTL_SECONDS; refresh (a key id the set lacks) fetches it again unless
    that was done less than REFETCH_INTERVAL ago."""
    url = jwks_url(api_url)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(url)
        if cached is not None:
            if not refresh and now - cached[0] < TTL_SECONDS:
                return cached[1]
            if refresh and now - _refreshed.get(url, -REFETCH_INTERVAL) < REFETCH_INTERVAL:
                return cached[1]
        if refresh:
            _refreshed[url] = now
    document = fetch(url)
    with _lock:
        _cache[url] = (time.monotonic(), document)
    return document


def verify(api_url: str, body: bytes, signature: str | None) -> dict[str, Any]:
    """verify_delivery against the instance's keys, fetched again once for a key id they lack."""
    try:
        return verify_delivery(body, signature, keys_of(api_url))
    except UnknownKey:
        return verify_delivery(body, signature, keys_of(api_url, refresh=True))


def forget() -> None:
    """Drop every cached key set (tests)."""
    with _lock:
        _cache.clear()
        _refreshed.clear()
