"""Exactly once under concurrency, on real PostgreSQL with real transactions: duplicate deliveries racing,
two workers on one order's events at once, and a worker killed between evaluating and writing."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from saleor_livedist.inbox import processing
from saleor_livedist.models import InboxEvent, LedgerEntry
from tests.builders import Stream

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def order_stream(orders: int = 20) -> list[dict[str, Any]]:
    s = Stream()
    s.distributor("alice")
    s.distributor("bob", upline="alice")
    for n in range(orders):
        s.click("bob", f"c{n}", minute=n, product="p-plain")
        s.order(f"o{n}", f"c{n}", minute=n + 0.5, lines=[("p-plain", "100.00"), ("p-b", "10.00")])
        s.add("order.refunded", n + 2, order=f"o{n}", lines=[{"line": "2", "amount": "5.00"}])
    return s.raw


def race(workers: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run `work(n)` in threads that start together, each with its own database connection."""
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def target(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # collected and re-raised by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def expected_bob_total(orders: int) -> Decimal:
    return orders * (Decimal("5.00") + Decimal("0.25"))  # 5% of 100 + 5% of the 5.00 kept on line 2


def bob_total() -> Decimal:
    return sum((e.amount for e in LedgerEntry.objects.filter(beneficiary="bob").exclude(status="reversed")),
               Decimal(0))


def test_the_same_events_delivered_by_four_racing_workers_are_applied_once() -> None:
    raw = order_stream()

    def deliver_and_process(n: int) -> None:
        for event in raw:
            processing.submit(dict(event), process=False)
        processing.process_pending(limit=9)

    assert race(4, deliver_and_process) == []
    assert InboxEvent.objects.count() == len(raw)
    assert InboxEvent.objects.filter(status="done").count() == len(raw)
    assert bob_total() == expected_bob_total(20)
    assert LedgerEntry.objects.filter(beneficiary="bob", kind="commission").count() == 40


def test_two_workers_on_one_orders_events_at_once() -> None:
    raw = order_stream(orders=1)
    setup, lifecycle = raw[:-3], raw[-3:]  # created, paid, refunded
    for event in setup:
        processing.submit(event, process=False)
    processing.process_pending()

    def worker(n: int) -> None:
        # each worker receives a different event of the same order and processes immediately
        processing.submit(lifecycle[n], process=False)
        processing.process_pending(limit=1)
        processing.process_pending()

    assert race(3, worker) == []
    processing.process_pending()
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}
    assert bob_total() == expected_bob_total(1)
    entries = sorted((e.line, e.kind, e.amount) for e in LedgerEntry.objects.filter(beneficiary="bob"))
    assert entries == [("1", "commission", Decimal("5.00")), ("2", "adjustment", Decimal("-0.25")),
                       ("2", "commission", Decimal("0.50"))]


def _database_url() -> str:
    s = connection.settings_dict
    host = s["HOST"]
    if host.startswith("/"):
        return f"postgresql://{s['USER']}:{s['PASSWORD']}@/{s['NAME']}?host={host}"
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


def test_a_worker_killed_between_evaluating_and_writing_loses_and_doubles_nothing() -> None:
    raw = order_stream(orders=5)
    for event in raw:
        processing.submit(event, process=False)
    script = textwrap.dedent("""
        import os, django
        django.setup()
        from saleor_livedist.inbox import processing
        from saleor_livedist.db import store

        real_flush = store.DbStore.flush
        def die_after_some_writes(self):
            real_flush(self)          # rows written inside the open transaction...
            os._exit(9)               # ...and the process dies before it commits
        store.DbStore.flush = die_after_some_writes
        processing.process_pending()
    """)
    env = dict(os.environ, DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="saleor_livedist.sandbox.settings",
               PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    assert not LedgerEntry.objects.exists() and not InboxEvent.objects.filter(status="done").exists()
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"pending"}
    processing.process_pending()  # the next worker picks the batch up again
    assert bob_total() == expected_bob_total(5)
    assert InboxEvent.objects.filter(status="done").count() == len(raw)


def test_a_failing_event_is_recorded_retried_and_can_be_rerun(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = order_stream(orders=2)
    for event in raw:
        processing.submit(event, process=False)
    poisoned = raw[-2]["id"]  # the second order's paid event
    from saleor_livedist.core.engine import Engine

    real = Engine.process

    def process(self: Engine, event: Any) -> bool:
        if event.id == poisoned:
            raise RuntimeError("payment service said no")
        return real(self, event)

    monkeypatch.setattr(Engine, "process", process)
    processing.process_pending()
    row = InboxEvent.objects.get(event_id=poisoned)
    assert (row.status, row.attempts) == ("pending", 1) and row.next_attempt_at > timezone.now()  # backing off
    processing.process_pending()
    assert InboxEvent.objects.get(event_id=poisoned).attempts == 1  # not retried before its time
    monkeypatch.setattr(processing, "RETRY_BACKOFF_SECONDS", 0)
    InboxEvent.objects.filter(event_id=poisoned).update(next_attempt_at=timezone.now())
    processing.process_pending()
    processing.process_pending()
    row = InboxEvent.objects.get(event_id=poisoned)
    assert (row.status, row.attempts) == ("failed", processing.MAX_ATTEMPTS)
    assert "payment service said no" in row.error
    assert InboxEvent.objects.exclude(event_id=poisoned).filter(status="done").count() == len(raw) - 1
    monkeypatch.setattr(Engine, "process", real)
    assert processing.rerun([poisoned]) == 1
    processing.process_pending()
    assert InboxEvent.objects.get(event_id=poisoned).status == "done"
    assert bob_total() == expected_bob_total(2)
