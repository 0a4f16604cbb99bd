"""The center's router: `handle(request, subpath, authenticate)` serves every page under center/ (the plugin's
endpoint inside Saleor, /center/ in the sandbox). Signing in: the storefront hands the customer's access token
once (POSTed to center/session, by a form or by the sign-in page's script from the URL's #fragment or a
postMessage), never in a query string; a short signed session cookie keeps them signed in."""
from __future__ import annotations

import json
import re

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..display import zone
from ..exceptions import ServiceError
from ..graphql.view import Authenticator
from ..models import Distributor
from . import session
from .pages import TEMPLATES, Center, Route, framed


def _table() -> list[tuple[re.Pattern[str], Route]]:
    from . import clips, earnings_page, links_page, people_page, tasks_page

    table = [
        Route("", get=lambda center: HttpResponseRedirect(center.url("links/")), distributors_only=False),
        Route("join/", post=join, distributors_only=False),
        *links_page.ROUTES, *earnings_page.ROUTES, *tasks_page.ROUTES, *people_page.ROUTES, *clips.ROUTES,
    ]
    return [(re.compile(route.pattern + r"\Z"), route) for route in table]


_routes: list[tuple[re.Pattern[str], Route]] = []


def routes() -> list[tuple[re.Pattern[str], Route]]:
    if not _routes:
        _routes.extend(_table())
    return _routes


def handle(request: HttpRequest, subpath: str, authenticate: Authenticator) -> HttpResponse:
    """Serve `subpath` (what follows center/) in the language the endpoint chose, times in the display zone."""
    base = mount_point(request, subpath)
    with timezone.override(zone()):
        if subpath == "session":
            return sign_in(request, base, authenticate)
        if subpath == "sign-out":
            response = HttpResponseRedirect(base)
            session.end_session(response, base)
            return framed(response)
        visitor = session.visitor_of(request, authenticate)
        if visitor is None or not session.user_active(visitor.identity):
            return sign_in_page(request, base, status=401)
        distributor = Distributor.objects.filter(id=visitor.identity).first()
        center = Center(request, visitor, distributor, base)
        for pattern, route in routes():
            found = pattern.match(subpath)
            if found:
                return _serve(center, route, found.groupdict())
        return refusal(center, 404, _("There is no page here."))


def _serve(center: Center, route: Route, arguments: dict[str, str]) -> HttpResponse:
    request = center.request
    if route.distributors_only and center.distributor is None:
        return center.render("join.html", {"title": _("Become a distributor")}, status=403)
    if request.method == "POST" and route.post is not None:
        if not session.csrf_valid(request, center.visitor):
            return refusal(center, 403, _("This form has expired or did not come from this page. Reload the page "
                                          "and try again."))
        return route.post(center, **arguments)
    if request.method in ("GET", "HEAD") and route.get is not None:
        return route.get(center, **arguments)
    return refusal(center, 405, _("This page does not take that request."))


def mount_point(request: HttpRequest, subpath: str) -> str:
    path = request.path
    base = path[: len(path) - len(subpath)] if subpath and path.endswith(subpath) else path
    return base if base.endswith("/") else base + "/"


def refusal(center: Center, status: int, message: str) -> HttpResponse:
    return center.render("refusal.html", {"title": _("Not possible"), "message": message}, status=status)


# ---------------------------------------------------------------------- signing in


def sign_in(request: HttpRequest, base: str, authenticate: Authenticator) -> HttpResponse:
    """POST token=<the customer's access token>[&next=<a center page>]: the session cookie and a redirect to the
    page (303), or the sign-in page again with the reason (401)."""
    if request.method != "POST":
        return sign_in_page(request, base, status=405)
    if not session.origin_trusted(request):
        return sign_in_page(request, base, status=403, message=_(
            "This sign-in came from a site the center does not trust. Open the center again from the store."))
    identity = session.customer_of(request, request.POST.get("token", ""), authenticate)
    if identity is None:
        message = (_("The sign-in token is not valid or has expired. Open the center again from the store.")
                   if request.POST.get("token", "").strip() else _("No sign-in token came with this request."))
        return sign_in_page(request, base, status=401, message=message)
    target = request.POST.get("next", "")
    if not target.startswith(base) or "//" in target or "\\" in target:  # only a page of the center
        target = base + "links/" + (f"?lang={request.GET['lang']}" if request.GET.get("lang") else "")
    response = HttpResponseRedirect(target, status=303)
    session.start_session(request, response, identity, base)
    return framed(response)


def sign_in_page(request: HttpRequest, base: str, status: int, message: str = "") -> HttpResponse:
    """The page a request without a session gets: its script takes the token from the URL's #token=... (and
    removes it from the address bar and the history) or from a postMessage {type: "livedist:token", token} of
    the framing storefront, and posts it to center/session."""
    lang = request.GET.get("lang", "")
    context = {
        "title": _("Sign in"), "message": message or _("Open your distributor's center from the store to sign in."),
        "session_url": base + "session" + (f"?lang={lang}" if lang else ""),
        "next": request.get_full_path() if request.method == "GET" else base + "links/",
        "origins_json": _script_json(get_setting("CENTER_FRAME_ANCESTORS")),
        "language": translation.get_language(),
    }
    return framed(HttpResponse(render_to_string(TEMPLATES + "sign_in.html", context), status=status))


def _script_json(value: object) -> str:
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def join(center: Center) -> HttpResponse:
    """Become a distributor from the center: one tap, consent, no fee."""
    from ..distribution.services import become_distributor

    try:
        become_distributor(center.identity, center.request.POST.get("consent") == "yes")
    except ServiceError as exc:
        return center.render("join.html", {"title": _("Become a distributor"), "error": exc.message}, status=400)
    return HttpResponseRedirect(center.url("links/"), status=303)
