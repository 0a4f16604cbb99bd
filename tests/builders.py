"""Concise builders for event streams in tests: `s = Stream(); s.click("d1", "v1", live="L1", minute=5)`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from saleor_livedist.core.engine import Engine
from saleor_livedist.core.events import Event, parse_event
from saleor_livedist.core.store import MemoryStore
from saleor_livedist.rules.loader import load_rules
from saleor_livedist.rules.model import RuleSet
from saleor_livedist.rules.provider import StaticRules

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 20, 20, 0, tzinfo=CST)  # minute 0: when test lives start


def at(minute: float = 0, day: float = 0) -> str:
    return (T0 + timedelta(days=day, minutes=minute)).isoformat()


class Stream:
    """Raw events (dicts), parsed through the real parser when run."""

    def __init__(self) -> None:
        self.raw: list[dict[str, Any]] = []
        self._ends: list[tuple[datetime, str]] = []  # live(end=...): delivered on time, see add()

    def add(self, etype: str, minute: float = 0, day: float = 0, **fields: Any) -> dict[str, Any]:
        when = T0 + timedelta(days=day, minutes=minute)
        event = {"id": f"e{len(self.raw) + 1}", "type": etype, "at": when.isoformat(), **fields}
        self.raw.append(event)
        return event

    def _deliver_ends(self) -> None:
        """A live's end given to live() is delivered on time: right after the last event dated before it, so
        that what the test adds later but dates earlier (the usual way of writing these) is seen on air."""
        for end, live in sorted(self._ends):
            position = max((n + 1 for n, e in enumerate(self.raw) if datetime.fromisoformat(e["at"]) < end),
                           default=0)
            self.raw.insert(position, {"id": f"end-{live}", "type": "live.ended", "at": end.isoformat(), "live": live})
        self._ends = []

    def distributor(self, who: str, upline: str | None = None, minute: float = -600) -> None:
        if upline is not None:
            self.click(upline, who, product="p-join", minute=minute - 1)
        self.add("distributor.joined", minute, customer=who)

    def click(self, distributor: str, visitor: str, minute: float = 0, day: float = 0, **target: str) -> None:
        self.add("link.clicked", minute, day, distributor=distributor, visitor=visitor, target=target)

    def live(self, live: str = "L1", products: tuple[str, ...] = ("p-feat",), start: float = 0,
             end: float | None = None) -> None:
        self.add("live.scheduled", start - 120, live=live, starts_at=at(start), products=list(products), host="host")
        self.add("live.started", start, live=live)
        if end is not None:
            self._ends.append((T0 + timedelta(minutes=end), live))

    def watch(self, live: str, viewer: str, start: float, minutes: float, signed_in: bool = True) -> None:
        """A tab open for `minutes`, with a heartbeat every minute (silence longer than that stops the clock).
        `signed_in`: the viewer is a signed-in customer (counts as an invitee under the default guards)."""
        self.add("live.joined", start, live=live, viewer=viewer, **({"signed_in": True} if signed_in else {}))
        beat = start + 1
        while beat < start + minutes:
            self.add("live.heartbeat", beat, live=live, viewer=viewer)
            beat += 1
        self.add("live.left", start + minutes, live=live, viewer=viewer)

    def order(self, order: str, customer: str, minute: float = 0, day: float = 0, paid: bool = True,
              lines: list[tuple[str, str]] | None = None, **extra: Any) -> None:
        """lines: (product, amount) pairs; line ids are 1, 2, ..."""
        lines = lines or [("p-plain", "100.00")]
        self.add("order.created", minute, day, order=order, customer=customer, channel="default",
                 currency=extra.pop("currency", "CNY"),
                 lines=[{"line": str(n), "product": p, "category": "cat", "quantity": 1, "amount": a}
                        for n, (p, a) in enumerate(lines, 1)], **extra)
        if paid:
            self.add("order.paid", minute + 1, day, order=order)

    def events(self) -> list[Event]:
        self._deliver_ends()
        return [parse_event(e) for e in self.raw]


_DEFAULT: RuleSet | None = None


def default_rules() -> RuleSet:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_rules()
    return _DEFAULT


def run(stream: Stream | list[Event], backend: str = "python", rules: RuleSet | None = None,
        now: datetime | None = None) -> Engine:
    engine = Engine(MemoryStore(), StaticRules(rules or default_rules(), backend))
    events = stream.events() if isinstance(stream, Stream) else stream
    for event in events:
        engine.process(event)
    if now is not None:
        engine.settle(now)
    return engine


def paid(engine: Engine, beneficiary: str, status: str | None = None) -> Decimal:
    """Sum of a beneficiary's entries (not reversed), optionally of one status."""
    return sum(
        (e.amount for e in engine.store.entries()
         if e.beneficiary == beneficiary and e.status != "reversed" and (status is None or e.status == status)),
        Decimal(0),
    )


def points(engine: Engine, beneficiary: str) -> int:
    return sum(g.points for g in engine.store.points() if g.beneficiary == beneficiary)


def ledger(engine: Engine) -> list[tuple[Any, ...]]:
    """The ledger as comparable tuples, in a stable order."""
    return sorted(
        (e.id, e.beneficiary, e.kind, e.level, e.amount, e.currency, e.status, e.percent, e.rule_ids, e.rules_version)
        for e in engine.store.entries()
    )
