"""The console as a Saleor App: the endpoints under app/ (the manifest, the token Saleor sends at install,
the exchange of a Dashboard token for the console's session, the extensions' entry points), console/whoami and
the console's pages inside Saleor.

They need from the Saleor they run in only an `AppHost`: plugin mode builds it from Saleor in process
(saleor_livedist/saleor/app_tokens.py); App mode builds one per Saleor instance from HTTP calls to it
(saleor_livedist/app_server/console_host.py), and passes the instance's schema as the session's `scope`.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..origins import posted_from_trusted_origin
from .manifest import build_manifest
from .tokens import (Refused, TokenIssuer, authenticate, plugin_prefix, read_session, require, sign_in_response,
                     staff_from_request, start_session)


@dataclass(frozen=True)
class AppHost:
    """What the App endpoints need from Saleor: its token issuer, a check that a token is one Saleor issued
    to this app (at install), and a product's slug from its id (the console names products by slug)."""

    issuer: TokenIssuer
    is_app_token: Callable[[str], bool]
    product_slug: Callable[[str], str | None]


# The Dashboard's context field for each extension's page, and the kind of Saleor id it carries.
OPENERS = {"orders": ("orderId", "Order"), "customers": ("customerId", "User"), "products": ("productId", "Product")}


def app_endpoint(request: HttpRequest, path: str, host: AppHost | None) -> HttpResponse:
    """app/<path>; 404 where no Saleor hosts the app (the sandbox signs staff in with its own login)."""
    if host is None:
        return _error(_("The Saleor App endpoints are served inside Saleor only."), 404)
    path = path.strip("/")
    if path == "manifest":
        return manifest(request)
    if path == "register":
        return register(request, host)
    if path == "session":
        return session(request, host)
    if path.startswith("open/") and path[5:] in OPENERS:
        return open_page(request, path[5:], host)
    return _error(_("No endpoint at app/%(path)s.") % {"path": path}, 404)


def manifest(request: HttpRequest) -> HttpResponse:
    base = request.build_absolute_uri(plugin_prefix(request))
    return JsonResponse(build_manifest(base), json_dumps_params={"ensure_ascii": False})


def register(request: HttpRequest, host: AppHost) -> HttpResponse:
    """Saleor's tokenTargetUrl: at install Saleor POSTs {"auth_token": ...} with its API's URL in a header.
    Only a token Saleor issued to this app is kept (anyone can POST here)."""
    from ..models import AppRegistration

    if request.method != "POST":
        return _error(_("Saleor sends the app's token here with POST."), 405)
    try:
        token = json.loads(request.body or b"{}").get("auth_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token or not host.is_app_token(token):
        return _error(_("This is not a token Saleor issued to this app."), 401)
    api_url = request.headers.get("Saleor-Api-Url") or host.issuer.issuer()
    AppRegistration.objects.update_or_create(saleor_api_url=api_url,
                                             defaults={"token": token, "registered_at": timezone.now()})
    return JsonResponse({"success": True})


def session(request: HttpRequest, host: AppHost, scope: str = "") -> HttpResponse:
    """POST token=<the Dashboard's token>: the console's session cookie (for `scope`, see
    tokens.start_session), or 401/403 with the reason."""
    if request.method != "POST":
        return _error(_("Post the Dashboard's token here."), 405)
    if not posted_from_trusted_origin(request):  # only the console's own page posts here
        return _error(_("Only the console's own page can sign in here."), 403)
    try:
        staff = authenticate(request, host.issuer, token=request.POST.get("token"))
    except Refused as exc:
        return _error(exc.message, exc.status)
    response = JsonResponse({"staff": {"id": staff.id, "name": staff.name}})
    start_session(request, response, staff, plugin_prefix(request) + "console/", scope)
    return response


def open_page(request: HttpRequest, kind: str, host: AppHost, scope: str = "") -> HttpResponse:
    """An extension's entry point: the Dashboard's context (`orderId` ...) in the query (POPUP, GET) or the
    form (NEW_TAB/WIDGET with POST, with `accessToken`, which starts the session) -> the console's page."""
    field, saleor_type = OPENERS[kind]
    data = request.POST if request.method == "POST" else request.GET
    target = _console_id(kind, global_pk(data.get(field, ""), saleor_type), host)
    if target is None:
        return _error(_("The Dashboard sent no %(field)s this console knows.") % {"field": field}, 400)
    kept = {k: v for k, v in request.GET.items() if k != field}
    url = f"{plugin_prefix(request)}console/{kind}/{quote(target, safe=':')}" + ("?" + urlencode(kept) if kept else "")
    if request.method != "POST":
        return HttpResponseRedirect(url)
    try:
        staff = authenticate(request, host.issuer, token=request.POST.get("accessToken"))
    except Refused as exc:
        return _error(exc.message, exc.status)
    response = HttpResponseRedirect(url, status=303)
    start_session(request, response, staff, plugin_prefix(request) + "console/", scope)
    return response


def console_page(request: HttpRequest, subpath: str, host: AppHost, scope: str = "") -> HttpResponse:
    """console/<subpath> inside Saleor: the console's pages for the staff member the Dashboard's token signed
    in (session cookie or Bearer token); without one, the sign-in page that takes the token from the Dashboard."""
    from .views import handle as serve

    staff = staff_from_request(request, host.issuer, scope)
    if staff is None:
        return sign_in_response(request)
    return serve(request, subpath, lambda _request: staff)


def whoami(request: HttpRequest, host: AppHost | None, scope: str = "") -> HttpResponse:
    """console/whoami: the signed-in staff member (session cookie or Bearer token), for scripts and checks."""
    if host is None:
        return _error(_("The Saleor App endpoints are served inside Saleor only."), 404)
    try:
        session_staff = read_session(request, scope)
        staff = require(session_staff) if session_staff is not None else authenticate(request, host.issuer)
    except Refused as exc:
        return _error(exc.message, exc.status)
    return JsonResponse({"id": staff.id, "email": staff.email, "name": staff.name, "language": staff.language,
                         "permissions": sorted(staff.permissions)})


def _console_id(kind: str, pk: str | None, host: AppHost) -> str | None:
    if pk is None:
        return None
    if kind == "customers":
        return f"user:{pk}"
    if kind == "products":
        return host.product_slug(pk)
    return pk


def global_pk(global_id: str, saleor_type: str) -> str | None:
    """The pk inside Saleor's global id of a `saleor_type` (base64 of `Type:pk`), or None."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        kind, _sep, pk = base64.b64decode(padded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return pk if kind == saleor_type and pk else None


def _error(message: object, status: int) -> JsonResponse:
    return JsonResponse({"error": {"message": str(message)}}, status=status, json_dumps_params={"ensure_ascii": False})
