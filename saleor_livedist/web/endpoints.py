"""The plugin's HTTP endpoints, served by Saleor under /plugins/global/saleor_livedist/<path> and by the
sandbox at /<path>: graphql/ (the API), click/<token> (share links), viewer/ (join, heartbeat, leave) and
center/ (the distributor's center, signed in with the customer's own token), console/ (the merchant's pages,
for staff signed in by `authenticate_staff`; inside Saleor by the Dashboard's token) and app/ (the console as a Saleor App: its manifest, install token, sign-in)."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from ..console.access import StaffAuthenticator, refuse_everyone
from ..console.app import AppHost, app_endpoint, console_page, whoami
from ..distribution.links import VISITOR_COOKIE, LinkError, sign_visitor
from ..exceptions import ClickRateLimited
from ..graphql.view import Authenticator, execute
from ..i18n import request_language
from ..identity import of_user
from ..viewers.view import viewer_endpoint

SANDBOX_TOKEN_SALT = "saleor_livedist.sandbox.token"
LINK_ERROR_STATUS = {"tampered": 400, "invalid": 400, "expired": 410, "unknown": 404, "withdrawn": 410}


def sandbox_token(user: Any) -> str:
    """A bearer token for the sandbox's API (inside Saleor, Saleor's own JWTs are used instead)."""
    return signing.dumps(str(user.pk), salt=SANDBOX_TOKEN_SALT)


def sandbox_authenticate(request: HttpRequest) -> Any:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        try:
            pk = signing.loads(header[7:], salt=SANDBOX_TOKEN_SALT, max_age=30 * 86400)
        except signing.BadSignature:
            return None
        return get_user_model().objects.filter(pk=pk).first()
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def handle(request: HttpRequest, path: str, authenticate: Authenticator,
           authenticate_staff: StaffAuthenticator = refuse_everyone, app: AppHost | None = None) -> HttpResponse:
    """Every endpoint answers in the request's language (saleor_livedist/i18n.py), activated here because a
    plugin cannot add Saleor a middleware. app: what the Saleor App endpoints need from the Saleor the plugin
    runs in (None in the sandbox)."""
    language = request_language(request, request.GET.get("lang"))
    with translation.override(language):
        response = _route(request, path, authenticate, authenticate_staff, app)
    response.headers.setdefault("Content-Language", language)
    patch_vary_headers(response, ("Accept-Language",))
    return response


def _route(request: HttpRequest, path: str, authenticate: Authenticator, authenticate_staff: StaffAuthenticator,
           app: AppHost | None) -> HttpResponse:
    if path.startswith("app/"):
        return app_endpoint(request, path[len("app/"):], app)
    if path.rstrip("/") == "console/whoami":
        return whoami(request, app)
    if path.startswith("console/") or path == "console":
        if app is not None:  # inside Saleor: the Dashboard's token signs staff in
            return console_page(request, path[len("console/"):], app)
        from ..console.views import handle as console

        return console(request, path[len("console/"):], authenticate_staff)
    if path.rstrip("/") == "graphql":
        return execute(request, authenticate)
    if path.startswith("center/") or path == "center":
        from ..center.views import handle as center

        return center(request, path[len("center/"):], authenticate)
    if path.startswith("click/"):
        return click(request, path[len("click/"):].strip("/"), authenticate)
    if path.rstrip("/") == "viewer":
        return viewer_endpoint(request, authenticate)
    if path.rstrip("/") == "payouts/callback":
        from ..payouts.webhook import callback

        return callback(request)
    if path.startswith("widget/leaderboard/"):
        return leaderboard_widget(request, path[len("widget/leaderboard/"):].strip("/"))
    return JsonResponse({"errors": [{"message": _("no endpoint at %(path)r") % {"path": path}}]}, status=404)


def click(request: HttpRequest, token: str, authenticate: Authenticator) -> HttpResponse:
    from ..distribution.services import record_click

    user = authenticate(request)
    viewer = of_user(user) if user is not None and getattr(user, "is_active", False) else None
    try:
        result = record_click(token, request.COOKIES.get(VISITOR_COOKIE), viewer=viewer,
                              address=request.META.get("REMOTE_ADDR") or "unknown")
    except LinkError as exc:
        return JsonResponse({"errors": [{"code": exc.code.upper(), "message": str(exc)}]},
                            status=LINK_ERROR_STATUS.get(exc.code, 400))
    except ClickRateLimited as exc:
        message = _("too many clicks from this address: nothing was recorded; retry in %(n)d s") % {
            "n": exc.retry_after}
        refused = JsonResponse({"errors": [{"code": "RATE_LIMITED", "message": message}]}, status=429)
        refused["Retry-After"] = str(exc.retry_after)
        return refused
    response = HttpResponseRedirect(result.redirect_url)
    response.set_cookie(VISITOR_COOKIE, sign_visitor(result.visitor), max_age=365 * 86400, httponly=True,
                        samesite="Lax", secure=request.is_secure())
    return response


@csrf_exempt
def dispatch(request: HttpRequest, path: str) -> HttpResponse:
    """The sandbox's view (Saleor calls `handle` from the plugin's `webhook`)."""
    return handle(request, path, sandbox_authenticate)


WIDGET_REFRESH_MS = 3000  # a few seconds' lag is fine for an overlay


def leaderboard_widget(request: HttpRequest, live_id: str) -> HttpResponse:
    """A small page for the live room's sidebar or a streaming overlay (OBS browser source): it polls the
    public leaderboard query and redraws itself. Names are masked by the API."""
    from django.shortcuts import render

    from ..models import LiveSession

    live = LiveSession.objects.filter(id=live_id).first()
    if live is None:
        return JsonResponse({"errors": [{"code": "LIVE_NOT_FOUND", "message": _("no live %(id)r") % {"id": live_id}}]},
                            status=404)
    prefix = request.path.rsplit("widget/", 1)[0]
    return render(request, "saleor_livedist/leaderboard.html",
                  {"live": live, "endpoint": prefix + "graphql/", "interval_ms": WIDGET_REFRESH_MS})
