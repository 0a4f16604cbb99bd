"""The lean viewer app and its group commit, on real PostgreSQL: over real HTTP with many threads at once (every
acknowledged heartbeat kept exactly once), a batch deciding exactly as one-by-one requests would, a failed batch
acknowledging nothing, signed-in viewers by bearer token, the rate limits counted in Redis for a whole batch,
and the entry point a deployment runs, under gunicorn. (test_viewers.py runs every scenario through both the
Django view and this app.)"""
from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import quote
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from saleor_livedist.viewers import batch as viewer_batch, contract as viewers
from saleor_livedist.web.endpoints import sandbox_token
from saleor_livedist.identity import of_user
from saleor_livedist.distribution.links import sign_visitor
from saleor_livedist.models import InboxEvent, Watch
from saleor_livedist.viewers.app import ViewerApp
from saleor_livedist.viewers.batch import Pending, record_batch
from saleor_livedist.viewers.contract import Viewer, ViewerError, ViewerRequest

from .test_viewers import Clock, lean_app, live_on_air, start_clock

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    cache.clear()  # the default (per-process) cache's rate-limit counters


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return start_clock(monkeypatch)

ROOT = Path(__file__).resolve().parents[2]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ViewerApp]]:
    """The lean app (Django behind it) on a real socket, a thread per connection."""
    monkeypatch.setattr(viewers, "IP_LIMIT", 10 ** 6)  # every request comes from 127.0.0.1
    app = lean_app()
    server = ThreadingServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", app
    finally:
        server.shutdown()
        server.server_close()
        app.close()


def http_post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_many_threads_at_once_every_acknowledged_heartbeat_is_kept_exactly_once(
        clock: Clock, served: tuple[str, ViewerApp]) -> None:
    url, app = served
    ids = {f"visitor:{n:024x}": sign_visitor(f"visitor:{n:024x}") for n in range(60)}
    rounds = [["heartbeat", "heartbeat"]] + [["heartbeat"] * 3] * 3 + [["heartbeat", "leave", "heartbeat"]]
    recorded = {visitor: 0 for visitor in ids}
    lock = threading.Lock()

    def send(job: tuple[str, str]) -> int:
        visitor, action = job
        status, body = http_post(f"{url}/viewer/", {"live": "L1", "action": action, "tab": "t"},
                                 {"X-Livedist-Visitor": ids[visitor]})
        if status == 200 and body["recorded"]:
            with lock:
                recorded[visitor] += 1
        return status

    with ThreadPoolExecutor(max_workers=32) as pool:
        for number, actions in enumerate(rounds):
            if number:
                clock.advance(15)
            jobs = [(visitor, action) for visitor in ids for action in actions]
            random.Random(number).shuffle(jobs)  # a tab's duplicates, and its leave, in any order
            assert set(pool.map(send, jobs)) == {200}

    assert app.batcher.largest > 1, "requests sent at once should share transactions"
    rows = InboxEvent.objects.filter(type__in=["live.joined", "live.heartbeat", "live.left"], payload__live="L1")
    per_viewer: dict[str, list[str]] = {}
    for viewer, event_id in rows.values_list("payload__viewer", "event_id"):
        per_viewer.setdefault(viewer, []).append(event_id)
    assert {viewer: len(kept) for viewer, kept in per_viewer.items()} == recorded  # acknowledged = kept, once
    for viewer, kept in per_viewer.items():
        steps = sorted(event_id.rsplit(":", 1)[1][0] for event_id in kept)
        assert steps.count("j") == 1 and steps.count("l") == 1, (viewer, kept)  # never reopened by a late beat
    assert not rows.exclude(status=InboxEvent.DONE).exists()  # all processed (inline, without a broker)
    assert set(Watch.objects.filter(live="L1").values_list("seconds", "open_count")) == {(60.0, 0)}


SEQUENCE = [  # (viewer, tab, action): overlapping tabs, repeats, a late heartbeat, a tab coming back
    ("a", "t1", "heartbeat"), ("a", "t1", "join"), ("a", "t1", "heartbeat"), ("b", "t1", "join"),
    ("a", "t2", "join"), ("a", "t1", "heartbeat"), ("a", "t1", "leave"), ("a", "t1", "heartbeat"),
    ("b", "t1", "leave"), ("b", "t1", "leave"), ("a", "t1", "join"), ("a", "t2", "heartbeat"),
    ("a", "t1", "leave"), ("c", "", "heartbeat"), ("c", "", "heartbeat"), ("c", "", "leave"),
]


def pending(live: str, viewer: str, tab: str, action: str) -> Pending:
    visitor = f"visitor:{viewer * 24}"
    return Pending(ViewerRequest(live, action, tab), Viewer(id=visitor, visitor=visitor), "10.0.0.1")


def test_one_batch_decides_in_arrival_order_as_one_request_at_a_time_would(clock: Clock,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(viewers, "VIEWER_LIMIT", 100)
    live_on_air("L2", clock.at - timedelta(minutes=1))
    together = [pending("L1", *request) for request in SEQUENCE]
    record_batch(together)
    one_by_one = [pending("L2", *request) for request in SEQUENCE]
    for item in one_by_one:
        record_batch([item])

    def outcome(items: list[Pending]) -> list[bool]:
        assert all(isinstance(item.result, viewers.Outcome) for item in items)
        return [item.result.recorded for item in items]  # type: ignore[union-attr]

    assert outcome(together) == outcome(one_by_one) == [True, False, True, True, True, False, True, False, True,
                                                        False, True, True, True, True, True, True]

    def kept(live: str) -> list[tuple[str, str, str]]:  # (viewer, type, step) in the order kept
        rows = InboxEvent.objects.filter(payload__live=live, type__in=["live.joined", "live.left",
                                                                         "live.heartbeat"]).order_by("id")
        return [(r.payload["viewer"], r.type, r.event_id.rsplit(":", 1)[1]) for r in rows]

    assert kept("L1") == kept("L2")
    viewer_events = InboxEvent.objects.filter(payload__live="L1", type__in=["live.joined", "live.left",
                                                                            "live.heartbeat"])
    assert len(set(viewer_events.values_list("at", flat=True))) == 1  # one batch, one instant


def test_a_signed_in_viewer_by_bearer_token_is_served_by_the_lean_app(clock: Clock,
                                                                      served: tuple[str, ViewerApp]) -> None:
    """Stitching through the lean path: a visitor watching anonymously signs in on the same tab."""
    url, app = served
    ben = get_user_model().objects.create_user(username="ben", email="ben@example.com", password="x")
    visitor = "visitor:" + "b" * 24
    header = {"X-Livedist-Visitor": sign_visitor(visitor)}
    assert http_post(f"{url}/viewer/", {"live": "L1", "action": "join", "tab": "t"}, header)[0] == 200
    clock.advance(60)
    signed_in = {**header, "Authorization": f"Bearer {sandbox_token(ben)}"}
    before = app.batcher.requests
    status, body = http_post(f"{url}/viewer/", {"live": "L1", "action": "heartbeat", "tab": "t"}, signed_in)
    assert status == 200 and body["recorded"] and app.batcher.requests == before + 1
    clock.advance(30)
    assert http_post(f"{url}/viewer/", {"live": "L1", "action": "leave", "tab": "t"}, signed_in)[1]["recorded"]
    assert InboxEvent.objects.filter(event_id=f"stitch:{visitor}:{of_user(ben)}").count() == 1
    customer = Watch.objects.get(live="L1", viewer=of_user(ben))
    assert customer.seconds == 90 and customer.open_count == 0  # the visitor's minute follows the customer
    forged = {"Authorization": f"Bearer {sandbox_token(ben)}", "X-Livedist-Visitor": "visitor:" + "f" * 24}
    status, body = http_post(f"{url}/viewer/", {"live": "L1", "action": "join", "tab": "u"}, forged)
    assert status == 403 and body["errors"][0]["code"] == "FORBIDDEN_VISITOR"  # even when signed in


def test_a_failed_batch_acknowledges_nothing_and_the_next_one_works(clock: Clock, served: tuple[str, ViewerApp],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = served
    header = {"X-Livedist-Visitor": sign_visitor("visitor:" + "c" * 24)}
    real_keep = viewer_batch._keep

    def failing(events: list[dict[str, Any]]) -> int:
        real_keep(events)  # written, then the transaction fails: rolled back, nothing kept
        raise RuntimeError("the database went away")

    monkeypatch.setattr(viewer_batch, "_keep", failing)
    status, body = http_post(f"{url}/viewer/", {"live": "L1", "action": "join", "tab": "t"}, header)
    assert status == 503 and body["errors"][0]["code"] == "UNAVAILABLE"
    assert not InboxEvent.objects.filter(type="live.joined").exists()
    monkeypatch.setattr(viewer_batch, "_keep", real_keep)
    status, body = http_post(f"{url}/viewer/", {"live": "L1", "action": "join", "tab": "t"}, header)
    assert status == 200 and body["recorded"]  # the retry is recorded, once
    assert InboxEvent.objects.filter(type="live.joined").count() == 1


def test_bad_requests_are_answered_by_the_lean_app_itself(clock: Clock) -> None:
    app = ViewerApp(path="/viewer/")  # no Django behind it
    try:
        def call(method: str, path: str, body: bytes = b"", **environ: str) -> tuple[str, dict[str, str], Any]:
            replies: dict[str, Any] = {}
            from io import BytesIO

            content = b"".join(app({"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": BytesIO(body),
                                    "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "10.1.1.1", **environ},
                                   lambda status, headers: replies.update(status=status, headers=dict(headers))))
            return replies["status"], replies["headers"], json.loads(content)

        assert call("GET", "/viewer/")[0] == "405 Method Not Allowed"
        assert call("POST", "/graphql/")[0] == "404 Not Found"
        assert call("POST", "/viewer/", b"x" * 5000)[2]["errors"][0]["code"] == "TOO_LARGE"
        status, headers, body = call("POST", "/viewer", b'{"live": "L1", "action": "join"}')
        assert status == "200 OK" and body["recorded"] and "HttpOnly" in headers["Set-Cookie"]
        assert viewers.read_visitor(body["visitor"]).startswith("visitor:")
        status, headers, body = call("POST", "/viewer/", b'{"live": "L1", "action": "join"}',
                                     HTTP_COOKIE="livedist_vid=forged")
        assert status == "403 Forbidden" and 'livedist_vid=""' in headers["Set-Cookie"]
    finally:
        app.close()


def redis_url() -> str | None:
    url = os.environ.get("LIVEDIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        return None
    return url


@pytest.mark.skipif(redis_url() is None, reason="no Redis (set LIVEDIST_TEST_REDIS_URL)")
def test_rate_limits_count_a_whole_batch_in_redis(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = f"livedist-test-{os.getpid()}-{time.monotonic_ns()}"
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url(),
                          "KEY_PREFIX": prefix}}
    with override_settings(CACHES=caches):  # not cleared after: a shared Redis; the counters expire in seconds
        visitor = "visitor:" + "d" * 24
        batch = [pending("L1", "d", f"t{n}", "join") for n in range(8)]  # one viewer, 8 tabs, one instant
        record_batch(batch)
        assert [getattr(item.result, "status", 200) for item in batch] == [200] * 5 + [429] * 3
        refused = batch[-1].result
        assert isinstance(refused, ViewerError) and refused.code == "RATE_LIMITED"
        assert 1 <= (refused.retry_after or 0) <= viewers.VIEWER_WINDOW
        assert InboxEvent.objects.filter(payload__viewer=visitor).count() == 5  # the refused left no trace
        slot = int(clock.at.timestamp() // viewers.VIEWER_WINDOW)
        assert cache.get(f"livedist:rate:viewer:{viewers.digest(visitor)}:{slot}") == 8  # Django reads it
        # the Django view's single requests count on the same counters
        single = pending("L1", "d", "t9", "join")
        record_batch([single])
        assert isinstance(single.result, ViewerError) and single.result.status == 429
        monkeypatch.setattr(viewers, "IP_LIMIT", 3)
        clock.advance(viewers.VIEWER_WINDOW)
        others = [Pending(ViewerRequest("L1", "join", ""), Viewer(id=f"visitor:{n:024x}", issued=True),
                          "10.0.0.7") for n in range(5)]
        record_batch(others + [Pending(ViewerRequest("L1", "join", ""), Viewer(id="visitor:" + "e" * 24,
                                                                                issued=True), "10.0.0.8")])
        assert [getattr(item.result, "status", 200) for item in others] == [200, 200, 200, 429, 429]


@pytest.fixture
def gunicorn_port() -> int:
    pytest.importorskip("gunicorn", reason="gunicorn (in the test extras) serves the lean app in this test")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_entry_point_under_gunicorn(gunicorn_port: int) -> None:
    """`gunicorn saleor_livedist.viewer_wsgi:application` as documented, on this test database: the viewer path
    answered by the lean app (group commit, real clock), everything else by Django behind it."""
    live_on_air("L1", timezone.now() - timedelta(minutes=1))
    db = settings.DATABASES["default"]
    host = db["HOST"] or "localhost"
    # The embedded server (no DATABASE_URL) listens on a socket directory: that goes in ?host=
    place = f"@/{quote(db['NAME'])}?host={quote(host)}" if host.startswith("/") else \
        f"@{host}:{db['PORT'] or 5432}/{quote(db['NAME'])}"
    url = f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}{place}"
    if db["PORT"] and host.startswith("/"):
        url += f"&port={db['PORT']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "saleor_livedist.sandbox.settings",
           "LIVEDIST_SANDBOX_DEBUG": "0", "PYTHONPATH": str(ROOT)}
    env.pop("CELERY_BROKER_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "saleor_livedist.viewer_wsgi:application",
                               "--worker-class", "gthread", "--workers", "2", "--threads", "8", "--bind",
                               f"127.0.0.1:{gunicorn_port}", "--log-level", "warning"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{gunicorn_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", gunicorn_port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()[-2000:]
                time.sleep(0.1)
        status, first = http_post(f"{base}/viewer/", {"live": "L1", "action": "join", "tab": "t"})
        assert status == 200 and first["recorded"]
        header = {"X-Livedist-Visitor": first["visitor"]}
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda tab: http_post(f"{base}/viewer/", {"live": "L1", "action": "join",
                                                                              "tab": tab}, header), ["a", "b", "c"]))
        assert [status for status, _ in answers] == [200] * 3
        status, body = http_post(f"{base}/graphql/", {"query": "{ __typename }"})  # Django behind it
        assert status == 200 and "data" in body
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/viewer/", timeout=10)  # a GET: the lean app's 405
        assert refused.value.code == 405
    finally:
        server.terminate()
        server.wait(timeout=30)
    visitor = viewers.read_visitor(first["visitor"])
    assert InboxEvent.objects.filter(type="live.joined", payload__viewer=visitor).count() == 4


def test_one_poisoned_request_never_fails_the_others_of_its_group_commit(
        clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent requests in ONE batch over real HTTP; two carry a live id that passes naive checks but that
    PostgreSQL (a NUL) or the driver (an unpaired surrogate) refuses. The parser's check for those characters is
    switched off here, so the database itself refuses them: each fails alone (400), the others are recorded."""
    monkeypatch.setattr(viewers, "IP_LIMIT", 10 ** 6)
    monkeypatch.setattr(viewers, "_UNSTORABLE", __import__("re").compile("(?!)"))  # the naive checks of before
    app = ViewerApp(fallback=None, path="/viewer/", batcher=viewer_batch.Batcher(linger_seconds=0.5))
    server = ThreadingServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/viewer/"
    poisoned = {3: "L1\u0000", 8: "L1\ud800"}

    def send(n: int) -> tuple[int, dict[str, Any]]:
        visitor = f"visitor:{n:024x}"
        body = json.dumps({"live": poisoned.get(n, "L1"), "action": "join", "tab": "t"}).encode()
        request = urllib.request.Request(url, body, method="POST", headers={
            "Content-Type": "application/json", "X-Livedist-Visitor": sign_visitor(visitor)})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(send, range(12)))
    finally:
        server.shutdown()
        server.server_close()
        app.close()
    assert app.batcher.batches == 1 and app.batcher.largest == 12  # all in one group commit
    for n, (status, body) in enumerate(answers):
        if n in poisoned:
            assert status == 400 and body["errors"][0]["code"] == "INVALID", body
        else:
            assert status == 200 and body["recorded"], body
    joined = set(InboxEvent.objects.filter(type="live.joined").values_list("payload__viewer", flat=True))
    assert joined == {f"visitor:{n:024x}" for n in range(12) if n not in poisoned}
    assert Watch.objects.filter(live="L1").count() == 10


def test_a_request_the_database_refuses_in_the_transaction_fails_alone(clock: Clock,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The same when the refusal comes inside the batch's transaction (here: a check constraint on the inbox
    that one viewer's events break), after the other requests' events were written in it."""
    from django.db import connection

    monkeypatch.setattr(viewers, "VIEWER_LIMIT", 100)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {InboxEvent._meta.db_table} ADD CONSTRAINT poison "
                       f"CHECK (payload->>'viewer' IS DISTINCT FROM 'visitor:{'e' * 24}')")
    try:
        batch = [pending("L1", viewer, "t", "join") for viewer in "abcdefgh"]
        record_batch(batch)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {InboxEvent._meta.db_table} DROP CONSTRAINT poison")
    refused = [item for item in batch if isinstance(item.result, ViewerError)]
    assert [item.viewer.id for item in refused] == ["visitor:" + "e" * 24]
    assert refused[0].result.status == 400  # type: ignore[union-attr]
    assert all(item.result.recorded for item in batch if item not in refused)  # type: ignore[union-attr]
    assert InboxEvent.objects.filter(type="live.joined").count() == 7


def test_a_request_whose_event_the_parser_refuses_fails_alone(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every event the endpoint keeps goes through the engine's parser first: one it would refuse (here, one
    viewer's, refused by a stricter parser) is never stored, and only its request fails."""
    from saleor_livedist.core.events import parse_event
    from saleor_livedist.exceptions import EventError

    def strict(raw: dict[str, Any]) -> Any:
        if raw.get("viewer") == "visitor:" + "c" * 24:
            raise EventError("viewer: refused by this test's parser")
        return parse_event(raw)

    monkeypatch.setattr(viewers, "VIEWER_LIMIT", 100)
    monkeypatch.setattr(viewer_batch, "parse_event", strict)
    batch = [pending("L1", viewer, "t", "join") for viewer in "abcdefgh"]
    record_batch(batch)
    refused = [item for item in batch if isinstance(item.result, ViewerError)]
    assert [(item.viewer.id, item.result.status) for item in refused] == [  # type: ignore[union-attr]
        ("visitor:" + "c" * 24, 400)]
    assert InboxEvent.objects.filter(type="live.joined").count() == 7
    assert not InboxEvent.objects.filter(payload__viewer="visitor:" + "c" * 24).exists()


@pytest.mark.parametrize("value", ["*", "https://shop.example.com/path", "shop.example.com", "ftp://x.example.com"])
def test_allowed_origins_are_origins_and_never_a_wildcard(value: str, settings: Any) -> None:
    from saleor_livedist.conf import ImproperlyConfigured, get_setting

    settings.LIVEDIST = {"VIEWER_ALLOWED_ORIGINS": [value]}
    with pytest.raises(ImproperlyConfigured, match="VIEWER_ALLOWED_ORIGINS"):
        get_setting("VIEWER_ALLOWED_ORIGINS")
