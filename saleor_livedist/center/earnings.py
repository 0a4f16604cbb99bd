"""Earnings: a distributor's ledger added up by status and currency (what was paid out coming from their
withdrawals: payouts/), each entry with the rules that booked it (rule ids, rules version, percent), and their
points."""
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
    """Per currency: pending, approved (not paid out yet), paid (withdrawals paid), reversed: they add up to the
    ledger's total."""
    from ..payouts.services import balance

    sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in (LedgerEntry.objects.filter(beneficiary=distributor).values("currency", "status")
                .annotate(total=Sum("amount"))):
        sums[row["currency"]][row["status"]] = row["total"]
    for currency, money in balance(distributor).items():
        if money.withdrawn:
            by = sums[currency]
            by["paid"] = by.get("paid", Decimal(0)) + money.withdrawn
            by["approved"] = by.get("approved", Decimal(0)) - money.withdrawn
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
    """Points granted, less points spent or held by redemptions."""
    from ..distribution.redemption import points_balance

    return int(points_balance(distributor))


def points_grants(distributor: str, first: int = 20) -> list[PointsGrant]:
    return list(PointsGrant.objects.filter(beneficiary=distributor).order_by("-at")[:first])
