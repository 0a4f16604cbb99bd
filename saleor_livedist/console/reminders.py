"""The reminders page: who was reminded of which live, by which notifiers, and what failed (a reminder is
never sent twice, so there is nothing to re-send here)."""
from __future__ import annotations

from django.db.models import Count
from django.http import HttpResponse

from ..identity import staff_labels
from ..models import Reminder
from .pages import Console, Route, paginate

STATUSES = ("sent", "partial", "failed", "skipped", "sending")


def listing(console: Console) -> HttpResponse:
    live, status = console.query("live"), console.query("status")
    rows = Reminder.objects.all()
    if live:
        rows = rows.filter(live_id=live)
    counts = dict(rows.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    if status:
        rows = rows.filter(status=status)
    page = paginate(console, rows.order_by("-created_at", "-id"), "reminders/", live=live, status=status)
    labels = staff_labels([r.person for r in page.rows])
    return console.render("reminders.html", {
        "area": "reminders/", "page": page, "live": live, "status": status, "statuses": STATUSES,
        "counts": [(s, counts.get(s, 0)) for s in STATUSES],
        "items": [{"reminder": r, "name": labels[r.person]} for r in page.rows]})


ROUTES = [Route("reminders/", get=listing)]
