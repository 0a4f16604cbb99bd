"""Paid orders per second through the database path (inbox -> processing on PostgreSQL), one process,
default rules, a 3-level network; and the ratio to the in-memory engine on the same stream.

    python bench/bench_db.py [--orders N] [--batch N] [--database NAME]
    python bench/bench_db.py --workers 1 2 4 [--partitions N] [--world teams|tree] [--teams N] [--cross N]

With --workers: partitioned processing (settings.PARTITIONS, default 4) by that many worker processes (real OS
processes, each looping process_pending on its partitions p with p % workers == its number, and applying the
barriers it meets), after one worker on one partition (today's path) on the same stream; it prints paid
orders/s for each, the ratio to one worker on the same partitions and to one partition, the ratio to the
in-memory engine, and the largest routing component's share of the events. `teams` (the default there): 64 teams
of a leader, a manager and 8 sellers, each customer bound to one team, `--cross` customers clicking a second
team (merging the two teams' components); `tree`: the stream below (one tree: one component). First, unless
`--baseline ''`, the package of the commit `--baseline` names (by default the last one before partitions and
set-based writes: the path as it was when scaling out was asked for), extracted from this checkout's history
with `git archive` into the temporary directory, applies the same stream with one worker in a child process on
a database of its own, and each figure is also given as a multiple of it: "today's one-worker figure measured
in the same run".

Uses DATABASE_URL's server if set, else the embedded PostgreSQL (pgserver). Creates (dropping it first) its
own database, `livedist_bench` unless --database names another. Besides the rate it prints what does not
depend on the machine's load: statement executions per paid order (a statement sent with executemany counts
once per row) and rows written per paid order (rowcount of INSERT, UPDATE and DELETE), while the orders are
processed.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def stream(orders: int) -> list[dict]:
    """alice <- bob <- carol <- 50 distributors (3 levels with a leader upline), customers bound by clicks,
    each order created and paid."""
    from tests.builders import at

    events: list[dict] = []

    def add(etype: str, minute: float, **fields: object) -> None:
        events.append({"id": f"b{len(events)}", "type": etype, "at": at(minute), **fields})

    add("distributor.joined", -1000, customer="alice")
    for n, (who, up) in enumerate([("bob", "alice"), ("carol", "bob")]):
        add("link.clicked", -990 + n, distributor=up, visitor=who, target={"product": "p"})
        add("distributor.joined", -980 + n, customer=who)
    sellers = [f"s{n}" for n in range(50)]
    for n, who in enumerate(sellers):
        add("link.clicked", -900 + n / 10, distributor="carol", visitor=who, target={"product": "p"})
        add("distributor.joined", -899 + n / 10, customer=who)
    for n in range(2):  # carol's two paying invitees make her a leader: team commission is paid
        add("link.clicked", -800, distributor="bob", visitor=f"lead{n}", target={"product": "p"})
        add("order.created", -799, order=f"lead{n}", customer=f"lead{n}", channel="default", currency="CNY",
            lines=[{"line": "1", "product": "p", "amount": "10.00"}])
        add("order.paid", -798, order=f"lead{n}")
        add("link.clicked", -700, distributor="carol", visitor=f"lc{n}", target={"product": "p"})
        add("order.created", -699, order=f"lc{n}", customer=f"lc{n}", channel="default", currency="CNY",
            lines=[{"line": "1", "product": "p", "amount": "10.00"}])
        add("order.paid", -698, order=f"lc{n}")
    setup = len(events)
    for n in range(orders):
        customer = f"c{n}"
        minute = n / 100
        add("link.clicked", minute, distributor=sellers[n % len(sellers)], visitor=customer, target={"product": "p"})
        add("order.created", minute, order=f"o{n}", customer=customer, channel="default", currency="CNY",
            lines=[{"line": "1", "product": f"p{n % 7}", "amount": "120.00"},
                   {"line": "2", "product": "p-x", "amount": "35.50"}])
        add("order.paid", minute + 0.001, order=f"o{n}")
    return events[:setup], events[setup:]


BASELINE = "2fae519"  # the last commit before the database path was partitioned and its writes set-based


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--database", default="livedist_bench")
    parser.add_argument("--workers", type=int, nargs="*", help="worker processes to measure, e.g. 1 2 4")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--world", choices=("teams", "tree"), default="teams")
    parser.add_argument("--teams", type=int, default=64)
    parser.add_argument("--cross", type=int, default=4, help="customers who click a second team's seller")
    parser.add_argument("--baseline", default=BASELINE, metavar="REV",
                        help="with --workers: also run this commit's package, one worker, on the same stream "
                             f"(default {BASELINE}, the path before partitioning and set-based writes; '' skips)")
    parser.add_argument("--baseline-run", nargs=2, metavar=("TREE", "EVENTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_run:
        return baseline_run(*args.baseline_run, database=args.database, batch=args.batch)
    if args.workers:
        return scaling(args)
    load_before = os.getloadavg()

    from saleor_livedist.sandbox.demo import setup_django

    setup_django(args.database)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    from saleor_livedist.inbox import processing
    from saleor_livedist.core.events import parse_event
    from saleor_livedist.models import LedgerEntry
    from saleor_livedist.rules.provider import StaticRules
    from tests.builders import default_rules, run

    setup, orders = stream(args.orders)
    for event in setup:
        processing.submit(event, process=False)
    processing.process_pending()
    for event in orders:
        processing.submit(event, process=False)
    counts = Counts()
    from saleor_livedist.db import rows as db_rows

    copy = getattr(db_rows, "_copy", None)
    if copy is not None:  # COPY does not pass Django's execute wrappers: counted here, one statement each
        def counted_copy(stage, columns, rows):  # noqa: ANN001, ANN202
            counts.executions += 1
            counts.statements += 1
            counts.by_kind["COPY (staging)"] = counts.by_kind.get("COPY (staging)", 0) + 1
            return copy(stage, columns, rows)

        db_rows._copy = counted_copy
    with connection.execute_wrapper(counts):
        start = time.perf_counter()
        processing.process_pending(limit=args.batch)
        db_seconds = time.perf_counter() - start
    levels = sorted(set(LedgerEntry.objects.filter(order__startswith="o").values_list("level", flat=True)))
    entries = LedgerEntry.objects.filter(order__startswith="o").count()

    parsed = [parse_event(e) for e in setup + orders]
    engine = run(parsed[: len(setup)], "python", default_rules())
    start = time.perf_counter()
    for event in parsed[len(setup):]:
        engine.process(event)
    memory_seconds = time.perf_counter() - start
    memory_entries = len([e for e in engine.store.entries() if e.order.startswith("o")])
    assert entries == memory_entries, (entries, memory_entries)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    where = "embedded/URL" if "livedist_bench" in os.environ.get("DATABASE_URL", "") else "DATABASE_URL"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {server} ({where})")
    print(f"stream: {args.orders} paid orders (order.created + order.paid + a click each), 2 lines, "
          f"levels paid {levels}, {entries} ledger entries")
    print(f"database path (inbox -> processing, batches of {args.batch}, rule backend "
          f"{processing.rules_source().current().matcher.name}): {args.orders / db_seconds:,.0f} paid orders/s "
          f"({db_seconds:.2f} s)")
    print(f"in-memory engine, same stream: {args.orders / memory_seconds:,.0f} paid orders/s "
          f"({memory_seconds:.2f} s); database/memory = {memory_seconds / db_seconds:.2f}")
    print(f"per paid order: {counts.executions / args.orders:.2f} statement executions "
          f"({counts.statements / args.orders:.3f} statements sent), {counts.rows / args.orders:.2f} rows written")
    print("statements by kind and table: " + ", ".join(
        f"{kind} {count}" for kind, count in sorted(counts.by_kind.items(), key=lambda kv: -kv[1])))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}, after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    connection.close()
    del StaticRules


def scaling(args: argparse.Namespace) -> None:
    """Partitioned processing by 1, 2, 4... worker processes on the same stream (see the module's docstring)."""
    import multiprocessing

    load_before = os.getloadavg()
    from saleor_livedist.sandbox.demo import setup_django

    setup_django(args.database)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.models import Count

    call_command("migrate", verbosity=0)
    from saleor_livedist.core.events import parse_event
    from saleor_livedist.inbox import processing, routing
    from saleor_livedist.models import InboxEvent, LedgerEntry, RouteKey
    from tests.builders import default_rules, run

    if args.world == "teams":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from streams import teams_world

        setup, orders = teams_world(teams=args.teams, orders=args.orders, cross_clicks=args.cross, lives=1)
    else:
        setup, orders = stream(args.orders)
    paid = sum(1 for e in orders if e["type"] == "order.paid")
    parsed = [parse_event(e) for e in setup + orders]
    engine = run(parsed[: len(setup)], "python", default_rules())
    start = time.perf_counter()
    for event in parsed[len(setup):]:
        engine.process(event)
    memory_rate = paid / (time.perf_counter() - start)
    memory_entries = len([e for e in engine.store.entries() if e.order.startswith("o")])

    import psycopg

    from saleor_livedist.sandbox.database import parse_database_url

    params = parse_database_url(os.environ["DATABASE_URL"])
    admin = psycopg.connect(dbname="postgres", user=params["USER"], password=params["PASSWORD"] or None,
                            host=params["HOST"] or None, port=params["PORT"] or None, autocommit=True)

    def prepare(partitions: int) -> tuple[str, float]:
        """The inbox loaded (setup applied, the orders pending) as a template database; the submit rate."""
        template = f"{args.database}_p{partitions}"
        settings.LIVEDIST["PARTITIONS"] = partitions
        processing.reset_rules_source()
        call_command("flush", verbosity=0, interactive=False)
        for event in setup:
            processing.submit(event, process=False)
        processing.process_pending()
        begin = time.perf_counter()
        for event in orders:
            processing.submit(event, process=False)
        submit_rate = len(orders) / (time.perf_counter() - begin)
        with connection.cursor() as cursor:  # the planner's statistics as autovacuum would have them by now
            cursor.execute("ANALYZE")
        processing.reset_rules_source()
        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{template}" TEMPLATE "{args.database}"')
        return template, submit_rate

    def measure(template: str, partitions: int, workers: int) -> tuple[float, float, float]:
        """Paid orders/s; the workers' own CPU (ms per paid order, all workers); the share of the workers'
        database sessions' samples (every 50 ms) spent waiting on a lock."""
        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.database}" TEMPLATE "{template}"')
        settings.LIVEDIST["PARTITIONS"] = partitions
        ctx = multiprocessing.get_context("fork")
        go, cpu = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(n, workers, partitions, go, args.batch, cpu))
                 for n in range(workers)]
        for proc in procs:
            proc.start()
        time.sleep(3.0)  # every worker connected, its rules compiled, waiting
        begin = time.perf_counter()
        go.set()
        sessions = waiting = 0
        while any(proc.is_alive() for proc in procs):
            for (wait,) in admin.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [args.database]).fetchall():
                sessions += 1
                waiting += wait == "Lock"
            time.sleep(0.05)
        seconds = time.perf_counter() - begin
        for proc in procs:
            proc.join()
            assert proc.exitcode == 0, proc.exitcode
        used = sum(cpu.get() for _ in procs)
        left = InboxEvent.objects.exclude(status="done").count()
        entries = LedgerEntry.objects.filter(order__startswith="o").count()
        assert left == 0 and entries == memory_entries, (left, entries, memory_entries)
        connections.close_all()
        return paid / seconds, used * 1000 / paid, waiting / max(1, sessions)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {server}")
    world = (f"{args.teams} teams x (leader, manager, 8 sellers), {args.cross} cross-team clicks, a live"
             if args.world == "teams" else "one tree (alice <- bob <- carol <- 50 sellers)")
    print(f"stream: {world}; {paid} paid orders, {len(orders)} events after the setup; batches of {args.batch}")
    print(f"in-memory engine, same stream: {memory_rate:,.0f} paid orders/s")
    base = None
    if args.baseline:
        base = baseline(args.baseline, setup, orders, f"{args.database}_base", args.batch)
        assert base["entries"] == memory_entries and base["left"] == 0, (base, memory_entries)
        rate = paid / base["seconds"]
        print(f"baseline {base['commit'][:10]} (before partitions and set-based writes), 1 worker: {rate:,.0f} paid "
              f"orders/s (database/memory {rate / memory_rate:.2f}); worker CPU {base['cpu'] * 1000 / paid:.2f} ms "
              "per paid order")
    template, submit_one = prepare(1)
    today, today_cpu, _ = measure(template, 1, 1)
    print(f"PARTITIONS=1, 1 worker (one lock, as before): {today:,.0f} paid orders/s "
          f"(database/memory {today / memory_rate:.2f}); worker CPU {today_cpu:.2f} ms per paid order; "
          f"submit {submit_one:,.0f} events/s")
    template, submit_many = prepare(args.partitions)
    events_of: dict[int, int] = {}
    component = dict(RouteKey.objects.values_list("key", "component"))
    for event in parsed[len(setup):]:
        names = routing.keys(event)
        if names and event.type not in routing.GLOBAL_TYPES:
            c = component[names[0]]
            events_of[c] = events_of.get(c, 0) + 1
    barriers = InboxEvent.objects.filter(barrier=True, status="pending").count()
    share = max(events_of.values()) / sum(events_of.values())
    by_partition = dict(InboxEvent.objects.filter(status="pending", barrier=False).values("partition")
                        .annotate(n=Count("id")).values_list("partition", "n"))
    connections.close_all()
    print(f"PARTITIONS={args.partitions}: {len(events_of)} components, the largest {share:.1%} of the events; "
          f"{barriers} barriers; events per partition {dict(sorted(by_partition.items()))}; "
          f"submit {submit_many:,.0f} events/s (router lock)")
    one = None
    for workers in args.workers:
        rate, used, waits = measure(template, args.partitions, workers)
        one = one or rate
        versus = f", x{rate * base['seconds'] / paid:.2f} the baseline" if base else ""
        print(f"PARTITIONS={args.partitions}, {workers} worker(s): {rate:,.0f} paid orders/s; x{rate / one:.2f} one "
              f"worker, x{rate / today:.2f} one partition{versus}; database/memory {rate / memory_rate:.2f}; "
              f"workers' CPU {used:.2f} ms per paid order; sessions waiting on a lock {waits:.1%}; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}, after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    admin.close()


def baseline(rev: str, setup: list[dict], orders: list[dict], database: str, batch: int) -> dict:
    """`rev`'s package (extracted from this checkout's history with git archive) applying the same stream with one
    worker, in a child process of its own on a database of its own: its seconds, CPU seconds, ledger entries."""
    import json
    import subprocess
    import tempfile

    root = Path(__file__).resolve().parents[1]
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", f"{rev}^{{commit}}"],
                            check=True, capture_output=True, text=True).stdout.strip()
    tree = Path(tempfile.gettempdir()) / f"livedist-baseline-{commit}"
    if not (tree / "saleor_livedist").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(root), "archive", commit], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        json.dump([setup, orders], out)
    try:
        child = subprocess.run([sys.executable, __file__, "--baseline-run", str(tree), out.name, "--database", database,
                                "--batch", str(batch)], capture_output=True, text=True)
    finally:
        os.unlink(out.name)
    if child.returncode:
        raise SystemExit(f"the baseline {commit[:10]} failed:\n{child.stderr[-4000:]}")
    return {"commit": commit, **json.loads(child.stdout.strip().splitlines()[-1])}


def baseline_run(tree: str, events: str, database: str, batch: int) -> None:
    """In the child: the package in `tree` (first on sys.path) loads the stream, then applies the orders with
    process_pending as one worker did before partitions; prints one JSON line."""
    import json

    sys.path.insert(0, tree)
    with open(events) as f:
        setup, orders = json.load(f)
    from saleor_livedist.sandbox.demo import setup_django

    setup_django(database)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from saleor_livedist.inbox import processing
    from saleor_livedist.models import InboxEvent, LedgerEntry

    assert Path(processing.__file__).resolve().is_relative_to(Path(tree).resolve()), processing.__file__
    for event in setup:
        processing.submit(event, process=False)
    processing.process_pending()
    for event in orders:
        processing.submit(event, process=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    processing._record_once(processing.rules_source())
    before, begin = os.times(), time.perf_counter()
    processing.process_pending(limit=batch)
    seconds, after = time.perf_counter() - begin, os.times()
    print(json.dumps({
        "seconds": seconds, "cpu": after.user - before.user + after.system - before.system,
        "entries": LedgerEntry.objects.filter(order__startswith="o").count(),
        "left": InboxEvent.objects.exclude(status="done").count()}))
    connection.close()


def _worker(index: int, workers: int, partitions: int, go: object, batch: int, cpu: object) -> None:
    """One worker process: its partitions in turn (and the barriers it meets) until the inbox is empty; puts
    the CPU seconds it used meanwhile on `cpu`."""
    from saleor_livedist.inbox import processing
    from saleor_livedist.models import InboxEvent

    processing._rules.clear()  # the parent's rules objects (their reload threads stayed in the parent)
    mine = [p for p in range(partitions) if p % workers == index]
    processing._record_once(processing.rules_source())  # rules compiled and recorded, connected, before the start
    go.wait()  # type: ignore[attr-defined]
    before = os.times()
    while True:
        applied = 0
        for p in mine:
            try:
                applied += processing.process_pending(limit=batch, partition=p, wait=False)
            except processing.Busy:
                pass
        if not applied:
            if not InboxEvent.objects.filter(status="pending").exists():
                break
            time.sleep(0.02)  # idle: its partitions wait for others (a Celery worker would get no task)
    after = os.times()
    cpu.put(after.user - before.user + after.system - before.system)  # type: ignore[attr-defined]


class Counts:
    """A Django execute wrapper counting executions, statements and rows written."""

    def __init__(self) -> None:
        self.executions = self.statements = self.rows = 0
        self.by_kind: dict[str, int] = {}

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204
        result = execute(sql, params, many, context)
        runs = len(params) if many else 1
        self.executions += runs
        self.statements += 1
        words = sql.split()
        verb = words[0].upper()
        if verb == "WITH":  # the set-based upsert: WITH staged AS (DELETE ...) INSERT INTO ...
            verb = "INSERT"
            words = words[words.index("INSERT"):]
        if verb == "SELECT" and "FROM" in words:
            words = words[words.index("FROM"):]
        table = next((w.strip('"').split('"')[0] for w in words[1:4] if w.strip('"').startswith("livedist_")), "")
        key = f"{verb} {table}".strip()
        self.by_kind[key] = self.by_kind.get(key, 0) + runs
        if verb in ("INSERT", "UPDATE", "DELETE"):
            self.rows += max(0, context["cursor"].rowcount)
        return result


if __name__ == "__main__":
    main()
