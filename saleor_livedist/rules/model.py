"""The validated, typed form of a merchant's rule files: what the loader builds and the backends evaluate.

Everything here is immutable and hashable so one RuleSet can be shared by threads and cached by version.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

MAX_LEVELS_HARD_LIMIT = 3
DEFAULT_RANK = "distributor"

Context = Literal["live", "replay", "none"]
Scope = Literal["live", "all"]
BindOn = Literal["click", "registration", "first_order"]
Overwrite = Literal["first", "latest"]


@dataclass(frozen=True)
class Source:
    """Where a rule was written, for messages and `rules explain`."""

    path: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class When:
    """Conditions of a rule; all given ones must hold. Empty means 'always'.

    Item keys (products, collections, categories) also set a rate's specificity.
    """

    products: frozenset[str] = frozenset()
    collections: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    currencies: frozenset[str] = frozenset()
    lives: frozenset[str] = frozenset()
    context: Context | None = None  # where the order came from: on-air live, replay, or neither
    featured: bool | None = None  # product featured in the order's live
    live_minutes: tuple[int, int] | None = None  # [from, to) minutes after the live started
    between: tuple[datetime, datetime] | None = None  # [from, to) absolute, timezone-aware
    ranks: frozenset[str] = frozenset()  # rank of the beneficiary
    seller_ranks: frozenset[str] = frozenset()  # rank of the selling distributor (level 1), whoever is paid
    sold_within_days: int | None = None  # beneficiary had an attributed paid order within N days
    task_completed: str | None = None  # beneficiary completed this task (in this order's live, for live scope)
    custom: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()  # (extension name, sorted params)

    def item_tier(self) -> int:
        """3 product, 2 collection, 1 category, 0 none: a rule naming a product beats one naming its category."""
        if self.products:
            return 3
        if self.collections:
            return 2
        if self.categories:
            return 1
        return 0

    def condition_count(self) -> int:
        return sum(
            1
            for value in (
                self.products, self.collections, self.categories, self.channels, self.currencies,
                self.lives, self.ranks, self.seller_ranks, self.custom,
            )
            if value
        ) + sum(
            1
            for value in (
                self.context, self.featured, self.live_minutes, self.between,
                self.sold_within_days, self.task_completed,
            )
            if value is not None
        )


@dataclass(frozen=True)
class RateRule:
    """A commission rule. kind 'rate' picks the level-1 base rate (one wins), 'bonus' adds on top of it,
    'team' pays an upline at `level` (one wins per level), 'peer' is a peer bonus (平级奖) for the upline at
    `level`, on top of its team rule: one per line, to the nearest upline whose peer rule holds."""

    id: str
    kind: Literal["rate", "bonus", "team", "peer"]
    percent: Decimal  # of the net paid line amount
    when: When
    source: Source
    level: int = 1
    priority: int = 0
    order: int = 0  # declaration order across files (files sorted by name); the last tie-breaker
    actions: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()  # custom reward actions
    same_rank: bool = False  # peer rules: the upline paid has the seller's rank

    def precedence(self) -> tuple[int, int, int, int]:
        """Sort key, highest first: priority, item specificity, number of conditions, earlier declaration."""
        return (self.priority, self.when.item_tier(), self.when.condition_count(), -self.order)


@dataclass(frozen=True)
class Qualify:
    """What makes an invitee count for a task. All given ones must hold."""

    entered: bool = False
    watched_minutes: int | None = None
    ordered: bool = False  # placed an order that was paid


@dataclass(frozen=True)
class Reward:
    points: int = 0
    bonus_percent: Decimal = Decimal(0)  # extra commission on the distributor's later orders
    cash: Decimal = Decimal(0)  # only allowed where the invitee must have bought (compliance)
    actions: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()


@dataclass(frozen=True)
class Task:
    """An invite task: rewards a distributor for invitees who qualify, per invitee (`each`) and/or once
    `target` invitees qualified (`reward`)."""

    id: str
    scope: Scope
    qualify: Qualify
    source: Source
    each: Reward | None = None
    target: int | None = None
    reward: Reward | None = None
    lives: frozenset[str] = frozenset()  # only these lives count (scope live); empty: every live

    def applies_to(self, live_id: str) -> bool:
        return not self.lives or live_id in self.lives


@dataclass(frozen=True)
class Promotion:
    """链动2+1 style: a distributor with `paying_invitees` direct invitees who each have a paid order
    reaches `rank`."""

    id: str
    rank: str
    paying_invitees: int
    source: Source
    from_ranks: frozenset[str] = frozenset()  # empty: any rank


@dataclass(frozen=True)
class Pool:
    """分红奖: each `period`, `percent` of the period's GMV shared among the distributors of `ranks` by their sales
    in it: their own (share 'own'), or their team's, their own and their downline's up to `team_levels` levels
    counting themselves (share 'team'). Paid by a periodic task once the period's after-sale window has passed."""

    id: str
    percent: Decimal  # of the period's GMV: what customers kept of the paid orders
    ranks: frozenset[str]
    source: Source
    period: Literal["month", "week"] = "month"
    share: Literal["own", "team"] = "team"
    team_levels: int | None = None  # share 'team': None is compliance.max_levels
    time_zone: str = "UTC"  # where the periods start and end


@dataclass(frozen=True)
class Binding:
    bind_on: BindOn = "click"
    valid_days: int | None = 30  # None: permanent
    overwrite: Overwrite = "first"
    self_purchase: bool = False


@dataclass(frozen=True)
class Settlement:
    approve_after_days: int = 7  # after fulfilment: the after-sale window


@dataclass(frozen=True)
class Join:
    upline_fallback: Literal["none", "host"] = "none"  # upline of an unbound joiner in a live room


@dataclass(frozen=True)
class Viewing:
    silent_after_seconds: int = 60  # a tab silent this long counts as gone since its last event plus this


@dataclass(frozen=True)
class Guards:
    """Limits against farmed invitees and clicks (docs/rules.md, "guards")."""
    invitees: Literal["customers", "anyone"] = "customers"  # who may count as an invitee for a task
    invitees_per_distributor_per_day: int | None = 50  # past it, a distributor's new invitees are held for review
    clicks_per_source_per_day: int | None = 100  # counted clicks from one client address (share link endpoint)
    clicks_per_visitor_per_day: int | None = 10  # counted clicks from one visitor id
    time_zone: str = "UTC"  # where a day starts and ends for these limits


@dataclass(frozen=True)
class Redemption:
    """What points buy (docs/rules.md, "redemption"): `points` points are worth `value` in `currency`; one
    redemption spends a whole multiple of `points`, at least `minimum`."""

    points: int
    value: Decimal
    currency: str
    minimum: int
    kinds: tuple[str, ...] = ("voucher", "gift_card")
    valid_days: int = 90
    channel: str = "default-channel"

    def worth(self, points: int) -> Decimal:
        """The value of `points` points (a whole multiple of `self.points`)."""
        return self.value * (points // self.points)


@dataclass(frozen=True)
class InviteCoupon:
    """The first-order coupon of a new customer who arrived through a distributor's link (docs/rules.md,
    "invite_coupon")."""

    kind: Literal["fixed", "percent"]
    value: Decimal
    currency: str
    min_spent: Decimal | None = None
    valid_days: int = 14
    channel: str = "default-channel"


@dataclass(frozen=True)
class Compliance:
    max_levels: int = 2  # counting the selling distributor as level 1; hard limit 3
    # Cap on the sum of all levels' percents for one line. Files that leave it out must stay within 100% (LD305);
    # None (no cap) only for rule sets built in code.
    max_line_percent: Decimal | None = Decimal(100)


@dataclass(frozen=True)
class RuleSet:
    version: str  # hash of the canonical content
    rates: tuple[RateRule, ...] = ()
    bonuses: tuple[RateRule, ...] = ()
    team: tuple[RateRule, ...] = ()
    peer: tuple[RateRule, ...] = ()
    tasks: tuple[Task, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    pools: tuple[Pool, ...] = ()
    binding: Binding = field(default_factory=Binding)
    settlement: Settlement = field(default_factory=Settlement)
    viewing: Viewing = field(default_factory=Viewing)
    join: Join = field(default_factory=Join)
    compliance: Compliance = field(default_factory=Compliance)
    guards: Guards = field(default_factory=Guards)
    redemption: Redemption | None = None  # None: points cannot be redeemed
    invite_coupon: InviteCoupon | None = None  # None: no first-order coupon for invited customers
    files: tuple[str, ...] = ()

    def rate_rules(self) -> tuple[RateRule, ...]:
        return self.rates + self.bonuses + self.team + self.peer

    def pool(self, pool_id: str) -> Pool | None:
        return next((p for p in self.pools if p.id == pool_id), None)

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)
