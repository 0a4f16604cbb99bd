"""A distributor's payout balance per currency, always computed from the ledger and the withdrawals (never
kept), so a clawback booked after approval lowers it at once: available = approved - offsets - withdrawn -
pending withdrawals, and it may go below zero until later approved commission covers it."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from ..core.money import round_money
from ..models import LedgerEntry, Withdrawal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Balance:
    currency: str
    earning: Decimal  # commission still in its after-sale window (pending in the ledger): not withdrawable yet
    approved: Decimal  # approved commission, rewards and their adjustments, before clawbacks
    offsets: Decimal  # clawbacks booked after approval (refunds, cancellations), as a positive amount
    withdrawn: Decimal  # paid out
    requested: Decimal  # withdrawals waiting for staff
    approved_withdrawals: Decimal  # approved by staff, not in a batch yet
    exported: Decimal  # in a payout batch, not marked paid yet

    @property
    def pending(self) -> Decimal:
        return self.requested + self.approved_withdrawals + self.exported

    @property
    def available(self) -> Decimal:
        """What can be withdrawn now; negative while a clawback is not covered yet."""
        return self.approved - self.offsets - self.withdrawn - self.pending


def balances(distributor: str) -> dict[str, Balance]:
    """Every currency the distributor has commission or withdrawals in: two grouped queries."""
    ledger = (LedgerEntry.objects.filter(beneficiary=distributor).values("currency").annotate(
        earning=Sum("amount", filter=Q(status="pending")),
        approved=Sum("amount", filter=Q(status="approved") & ~Q(kind="clawback")),
        clawed=Sum("amount", filter=Q(status="approved", kind="clawback"))).order_by())
    w = Withdrawal
    paid = (w.objects.filter(distributor=distributor).values("currency").annotate(
        withdrawn=Sum("amount", filter=Q(status=w.PAID)), requested=Sum("amount", filter=Q(status=w.REQUESTED)),
        approved=Sum("amount", filter=Q(status=w.APPROVED)),
        exported=Sum("amount", filter=Q(status=w.EXPORTED))).order_by())
    sums: dict[str, dict[str, Decimal]] = {}
    for row in ledger:
        sums.setdefault(row["currency"], {}).update(
            earning=row["earning"] or ZERO, approved=row["approved"] or ZERO, offsets=-(row["clawed"] or ZERO))
    for row in paid:
        sums.setdefault(row["currency"], {}).update(
            withdrawn=row["withdrawn"] or ZERO, requested=row["requested"] or ZERO,
            approved_withdrawals=row["approved"] or ZERO, exported=row["exported"] or ZERO)
    fields = ("earning", "approved", "offsets", "withdrawn", "requested", "approved_withdrawals", "exported")
    # every amount summed is in the currency's minor unit already: rounding only drops the column's extra zeros
    return {c: Balance(c, **{f: round_money(s.get(f, ZERO), c) for f in fields}) for c, s in sorted(sums.items())}


def balance_in(distributor: str, currency: str) -> Balance:
    return balances(distributor).get(currency) or Balance(currency, *([round_money(ZERO, currency)] * 7))
