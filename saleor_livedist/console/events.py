"""The events page: the inbox by status (failed first), each event's error and attempts, and the re-run of
failed events (the same inbox service the admin's action uses)."""
from __future__ import annotations

from django.db.models import Count, Q
from django.db.models.fields.json import KeyTextTransform
from django.http import HttpResponse
from django.utils.translation import gettext as _, ngettext

from ..inbox import processing
from ..models import InboxEvent
from .pages import Console, Outcome, Route, paginate

STATUSES = (InboxEvent.FAILED, InboxEvent.PENDING, InboxEvent.DONE)
COUNTED = (InboxEvent.FAILED, InboxEvent.PENDING)


def listing(console: Console, outcome: Outcome | None = None) -> HttpResponse:
    status = console.query("status") or InboxEvent.FAILED
    kind, q = console.query("type"), console.query("q")
    rows = InboxEvent.objects.all() if status == "all" else InboxEvent.objects.filter(status=status)
    if kind:
        rows = rows.filter(type=kind)
    if q:  # an event's id, or an order's id (its events; livedist_inbox_order is on this expression)
        rows = rows.annotate(order_id=KeyTextTransform("order", "payload")).filter(Q(event_id=q) | Q(order_id=q))
    page = paginate(console, rows.order_by("-received_at", "-id"), "events/", count=status != InboxEvent.DONE and
                    status != "all", status=status, type=kind, q=q)
    # Failed and pending events are few (an index on status); done ones are every event ever, not counted.
    counts = dict(InboxEvent.objects.filter(status__in=COUNTED).values_list("status").annotate(n=Count("id"))
                  .values_list("status", "n"))
    return console.render("events.html", {
        "area": "events/", "page": page, "status": status, "type": kind, "q": q,
        "counts": [(s, counts.get(s)) for s in STATUSES],
        "rerun_url": console.url("events/rerun", status=status, type=kind, q=q, page=console.query("page")),
    }, outcome)


def rerun(console: Console) -> HttpResponse:
    chosen = console.request.POST.getlist("event")
    if not chosen:
        return listing(console, Outcome(errors=[("event", _("Choose at least one failed event to re-run."))]))
    count = processing.rerun(chosen)
    skipped = len(set(chosen)) - count
    notice = ngettext("%(n)d event queued again.", "%(n)d events queued again.", count) % {"n": count}
    if skipped:
        notice += " " + ngettext("%(n)d skipped: only failed events are re-run.",
                                 "%(n)d skipped: only failed events are re-run.", skipped) % {"n": skipped}
    return listing(console, Outcome(notice=notice))


ROUTES = [Route("events/", get=listing), Route("events/rerun", post=rerun)]
