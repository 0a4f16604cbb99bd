"""Plain records the engine reads and writes through a Store: the business state, never the rule engine's.

They are slots dataclasses, and those built for every order are not frozen: a frozen dataclass sets each field
through object.__setattr__, about four times the cost of a plain one (2.2 against 0.5 us for 13 fields). Nothing
mutates a Click, BindingRecord, Share, PricedLine, Attribution, OrderSnapshot, PaidOrder or LedgerEntry once built
(stores rely on it: MemoryStore hands an unpaid order's snapshot back as the very object written); they stay
hashable by value (unsafe_hash) as they were when frozen.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .events import Line


@dataclass(slots=True, unsafe_hash=True)
class Click:
    at: datetime
    distributor: str
    kind: str  # live | replay | product | clip
    target: str


@dataclass(slots=True, unsafe_hash=True)
class BindingRecord:
    identity: str
    distributor: str
    at: datetime
    expires_at: datetime | None  # None: permanent
    via: str  # click | registration | first_order

    def valid_at(self, at: datetime) -> bool:
        return self.at <= at and (self.expires_at is None or at < self.expires_at)


@dataclass(slots=True)
class DistributorRecord:
    id: str
    upline: str | None
    joined_at: datetime
    ranks: list[tuple[datetime, str]]  # (since, rank), oldest first; promotions only go up
    last_sale_at: datetime | None = None
    paying_invitees: int = 0

    def rank_at(self, at: datetime) -> str:
        ranks = self.ranks
        current = ranks[0][1]
        if len(ranks) == 1:
            return current
        for since, rank in ranks:
            if since <= at:
                current = rank
        return current

    @property
    def rank(self) -> str:
        return self.ranks[-1][1]


@dataclass(slots=True)
class LiveRecord:
    id: str
    starts_at: datetime | None = None
    products: frozenset[str] = frozenset()
    host: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def on_air(self, at: datetime) -> bool:
        return (
            self.started_at is not None and self.started_at <= at and (self.ended_at is None or at < self.ended_at)
        )


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    id: str
    live: str
    available_from: datetime
    until: datetime | None

    def available(self, at: datetime) -> bool:
        return self.available_from <= at and (self.until is None or at < self.until)


MAX_SPANS = 64  # intervals kept per watch; older ones stay counted in `seconds`, without their times


def _merged(flat: tuple[float, ...]) -> tuple[float, ...]:
    """Intervals (start, end, start, end, ...) sorted and merged where they overlap or touch."""
    pairs = sorted(zip(flat[::2], flat[1::2]))
    out: list[float] = []
    for start, end in pairs:
        if end <= start:
            continue
        if out and start <= out[-1]:
            out[-1] = max(out[-1], end)
        else:
            out += (start, end)
    return tuple(out)


def _length(flat: tuple[float, ...]) -> float:
    return sum(flat[1::2]) - sum(flat[::2])


def _overlap(flat: tuple[float, ...], start: float, end: float) -> float:
    """How much of [start, end] the merged intervals already cover."""
    return sum(max(0.0, min(e, end) - max(s, start)) for s, e in zip(flat[::2], flat[1::2]))


@dataclass(slots=True)
class WatchRecord:
    """One person's watch time in one live: overlapping tabs and devices count once. Open tabs share one clock
    (an open counter); what was counted is also kept as intervals (`spans`), so that when a visitor id is
    stitched to a customer their watch time is the union of both, never the sum. The clock stops `silent`
    seconds after the viewer's last event (join or heartbeat) if nothing follows: a tab closed without a leave
    does not count until the live ends."""

    live: str
    viewer: str
    open_count: int = 0
    active_since: datetime | None = None
    seconds: float = 0.0  # counted while closed: the length of `spans`, plus any intervals folded out of them
    last_seen: datetime | None = None  # the latest join or heartbeat of any tab
    until: datetime | None = None  # a closed watch (left, or the live ended): the time it was counted up to
    spans: tuple[float, ...] = ()  # counted intervals as POSIX seconds (start, end, start, end, ...), merged

    def watched_seconds(self, now: datetime, silent: float | None = None) -> float:
        if self.active_since is None:
            return self.seconds
        start, end = self.active_since.timestamp(), self.counted_until(now, silent).timestamp()
        if end <= start:
            return self.seconds
        return self.seconds + (end - start) - _overlap(self.spans, start, end)

    def counted_until(self, now: datetime, silent: float | None = None) -> datetime:
        """Up to when the open watch counts at `now`: now, or the silence after its last event."""
        assert self.active_since is not None
        if silent is None or self.last_seen is None:
            return now
        return min(now, max(self.last_seen, self.active_since) + timedelta(seconds=silent))

    def count(self, start: datetime, end: datetime) -> None:
        """[start, end] was watched: add what the spans do not cover yet."""
        s, e = start.timestamp(), end.timestamp()
        if e <= s:
            return
        self.seconds += (e - s) - _overlap(self.spans, s, e)
        spans = _merged(self.spans + (s, e))
        self.spans = spans[-2 * MAX_SPANS:]  # the oldest stay in `seconds`: a union can only miss their overlap

    def close(self, at: datetime, silent: float | None = None, left: bool = True) -> None:
        """The last tab left at `at` (left), or the live ended then: the time counts up to `at` or the silence
        before it. A leave is the viewer's latest event; the end is not theirs."""
        if self.active_since is not None:
            self.until = self.counted_until(at, silent)
            self.count(self.active_since, self.until)
        if left and (self.last_seen is None or at > self.last_seen):
            self.last_seen = at
        self.open_count, self.active_since = 0, None

    def extend_closed(self, at: datetime, end: datetime, silent: float) -> bool:
        """A join or heartbeat sent before the live's `end` and processed after the end closed this watch: it
        counts as it would have on time, from `at` for `silent` seconds at most, up to the end, without
        counting twice what the closed watch counted already. True if anything changed."""
        if self.last_seen is not None and at <= self.last_seen:
            return False  # older than the latest event known: counted (or left) already
        covered = min(end, at + timedelta(seconds=silent))
        start = at if self.until is None else max(at, self.until)
        if covered > start:
            self.count(start, covered)
        self.last_seen = at
        self.until = covered if self.until is None else max(self.until, covered)
        return True

    def seen(self, at: datetime, silent: float | None = None) -> None:
        """An event of the viewer at `at`. After a silence longer than `silent`, the time in between does not
        count: the clock stopped `silent` seconds after the last event and starts again now."""
        if self.last_seen is not None and at <= self.last_seen:
            return
        if self.active_since is not None:
            stopped = self.counted_until(at, silent)
            if stopped < at:
                self.count(self.active_since, stopped)
                self.active_since = at
        self.last_seen = at

    def absorb(self, other: WatchRecord, at: datetime, silent: float | None) -> None:
        """`other` is the same person's watch of this live under another id (a visitor id stitched to this
        customer at `at`): from now on one record, whose time is the union of both, never the sum."""
        running: list[datetime] = []
        for watch in (self, other):  # each open clock: what it counted up to `at` becomes an interval
            if watch.active_since is None:
                continue
            last = max(watch.last_seen or watch.active_since, watch.active_since)
            watch.count(watch.active_since, max(watch.counted_until(at, silent), last))
            running.append(last)
        folded = other.seconds - _length(other.spans)  # intervals without their times: added as they are
        before = _length(self.spans)
        self.spans = _merged(self.spans + other.spans)[-2 * MAX_SPANS:]
        self.seconds += _length(self.spans) - before + max(0.0, folded)
        if running:  # one clock, from the latest event of an open tab: an earlier clock's tail is counted above
            self.active_since = self.last_seen = max(running)
        elif other.last_seen is not None and (self.last_seen is None or other.last_seen > self.last_seen):
            self.last_seen = other.last_seen
        self.open_count += other.open_count
        if other.until is not None and (self.until is None or other.until > self.until):
            self.until = other.until
        other.open_count, other.active_since, other.seconds, other.spans = 0, None, 0.0, ()


@dataclass(slots=True)
class TaskProgress:
    task: str
    distributor: str
    scope_key: str  # the live id for live-scoped tasks, "" for all
    qualified: int = 0
    completed_at: datetime | None = None


@dataclass(slots=True, unsafe_hash=True)
class Share:
    """What one beneficiary earns on one line, fixed when the order is created."""

    level: int
    beneficiary: str
    percent: Decimal
    rule_ids: tuple[str, ...]
    actions: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = ()
    kind: str = ""  # "": the level's commission or team rule; "peer": a peer bonus (平级奖), on top of it


@dataclass(slots=True, unsafe_hash=True)
class PricedLine:
    line: Line
    shares: tuple[Share, ...]


@dataclass(slots=True, unsafe_hash=True)
class Attribution:
    """Who is paid (the binding), the last distributor link clicked before the order, and the assists."""

    paid_to: str | None
    last_click: str | None
    assists: tuple[str, ...]  # other distributors whose links the buyer clicked before
    lives_watched: tuple[str, ...]
    context: str  # live | replay | none
    live: str | None
    reason: str  # why paid_to is who it is (or why nobody)


@dataclass(slots=True, unsafe_hash=True)
class OrderSnapshot:
    id: str
    customer: str
    channel: str
    currency: str
    at: datetime
    lines: tuple[PricedLine, ...]
    attribution: Attribution
    rules_version: str


@dataclass(slots=True)
class OrderRecord:
    id: str
    snapshot: OrderSnapshot | None = None  # None until order.created arrives
    lifecycle: list[tuple[datetime, int, str, str, tuple[tuple[str, Decimal], ...]]] = field(default_factory=list)
    # (at, type rank, event id, type, refunded lines) — sorted, so arrival order never matters
    paid_at: datetime | None = None
    approve_at: datetime | None = None
    has_pending: bool = False
    rewards: list[TaskCash] = field(default_factory=list)  # task cash this order qualified an invitee for
    board_orders: int = 0  # what this order counts for on its live's leaderboard now: 1 paid order, or 0
    board_gmv: Decimal = Decimal(0)  # and the amount: what the customer kept of it


@dataclass(slots=True, unsafe_hash=True)
class TaskCash:
    """A task's cash reward, booked on the order that qualified the invitee: it is settled with that order
    (pending, approved after its after-sale window, reversed if the order is cancelled or wholly refunded)."""

    key: str  # unique: the task grant it comes from (as for points)
    beneficiary: str  # the inviting distributor
    task: str
    amount: Decimal  # in the order's currency, rounded to its minor unit
    rules_version: str
    at: datetime  # when the invitee qualified


@dataclass(slots=True, unsafe_hash=True)  # not frozen: built on every first payment (never mutated)
class PaidOrder:
    """A customer's latest paid order: what makes them count for `ordered` tasks."""

    order: str
    at: datetime  # when it was placed
    live: str | None  # the live it came from (on air, or its replay or a clip), if any


@dataclass(slots=True, unsafe_hash=True)
class LedgerEntry:
    id: str
    order: str
    line: str
    beneficiary: str
    kind: str  # commission | team | peer_bonus | adjustment | clawback | task_cash | pool_bonus
    level: int
    amount: Decimal
    currency: str
    status: str  # pending | approved | reversed
    percent: Decimal
    rule_ids: tuple[str, ...]
    rules_version: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PointsGrant:
    key: str  # unique: a grant is made at most once
    beneficiary: str
    points: int
    reason: str
    rule_ids: tuple[str, ...]
    rules_version: str
    at: datetime
    live: str | None = None
    invitee: str | None = None


@dataclass(frozen=True, slots=True)
class HeldInvitee:
    """A task qualification past guards.invitees_per_distributor_per_day: it counts for the inviter (progress,
    points, cash, the leaderboard) once staff approve it (an invitee.reviewed event)."""

    key: str  # task:<task>:<scope key>:<invitee>, the key the grant for it would have
    task: str
    scope_key: str
    invitee: str
    inviter: str
    live: str | None
    order: str | None  # the qualifying paid order, for 'ordered' tasks
    at: datetime
    status: str = "held"  # held | approved | rejected
    reviewed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BanMark:
    """Staff banned (banned=True) or unbanned a distributor at `at`, with the event that said so. A distributor's
    marks sorted by (at, event) say, for any moment, whether they were banned then (`banned_at`)."""

    distributor: str
    at: datetime
    event: str  # the distributor.banned / distributor.unbanned event's id: one mark per ban action
    banned: bool
    reason: str = ""


def banned_at(marks: tuple[BanMark, ...], at: datetime) -> bool:
    """Whether the marks (sorted by at, then event) say banned at `at`: the latest mark at or before it does."""
    banned = False
    for mark in marks:
        if mark.at > at:
            break
        banned = mark.banned
    return banned


@dataclass(slots=True)
class LiveStat:
    """One distributor's standing in one live, for the leaderboard."""

    live: str
    distributor: str
    invited: int = 0  # distinct viewers who clicked their link to the live
    qualified: int = 0  # of those, viewers who qualified for a live-scoped invite task
    orders: int = 0  # paid orders placed in the live (on air) and attributed to them, not cancelled or all refunded
    gmv: Decimal = Decimal(0)  # net amount of those orders the customers kept (refunds are taken off)
    currency: str = ""


@dataclass(frozen=True)
class ActionContext:
    """What a custom reward action sees."""

    beneficiary: str
    at: datetime
    rules_version: str
    order: str | None = None
    line: str | None = None
    amount: Any = None  # Decimal commission booked for the line, when the action is on a commission rule
    task: str | None = None
    live: str | None = None
    points: int = 0  # points the rule itself grants
