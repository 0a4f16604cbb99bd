"""The viewer endpoint as a lean WSGI application: POST <path> is answered here, without Django's URL resolver,
middleware, HttpRequest or JsonResponse, recording through the process's group commit (batch.py); every
other request, and a viewer signed in by a Django session cookie, goes to the project's own WSGI application.
The entry point a server runs is viewer_wsgi; deployment: docs/events.md, "Serving it at scale"."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.http import HttpResponse
from django.http.cookie import parse_cookie
from django.utils import translation
from django.utils.translation import gettext as _

from ..distribution.links import VISITOR_COOKIE
from ..i18n import environ_language
from .batch import Batcher
from .contract import (
    COOKIE_MAX_AGE,
    MAX_BODY_BYTES,
    Authenticator,
    Viewer,
    ViewerError,
    answer,
    cors_headers,
    parse_request,
    preflight,
    too_large,
    verified_visitor,
    viewer_of,
)

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, list[tuple[str, str]], bytes]

JSON = ("Content-Type", "application/json")
CREDENTIALS = ("HTTP_AUTHORIZATION", "HTTP_AUTHORIZATION_BEARER")  # Saleor reads both for its access tokens


class ViewerApp:
    """`fallback`: the WSGI application for everything that is not a POST of the viewer path's (None: 404).
    `authenticate`: the project's authenticator (sandbox_authenticate, saleor_authenticate), called with a bare
    Django request, only for requests carrying an Authorization header. A request carrying a Django session
    cookie goes to `fallback`, whose middleware knows who it is."""

    def __init__(self, fallback: WSGIApp | None = None, path: str = "/viewer/",
                 authenticate: Authenticator | None = None, batcher: Batcher | None = None):
        self.fallback, self.authenticate = fallback, authenticate
        self.path = path.rstrip("/")
        self.batcher = batcher if batcher is not None else Batcher()
        self.session_cookie = settings.SESSION_COOKIE_NAME if "django.contrib.sessions.middleware.SessionMiddleware" \
            in getattr(settings, "MIDDLEWARE", ()) else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").rstrip("/") != self.path or self._for_django(environ):
            if self.fallback is not None:
                return self.fallback(environ, start_response)
            with translation.override(environ_language(environ)):
                missing = {"errors": [{"message": _("no endpoint at %(path)r") % {"path": environ.get("PATH_INFO")}}]}
            status, headers, body = _json(404, missing)
        else:
            with translation.override(environ_language(environ)):
                status, headers, body = self._answer(environ)
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    def _answer(self, environ: dict[str, Any]) -> Answer:
        try:
            status, headers, body = self.handle(environ)
        except Exception:  # as the plugin's endpoint answers: JSON, and the traceback in the log
            logger.exception("saleor-livedist: the viewer endpoint failed")
            status, headers, body = _json(500, {"errors": [{"message": _("internal error")}]})
        if environ.get("REQUEST_METHOD") != "OPTIONS":
            headers += cors_headers(environ.get("HTTP_ORIGIN"))
        return status, headers, body

    def _for_django(self, environ: dict[str, Any]) -> bool:
        cookies = environ.get("HTTP_COOKIE", "")
        return (self.fallback is not None and self.session_cookie is not None and self.session_cookie in cookies
                and bool(parse_cookie(cookies).get(self.session_cookie)))

    def close(self) -> None:
        self.batcher.close()

    # ------------------------------------------------------------------ one request

    def handle(self, environ: dict[str, Any]) -> Answer:
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            status, headers = preflight(environ.get("HTTP_ORIGIN"))
            if status == 204:
                return status, headers, b""
            refused = ViewerError(403, "ORIGIN_NOT_ALLOWED", _("this origin may not call the viewer endpoint"))
            code, json_headers, content = _json(status, refused.payload())
            return code, json_headers + headers, content
        if environ.get("REQUEST_METHOD") != "POST":
            refused = ViewerError(405, "METHOD_NOT_ALLOWED", _("POST a JSON object to this endpoint"))
            return _json(405, refused.payload())
        try:
            wanted = parse_request(_body(environ))
            viewer = self._identify(environ, wanted.action)
            outcome = self.batcher.record(wanted, viewer, environ.get("REMOTE_ADDR") or "unknown")
        except ViewerError as exc:
            return self._refused(exc)
        body = answer(wanted, viewer, outcome)
        status, headers, content = _json(200, body)
        if viewer.issued:
            headers += _cookie_headers(lambda r: r.set_cookie(
                VISITOR_COOKIE, body["visitor"], max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                secure=_is_secure(environ)))
        return status, headers, content

    def _identify(self, environ: dict[str, Any], action: str) -> Viewer:
        signed = environ.get("HTTP_X_LIVEDIST_VISITOR")
        if not signed and VISITOR_COOKIE in environ.get("HTTP_COOKIE", ""):
            signed = parse_cookie(environ["HTTP_COOKIE"]).get(VISITOR_COOKIE)
        visitor = verified_visitor(signed)
        user = None
        if self.authenticate is not None and any(environ.get(key) for key in CREDENTIALS):
            from django.core.handlers.wsgi import WSGIRequest

            try:
                user = self.authenticate(WSGIRequest(environ))
            finally:
                close_old_connections()  # as Django does at the end of a request (CONN_MAX_AGE, broken ones)
        return viewer_of(visitor, user, action)

    @staticmethod
    def _refused(exc: ViewerError) -> Answer:
        status, headers, content = _json(exc.status, exc.payload())
        if exc.retry_after is not None:
            headers.append(("Retry-After", str(exc.retry_after)))
        if exc.code == "FORBIDDEN_VISITOR":  # let the next join start afresh with an id of ours
            headers += _cookie_headers(lambda r: r.delete_cookie(VISITOR_COOKIE, samesite="Lax"))
        return status, headers, content


def _body(environ: dict[str, Any]) -> bytes:
    """The body, at most one byte past the limit (so parse_request sees it is over). Without a length, only a
    server that marks its input as terminated (gunicorn; chunked bodies) is read; per WSGI, an unknown or
    nonsense length is no body at all elsewhere (reading would wait for bytes that never come)."""
    declared = environ.get("CONTENT_LENGTH")
    try:
        length = int(declared) if declared else -1
    except ValueError:
        length = -1
    if length > MAX_BODY_BYTES:
        raise too_large()
    stream = environ["wsgi.input"]
    if length >= 0:
        return stream.read(length)
    return stream.read(MAX_BODY_BYTES + 1) if environ.get("wsgi.input_terminated") else b""


def _json(status: int, body: dict[str, Any]) -> Answer:
    content = json.dumps(body).encode()
    return status, [JSON, ("Content-Length", str(len(content)))], content


def _cookie_headers(change: Callable[[HttpResponse], None]) -> list[tuple[str, str]]:
    """Set-Cookie headers exactly as Django writes them (rare: a first join, a refused visitor id)."""
    response = HttpResponse()
    change(response)
    return [("Set-Cookie", morsel.output(header="")) for morsel in response.cookies.values()]


def _is_secure(environ: dict[str, Any]) -> bool:
    """HttpRequest.is_secure(), SECURE_PROXY_SSL_HEADER included."""
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, secure_value = proxy
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"
