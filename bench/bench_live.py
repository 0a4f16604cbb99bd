"""A compressed one-hour live through the database path: distributors share links, viewers click, join, send a
heartbeat every 15 s of simulated time, leave (or vanish) and order; the events, dated across the hour, go into
the inbox minute by minute as Saleor's hooks would put them and are processed in batches. Prints the processing
rate, the leaderboard's p50/p99 while the hour is processed (from a second process) and after it, with >= 100,000
ledger rows, and an offline recount of every invite-task point, watch time and leaderboard counter, which must
match the database (exit 1 otherwise).

    python bench/bench_live.py [--viewers 20000] [--distributors 1000] [--ledger-rows 100000] [--late 0]

The defaults are about 600,000 events; on a 2-core machine they take about 5 minutes (the processing is most
of it); `--viewers 2000 --distributors 100 --ledger-rows 10000` takes under a minute. `--late N` adds N viewers whose join, dated 30 s
before the end, reaches the inbox after `live.ended` (a webhook retried late), followed by heartbeats dated
after the end; the recount expects what docs/events.md promises: no watch time after `live.ended`.

Uses DATABASE_URL if set, else the embedded PostgreSQL; (re)creates its own database, `livedist_bench_live`.
"""
from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import resource
import sys
import time
from bisect import insort
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATABASE = "livedist_bench_live"
CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 20, 20, 0, tzinfo=CST)
END = START + timedelta(hours=1)
LIVE = "L1"
ZERO = timedelta(0)
HEARTBEAT = timedelta(seconds=15)
# The default rules' invite tasks (checked against the loaded rules before the run):
THRESHOLD = timedelta(minutes=5)  # qualify.watched_minutes of both tasks
EACH_POINTS = 5  # invite-watcher: per qualified invitee
TARGET, TARGET_POINTS = 10, 50  # ten-watchers
PRODUCTS = [f"p{n}" for n in range(100)]
FEATURED = PRODUCTS[:10]
BEHAVIOURS = [  # how a watching viewer's tabs behave, with their share
    ("one tab", 0.70), ("no leave (tab crashed)", 0.08), ("two tabs", 0.07), ("left and came back", 0.06),
    ("a heartbeat after the leave", 0.02), ("a heartbeat delivered after the leave", 0.02),
    ("back from the page cache after leaving", 0.01), ("join sent twice", 0.01), ("joins after the end", 0.01),
    ("join lost", 0.02),
]


def sec(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


@cache
def iso(at: datetime) -> str:  # events share a few thousand distinct instants: one string each
    return at.isoformat()


def money(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


# ---------------------------------------------------------------------- the generated stream


@dataclass
class Stream:
    """Raw events (the docs/events.md vocabulary) with when they reach the inbox: `at` unless delivered late."""

    rng: random.Random
    prefix: str
    items: list[tuple[datetime, int, datetime, dict[str, Any]]] = field(default_factory=list)
    tally: Counter[str] = field(default_factory=Counter)

    def add(self, etype: str, at: datetime, arrival: datetime | None = None, **fields: Any) -> dict[str, Any]:
        raw = {"id": f"{self.prefix}{len(self.items)}", "type": etype, "at": iso(at), **fields}
        self.items.append((arrival or at, len(self.items), at, raw))
        return raw

    def arrival_order(self) -> list[tuple[datetime, int, datetime, dict[str, Any]]]:
        return sorted(self.items, key=lambda item: (item[0], item[1]))


def lines(rng: random.Random, featured_share: float) -> list[dict[str, Any]]:
    chosen = []
    for n in range(rng.randint(1, 3)):
        product = rng.choice(FEATURED) if rng.random() < featured_share else rng.choice(PRODUCTS)
        chosen.append({"line": str(n + 1), "product": product, "category": f"c{int(product[1:]) % 10}",
                       "quantity": rng.randint(1, 3), "amount": money(rng.randrange(990, 59900))})
    return chosen


def network(count: int, seed: int) -> Stream:
    """Distributor n joins after a click on an earlier one's link (about 8 direct invitees each), then the live
    is scheduled. Distributors are sandbox accounts, user:1 .. user:count."""
    s = Stream(random.Random(seed), "net")
    joined = START - timedelta(days=10)
    for n in range(count):
        if n:
            parent = (n - 1) // 8
            upline = s.rng.randrange(max(0, parent - 2), parent + 1)
            s.add("link.clicked", joined, distributor=f"user:{upline + 1}", visitor=f"user:{n + 1}",
                  target={"product": "p0"})
        s.add("distributor.joined", joined + sec(1), customer=f"user:{n + 1}")
        joined += sec(2)
    s.add("live.scheduled", START - timedelta(hours=3), live=LIVE, starts_at=iso(START), products=FEATURED,
          host="host")
    return s


def outside_orders(distributors: int, seed: int, chunk: int) -> Iterator[Stream]:
    """Paid orders from customers outside the live, in the week before it (they fill the ledger and make most
    distributors leaders, so team commission is paid); `chunk` orders per stream, as many as asked for."""
    rng = random.Random(seed)
    n = 0
    while True:
        s = Stream(rng, f"out{n}-")
        for _ in range(chunk):
            at = START - timedelta(days=7) + sec(rng.randrange(0, 6 * 86400 + 20 * 3600))
            customer = f"c{n}"
            s.add("link.clicked", at - sec(1), distributor=f"user:{rng.randrange(distributors) + 1}",
                  visitor=customer, target={"product": rng.choice(PRODUCTS)})
            s.add("order.created", at, order=f"out{n}", customer=customer, channel="default", currency="CNY",
                  lines=lines(rng, 0.0))
            s.add("order.paid", at + sec(1), order=f"out{n}")
            n += 1
        yield s


def duration(rng: random.Random) -> int:
    """Seconds a viewer means to watch: around the 5-minute threshold, some exactly on it."""
    r = rng.random()
    if r < 0.38:
        return rng.randrange(30, 290)
    if r < 0.55:
        return rng.choice((299, 300, 301)) if rng.random() < 0.2 else rng.randrange(290, 311)
    if r < 0.88:
        return rng.randrange(311, 720)
    return rng.randrange(720, 1800)


def tab(s: Stream, viewer: str, start: datetime, stop: datetime, join: bool = True, leave: bool = True,
        last_beat_late: bool = False, until: datetime = END) -> None:
    """One tab: its join, a heartbeat every 15 s while it is open and the live on air, its leave."""
    if join:
        s.add("live.joined", start, live=LIVE, viewer=viewer)
    beats = []
    beat = start + HEARTBEAT
    while beat < stop and beat < until:
        beats.append(beat)
        beat += HEARTBEAT
    for n, beat in enumerate(beats):
        late = last_beat_late and n == len(beats) - 1
        s.add("live.heartbeat", beat, arrival=stop + sec(2) if late else None, live=LIVE, viewer=viewer)
    if leave:
        s.add("live.left", stop, live=LIVE, viewer=viewer)


def viewer(s: Stream, n: int, pick: Callable[[], str]) -> None:
    """One viewer's clicks, tabs and order."""
    rng, v = s.rng, f"v{n}"
    click = {"live": LIVE}
    if rng.random() < 0.25:
        s.tally["pre-registered (clicked before the start)"] += 1
        s.add("link.clicked", START - sec(rng.randrange(300, 3 * 3600)), distributor=pick(), visitor=v, target=click)
        start = START + sec(rng.randrange(0, 600) if rng.random() < 0.7 else rng.randrange(0, 3480))
        organic = False
    else:
        start = START + sec(rng.randrange(0, 3480))
        organic = rng.random() < 0.05
        if organic:
            s.tally["came without a link"] += 1
        else:
            s.tally["clicked after the start"] += 1
            s.add("link.clicked", start - sec(rng.randrange(1, 30)), distributor=pick(), visitor=v, target=click)
    if not organic and rng.random() < 0.03:
        s.tally["clicked, never joined"] += 1
        return
    length = duration(rng)
    stop = start + sec(length)
    behaviour = rng.choices([b for b, _ in BEHAVIOURS], [w for _, w in BEHAVIOURS])[0]
    s.tally[behaviour] += 1
    if behaviour == "joins after the end":
        start = END + sec(rng.randrange(10, 300))
        tab(s, v, start, start + sec(120), until=END + timedelta(hours=1))
        return
    if behaviour == "no leave (tab crashed)":
        tab(s, v, start, stop, leave=False)
    elif behaviour == "two tabs":
        second = start + sec(rng.randrange(0, length))
        tab(s, v, start, stop)
        tab(s, v, second, second + sec(rng.randrange(30, 600)))
    elif behaviour == "left and came back":
        first, gap, again = rng.randrange(60, 240), rng.randrange(30, 300), rng.randrange(60, 240)
        back = start + sec(first + gap)
        tab(s, v, start, start + sec(first))
        tab(s, v, back, back + sec(again))
        stop = back + sec(again)
    elif behaviour == "a heartbeat after the leave":
        tab(s, v, start, stop)
        if stop + sec(5) < END:
            s.add("live.heartbeat", stop + sec(5), live=LIVE, viewer=v)
    elif behaviour == "a heartbeat delivered after the leave":
        tab(s, v, start, stop, last_beat_late=True)
    elif behaviour == "back from the page cache after leaving":
        left = start + sec(rng.randrange(30, max(31, length)))
        tab(s, v, start, left)
        tab(s, v, left, stop + sec(120), join=False)
    elif behaviour == "join sent twice":
        s.add("live.joined", start, live=LIVE, viewer=v)
        tab(s, v, start, stop)
    elif behaviour == "join lost":
        tab(s, v, start, stop, join=False)
    else:
        tab(s, v, start, stop)
    if organic and rng.random() < 0.4:
        s.tally["came without a link, clicked one while watching"] += 1
        s.add("link.clicked", start + sec(rng.randrange(0, length + 120)), distributor=pick(), visitor=v,
              target=click)
    elif not organic and rng.random() < 0.06:
        s.tally["clicked a second distributor's link while watching"] += 1
        s.add("link.clicked", start + sec(rng.randrange(0, length)), distributor=pick(), visitor=v, target=click)
    if rng.random() < 0.12 and start < END - sec(2):
        s.tally["ordered during the live"] += 1
        created = start + sec(rng.randrange(0, max(1, min(length, int((END - start).total_seconds()) - 1))))
        s.add("order.created", created, order=f"o-{v}", customer=v, channel="default", currency="CNY",
              lines=lines(rng, 0.5))
        s.add("order.paid", created + sec(rng.randrange(5, 180)), order=f"o-{v}")


def live(viewers: int, distributors: int, late: int, seed: int) -> Stream:
    """The hour: start, every viewer, the end; then redeliveries of 3% of the events (same id, up to 3 minutes
    later), and the --late viewers."""
    s = Stream(random.Random(seed), "e")
    weights = [1 / (n + 20) for n in range(distributors)]  # a few distributors bring many viewers, most a few
    s.rng.shuffle(weights)
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    ids = [f"user:{n + 1}" for n in range(distributors)]

    def pick() -> str:
        return s.rng.choices(ids, cum_weights=cumulative)[0]

    s.add("live.started", START, live=LIVE)
    for n in range(viewers):
        viewer(s, n, pick)
    s.add("live.ended", END, live=LIVE)
    for n in range(late):
        v = f"late{n}"
        s.add("link.clicked", START - timedelta(minutes=30), distributor=pick(), visitor=v, target={"live": LIVE})
        s.add("live.joined", END - sec(30), arrival=END + sec(5), live=LIVE, viewer=v)
        tab(s, v, END, END + timedelta(minutes=6), join=False, until=END + timedelta(hours=1))
    originals = list(s.items)
    for arrival, _, at, raw in s.rng.sample(originals, len(originals) * 3 // 100):
        s.items.append((arrival + sec(s.rng.randrange(0, 180)), len(s.items), at, raw))
    s.tally["redelivered events (same id)"] = len(s.items) - len(originals)
    return s


# ---------------------------------------------------------------------- the offline recount


@dataclass
class Watch:
    open: int = 0
    since: datetime | None = None
    total: timedelta = ZERO
    last_seen: datetime | None = None  # the viewer's latest join, heartbeat or leave
    until: datetime | None = None  # once closed (left, or the live ended): counted up to this


@dataclass
class Sale:
    customer: str
    seller: str | None
    in_live: bool  # placed on air by a viewer who clicked the live's link or joined it: context "live"
    amount: Decimal
    paid: bool = False


class Recount:
    """What the database must hold, replayed from the events in arrival order by the rules docs/events.md and
    docs/rules.md state, without the engine. Watch time runs while at least one tab is open: a heartbeat with no
    tab open is a join, a leave with none is ignored, a join at or after the end is ignored, live.ended closes
    every tab and no time counts after it; a viewer silent for `silent` (viewing.silent_after_seconds; None:
    never) counts as gone from their last event plus that long, and a later event restarts the clock. A join or
    heartbeat dated before the end but delivered after it counts as on time (from its `at`, `silent` at most, up
    to the end), without counting twice what was counted, and adds nothing if older than the viewer's last event.
    A viewer is checked at each of their joins, heartbeats and leaves, at the end, and at each first payment of
    their orders: once they have watched >= 5 minutes, their inviter is the first distributor whose link to the
    live they clicked at or before that moment; 5 points per qualified invitee, 50 at the 10th."""

    def __init__(self, silent: timedelta | None) -> None:
        self.silent = silent
        self.received: set[str] = set()
        self.distributors: set[str] = set()
        self.clicks: dict[str, list[tuple[datetime, int, str, str, str]]] = defaultdict(list)
        self.invitations: set[tuple[str, str]] = set()
        self.watches: dict[str, Watch] = {}
        self.started: datetime | None = None
        self.ended: datetime | None = None
        self.sales: dict[str, Sale] = {}
        self.qualified: dict[str, str] = {}  # invitee -> inviter
        self.progress: Counter[str] = Counter()
        self.points: dict[str, tuple[str, int]] = {}  # grant key -> (beneficiary, points)
        self.stats: dict[str, list[Any]] = defaultdict(lambda: [0, 0, 0, Decimal(0)])  # invited .. gmv
        self.last: datetime = START

    def replay(self, items: Iterable[tuple[datetime, int, datetime, dict[str, Any]]]) -> None:
        for _, _, at, raw in items:
            if raw["id"] in self.received:
                continue  # the inbox keeps an id once
            self.received.add(raw["id"])
            self.last = max(self.last, at)
            handler = getattr(self, "on_" + raw["type"].replace(".", "_"), None)
            if handler is not None:
                handler(raw, at)

    def stopped(self, watch: Watch, now: datetime) -> datetime:
        """When the running clock stops if nothing more comes: now, the silence after the last event, the end."""
        assert watch.since is not None
        if self.silent is not None and watch.last_seen is not None:
            now = min(now, max(watch.last_seen, watch.since) + self.silent)
        return min(now, self.ended) if self.ended is not None else now

    def watched(self, watch: Watch, now: datetime) -> timedelta:
        if watch.since is None:
            return watch.total
        return watch.total + max(ZERO, self.stopped(watch, now) - watch.since)

    def seen(self, watch: Watch, at: datetime) -> None:
        if watch.last_seen is not None and at <= watch.last_seen:
            return
        if watch.since is not None and watch.last_seen is not None:
            stopped = self.stopped(watch, at)
            if at > stopped:  # silent for too long: the time in between does not count
                watch.total += max(ZERO, stopped - watch.since)
                watch.since = at
        watch.last_seen = at

    def on_distributor_joined(self, raw: dict[str, Any], at: datetime) -> None:
        self.distributors.add(raw["customer"])

    def on_link_clicked(self, raw: dict[str, Any], at: datetime) -> None:
        distributor, visitor = raw["distributor"], raw["visitor"]
        if distributor not in self.distributors or distributor == visitor:
            return
        (kind, target), = raw["target"].items()
        insort(self.clicks[visitor], (at, len(self.received), distributor, kind, target))
        if kind == "live" and target == LIVE and (distributor, visitor) not in self.invitations:
            self.invitations.add((distributor, visitor))
            self.stats[distributor][0] += 1

    def on_live_started(self, raw: dict[str, Any], at: datetime) -> None:
        self.started = self.started or at

    def on_live_ended(self, raw: dict[str, Any], at: datetime) -> None:
        if self.ended is not None:
            return
        self.ended = at
        for viewer, watch in sorted(self.watches.items()):
            if watch.open:
                watch.total, watch.until = self.watched(watch, at), self.stopped(watch, at)
                watch.open, watch.since = 0, None
                self.check(viewer, at)

    def on_live_joined(self, raw: dict[str, Any], at: datetime) -> None:
        if self.ended is not None and at >= self.ended:
            return
        watch = self.watches.setdefault(raw["viewer"], Watch())
        if self.ended is not None:  # sent on air, delivered after the end: counts as on time, up to the end
            if watch.last_seen is None or at > watch.last_seen:
                covered = min(self.ended, at + self.silent) if self.silent is not None else self.ended
                start = at if watch.until is None else max(at, watch.until)
                watch.total += max(ZERO, covered - start)
                watch.last_seen = at
                watch.until = covered if watch.until is None else max(watch.until, covered)
            return self.check(raw["viewer"], self.ended)
        if watch.open == 0:
            watch.since = at
        watch.open += 1
        self.seen(watch, at)
        self.check(raw["viewer"], at)

    def on_live_heartbeat(self, raw: dict[str, Any], at: datetime) -> None:
        watch = self.watches.get(raw["viewer"])
        if watch is None or watch.open == 0:
            return self.on_live_joined(raw, at)
        self.seen(watch, at)
        self.check(raw["viewer"], at)

    def on_live_left(self, raw: dict[str, Any], at: datetime) -> None:
        watch = self.watches.get(raw["viewer"])
        if watch is None or watch.open == 0:
            return
        watch.open -= 1
        if watch.open == 0:
            watch.total, watch.until, watch.since = self.watched(watch, at), self.stopped(watch, at), None
            watch.last_seen = max(watch.last_seen or at, at)
        else:
            self.seen(watch, at)
        self.check(raw["viewer"], at)

    def on_order_created(self, raw: dict[str, Any], at: datetime) -> None:
        customer = raw["customer"]
        if raw["order"] in self.sales:
            return
        before = [c for c in self.clicks.get(customer, ()) if c[0] <= at]
        seller = before[0][2] if before else None  # bound by their first click (bind_on: click, overwrite: first)
        on_air = self.started is not None and self.started <= at and (self.ended is None or at < self.ended)
        amount = sum((Decimal(line["amount"]) for line in raw["lines"]), Decimal(0))
        self.sales[raw["order"]] = Sale(customer, seller, on_air and (bool(before) or customer in self.watches), amount)

    def on_order_paid(self, raw: dict[str, Any], at: datetime) -> None:
        sale = self.sales.get(raw["order"])
        if sale is None or sale.paid:
            return
        sale.paid = True
        if sale.in_live and sale.seller is not None:
            self.stats[sale.seller][2] += 1
            self.stats[sale.seller][3] += sale.amount
        if sale.customer in self.watches:
            self.check(sale.customer, at)

    def check(self, viewer: str, at: datetime) -> None:
        watch = self.watches.get(viewer)
        if viewer in self.qualified or watch is None or self.watched(watch, at) < THRESHOLD:
            return
        inviter = None
        for click_at, _, distributor, kind, target in self.clicks.get(viewer, ()):
            if click_at > at:
                break
            if kind == "live" and target == LIVE:
                inviter = distributor
                break
        if inviter is None or inviter == viewer:
            return
        self.qualified[viewer] = inviter
        self.stats[inviter][1] += 1
        self.points[f"task:invite-watcher:{LIVE}:{viewer}"] = (inviter, EACH_POINTS)
        self.progress[inviter] += 1
        if self.progress[inviter] == TARGET:
            self.points[f"task:ten-watchers:{LIVE}:{inviter}:done"] = (inviter, TARGET_POINTS)


# ---------------------------------------------------------------------- the database path


@dataclass
class Clock:
    events: int = 0
    insert: float = 0.0
    process: float = 0.0


def feed(items: list[tuple[datetime, int, datetime, dict[str, Any]]], clock: Clock) -> None:
    """Into the inbox as the viewer endpoint keeps events (validated, one bulk INSERT ... ON CONFLICT DO NOTHING,
    so a redelivered id is kept once), then processed in transactions of processing.BATCH events."""
    from saleor_livedist.inbox import processing
    from saleor_livedist.core.events import parse_event
    from saleor_livedist.models import InboxEvent

    start = time.perf_counter()
    rows = [InboxEvent(event_id=raw["id"], type=raw["type"], at=parse_event(raw).at, payload=raw)
            for _, _, _, raw in items]
    InboxEvent.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)
    middle = time.perf_counter()
    clock.events += processing.process_pending()
    clock.insert += middle - start
    clock.process += time.perf_counter() - middle


def by_minute(items: list[tuple[datetime, int, datetime, dict[str, Any]]]) -> Iterator[tuple[int, list[Any]]]:
    """Events in arrival order, grouped by the simulated minute they arrive in (-1: before the start)."""
    group: list[Any] = []
    minute = None
    for item in items:
        m = max(-1, int((item[0] - START).total_seconds() // 60))
        if minute is not None and m != minute:
            yield minute, group
            group = []
        minute = m
        group.append(item)
    if group:
        yield minute, group  # type: ignore[misc]


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds, by nearest rank."""
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000

    return rank(0.50), rank(0.99)


BOARD = ("invited", "qualified", "orders", "gmv")
QUERY = ("query Board($live: String!, $by: String) { leaderboard(live: $live, by: $by) "
         "{ rank name invited qualified orders gmv currency } }")


def time_resolver(by: str, calls: int, samples: dict[str, list[float]]) -> None:
    from saleor_livedist.graphql.live import LiveQueries

    for _ in range(calls):
        start = time.perf_counter()
        rows = LiveQueries.resolve_leaderboard(None, None, live=LIVE, by=by, first=20)
        samples[by].append(time.perf_counter() - start)
        assert rows, "an empty leaderboard"


def time_query(by: str, calls: int, samples: dict[str, list[float]]) -> None:
    from saleor_livedist.graphql.schema import Context, schema

    for _ in range(calls):
        start = time.perf_counter()
        result = schema.execute(QUERY, context_value=Context(None, None, False),
                                variable_values={"live": LIVE, "by": by})
        samples[by].append(time.perf_counter() - start)
        assert not result.errors and result.data["leaderboard"], result.errors


def read_board(stop: Any, results: Any) -> None:
    """In a child process, as a web worker would serve it while the events are processed: the resolver, in
    turn for each order, every 100 ms until told to stop."""
    from django.db import connection

    samples: dict[str, list[float]] = defaultdict(list)
    calls = 0
    while not stop.is_set():
        time_resolver(BOARD[calls % len(BOARD)], 1, samples)
        calls += 1
        stop.wait(0.1)
    connection.close()
    results.put(dict(samples))


# ---------------------------------------------------------------------- comparing


def engine_watched(row: Any, now: datetime, silent: timedelta | None) -> float:
    """A Watch row's seconds as the engine reads them at `now`."""
    from saleor_livedist.core.records import WatchRecord

    watch = WatchRecord(row.live, row.viewer, row.open_count, row.active_since, row.seconds, row.last_seen, row.until,
                         spans=tuple(row.spans))
    return watch.watched_seconds(now, None if silent is None else silent.total_seconds())


def compare(expected: Recount) -> tuple[dict[str, list[str]], int]:
    """Every difference between the recount and the database, by kind; and how many of the watch-time ones are
    watches the database still holds open after live.ended."""
    from saleor_livedist.models import LiveStat, PointsGrant
    from saleor_livedist.models import Watch as WatchRow

    found: dict[str, list[str]] = {"points (per grant key)": [], "points per distributor": [], "watch time": [],
                                   "leaderboard counters": []}
    grants = {g.key: (g.beneficiary, g.points) for g in PointsGrant.objects.filter(live=LIVE)}
    for key in sorted(set(grants) | set(expected.points)):
        if grants.get(key) != expected.points.get(key):
            found["points (per grant key)"].append(
                f"{key}: database {grants.get(key)}, recount {expected.points.get(key)}")
    totals: Counter[str] = Counter()
    wanted: Counter[str] = Counter()
    for beneficiary, points in grants.values():
        totals[beneficiary] += points
    for beneficiary, points in expected.points.values():
        wanted[beneficiary] += points
    for who in sorted(set(totals) | set(wanted)):
        if totals[who] != wanted[who]:
            found["points per distributor"].append(f"{who}: database {totals[who]}, recount {wanted[who]}")
    now, reopened = expected.last, 0
    rows = {w.viewer: w for w in WatchRow.objects.filter(live=LIVE)}
    for who in sorted(set(rows) | set(expected.watches)):
        row, watch = rows.get(who), expected.watches.get(who)
        have = None if row is None else engine_watched(row, now, expected.silent)
        want = None if watch is None else expected.watched(watch, now).total_seconds()
        if have is None or want is None or abs(have - want) > 1e-6:
            reopened += bool(row is not None and row.open_count)
            found["watch time"].append(f"{who} as of {now.isoformat()}: database {have} s "
                                       f"(open tabs {row.open_count if row else None}), recount {want} s")
    stats = {s.distributor: [s.invited, s.qualified, s.orders, s.gmv] for s in LiveStat.objects.filter(live=LIVE)}
    for who in sorted(set(stats) | set(expected.stats)):
        have, want = stats.get(who, [0, 0, 0, Decimal(0)]), expected.stats.get(who, [0, 0, 0, Decimal(0)])
        if have != want:
            found["leaderboard counters"].append(f"{who}: database {have}, recount {want} (invited, qualified, "
                                                 "orders, gmv)")
    return found, reopened


# ---------------------------------------------------------------------- the run


def check_rules() -> tuple[str, timedelta | None]:
    """The recount knows the default tasks; refuse to compare against other rules. Returns the backend's name and
    viewing.silent_after_seconds (None for an engine without it)."""
    from saleor_livedist.inbox import processing

    active = processing.rules_source().current()
    tasks = {t.id: t for t in active.ruleset.tasks}
    each, ten = tasks.get("invite-watcher"), tasks.get("ten-watchers")
    if (each is None or ten is None or each.each is None or each.each.points != EACH_POINTS
            or ten.target != TARGET or ten.reward is None or ten.reward.points != TARGET_POINTS
            or any(t.qualify.watched_minutes != 5 or t.scope != "live" for t in (each, ten))
            or active.ruleset.binding.bind_on != "click" or active.ruleset.binding.overwrite != "first"):
        raise SystemExit("bench_live: the recount needs the default rules (unset LIVEDIST_RULES_DIR)")
    viewing = getattr(active.ruleset, "viewing", None)
    silent = getattr(viewing, "silent_after_seconds", None)
    return active.matcher.name, None if silent is None else timedelta(seconds=silent)


def prepare(args: argparse.Namespace, recount: Recount) -> tuple[int, Clock, int]:
    """The accounts, the network and the outside orders, processed; returns (orders, their clock, ledger rows)."""
    from django.contrib.auth import get_user_model

    from saleor_livedist.models import LedgerEntry

    users = get_user_model()
    users.objects.bulk_create([users(id=n + 1, username=f"seller{n + 1}", email=f"seller{n + 1}@example.com")
                               for n in range(args.distributors)], batch_size=5000)
    setup = network(args.distributors, args.seed).arrival_order()
    recount.replay(setup)
    feed(setup, Clock())
    clock, orders = Clock(), 0
    for chunk in outside_orders(args.distributors, args.seed + 1, 4000):
        items = chunk.arrival_order()
        recount.replay(items)
        feed(items, clock)
        orders += len(items) // 3
        if LedgerEntry.objects.count() >= args.ledger_rows:
            return orders, clock, LedgerEntry.objects.count()
    raise AssertionError("outside_orders() never runs out")


def play(items: list[Any]) -> tuple[Clock, dict[str, list[float]]]:
    """The hour, minute by minute, with a reader process on the leaderboard from the first minute to the end."""
    import multiprocessing

    from django.db import connection

    context = multiprocessing.get_context("fork")
    stop, results = context.Event(), context.Queue()
    reader = None
    clock = Clock()
    for minute, group in by_minute(items):
        if minute >= 0 and reader is None:
            connection.close()  # the child must not share this process's connection
            reader = context.Process(target=read_board, args=(stop, results))
            reader.start()
        feed(group, clock)
    assert reader is not None
    stop.set()
    during = results.get()
    reader.join()
    return clock, during


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=20000)
    parser.add_argument("--distributors", type=int, default=1000)
    parser.add_argument("--ledger-rows", type=int, default=100000)
    parser.add_argument("--late", type=int, default=0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    wall = time.perf_counter()
    loads = [os.getloadavg()]

    os.environ.setdefault("LIVEDIST_SANDBOX_DEBUG", "0")  # as in production: Django keeps no query log
    from saleor_livedist.sandbox.demo import setup_django

    setup_django(DATABASE)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from saleor_livedist.models import InboxEvent, LedgerEntry

    backend, silent = check_rules()
    recount = Recount(silent)
    orders, outside, ledger_before = prepare(args, recount)
    stream = live(args.viewers, args.distributors, args.late, args.seed + 2)
    items = stream.arrival_order()
    recount.replay(items)
    gc.collect()
    gc.freeze()  # the bench's own events and recount are never garbage: keep the collector off them
    hour, during = play(items)
    loads.append(os.getloadavg())
    after: dict[str, list[float]] = defaultdict(list)
    query: dict[str, list[float]] = defaultdict(list)
    for by in BOARD:
        time_resolver(by, 200, after)
        time_query(by, 200, query)
    found, reopened = compare(recount)
    loads.append(os.getloadavg())
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    statuses = Counter(InboxEvent.objects.values_list("status", flat=True))

    print(f"machine: {platform.machine()} {platform.system()} {platform.release()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, PostgreSQL {server}, rule backend {backend}, "
          f"silent_after_seconds {silent.total_seconds() if silent else None}; load average "
          f"(1/5/15 min) at the start, after the hour, at the end: "
          + ", ".join("/".join(f"{x:.2f}" for x in load) for load in loads))
    print(f"world: {args.distributors:,} distributors (sandbox accounts, an upline network), {args.viewers:,} viewers "
          f"of live {LIVE}, {START.isoformat()} to {END.isoformat()} (simulated), default rules")
    for what, count in stream.tally.most_common():
        print(f"  {what}: {count:,}")
    print(f"outside the live: {orders:,} paid orders in the week before, {outside.events:,} events processed in "
          f"{outside.process:.1f} s ({outside.events / outside.process:,.0f} events/s, "
          f"{orders / outside.process:,.0f} paid orders/s; inbox insert {outside.insert:.1f} s); "
          f"{ledger_before:,} ledger rows before the live")
    print(f"the hour: {len(items):,} events handed to the inbox minute by minute ({hour.events:,} distinct), "
          f"processed in {hour.process:.1f} s: {hour.events / hour.process:,.0f} events/s, where a real hour needs "
          f"{hour.events / 3600:,.0f}/s (inbox insert {hour.insert:.1f} s)")
    print(f"database: {LedgerEntry.objects.count():,} ledger rows, inbox {dict(statuses)}, peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    print(f"leaderboard of {LIVE}, top 20 of {len(recount.stats):,} distributors, p50 / p99 ms: the resolver in a "
          f"second process while the hour is processed (every 100 ms, {sum(map(len, during.values())):,} calls), "
          f"then {len(after[BOARD[0]])} calls of it and {len(query[BOARD[0]])} whole GraphQL queries per order after:")
    print(f"  {'by':<10}{'resolver, during':>20}{'resolver, after':>20}{'GraphQL query, after':>24}")
    for by in BOARD:
        cells = [percentiles(samples[by]) for samples in (during, after, query)]
        print(f"  {by:<10}" + "".join(f"{f'{p50:.2f} / {p99:.2f}':>{width}}"
                                      for (p50, p99), width in zip(cells, (20, 20, 24))))
    worst = max(percentiles(samples[by])[1] for samples in (during, after) for by in BOARD)
    print(f"  target p99 < 20 ms (resolver): {'met' if worst < 20 else 'NOT met'} (worst p99 {worst:.2f} ms)")
    reached = sum(1 for n in recount.progress.values() if n >= TARGET)
    print(f"recount (pure Python over the {len(recount.received):,} distinct events, not the engine): "
          f"{len(recount.qualified):,} qualified invitees of {len(recount.invitations):,} invitations, "
          f"{reached:,} distributors reached {TARGET}, {sum(p for _, p in recount.points.values()):,} points "
          f"in {len(recount.points):,} grants")
    mismatches = 0
    for kind, problems in found.items():
        mismatches += len(problems)
        print(f"  {kind}: {len(problems):,} mismatches" + "".join(f"\n    {p}" for p in problems[:5]))
    if reopened:
        print(f"  ({reopened:,} of the watch-time mismatches are watches still open after live.ended: an event dated "
              "before the end but processed after it reopened them, and nothing closes them again)")
    print(f"mismatches: {mismatches}")
    print(f"wall time: {time.perf_counter() - wall:.0f} s")
    connection.close()
    return 1 if mismatches or statuses.get(InboxEvent.FAILED) else 0


if __name__ == "__main__":
    sys.exit(main())
