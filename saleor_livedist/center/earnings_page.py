"""The Earnings page: totals by status, the entries with the rules that booked them, withdrawals, and points with
what they buy."""
from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _, gettext_lazy

from . import earnings, money
from .pages import Center, Route

NOTICES = {"withdrawal": gettext_lazy("Your withdrawal is requested: staff review it before it is paid."),
           "redemption": gettext_lazy("Done: your points bought it. Its code is below.")}


def earnings_page(center: Center, withdraw_error: str = "", redeem_error: str = "", status: int = 200) -> HttpResponse:
    shown = center.query("status")
    if shown not in earnings.STATUSES:
        shown = ""
    done = center.query("done")
    return center.render("earnings.html", {
        "title": _("Earnings"), "totals": earnings.totals(center.identity), "status": shown,
        "statuses": [(s, center.url("earnings/", status=s)) for s in earnings.STATUSES],
        "all_url": center.url("earnings/"),
        "entries": earnings.entries(center.identity, shown), "points": earnings.points(center.identity),
        "grants": earnings.points_grants(center.identity), "withdraw_error": withdraw_error,
        "redeem_error": redeem_error, "notice": str(NOTICES[done]) if done in NOTICES and status == 200 else "",
        "form": center.request.POST if center.request.method == "POST" else {},
        **money.context(center)}, status=status, area="earnings/")


ROUTES = [
    Route("earnings/", get=earnings_page),
    Route("earnings/withdraw", post=money.withdraw),
    Route("earnings/redeem", post=money.redeem),
]
