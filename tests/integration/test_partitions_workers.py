"""Differential: random many-team streams (cross-team clicks that merge teams' partitions, lives, bans, watches,
refunds, cancels) through one partition and one worker, and through four partitions with four worker processes
running at once while the events arrive, give the same ledger, points, ranks and live counters; also with
every event delivered twice and a worker killed with SIGKILL in the middle of a batch (its partition is taken
over by a new worker, carefully, as Celery redelivers its message)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from saleor_livedist.core.events import parse_event
from saleor_livedist.inbox import processing
from saleor_livedist.models import InboxEvent, RouteComponent
from tests.integration.test_concurrency import _database_url

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]

WORKER = textwrap.dedent("""
    import os, sys, time, django
    django.setup()
    from saleor_livedist.inbox import processing
    from saleor_livedist.models import InboxEvent
    from saleor_livedist.db import store

    partitions = [int(p) for p in sys.argv[1].split(",")]
    die_after, careful, stop = int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
    flushes = 0
    if die_after:
        real_flush = store.DbStore.flush
        def flush_then_die(self):
            global flushes
            real_flush(self)  # rows written inside the open transaction...
            flushes += 1
            if flushes >= die_after:
                print("dying", flush=True)
                time.sleep(30)  # ...and the test kills the process (SIGKILL) before it commits
        store.DbStore.flush = flush_then_die
    print("ready", flush=True)
    while True:
        applied = 0
        for p in partitions:
            try:
                applied += processing.process_pending(limit=7, rounds=1 if careful else 1000, partition=p,
                                                      wait=False, careful=careful)
            except processing.Busy:
                pass
        careful = False  # the redelivered message's batch, one event per transaction; then as usual
        if not applied:
            if os.path.exists(stop) and not InboxEvent.objects.filter(status="pending").exists():
                break
            time.sleep(0.01)
""")


def stream(seed: int) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from streams import teams_world
    finally:
        sys.path.remove(str(ROOT / "bench"))
    rng = random.Random(seed)
    setup, orders = teams_world(teams=rng.randint(6, 16), sellers=rng.randint(2, 4), orders=rng.randint(80, 140),
                                cross_clicks=rng.randint(2, 6), lives=rng.randint(1, 2), bans=rng.randint(1, 2),
                                viewers=0.3, seed=seed)
    return setup + orders


def outcome() -> tuple[Any, ...]:
    from saleor_livedist.db.store import DbStore

    store = DbStore()
    grants = sorted((g.key, g.beneficiary, g.points, g.rules_version) for g in store.points())
    ranks = sorted((d.id, d.rank, d.upline, d.paying_invitees, d.last_sale_at) for d in store.distributors())
    entries = sorted((e.id, e.beneficiary, e.kind, e.level, e.amount, e.currency, e.status, e.percent, e.rule_ids)
                     for e in store.entries())
    stats = sorted((x.live, x.distributor, x.invited, x.qualified, x.orders, x.gmv) for live in ("L0", "L1")
                   for x in store.live_stats(live))
    return entries, grants, ranks, stats


def wipe() -> None:
    tables = [m._meta.db_table for m in apps.get_app_config("saleor_livedist").get_models()]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def one_worker(raw: list[dict[str, Any]], settings: Any) -> tuple[Any, ...]:
    settings.LIVEDIST = {**settings.LIVEDIST, "PARTITIONS": 1}
    for event in raw:
        processing.submit(event, process=False)
    processing.process_pending()
    now = max(parse_event(e).at for e in raw)
    processing.settle(now)
    return outcome()


class Worker:
    def __init__(self, partitions: list[int], stop: Path, die_after: int = 0, careful: bool = False) -> None:
        env = dict(os.environ, DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="saleor_livedist.sandbox.settings",
                   PYTHONPATH=str(ROOT), LIVEDIST_PARTITIONS="4")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, ",".join(map(str, partitions)), str(die_after), "1" if careful else "0",
             str(stop)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready", self.proc.stdout.read()

    def wait_for(self, line: str) -> None:
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == line


def four_workers(raw: list[dict[str, Any]], settings: Any, tmp_path: Path, redeliver: bool,
                 kill: bool) -> tuple[Any, ...]:
    settings.LIVEDIST = {**settings.LIVEDIST, "PARTITIONS": 4}
    stop = tmp_path / "stop"
    workers = [Worker([p], stop, die_after=3 if kill and p == 1 else 0) for p in range(4)]
    rng = random.Random(len(raw))
    for n, event in enumerate(raw):  # submitted while the workers run
        processing.submit(event, process=False)
        if redeliver and rng.random() < 0.5:
            assert processing.submit(dict(event), process=False) is False  # a webhook's retry
        if n % 200 == 0:
            time.sleep(0.05)
    if kill:
        workers[1].wait_for("dying")
        workers[1].proc.send_signal(signal.SIGKILL)
        workers[1].proc.wait(10)
        workers[1] = Worker([1], stop, careful=True)  # its message redelivered: careful
    stop.touch()
    for w in workers:
        out, _ = w.proc.communicate(timeout=120)
        assert w.proc.returncode == 0, out
    assert list(InboxEvent.objects.exclude(status="done").values_list("event_id", "status", "attempts", "error")) == []
    now = max(parse_event(e).at for e in raw)
    processing.settle(now)
    return outcome()


@pytest.mark.parametrize(("seed", "redeliver", "kill"), [(1, False, False), (2, True, False), (3, True, True)])
def test_four_partitions_on_four_worker_processes_book_what_one_worker_books(
        settings: Any, tmp_path: Path, seed: int, redeliver: bool, kill: bool) -> None:
    raw = stream(seed)
    expected = one_worker(raw, settings)
    entries, grants, ranks, stats = expected
    assert len(entries) > 100 and grants and stats and any(r[1] != "distributor" for r in ranks)
    wipe()
    got = four_workers(raw, settings, tmp_path, redeliver, kill)
    assert got == expected
    barriers = InboxEvent.objects.filter(barrier=True).count()
    assert barriers >= 3  # the lives, the bans and the merges
    partitions = set(InboxEvent.objects.filter(barrier=False).values_list("partition", flat=True))
    assert partitions == {0, 1, 2, 3} and RouteComponent.objects.count() > 1
