"""An order's ledger entries as a function of its priced lines and its lifecycle events, sorted by `at`.

Because the entries are recomputed from the sorted lifecycle every time one arrives, lifecycle events that
arrive out of order (paid before created, refund before paid) give the same final ledger as in order.

The state machine: pending when paid; approved `approve_after_days` after fulfilment (the after-sale
window); reversed on cancel or full refund before approval; a partial refund before approval books a
pending adjustment so the line's entries add up to the commission on what the customer kept; any refund or
cancel after approval books a negative clawback, approved at once.

A share of a distributor banned when the order is paid (`banned(beneficiary, at)`, from their ban marks) is
withheld: no entry for that level, now or on a later refund; the other levels keep theirs. A task cash reward
dated while its beneficiary was banned is withheld too. Entries booked before a ban stay and settle as usual.

A peer bonus (a Share of kind "peer") is booked as its own entries, kind `peer_bonus`, beside the team entries of
the same upline and level, and follows the same state machine.

A task's cash reward booked on the order (`OrderRecord.rewards`, kind `task_cash`) follows the order as a
whole: pending, approved with the order's commissions, reversed if the order is cancelled or wholly refunded
before approval, clawed back after it. A partial refund keeps it: the invitee still bought.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .money import _MINOR_UNITS, _QUANTS, HUNDRED, percent_of
from .records import LedgerEntry, OrderRecord, OrderSnapshot, PricedLine, Share, TaskCash

ZERO = Decimal(0)
Banned = Callable[[str, datetime], bool]  # (beneficiary, at) -> whether they were banned then
LIFECYCLE_RANK = {"order.paid": 1, "order.fulfilled": 2, "order.refunded": 3, "order.cancelled": 4}


@dataclass(slots=True)
class Projection:
    entries: list[LedgerEntry]
    paid_at: datetime | None
    approve_at: datetime | None
    approved: bool
    kept: Decimal  # what the customer kept of the lines: nothing after a cancel, the rest after refunds
    void: bool  # cancelled, or every line refunded in full


ShareKey = tuple[str, int, str]  # (line, level, share kind): a level's team rule and its peer bonus apart


def _key(line: str, share: Share) -> ShareKey:
    return (line, share.level, share.kind)


class _Book:
    """Entries of one order under construction, grouped by (line, level, share kind)."""

    __slots__ = ("snapshot", "by_key", "order", "withheld")

    def __init__(self, snapshot: OrderSnapshot):
        self.snapshot = snapshot
        self.by_key: dict[ShareKey, list[LedgerEntry]] = {}
        self.order: list[ShareKey] = []
        self.withheld: set[ShareKey] = set()  # shares of a beneficiary banned when the order was paid

    def add(self, line: str, share: Share, kind: str, amount: Decimal, status: str, at: datetime) -> None:
        level = share.level
        key = _key(line, share)
        entries = self.by_key.get(key)
        if entries is None:
            entries = self.by_key[key] = []
            self.order.append(key)
        s = self.snapshot
        entries.append(LedgerEntry(
            f"{s.id}:{line}:{level}{share.kind}:{len(entries) + 1}", s.id, line, share.beneficiary, kind, level,
            amount, s.currency, status, share.percent, share.rule_ids, s.rules_version, at,
        ))

    def booked(self, key: ShareKey) -> Decimal:
        return sum((e.amount for e in self.by_key.get(key, ()) if e.status != "reversed"), ZERO)

    def set_status(self, status_from: str, status_to: str, key: ShareKey | None = None) -> None:
        keys = [key] if key is not None else self.order
        for k in keys:
            entries = self.by_key.get(k)
            if entries:
                self.by_key[k] = [replace(e, status=status_to) if e.status == status_from else e for e in entries]

    def all(self) -> list[LedgerEntry]:
        by_key = self.by_key
        if len(by_key) == 1:
            return list(next(iter(by_key.values())))
        return [e for key in self.order for e in by_key[key]]


def _rebook(book: _Book, priced: PricedLine, refunded: Decimal, cancelled: bool, approved: bool,
            at: datetime) -> None:
    """After a refund or cancel: bring the line's entries to the commission on what is left."""
    line_id = priced.line.line
    currency = book.snapshot.currency
    net = ZERO if cancelled else max(priced.line.amount - refunded, ZERO)
    for share in priced.shares:
        if _key(line_id, share) in book.withheld:
            continue
        target = percent_of(net, share.percent, currency)
        key = _key(line_id, share)
        delta = target - book.booked(key)
        if delta == ZERO:
            continue
        if approved:
            book.add(line_id, share, "clawback", delta, "approved", at)
        elif target == ZERO:
            book.set_status("pending", "reversed", key)
        else:
            book.add(line_id, share, "adjustment", delta, "pending", at)


def _booked_kind(share: Share) -> str:
    if share.kind == "peer":
        return "peer_bonus"
    return "commission" if share.level == 1 else "team"


def project(record: OrderRecord, approve_after_days: int, now: datetime | None = None,
            banned: Banned | None = None) -> Projection:
    snapshot = record.snapshot
    assert snapshot is not None, "an order is projected only once order.created has arrived"
    lifecycle = record.lifecycle
    if len(lifecycle) == 1 and lifecycle[0][3] == "order.paid" and not record.rewards:
        return _paid_only(snapshot, lifecycle[0][0], banned)
    book = _Book(snapshot)
    currency = snapshot.currency
    lines = {p.line.line: p for p in snapshot.lines}
    refunded: dict[str, Decimal] = {}  # line -> amount refunded so far; absent is ZERO
    paid_at: datetime | None = None
    approve_at: datetime | None = None
    approved = cancelled = False
    void_at: datetime | None = None  # cancelled, or every line refunded in full

    for at, _, _, etype, refunds in record.lifecycle:
        if not approved and approve_at is not None and approve_at <= at and paid_at is not None:
            book.set_status("pending", "approved")
            approved = True
        if etype == "order.paid":
            if paid_at is None and not cancelled:
                paid_at = at
                for line_id, priced in lines.items():
                    net = max(priced.line.amount - refunded.get(line_id, ZERO), ZERO)
                    for share in priced.shares:
                        if banned is not None and banned(share.beneficiary, at):
                            book.withheld.add(_key(line_id, share))
                            continue
                        amount = percent_of(net, share.percent, currency)
                        if amount > ZERO:
                            book.add(line_id, share, _booked_kind(share), amount, "pending", at)
        elif etype == "order.fulfilled":
            if approve_at is None:
                approve_at = at + timedelta(days=approve_after_days)
        elif etype == "order.refunded":
            touched = [line_id for line_id, _ in refunds] or list(lines)
            for line_id, amount in refunds or [(l, lines[l].line.amount) for l in lines]:
                if line_id in lines:
                    refunded[line_id] = min(lines[line_id].line.amount, refunded.get(line_id, ZERO) + amount)
            if paid_at is not None:
                for line_id in touched:
                    if line_id in lines:
                        _rebook(book, lines[line_id], refunded.get(line_id, ZERO), cancelled, approved, at)
            if void_at is None and all(refunded.get(i, ZERO) >= p.line.amount for i, p in lines.items()):
                void_at = at
        elif etype == "order.cancelled" and not cancelled:
            cancelled = True
            if void_at is None:
                void_at = at
            if paid_at is not None:
                for line_id in lines:
                    _rebook(book, lines[line_id], refunded.get(line_id, ZERO), cancelled, approved, at)

    last = record.lifecycle[-1][0] if record.lifecycle else snapshot.at
    due = max(now, last) if now is not None else last
    if not approved and approve_at is not None and approve_at <= due and paid_at is not None:
        book.set_status("pending", "approved")
        approved = True
    entries = book.all()
    if record.rewards and paid_at is not None:
        approved_at = approve_at if approved else None
        for n, reward in enumerate(record.rewards, 1):
            if banned is None or not banned(reward.beneficiary, reward.at):
                entries += _task_cash(snapshot, n, reward, approved_at, void_at)
    kept = ZERO if cancelled else sum(
        (max(p.line.amount - refunded.get(line_id, ZERO), ZERO) for line_id, p in lines.items()), ZERO)
    return Projection(entries=entries, paid_at=paid_at, approve_at=approve_at, approved=approved, kept=kept,
                      void=void_at is not None)


def _paid_only(snapshot: OrderSnapshot, at: datetime, banned: Banned | None) -> Projection:
    """`project` of an order whose only event is its payment, without rewards (the hot path): every share booked
    once, pending; what the general loop books in that case, entry for entry, in the same order."""
    order_id, currency, version = snapshot.id, snapshot.currency, snapshot.rules_version
    quant = _QUANTS[_MINOR_UNITS.get(currency, 2)]
    entries: list[LedgerEntry] = []
    append = entries.append
    kept = ZERO
    lines = {p.line.line: p for p in snapshot.lines} if len(snapshot.lines) > 1 else None
    for priced in (lines.values() if lines is not None else snapshot.lines):
        line = priced.line
        line_id = line.line
        net = max(line.amount - ZERO, ZERO)
        kept += net
        for share in priced.shares:
            who = share.beneficiary
            if banned is not None and banned(who, at):
                continue
            percent = share.percent
            amount = (net * percent / HUNDRED).quantize(quant, rounding=ROUND_HALF_UP)  # percent_of, inlined
            if amount > ZERO:
                level, kind = share.level, share.kind
                append(LedgerEntry(
                    f"{order_id}:{line_id}:{level}{kind}:1", order_id, line_id, who,
                    "peer_bonus" if kind == "peer" else "commission" if level == 1 else "team", level, amount,
                    currency, "pending", percent, share.rule_ids, version, at,
                ))
    return Projection(entries=entries, paid_at=at, approve_at=None, approved=False, kept=kept, void=False)


def _task_cash(snapshot: OrderSnapshot, n: int, reward: TaskCash, approved_at: datetime | None,
               void_at: datetime | None) -> list[LedgerEntry]:
    """The entries of the order's n-th task reward: one, plus a clawback if the order was voided after approval."""
    def entry(suffix: int, kind: str, amount: Decimal, status: str, at: datetime) -> LedgerEntry:
        return LedgerEntry(f"{snapshot.id}:task:{n}:{suffix}", snapshot.id, "", reward.beneficiary, kind, 1, amount,
                           snapshot.currency, status, ZERO, (reward.task,), reward.rules_version, at)

    if void_at is not None and (approved_at is None or void_at < approved_at or void_at < reward.at):
        return [entry(1, "task_cash", reward.amount, "reversed", reward.at)]  # voided before it was approved
    if void_at is not None:
        return [entry(1, "task_cash", reward.amount, "approved", reward.at),
                entry(2, "clawback", -reward.amount, "approved", void_at)]
    return [entry(1, "task_cash", reward.amount, "approved" if approved_at is not None else "pending", reward.at)]
