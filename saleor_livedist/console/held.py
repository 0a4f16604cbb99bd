"""Invitees held past the rules' guards.invitees_per_distributor_per_day, waiting for staff: approved, they count
for their distributor from then on; rejected, never. Through the same service as the admin's actions."""
from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _

from ..distribution.guards import review_held_invitee
from ..exceptions import ServiceError
from ..identity import staff_labels
from ..models import HeldInvitee
from .access import MANAGE_USERS
from .pages import Console, Outcome, Route, paginate

STATUSES = ("held", "approved", "rejected", "all")


def listing(console: Console, outcome: Outcome | None = None) -> HttpResponse:
    status = console.query("status") or "held"
    status = status if status in STATUSES else "held"
    rows = HeldInvitee.objects.all() if status == "all" else HeldInvitee.objects.filter(status=status)
    page = paginate(console, rows.order_by("at", "key"), "held/", status=status)
    labels = staff_labels(sorted({p for h in page.rows for p in (h.invitee, h.inviter)}))
    return console.render("held.html", {
        "area": "held/", "page": page, "status": status, "statuses": STATUSES,
        "items": [{"held": h, "invitee": labels[h.invitee], "inviter": labels[h.inviter]} for h in page.rows],
        "can_review": console.can(MANAGE_USERS),
        "review_url": console.url("held/review", status=status, page=console.query("page")),
    }, outcome)


def review(console: Console) -> HttpResponse:
    key, decision = console.request.POST.get("key", ""), console.request.POST.get("decision", "")
    try:
        held = review_held_invitee(key, decision, by=console.staff.id)
    except ServiceError as exc:
        return listing(console, Outcome.of(exc))
    notice = _("Approved: %(who)s counts for %(distributor)s from now on") if held.status == "approved" else _(
        "Rejected: %(who)s will not count for %(distributor)s")
    labels = staff_labels([held.invitee, held.inviter])
    return listing(console, Outcome(notice=notice % {"who": labels[held.invitee], "distributor": labels[held.inviter]}))


ROUTES = [Route("held/", get=listing), Route("held/review", post=review, permission=MANAGE_USERS)]
