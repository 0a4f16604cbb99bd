"""The viewer endpoint as a Django view (inside Saleor, and the sandbox's fallback): each request recorded as a
batch of one. A busy live is served by the lean app (app.py) instead."""
from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from ..distribution.links import VISITOR_COOKIE
from .batch import record_batch
from .contract import (
    COOKIE_MAX_AGE, MAX_BODY_BYTES, VISITOR_HEADER, Authenticator, Outcome, Pending, Viewer, ViewerError,
    ViewerRequest, answer, cors_headers, parse_request, preflight, too_large, verified_visitor, viewer_of,
)


def viewer_endpoint(request: HttpRequest, authenticate: Authenticator) -> HttpResponse:
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":
        status, headers = preflight(origin)
        response = HttpResponse(status=status) if status == 204 else ViewerError(
            403, "ORIGIN_NOT_ALLOWED", _("this origin may not call the viewer endpoint")).response()
    else:
        response = _served(request, authenticate)
        headers = cors_headers(origin)
    for name, value in headers:
        response[name] = value
    return response


def _served(request: HttpRequest, authenticate: Authenticator) -> HttpResponse:
    if request.method != "POST":
        return ViewerError(405, "METHOD_NOT_ALLOWED", _("POST a JSON object to this endpoint")).response()
    try:
        wanted = parse_request(_request_body(request))
        viewer = identify(request, authenticate, wanted.action)
        outcome = record(wanted, viewer, request.META.get("REMOTE_ADDR") or "unknown")
    except ViewerError as exc:
        response = exc.response()
        if exc.code == "FORBIDDEN_VISITOR":  # let the next join start afresh with an id of ours
            response.delete_cookie(VISITOR_COOKIE, samesite="Lax")
        return response
    body = answer(wanted, viewer, outcome)
    response = JsonResponse(body)
    if viewer.issued:
        response.set_cookie(VISITOR_COOKIE, body["visitor"], max_age=COOKIE_MAX_AGE, httponly=True,
                            samesite="Lax", secure=request.is_secure())
    return response


def _request_body(request: HttpRequest) -> bytes:
    """The body, refused as too large from its declared length before it is read (and whatever Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE says, in the same JSON)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise too_large()
    try:
        return request.body
    except RequestDataTooBig:
        raise too_large() from None


def record(wanted: ViewerRequest, viewer: Viewer, address: str = "unknown") -> Outcome:
    """Admit, decide and keep one request in its own transaction: a batch of one."""
    pending = Pending(wanted, viewer, address)
    record_batch([pending])
    if isinstance(pending.result, ViewerError):
        raise pending.result
    assert pending.result is not None
    return pending.result


def identify(request: HttpRequest, authenticate: Authenticator, action: str) -> Viewer:
    """The viewer of a Django request: the signed visitor id from the header, then the cookie."""
    visitor = verified_visitor(request.headers.get(VISITOR_HEADER) or request.COOKIES.get(VISITOR_COOKIE))
    return viewer_of(visitor, authenticate(request), action)
