"""The Earnings page: totals by status, the entries with the rules that booked them, and points."""
from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _

from . import earnings
from .pages import Center, Route


def earnings_page(center: Center) -> HttpResponse:
    status = center.query("status")
    if status not in earnings.STATUSES:
        status = ""
    return center.render("earnings.html", {
        "title": _("Earnings"), "totals": earnings.totals(center.identity), "status": status,
        "statuses": [(s, center.url("earnings/", status=s)) for s in earnings.STATUSES],
        "all_url": center.url("earnings/"),
        "entries": earnings.entries(center.identity, status), "points": earnings.points(center.identity),
        "grants": earnings.points_grants(center.identity)}, area="earnings/")


ROUTES = [Route("earnings/", get=earnings_page)]
