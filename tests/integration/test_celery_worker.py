"""Hook -> queue -> worker -> ledger with a real message broker and real Celery worker processes on this machine.

The test process plays the Saleor web process: `processing.submit` stores each event in the inbox and, after the
hook's transaction commits, publishes `saleor_livedist.process_events` to the broker. A separate
`celery -A saleor_livedist.sandbox.celery worker` process, on the same PostgreSQL test database, consumes the
messages and writes the ledger. Each test run uses its own queue, so other workers on the broker are not involved.

Needs a broker: CELERY_TEST_BROKER (default redis://127.0.0.1:6379/15; amqp://guest:guest@127.0.0.1:5672// works
too). Where none is reachable these tests, and only these, are skipped with the reason.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlparse

import pytest
from celery import Celery, _state, signals
from django.db import connection, transaction
from django.db.models import Count
from kombu import Connection, Exchange, Queue
from kombu.utils.url import maybe_sanitize_url

from saleor_livedist.inbox import processing
from saleor_livedist.models import InboxEvent, LedgerEntry
from saleor_livedist.sandbox.celery import create_app
from saleor_livedist.inbox.tasks import process_events
from tests.builders import Stream

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_TEST_BROKER", "redis://127.0.0.1:6379/15")
SANDBOX_APP = "saleor_livedist.sandbox.celery"
RESCUE_APP = "tests.integration.celery_redelivery_app"  # the sandbox app, redelivering after 2 s on Redis
DEADLINE = 60.0  # seconds a worker may take to do what a test waits for
T = TypeVar("T")


def _broker_reachable(url: str, timeout: float = 0.5) -> bool:
    parsed = urlparse(url)
    scheme = parsed.scheme.split("+")[0]
    try:
        if scheme in ("redis", "rediss"):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
            try:
                return bool(client.ping())
            finally:
                client.close()
        port = parsed.port or {"amqp": 5672, "pyamqp": 5672, "amqps": 5671}.get(scheme)
        if not parsed.hostname or not port:
            return False
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except Exception:
        return False


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not _broker_reachable(BROKER),
        reason=f"no message broker reachable at {maybe_sanitize_url(BROKER)}: start Redis (or set "
               "CELERY_TEST_BROKER) to run the real-worker tests",
    ),
]


# ---------------------------------------------------------------------- helpers


def _database_url() -> str:
    """The pytest test database, as a DATABASE_URL for the worker processes (see sandbox/database.py)."""
    s = connection.settings_dict
    user, password = quote(s["USER"] or "", safe=""), quote(s["PASSWORD"] or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = s["HOST"] or "localhost"
    if host.startswith("/"):
        return f"postgresql://{auth}/{s['NAME']}?host={quote(host)}"
    return f"postgresql://{auth}{host}:{s['PORT'] or 5432}/{s['NAME']}"


def _unique_queue() -> str:
    return f"livedist-test-{uuid.uuid4().hex[:12]}"


def _purge(queue: str, delete: bool = False) -> None:
    """Empty a test queue; with delete, remove it and its bindings (declared here as the worker declares it, so
    the broker's bindings are known to this channel)."""
    declaration = Queue(queue, Exchange(queue, type="direct"), routing_key=queue)
    with Connection(BROKER, connect_timeout=5) as conn:
        bound = declaration(conn.default_channel)
        bound.declare()
        bound.purge()
        if delete:
            bound.delete()


def _redis_unacked_task_ids() -> set[str]:
    """Ids of the task messages kombu's Redis transport holds as delivered but not acknowledged."""
    import json

    import redis

    with redis.Redis.from_url(BROKER) as client:
        return {json.loads(value)[0].get("headers", {}).get("id") for value in client.hvals("unacked")}


def _redis_queue_length(queue: str) -> int:
    import redis

    with redis.Redis.from_url(BROKER) as client:
        return int(client.llen(queue))


class Worker:
    """A `celery worker` subprocess (one task at a time; solo pool unless told) consuming one queue, in its own
    process group; its log is kept in memory (a thread reads its output) for the assertions and failure messages."""

    def __init__(self, name: str, app: str, queue: str, database_url: str, pool: str = "solo") -> None:
        self.name, self.queue = name, queue
        self._lines: list[str] = []
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="saleor_livedist.sandbox.settings",
            DATABASE_URL=database_url,
            CELERY_BROKER_URL=BROKER,
            CELERY_TASK_DEFAULT_QUEUE=queue,
            PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
            PYTHONUNBUFFERED="1",
        )
        command = [
            sys.executable, "-m", "celery", "-A", app, "worker", f"--pool={pool}", "--concurrency=1", "-Q", queue,
            "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-l", "info",
        ]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        self._reader = threading.Thread(target=self._read, name=f"{name} log", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.append(line)

    def log(self) -> str:
        return "".join(list(self._lines))

    def wait_ready(self, timeout: float = DEADLINE) -> None:
        deadline = time.monotonic() + timeout
        while " ready." not in self.log():
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker was not ready within {timeout:.0f} s:\n{self.log()}")
            time.sleep(0.1)

    def received(self, task_id: str) -> int:
        return self.log().count(f"[{task_id}] received")

    def succeeded(self, task_id: str) -> int:
        return self.log().count(f"[{task_id}] succeeded")

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost machine would: no warm shutdown, nothing acknowledged."""
        self._signal_group(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)  # warm shutdown
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(10)


def wait_until(condition: Callable[[], T], what: str, *workers: Worker, timeout: float = DEADLINE) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.name} worker:\n{w.log()[-4000:]}" for w in workers)
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")
        time.sleep(0.2)


@contextlib.contextmanager
def publishing_to(queue: str) -> Iterator[Celery]:
    """Make a sandbox app (same factory as the worker's) sending to `queue` the current app of this thread, as
    the web process's app would be, so `process_events.delay()` inside `processing.schedule` reaches the test
    worker. (The process's own sandbox app read its configuration before the test set the broker.)"""
    app = create_app("livedist_test_publisher", broker_url=BROKER, task_default_queue=queue, set_as_current=False)
    previous = _state._tls.current_app  # (celery's thread-local current app: no public getter for "unset")
    app.set_current()
    try:
        yield app
    finally:
        _state._set_current_app(previous)
        app.close()  # (kombu's connection and producer pools are shared per broker URL: left open for reuse)


def scenario() -> list[dict[str, Any]]:
    """A distributor, a click on her share link, and the visitor's order of 100.00, paid."""
    s = Stream()
    s.distributor("alice")
    s.click("alice", "v1", minute=1, product="p-plain")
    s.order("o1", "v1", minute=2, lines=[("p-plain", "100.00")])
    return s.raw


EXPECTED_LEDGER = [("o1", "1", "alice", "commission", Decimal("5.00"), "pending")]  # 5% default rate


def ledger() -> list[tuple[Any, ...]]:
    return sorted((e.order, e.line, e.beneficiary, e.kind, e.amount, e.status) for e in LedgerEntry.objects.all())


def all_done(raw: list[dict[str, Any]]) -> bool:
    """Every event of raw is done (a refused copy under a used id, kept as failed, is not one of them)."""
    statuses = list(InboxEvent.objects.exclude(event_id__contains="~conflict~").values_list("status", flat=True))
    return len(statuses) == len(raw) and set(statuses) == {InboxEvent.DONE}


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def worker(django_db_setup: None) -> Iterator[Worker]:
    """One real worker for the module, on its own queue, against the pytest test database."""
    started = Worker("module", SANDBOX_APP, _unique_queue(), _database_url())
    try:
        started.wait_ready()
        _purge(started.queue)
        yield started
    finally:
        started.stop()
        _purge(started.queue, delete=True)


@pytest.fixture
def published() -> Iterator[list[str]]:
    """Ids of the process_events messages this process publishes during the test, in order."""
    ids: list[str] = []

    def record(sender: Any = None, headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if sender == process_events.name:
            ids.append((headers or {})["id"])

    signals.after_task_publish.connect(record, weak=False)
    try:
        yield ids
    finally:
        signals.after_task_publish.disconnect(record)


# ---------------------------------------------------------------------- tests


def test_an_order_flows_from_the_hook_through_the_queue_to_the_worker_into_the_ledger(
        worker: Worker, published: list[str], settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CELERY_BROKER_URL = BROKER  # a broker is configured: submit enqueues instead of processing inline

    def not_here(*args: Any, **kwargs: Any) -> int:
        raise AssertionError("events were processed in the hook's process instead of by the worker")

    monkeypatch.setattr(processing, "process_pending", not_here)
    raw = scenario()
    with publishing_to(worker.queue):
        with transaction.atomic():  # a hook stores its events inside the request's transaction...
            for event in raw:
                assert processing.submit(event) is True
            assert published == []  # ...nothing is sent before it commits
            assert list(InboxEvent.objects.values_list("status", flat=True)) == [InboxEvent.PENDING] * len(raw)
        assert len(published) == len(raw)  # one message per stored event, sent on commit

    wait_until(lambda: all_done(raw) and ledger(), "the worker to process the events", worker)
    assert ledger() == EXPECTED_LEDGER
    assert InboxEvent.objects.filter(status="done").count() == len(raw)
    assert InboxEvent.objects.filter(status=InboxEvent.DONE, processed_at__isnull=False).count() == len(raw)
    # every message was consumed by the worker and succeeded there
    wait_until(lambda: all(worker.succeeded(t) for t in published), "the worker to run every message", worker)


def test_redelivered_messages_and_events_change_nothing(worker: Worker, published: list[str], settings: Any) -> None:
    settings.CELERY_BROKER_URL = BROKER
    raw = scenario()
    with publishing_to(worker.queue):
        for event in raw:
            assert processing.submit(event) is True
        wait_until(lambda: all_done(raw) and ledger() and all(worker.succeeded(t) for t in published),
                   "the worker to process the events", worker)
        before = ledger()
        assert before == EXPECTED_LEDGER
        sent = len(published)

        # The hook delivers every event again (same ids), one of them with a changed payload: each is stored
        # once, the first delivery wins, and nothing is sent to the queue; the changed one is kept beside it as
        # a refused (failed) row, visible, never applied.
        for event in raw:
            assert processing.submit(dict(event)) is False
        order_created = next(e for e in raw if e["type"] == "order.created")
        changed = {**order_created, "lines": [{**order_created["lines"][0], "amount": "999.00"}]}
        assert processing.submit(changed) is False
        assert len(published) == sent

        # The broker delivers the same task message twice (same task id), and more processing messages arrive.
        first = process_events.apply_async()
        process_events.apply_async(task_id=first.id)
        others = [process_events.delay().id for _ in range(2)]
        wait_until(lambda: worker.succeeded(first.id) >= 2 and all(worker.succeeded(t) for t in others),
                   "the worker to run the redelivered messages", worker)

    assert ledger() == before
    per_id = dict(InboxEvent.objects.values_list("event_id").annotate(n=Count("id")))
    refused = [key for key in per_id if "~conflict~" in key]
    assert [key.split("~")[0] for key in refused] == [order_created["id"]]
    assert InboxEvent.objects.get(event_id=refused[0]).status == InboxEvent.FAILED
    assert {k: n for k, n in per_id.items() if k not in refused} == {e["id"]: 1 for e in raw}
    assert all_done(raw)
    assert InboxEvent.objects.get(event_id=order_created["id"]).payload == order_created
    assert InboxEvent.objects.filter(status="done").count() == len(raw)


def test_a_task_killed_mid_flight_is_redelivered_to_another_worker(
        published: list[str], settings: Any) -> None:
    """acks_late: a worker killed while running process_events has not acknowledged the message, so the broker
    hands it to the next worker (RabbitMQ at once, Redis after the visibility timeout) and nothing is lost.

    The killed worker uses the prefork pool, as production workers do: there the consumer acknowledges an
    early-ack task as soon as a child accepts it, so this test fails if the task is not acks_late. (With the solo
    pool the task runs inside the consumer's event loop and even an early ack is only sent after it returns.)"""
    import psycopg

    settings.CELERY_BROKER_URL = BROKER
    queue, url, raw = _unique_queue(), _database_url(), scenario()
    # Lock the inbox rows so the worker's task blocks mid-flight, inside its transaction (it takes the
    # processing lock, then waits for the rows).
    holder = psycopg.connect(url)
    first = Worker("first", SANDBOX_APP, queue, url, pool="prefork")
    second: Worker | None = None
    try:
        first.wait_ready()
        for event in raw:  # the hook stores a batch of events...
            assert processing.submit(event, process=False) is True
        holder.execute("SELECT id FROM livedist_inbox FOR UPDATE")
        with publishing_to(queue):  # ...and schedules their processing once
            processing.schedule()
        sent = list(published)
        assert len(sent) == 1  # so the one message taken by the first worker is the only way to process them

        def waiting_backend() -> int | None:
            watcher = psycopg.connect(url, autocommit=True)
            try:
                row = watcher.execute(
                    "SELECT pid FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted").fetchone()
            finally:
                watcher.close()
            return row[0] if row else None

        blocked = wait_until(waiting_backend, "the worker's task to wait for the inbox rows", first)
        wait_until(lambda: first.received(sent[0]), "the first worker to log the message", first)
        assert first.succeeded(sent[0]) == 0
        first.kill()  # the whole worker (parent and child), as when its machine or container is lost
        if urlparse(BROKER).scheme.startswith("redis"):  # the broker still holds the unacknowledged message
            assert sent[0] in _redis_unacked_task_ids()
            assert _redis_queue_length(queue) == 0
        holder.execute("SELECT pg_terminate_backend(%s)", [blocked])  # the dead worker's session
        holder.rollback()  # let the rows go
        assert ledger() == [] and not all_done(raw)  # the killed task wrote nothing

        second = Worker("second", RESCUE_APP, queue, url)
        second.wait_ready()
        wait_until(lambda: all_done(raw) and ledger(), "the redelivered task to process the events", first, second)
        assert ledger() == EXPECTED_LEDGER
        assert InboxEvent.objects.filter(status="done").count() == len(raw)
        assert published == sent  # nothing new was sent: the second worker ran the killed worker's messages
        wait_until(lambda: second.succeeded(sent[0]), "the redelivered message to be acknowledged", second)
    finally:
        first.stop()
        if second is not None:
            second.stop()
        holder.close()
        _purge(queue, delete=True)


def test_the_worker_refreshes_the_reports_when_beat_sends_the_task(worker: Worker) -> None:
    """What beat sends every 30 s (saleor_livedist.refresh_reports): the worker computes the report lines and
    totals of the orders marked changed, so the next page finds nothing to do."""
    from saleor_livedist.inbox.broker import REFRESH_REPORTS
    from saleor_livedist.inbox.tasks import BEAT_SCHEDULE
    from saleor_livedist.models import ReportLine, ReportPending, ReportSeller

    assert BEAT_SCHEDULE["livedist-refresh-reports"]["task"] == REFRESH_REPORTS
    for event in scenario():
        processing.submit(event, process=False)
    processing.process_pending()
    assert ReportPending.objects.filter(order="o1").exists() and not ReportLine.objects.exists()
    with publishing_to(worker.queue) as app:
        task_id = app.send_task(REFRESH_REPORTS).id
    wait_until(lambda: worker.succeeded(task_id), "the worker to refresh the reports", worker)
    assert not ReportPending.objects.exists()
    assert list(ReportLine.objects.values_list("order", "kept")) == [("o1", Decimal("100.00"))]
    seller = ReportSeller.objects.get(distributor="alice")
    assert (seller.bound_orders, seller.bound_gmv, seller.bound_commission) == (1, Decimal("100.00"), Decimal("5.00"))
