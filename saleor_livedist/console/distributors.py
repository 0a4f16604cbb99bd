"""The distributors page: find one by name or e-mail, see their rank, upline and balances."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.http import HttpResponse
from ..identity import identities_matching, staff_labels
from ..models import Distributor, LedgerEntry
from .pages import Console, Outcome, Route, paginate

STATUSES = ("pending", "approved", "reversed")


def listing(console: Console, outcome: Outcome | None = None) -> HttpResponse:
    q, rank = console.query("q"), console.query("rank")
    rows = Distributor.objects.all()
    if q:
        rows = rows.filter(Q(id__icontains=q) | Q(id__in=identities_matching(q)))
    if rank:
        rows = rows.filter(rank=rank)
    page = paginate(console, rows.order_by("-joined_at", "id"), "distributors/", q=q, rank=rank)
    ids = [d.id for d in page.rows]
    labels = staff_labels(ids + [d.upline for d in page.rows if d.upline])
    money = balances_of(ids)
    items = [{"distributor": d, "name": labels[d.id], "upline": labels.get(d.upline or "", ""),
              "balances": money.get(d.id, [])} for d in page.rows]
    return console.render("distributors.html", {
        "area": "distributors/", "page": page, "items": items, "q": q, "rank": rank,
        "ranks": sorted(Distributor.objects.values_list("rank", flat=True).distinct()),
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


ROUTES = [Route("distributors/", get=listing)]
