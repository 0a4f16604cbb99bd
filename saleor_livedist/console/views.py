"""The console's router: `handle(request, subpath, authenticate_staff)` serves every page under the console's
mount point (the sandbox's /console/, the plugin's console/ inside Saleor): who is asking, what they may do,
the form's token on every POST, the staff member's language and the display time zone."""
from __future__ import annotations

import re
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from ..display import zone
from ..i18n import request_language
from . import (coupons, csrf, distributors, events, held, insights, ledger, lives, loop, payouts, questions, records,
               reminders, rules, tasks)
from .access import PERMISSION_NAMES, VIEW, Staff, StaffAuthenticator, console_language, sandbox_staff
from .pages import TEMPLATES, Console, Route


def _table() -> list[tuple[re.Pattern[str], Route]]:
    table = [Route("", get=lambda console: HttpResponseRedirect(console.url("distributors/"))),
             *distributors.ROUTES, *ledger.ROUTES, *events.ROUTES, *rules.ROUTES,
             *lives.ROUTES, *tasks.ROUTES, *coupons.ROUTES, *reminders.ROUTES, *questions.ROUTES, *held.ROUTES,
             *payouts.ROUTES,
             *loop.ROUTES, *insights.ROUTES, *records.ROUTES]
    return [(re.compile(route.pattern + r"\Z"), route) for route in table]


ROUTES = _table()


def handle(request: HttpRequest, subpath: str, authenticate_staff: StaffAuthenticator,
           login_url: str = "") -> HttpResponse:
    """Serve `subpath` (what follows the console's mount point) for whoever `authenticate_staff` says asks."""
    staff = authenticate_staff(request)
    language = console_language(staff.language) if staff is not None else request_language(request)
    with translation.override(language), timezone.override(zone()):
        if staff is None:
            return refusal(401, _("Sign in as staff to use the console."), login_url)
        if VIEW not in staff.permissions:
            return refusal(403, missing(VIEW))
        for pattern, route in ROUTES:
            found = pattern.match(subpath)
            if found:
                return _serve(request, staff, mount_point(request, subpath), route, found.groupdict())
        return refusal(404, _("There is no console page here."))


def _serve(request: HttpRequest, staff: Staff, base: str, route: Route, arguments: dict[str, str]) -> HttpResponse:
    console = Console(request, staff, base)
    if request.method == "POST" and route.post is not None:
        if route.permission not in staff.permissions:
            return refusal(403, missing(route.permission))
        if not csrf.is_valid(request, staff):
            return refusal(403, _("This form has expired or did not come from the console. Reload the page "
                                  "and try again."))
        return route.post(console, **arguments)
    if request.method in ("GET", "HEAD") and route.get is not None:
        return route.get(console, **arguments)
    return refusal(405, _("This page does not take that request."))


def mount_point(request: HttpRequest, subpath: str) -> str:
    """Where the console is mounted: the request's path without `subpath`, ending in /."""
    path = request.path
    base = path[: len(path) - len(subpath)] if subpath and path.endswith(subpath) else path
    return base if base.endswith("/") else base + "/"


def missing(permission: str) -> str:
    return _("You need the permission “%(permission)s” for this.") % {
        "permission": PERMISSION_NAMES.get(permission, permission)}


def refusal(status: int, message: str, login_url: str = "") -> HttpResponse:
    titles = {401: _("Sign in"), 403: _("Not allowed"), 404: _("Not found"), 405: _("Not allowed")}
    body = render_to_string(TEMPLATES + "refusal.html", {
        "title": titles[status], "message": message, "login_url": login_url, "status": status,
        "language": translation.get_language()})
    return HttpResponse(body, status=status)


@csrf_exempt  # the console's forms carry their own token (csrf.py), checked in `handle`
def sandbox_console(request: HttpRequest, path: str) -> HttpResponse:
    """The sandbox's /console/: its Django staff, the admin's login page to sign in."""
    return handle(request, path, sandbox_staff, login_url="/admin/login/?next=" + quote(request.path))
