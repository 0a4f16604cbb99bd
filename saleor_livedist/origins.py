"""Whether a sign-in POST comes from a page allowed to sign people in: without the check another site could post
its own token and sign a visitor in as someone else (login CSRF). The console's and the center's sign-ins use it."""
from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from django.http import HttpRequest


def posted_from_trusted_origin(request: HttpRequest, also: Iterable[str] = ()) -> bool:
    """The request's own origin, or one of `also` (origins such as https://shop.example.com). A request without
    Origin is not a browser's cross-site form (browsers send it on every cross-origin POST). "null" is trusted
    only as the browser's same-origin post from a page sending no referrer (Sec-Fetch-Site: same-origin), never
    from a sandboxed frame or a privacy-stripped redirect."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin == "null":
        return request.headers.get("Sec-Fetch-Site") == "same-origin"
    if urlsplit(origin).netloc == request.get_host():
        return True
    return origin.rstrip("/") in {o.rstrip("/") for o in also}
