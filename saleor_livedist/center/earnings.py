"""Earnings: a distributor's ledger added up by status and currency, each entry with the rules that booked it
(rule ids, rules version, percent), and their points."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from ..core.money import round_money
from ..models import LedgerEntry, PointsGrant

# The order a distributor reads them in: booked and waiting for the after-sale window, approved (withdrawable),
# paid out, and taken back (a refund or cancel).
STATUSES = ("pending", "approved", "paid", "reversed")
ENTRIES_SHOWN = 50


@dataclass(frozen=True)
class Totals:
    currency: str
    by_status: list[tuple[str, Decimal]]


def totals(distributor: str) -> list[Totals]:
    sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in (LedgerEntry.objects.filter(beneficiary=distributor).values("currency", "status")
                .annotate(total=Sum("amount"))):
        sums[row["currency"]][row["status"]] = row["total"]
    out = []
    for currency, by in sorted(sums.items()):
        known = list(STATUSES) + sorted(set(by) - set(STATUSES))
        out.append(Totals(currency, [(s, round_money(by.get(s, Decimal(0)), currency)) for s in known]))
    return out


def entries(distributor: str, status: str = "", first: int = ENTRIES_SHOWN) -> list[LedgerEntry]:
    rows = LedgerEntry.objects.filter(beneficiary=distributor)
    if status:
        rows = rows.filter(status=status)
    return list(rows.order_by("-at", "order", "-seq")[:first])


def points(distributor: str) -> int:
    return int(PointsGrant.objects.filter(beneficiary=distributor).aggregate(n=Sum("points"))["n"] or 0)


def points_grants(distributor: str, first: int = 20) -> list[PointsGrant]:
    return list(PointsGrant.objects.filter(beneficiary=distributor).order_by("-at")[:first])
