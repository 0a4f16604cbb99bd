"""Pool bonuses (分红奖) on real PostgreSQL: a month's pool from the orders as the ledger reads them, shared by team
sales to the cent, booked once per (pool, period) even when two runs of the same period race."""
from __future__ import annotations

import threading
import time
from datetime import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from saleor_livedist import models as m
from saleor_livedist.apps import add_periodic_tasks
from saleor_livedist.core.pools import parse_period
from saleor_livedist.distribution import pools
from saleor_livedist.distribution.tasks import pay_pools
from saleor_livedist.inbox import processing
from tests.builders import Stream

pytestmark = pytest.mark.django_db(transaction=True)
NOVEMBER = parse_period("month", "2026-11", "Asia/Shanghai")
DUE = datetime.fromisoformat("2026-12-08T00:00:00+08:00")  # 1 December + settlement.approve_after_days (7)


def play_november() -> None:
    """alice <- bob, both leaders; in November (Asia/Shanghai) customers keep 600.00 of what they paid:
    alice's own 200.00, bob's 350.00 (a 200.00 order refunded 50.00 within the after-sale window), a guest's
    50.00 through nobody."""
    s = Stream()
    s.distributor("alice")
    s.distributor("bob", upline="alice")
    for n, who in enumerate(("alice", "alice", "bob", "bob")):
        s.click(who, f"first{n}", minute=n, product="p-plain")
        s.order(f"first{n}", f"first{n}", minute=n + 0.5, lines=[("p-plain", "100.00")])
    s.click("bob", "cust", minute=10, product="p-plain")
    s.order("big", "cust", minute=11, lines=[("p-plain", "200.00")])
    s.add("order.refunded", 0, day=5, order="big", lines=[{"line": "1", "amount": "50.00"}])
    s.order("guest", "guest:g@example.com", minute=20, lines=[("p-plain", "50.00")])
    # after the run (the clock of these tests is 8 December): not taken off
    s.add("order.refunded", 0, day=30, order="first0", lines=[{"line": "1", "amount": "100.00"}])
    for event in s.raw:
        processing.submit(event, process=False)
    processing.process_pending()


def active() -> tuple:
    rules = processing.rules_source().current()
    return rules.ruleset, rules.version


def pool_entries() -> list[tuple[str, str, Decimal, str, list[str]]]:
    return sorted((e.beneficiary, e.kind, e.amount, e.status, e.rule_ids)
                  for e in m.LedgerEntry.objects.filter(order="pool:leader-pool:2026-11"))


def test_the_pool_is_shared_by_team_sales_and_reconciles_to_the_cent() -> None:
    play_november()
    ruleset, version = active()
    result = pools.pay_period(ruleset, version, ruleset.pool("leader-pool"), NOVEMBER, DUE)
    # 1% of 600.00 = 6.00; alice's team sold 550.00 (her 200.00 and bob's 350.00), bob's 350.00: 3.666.. and
    # 2.333.. rounded down are 3.66 + 2.33 = 5.99, and the cent left goes to the larger remainder cut off (alice's)
    assert result.booked and result.totals == {"CNY": {"gmv": "600.00", "pool": "6.00", "paid": "6.00",
                                                       "sharers": "2"}}
    assert pool_entries() == [("alice", "pool_bonus", Decimal("3.67"), "approved", ["leader-pool"]),
                              ("bob", "pool_bonus", Decimal("2.33"), "approved", ["leader-pool"])]
    run = m.PoolRun.objects.get()
    assert (run.pool, run.period, run.rules_version) == ("leader-pool", "2026-11", version)


def test_running_a_period_again_books_nothing_more() -> None:
    play_november()
    out = StringIO()
    call_command("livedist_pay_pools", "--period", "2026-11", "--now", DUE.isoformat(), stdout=out)
    call_command("livedist_pay_pools", "--period", "2026-11", "--now", DUE.isoformat(), stdout=out)
    assert out.getvalue().splitlines() == [
        "pool leader-pool 2026-11: GMV 600.00 CNY, pool 6.00 CNY shared by 2: alice 3.67, bob 2.33",
        "pool leader-pool 2026-11: paid before; nothing booked",
    ]
    assert len(pool_entries()) == 2 and m.PoolRun.objects.count() == 1


def test_two_concurrent_runs_of_one_period_book_it_once() -> None:
    """The first run holds its claim on (pool, period) while it works; the second waits on the unique key and,
    once the first commits, finds the period paid."""
    play_november()
    ruleset, version = active()
    pool = ruleset.pool("leader-pool")
    claimed, release = threading.Event(), threading.Event()
    compute = pools._compute
    results: dict[str, pools.PoolResult] = {}
    errors: list[BaseException] = []

    def slow_compute(*args: object) -> pools.PoolResult:
        if threading.current_thread().name == "first":
            claimed.set()
            assert release.wait(30)
        return compute(*args)  # type: ignore[arg-type]

    def run() -> None:
        try:
            results[threading.current_thread().name] = pools.pay_period(ruleset, version, pool, NOVEMBER, DUE)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    pools._compute = slow_compute  # type: ignore[assignment]
    try:
        first = threading.Thread(target=run, name="first")
        first.start()
        assert claimed.wait(30)
        second = threading.Thread(target=run, name="second")
        second.start()
        time.sleep(1)
        assert second.is_alive()  # waiting on the first run's uncommitted claim
        release.set()
        first.join(60)
        second.join(60)
    finally:
        pools._compute = compute  # type: ignore[assignment]
    assert errors == []
    assert results["first"].booked and not results["second"].booked
    assert results["second"].totals == results["first"].totals
    assert [amount for _, _, amount, _, _ in pool_entries()] == [Decimal("3.67"), Decimal("2.33")]
    assert m.PoolRun.objects.count() == 1


def test_two_racing_runs_started_together_book_once() -> None:
    play_november()
    ruleset, version = active()
    barrier = threading.Barrier(2)
    booked: list[bool] = []

    def run() -> None:
        try:
            barrier.wait()
            booked.append(pools.pay_period(ruleset, version, ruleset.pool("leader-pool"), NOVEMBER, DUE).booked)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(booked) == [False, True]
    assert len(pool_entries()) == 2


def test_a_banned_distributor_has_no_share() -> None:
    play_november()
    m.DistributorBan.objects.create(distributor="bob", reason="test")
    ruleset, version = active()
    pools.pay_period(ruleset, version, ruleset.pool("leader-pool"), NOVEMBER, DUE)
    assert pool_entries() == [("alice", "pool_bonus", Decimal("6.00"), "approved", ["leader-pool"])]


def test_the_periodic_task_pays_the_latest_due_period_and_is_in_the_beat_schedule() -> None:
    from celery import current_app

    play_november()
    add_periodic_tasks()
    assert current_app.conf.beat_schedule["livedist-pay-pools"]["task"] == "saleor_livedist.pay_pools"
    ruleset, _ = active()
    assert pools.latest_due(ruleset.pool("leader-pool"), ruleset, DUE).key == "2026-11"
    assert pools.latest_due(ruleset.pool("leader-pool"), ruleset, datetime.fromisoformat(
        "2026-12-07T23:59:59+08:00")).key == "2026-10"  # November's after-sale window is still open
    # the task runs on the real clock: it books the latest month due then, once
    assert pay_pools() == 1
    assert pay_pools() == 0
    assert m.PoolRun.objects.count() == 1


def test_a_period_not_due_an_unknown_pool_and_a_malformed_period_are_refused() -> None:
    for args, message in [
        (("--period", "2026-11", "--now", "2026-12-07T12:00:00+08:00"),
         "pool 'leader-pool', period 2026-11 is not due yet: it is paid once its after-sale window has passed, "
         "at 2026-12-08T00:00:00+08:00"),
        (("--pool", "leader-pol"), "unknown pool 'leader-pol'; the rules' pools: leader-pool"),
        (("--period", "2026-13"), "pool 'leader-pool': a monthly pool's period is written YYYY-MM, e.g. 2026-11; "
                                  "got '2026-13'"),
    ]:
        with pytest.raises(CommandError) as raised:
            call_command("livedist_pay_pools", *args, stdout=StringIO())
        assert str(raised.value) == message
    assert m.PoolRun.objects.count() == 0
