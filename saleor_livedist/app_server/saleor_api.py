"""Calls to a Saleor instance's GraphQL API with the app's token (App mode's way to ask Saleor anything)."""
from __future__ import annotations

import json
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from ..exceptions import LiveDistError

TIMEOUT_SECONDS = 10.0
MAX_BYTES = 4 * 1024 * 1024
APP_ID_QUERY = "query LivedistApp { app { id } }"


class SaleorUnreachable(LiveDistError, ConnectionError):
    """The instance's API did not answer (or not with GraphQL)."""


def graphql(api_url: str, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The response document ({"data", "errors"}) of one GraphQL request made as the app."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = Request(api_url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Bearer {token}",
        "User-Agent": "saleor-livedist"})
    try:
        with urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - an allowlisted instance
            text = response.read(MAX_BYTES + 1)
    except HTTPError as exc:  # Saleor answers 400 with a GraphQL document for a refused token
        text = exc.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SaleorUnreachable(f"{api_url} did not answer: {exc}") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise SaleorUnreachable(f"{api_url} did not answer with JSON") from None
    if not isinstance(document, dict):
        raise SaleorUnreachable(f"{api_url} did not answer with a GraphQL document")
    return document


def app_id(api_url: str, token: str) -> str | None:
    """The app's id in that Saleor if `token` is an app token Saleor issued, else None."""
    data = graphql(api_url, token, APP_ID_QUERY).get("data")
    app = data.get("app") if isinstance(data, dict) else None
    value = app.get("id") if isinstance(app, dict) else None
    return value if isinstance(value, str) and value else None
