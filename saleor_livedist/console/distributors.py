"""The distributors page: find one by name or e-mail, see their rank, upline and balances, ban or unban them
(through the same service as the API's distributorBan / distributorUnban)."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.http import HttpResponse
from django.utils.translation import gettext as _

from ..distribution import services
from ..exceptions import ServiceError
from ..identity import identities_matching, staff_labels
from ..models import Distributor, DistributorBan, LedgerEntry
from .access import MANAGE_USERS
from .pages import Console, Outcome, Route, paginate

STATUSES = ("pending", "approved", "reversed")


def listing(console: Console, outcome: Outcome | None = None) -> HttpResponse:
    q, rank, state = console.query("q"), console.query("rank"), console.query("state")
    rows = Distributor.objects.all()
    if q:
        rows = rows.filter(Q(id__icontains=q) | Q(id__in=identities_matching(q)))
    if rank:
        rows = rows.filter(rank=rank)
    if state == "banned":
        rows = rows.filter(id__in=DistributorBan.objects.values("distributor"))
    elif state == "active":
        rows = rows.exclude(id__in=DistributorBan.objects.values("distributor"))
    page = paginate(console, rows.order_by("-joined_at", "id"), "distributors/", q=q, rank=rank, state=state)
    ids = [d.id for d in page.rows]
    labels = staff_labels(ids + [d.upline for d in page.rows if d.upline])
    money = balances_of(ids)
    bans = {b.distributor: b for b in DistributorBan.objects.filter(distributor__in=ids)}
    items = [{"distributor": d, "name": labels[d.id], "upline": labels.get(d.upline or "", ""),
              "balances": money.get(d.id, []), "ban": bans.get(d.id)} for d in page.rows]
    return console.render("distributors.html", {
        "area": "distributors/", "page": page, "items": items, "q": q, "rank": rank, "state": state,
        "ranks": sorted(Distributor.objects.values_list("rank", flat=True).distinct()),
        "can_ban": console.can(MANAGE_USERS),
        "here": console.url("distributors/", q=q, rank=rank, state=state, page=console.query("page")),
        "ban_url": console.url("distributors/ban", q=q, rank=rank, state=state, page=console.query("page")),
        "unban_url": console.url("distributors/unban", q=q, rank=rank, state=state, page=console.query("page")),
    }, outcome)


def balances_of(identities: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each person's pending, approved and reversed amounts per currency: one grouped query for the page."""
    sums = {status: Sum("amount", filter=Q(status=status)) for status in STATUSES}
    rows = (LedgerEntry.objects.filter(beneficiary__in=identities).values("beneficiary", "currency")
            .annotate(**sums).order_by("beneficiary", "currency"))
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["beneficiary"]].append({"currency": row["currency"],
                                        **{s: row[s] or Decimal(0) for s in STATUSES}})
    return out


def ban(console: Console) -> HttpResponse:
    who, reason = console.request.POST.get("distributor", ""), console.request.POST.get("reason", "")
    try:
        services.ban_distributor(who, reason, banned_by=console.staff.id)
    except ServiceError as exc:
        return listing(console, Outcome.of(exc))
    return listing(console, Outcome(notice=_("%(name)s is banned.") % {"name": staff_labels([who])[who]}))


def unban(console: Console) -> HttpResponse:
    who = console.request.POST.get("distributor", "")
    try:
        services.unban_distributor(who, unbanned_by=console.staff.id)
    except ServiceError as exc:
        return listing(console, Outcome.of(exc))
    return listing(console, Outcome(notice=_("%(name)s is no longer banned.") % {"name": staff_labels([who])[who]}))


ROUTES = [Route("distributors/", get=listing),
          Route("distributors/ban", post=ban, permission=MANAGE_USERS),
          Route("distributors/unban", post=unban, permission=MANAGE_USERS)]
