"""An order's ledger entries as a function of its priced lines and its lifecycle events, sorted by `at`.

Because the entries are recomputed from the sorted lifecycle every time one arrives, lifecycle events that
arrive out of order (paid before created, refund before paid) give the same final ledger as in order.

The state machine: pending when paid; approved `approve_after_days` after fulfilment (the after-sale
window); reversed on cancel or full refund before approval; a partial refund before approval books a
pending adjustment so the line's entries add up to the commission on what the customer kept; any refund or
cancel after approval books a negative clawback, approved at once.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from .money import percent_of
from .records import LedgerEntry, OrderRecord, OrderSnapshot, Share

ZERO = Decimal(0)
LIFECYCLE_RANK = {"order.paid": 1, "order.fulfilled": 2, "order.refunded": 3, "order.cancelled": 4}


@dataclass
class Projection:
    entries: list[LedgerEntry]
    paid_at: datetime | None
    approve_at: datetime | None
    approved: bool


class _Book:
    """Entries of one order under construction, grouped by (line, level)."""

    def __init__(self, snapshot: OrderSnapshot):
        self.snapshot = snapshot
        self.by_key: dict[tuple[str, int], list[LedgerEntry]] = defaultdict(list)
        self.order: list[tuple[str, int]] = []

    def add(self, line: str, share: Share, kind: str, amount: Decimal, status: str, at: datetime) -> None:
        key = (line, share.level)
        if key not in self.by_key:
            self.order.append(key)
        entries = self.by_key[key]
        s = self.snapshot
        entries.append(LedgerEntry(
            id=f"{s.id}:{line}:{share.level}:{len(entries) + 1}", order=s.id, line=line,
            beneficiary=share.beneficiary, kind=kind, level=share.level, amount=amount, currency=s.currency,
            status=status, percent=share.percent, rule_ids=share.rule_ids, rules_version=s.rules_version, at=at,
        ))

    def booked(self, line: str, level: int) -> Decimal:
        return sum((e.amount for e in self.by_key.get((line, level), ()) if e.status != "reversed"), ZERO)

    def set_status(self, status_from: str, status_to: str, key: tuple[str, int] | None = None) -> None:
        keys = [key] if key is not None else self.order
        for k in keys:
            self.by_key[k] = [replace(e, status=status_to) if e.status == status_from else e for e in self.by_key[k]]

    def has(self, status: str) -> bool:
        return any(e.status == status for entries in self.by_key.values() for e in entries)

    def all(self) -> list[LedgerEntry]:
        return [e for key in self.order for e in self.by_key[key]]


def project(record: OrderRecord, approve_after_days: int, now: datetime | None = None) -> Projection:
    snapshot = record.snapshot
    assert snapshot is not None, "an order is projected only once order.created has arrived"
    book = _Book(snapshot)
    lines = {p.line.line: p for p in snapshot.lines}
    refunded: dict[str, Decimal] = defaultdict(lambda: ZERO)
    paid_at: datetime | None = None
    approve_at: datetime | None = None
    approved = cancelled = False

    def approve_if_due(at: datetime) -> None:
        nonlocal approved
        if not approved and approve_at is not None and approve_at <= at and paid_at is not None:
            book.set_status("pending", "approved")
            approved = True

    def rebook(line_id: str, at: datetime) -> None:
        """After a refund or cancel: bring the line's entries to the commission on what is left."""
        priced = lines[line_id]
        net = ZERO if cancelled else max(priced.line.amount - refunded[line_id], ZERO)
        for share in priced.shares:
            target = percent_of(net, share.percent, snapshot.currency)
            delta = target - book.booked(line_id, share.level)
            if delta == ZERO:
                continue
            if approved:
                book.add(line_id, share, "clawback", delta, "approved", at)
            elif target == ZERO:
                book.set_status("pending", "reversed", (line_id, share.level))
            else:
                book.add(line_id, share, "adjustment", delta, "pending", at)

    for at, _, _, etype, refunds in record.lifecycle:
        approve_if_due(at)
        if etype == "order.paid":
            if paid_at is None and not cancelled:
                paid_at = at
                for line_id, priced in lines.items():
                    net = max(priced.line.amount - refunded[line_id], ZERO)
                    for share in priced.shares:
                        amount = percent_of(net, share.percent, snapshot.currency)
                        if amount > ZERO:
                            book.add(line_id, share, "commission" if share.level == 1 else "team", amount,
                                     "pending", at)
        elif etype == "order.fulfilled":
            if approve_at is None:
                approve_at = at + timedelta(days=approve_after_days)
        elif etype == "order.refunded":
            touched = [line_id for line_id, _ in refunds] or list(lines)
            for line_id, amount in refunds or [(l, lines[l].line.amount) for l in lines]:
                if line_id in lines:
                    refunded[line_id] = min(lines[line_id].line.amount, refunded[line_id] + amount)
            if paid_at is not None:
                for line_id in touched:
                    if line_id in lines:
                        rebook(line_id, at)
        elif etype == "order.cancelled" and not cancelled:
            cancelled = True
            if paid_at is not None:
                for line_id in lines:
                    rebook(line_id, at)

    last = record.lifecycle[-1][0] if record.lifecycle else snapshot.at
    approve_if_due(max(now, last) if now is not None else last)
    return Projection(entries=book.all(), paid_at=paid_at, approve_at=approve_at, approved=approved)
