"""Paying pool bonuses (分红奖; docs/rules.md, pools): a period's pool worked out from the orders as the ledger reads
them, shared by core.pools, and booked once per (pool, period) under a unique key, however often or concurrently
the period is run.

A period is due once its after-sale window (settlement.approve_after_days) has passed since its end: refunds
in that window are taken off the GMV and off each distributor's sales, as they are taken off commissions. The
shares are booked approved, as ledger entries of kind pool_bonus (order `pool:<pool>:<period>`, no line).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import models as m
from ..core.ledger import project
from ..core.pools import Period, Sale, parse_period, period_of, pool_amount, previous, split, weights
from ..db.rows import distributor_of, order_of
from ..exceptions import LiveDistError
from ..rules.model import Pool, RuleSet

ZERO = Decimal(0)
KIND = "pool_bonus"


class PoolError(LiveDistError, ValueError):
    """A pool or period that cannot be run (unknown, malformed, or not due yet)."""


@dataclass
class PoolResult:
    pool: str
    period: Period
    booked: bool  # False: this period was paid before (by this run's twin, or earlier)
    totals: dict[str, dict[str, str]] = field(default_factory=dict)  # currency -> gmv, pool, paid, sharers
    shares: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # currency -> identity -> amount


def ledger_order(pool_id: str, period_key: str) -> str:
    return f"pool:{pool_id}:{period_key}"


def due_at(period: Period, ruleset: RuleSet) -> datetime:
    return period.end + timedelta(days=ruleset.settlement.approve_after_days)


def latest_due(pool: Pool, ruleset: RuleSet, now: datetime) -> Period:
    """The latest period of `pool` whose after-sale window has passed by `now`."""
    period = previous(pool.period, period_of(pool.period, now, pool.time_zone), pool.time_zone)
    while due_at(period, ruleset) > now:
        period = previous(pool.period, period, pool.time_zone)
    return period


def pay_due_pools(ruleset: RuleSet, version: str, now: datetime | None = None) -> list[PoolResult]:
    """What the periodic task runs: each pool's latest due period (already paid ones change nothing)."""
    now = now or timezone.now()
    return [pay_period(ruleset, version, pool, latest_due(pool, ruleset, now), now) for pool in ruleset.pools]


def pay_named(ruleset: RuleSet, version: str, pool_id: str | None, period_key: str | None,
              now: datetime | None = None) -> list[PoolResult]:
    """By hand: one pool (or all) for one period (or the latest due one); a period not due yet is refused."""
    now = now or timezone.now()
    pools = list(ruleset.pools)
    if pool_id is not None:
        pool = ruleset.pool(pool_id)
        if pool is None:
            known = ", ".join(p.id for p in pools) or "none: the rules define no pools"
            raise PoolError(f"unknown pool {pool_id!r}; the rules' pools: {known}")
        pools = [pool]
    results = []
    for pool in pools:
        if period_key is None:
            period = latest_due(pool, ruleset, now)
        else:
            try:
                period = parse_period(pool.period, period_key, pool.time_zone)
            except ValueError as exc:
                raise PoolError(f"pool {pool.id!r}: {exc}") from None
            if due_at(period, ruleset) > now:
                raise PoolError(f"pool {pool.id!r}, period {period.key} is not due yet: it is paid once its "
                                f"after-sale window has passed, at {due_at(period, ruleset).isoformat()}")
        results.append(pay_period(ruleset, version, pool, period, now))
    return results


def pay_period(ruleset: RuleSet, version: str, pool: Pool, period: Period, now: datetime) -> PoolResult:
    """Book `pool` for `period` once: the run's row is claimed first, so a concurrent run of the same period waits
    on its unique key and, once this one commits, finds it paid."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = m.PoolRun.objects.create(pool=pool.id, period=period.key, starts_at=period.start,
                                               ends_at=period.end, rules_version=version, ran_at=now)
        except IntegrityError:
            done = m.PoolRun.objects.get(pool=pool.id, period=period.key)
            return PoolResult(pool.id, period, False, done.totals)
        result = _compute(ruleset, pool, period, now)
        entries = [
            m.LedgerEntry(
                id=f"{ledger_order(pool.id, period.key)}:{currency}:{who}", order=ledger_order(pool.id, period.key),
                line="", beneficiary=who, kind=KIND, level=0, amount=amount, currency=currency, status="approved",
                percent=pool.percent, rule_ids=[pool.id], rules_version=version, at=now, seq=n,
            )
            for currency, shares in sorted(result.shares.items())
            for n, (who, amount) in enumerate(sorted(shares.items()))
        ]
        m.LedgerEntry.objects.bulk_create(entries)
        run.totals = result.totals
        run.save(update_fields=["totals"])
    return result


def _compute(ruleset: RuleSet, pool: Pool, period: Period, now: datetime) -> PoolResult:
    """The period's GMV and sales from the orders paid in it, as the ledger reads them now (refunds taken off)."""
    sales: list[Sale] = []
    days = ruleset.settlement.approve_after_days
    rows = m.Order.objects.filter(paid_at__gte=period.start, paid_at__lt=period.end, snapshot__isnull=False)
    for row in rows.order_by("id").iterator(chunk_size=2000):
        record = order_of(row)
        snapshot = record.snapshot
        assert snapshot is not None
        record.lifecycle = [step for step in record.lifecycle if step[0] <= now]  # as the ledger read at `now`
        kept = project(record, days, now).kept
        seller = snapshot.attribution.paid_to
        if seller == snapshot.customer and not ruleset.binding.self_purchase:
            seller = None  # nobody earns on their own purchase, as with commissions
        sales.append(Sale(snapshot.currency, kept, seller))
    gmv: dict[str, Decimal] = {}
    for sale in sales:
        gmv[sale.currency] = gmv.get(sale.currency, ZERO) + sale.kept
    banned = set(m.DistributorBan.objects.values_list("distributor", flat=True))
    last_moment = period.end - timedelta(microseconds=1)
    eligible, uplines = set(), {}
    for row in m.Distributor.objects.all().iterator(chunk_size=2000):
        uplines[row.id] = row.upline
        if row.id not in banned and distributor_of(row).rank_at(last_moment) in pool.ranks:
            eligible.add(row.id)
    levels = (pool.team_levels or ruleset.compliance.max_levels) if pool.share == "team" else None
    by_currency = weights(sales, uplines, levels)
    result = PoolResult(pool.id, period, True)
    for currency, total in sorted(gmv.items()):
        amount = pool_amount(total, pool.percent, currency)
        mine = {who: w for who, w in by_currency.get(currency, {}).items() if who in eligible}
        shares = split(amount, mine, currency)
        if shares:
            result.shares[currency] = shares
        result.totals[currency] = {"gmv": str(total), "pool": str(amount),
                                   "paid": str(sum(shares.values(), ZERO)), "sharers": str(len(shares))}
    return result


def describe(result: PoolResult, names: dict[str, str] | None = None) -> str:
    """One line per currency for the CLI and the demo."""
    names = names or {}
    head = f"pool {result.pool} {result.period.key}"
    if not result.booked:
        return f"{head}: paid before; nothing booked"
    if not result.totals:
        return f"{head}: no paid orders in the period; nothing booked"
    lines = []
    for currency, t in result.totals.items():
        shares = result.shares.get(currency, {})
        who = ", ".join(f"{names.get(k, k)} {v}" for k, v in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0])))
        lines.append(f"{head}: GMV {t['gmv']} {currency}, pool {t['pool']} {currency} shared by {t['sharers']}"
                     + (f": {who}" if who else " (nobody of the rank sold in the period: nothing booked)"))
    return "\n".join(lines)
