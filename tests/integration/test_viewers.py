"""The viewer endpoint in the sandbox, on real PostgreSQL: watch time from the server's clock, tabs counted once,
repeated and late requests harmless, forged ids and bursts refused with nothing recorded, invite tasks granted
once, and a viewer's anonymous watch time following them when they sign in. Every test runs twice: through the
Django view (as Saleor's plugin serves it) and through the lean WSGI app with its group commit (as a production
server runs it, Django behind it for everything else)."""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone as tz
from functools import partial
from typing import Any, Callable, Iterable, Iterator

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.client import ClientHandler
from django.utils import timezone

from saleor_livedist.inbox import processing
from saleor_livedist.viewers import contract as viewers
from saleor_livedist.web.endpoints import sandbox_authenticate
from saleor_livedist.identity import of_user
from saleor_livedist.distribution.links import VISITOR_COOKIE, read_visitor, sign_visitor
from saleor_livedist.models import Alias, InboxEvent, PointsGrant, Watch
from saleor_livedist.distribution.services import create_share_link
from saleor_livedist.viewers.app import ViewerApp

pytestmark = pytest.mark.django_db(transaction=True)

INVITE = "task invite-watcher"


class Clock:
    """The endpoint's clock, moved by hand; the client's clock plays no part."""

    def __init__(self, start: datetime):
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    cache.clear()  # rate-limit counters live in the (per-process) cache


@pytest.fixture(autouse=True, params=["django view", "lean app"])
def served_by(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The tests' `Client()` is Django's test client; for the lean app, one whose requests go through it."""
    if request.param == "django view":
        yield request.param
        return
    app = lean_app()
    monkeypatch.setattr(sys.modules[__name__], "Client", partial(LeanClient, app))
    try:
        yield request.param
    finally:
        app.close()  # its batcher's thread closes its database connection
    assert app.batcher.requests, "no viewer request reached the lean app's batcher"


def lean_app(**options: Any) -> ViewerApp:
    return ViewerApp(fallback=django_behind, path="/viewer/", authenticate=sandbox_authenticate, **options)


def django_behind(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The sandbox's Django as the lean app's fallback, through the test client's own handler; the response
    object rides along in the environ so the test client gets it whole."""
    response = ClientHandler()(environ)
    environ["livedist.test.response"] = response
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return [response.content]


class LeanHandler:
    """What Django's test client calls with a WSGI environ: here the lean app, its answer as an HttpResponse."""

    def __init__(self, app: ViewerApp):
        self.app = app

    def __call__(self, environ: dict[str, Any]) -> HttpResponse:
        replies: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            replies.update(status=status, headers=headers)

        content = b"".join(self.app(environ, start_response))
        if "livedist.test.response" in environ:  # Django answered
            return environ["livedist.test.response"]
        response = HttpResponse(content, status=int(replies["status"].split()[0]))
        for name, value in replies["headers"]:
            if name.lower() == "set-cookie":
                response.cookies.load(value.strip())
            else:
                response[name] = value
        response.wsgi_request = WSGIRequest(environ)
        return response


class LeanClient(Client):
    """Django's test client (cookies, force_login, ...) with the lean WSGI app in front of Django."""

    def __init__(self, app: ViewerApp, **defaults: Any):
        super().__init__(**defaults)
        self.handler = LeanHandler(app)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return start_clock(monkeypatch)


def start_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Starts at the beginning of a heartbeat window a little after the real now (clicks, which use the real
    clock, come before it); the live L1 is on air from a minute earlier."""
    window = viewers.HEARTBEAT_SECONDS
    start = datetime.fromtimestamp((int(timezone.now().timestamp()) // window + 2) * window, tz=tz.utc)
    clock = Clock(start)
    monkeypatch.setattr(viewers, "now", clock)
    live_on_air("L1", start - timedelta(minutes=1))
    return clock


def live_on_air(live: str, at: datetime) -> None:
    processing.submit({"id": f"s-{live}", "type": "live.scheduled", "at": (at - timedelta(hours=1)).isoformat(),
                       "live": live, "starts_at": at.isoformat()})
    processing.submit({"id": f"b-{live}", "type": "live.started", "at": at.isoformat(), "live": live})


def post(client: Client, action: str, tab: str | None = "t1", live: str = "L1", **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"live": live, "action": action, **({"tab": tab} if tab is not None else {})}
    return client.post("/viewer/", body, content_type="application/json", **extra)


def ok(response: HttpResponse) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    return response.json()


def error(response: HttpResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()["errors"][0]


def visitor_of(client: Client) -> str:
    return read_visitor(client.cookies[VISITOR_COOKIE].value)


def watch(viewer: str, live: str = "L1") -> Watch:
    return Watch.objects.get(live=live, viewer=viewer)


def watch_for(client: Client, clock: Clock, seconds: int, tab: str = "t1", every: int = 15) -> None:
    """Heartbeats every `every` seconds for `seconds`, from the current clock."""
    for _ in range(seconds // every):
        clock.advance(every)
        ok(post(client, "heartbeat", tab))


def distributor_with_live_link(name: str, live: str = "L1") -> tuple[Any, str]:
    person = get_user_model().objects.create_user(username=name, email=f"{name}@example.com", password="x")
    processing.submit({"id": f"d-{name}", "type": "distributor.joined", "at": timezone.now().isoformat(),
                       "customer": of_user(person)})
    return person, create_share_link(of_user(person), "live", live).token


def clicked(token: str) -> Client:
    client = Client()
    assert client.get(f"/click/{token}").status_code == 302
    return client


def test_watch_time_comes_from_the_servers_clock_not_the_clients(clock: Clock) -> None:
    client = Client()
    first = ok(client.post("/viewer/", {"live": "L1", "action": "join", "tab": "t1", "at": "2001-01-01T00:00:00Z"},
                           content_type="application/json"))
    visitor = visitor_of(client)
    assert first["recorded"] and read_visitor(first["visitor"]) == visitor and first["next"] == 15
    watch_for(client, clock, 195)
    clock.advance(5)
    done = ok(post(client, "leave"))
    assert done["next"] is None and done["watchedSeconds"] == 200
    assert watch(visitor).seconds == 200 and watch(visitor).open_count == 0
    ats = sorted(InboxEvent.objects.filter(payload__viewer=visitor).values_list("at", flat=True))
    assert ats[0] == clock.at - timedelta(seconds=200) and ats[-1] == clock.at  # server time, not 2001


def test_overlapping_tabs_count_once(clock: Clock) -> None:
    client = Client()
    ok(post(client, "join", "A"))
    visitor = visitor_of(client)
    clock.advance(60)
    ok(post(client, "join", "B"))
    clock.advance(60)
    ok(post(client, "leave", "A"))
    watch_for(client, clock, 120, tab="B")
    assert ok(post(client, "leave", "B"))["watchedSeconds"] == 240  # not 120 + 180
    assert watch(visitor).seconds == 240


def test_repeated_and_late_requests_change_nothing(clock: Clock) -> None:
    client = Client()
    ok(post(client, "join"))
    visitor = visitor_of(client)
    assert not ok(post(client, "join"))["recorded"]  # a retried join: the tab is open already
    clock.advance(16)
    assert ok(post(client, "heartbeat"))["recorded"]
    events = InboxEvent.objects.count()
    clock.advance(3)
    assert not ok(post(client, "heartbeat"))["recorded"]  # same heartbeat window: the same event
    assert InboxEvent.objects.count() == events
    clock.advance(41)
    assert ok(post(client, "leave"))["recorded"]
    events = InboxEvent.objects.count()
    clock.advance(2)
    late = ok(post(client, "heartbeat"))  # sent before the leave, arrived after it
    assert not late["recorded"] and late["watchedSeconds"] == 60
    assert not ok(post(client, "leave"))["recorded"]
    clock.advance(600)
    assert not ok(post(client, "heartbeat"))["recorded"]
    assert InboxEvent.objects.count() == events
    assert watch(visitor).seconds == 60 and watch(visitor).open_count == 0 and watch(visitor).active_since is None
    ok(post(client, "join"))  # the tab comes back: a new session of the same tab
    clock.advance(30)
    ok(post(client, "leave"))
    assert watch(visitor).seconds == 90


def test_a_leave_racing_heartbeats_still_closes_the_tab(clock: Clock) -> None:
    client = Client()
    ok(post(client, "join"))
    visitor, cookie = visitor_of(client), client.cookies[VISITOR_COOKIE].value

    def send(action: str) -> int:
        other = Client()
        other.cookies[VISITOR_COOKIE] = cookie
        try:
            return post(other, action).status_code
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):  # the tab's heartbeats and its leave arrive together, in any order
            clock.advance(20)
            assert list(pool.map(send, ["heartbeat", "leave", "heartbeat", "heartbeat"])) == [200] * 4
            clock.advance(20)
            ok(post(client, "join"))
    clock.advance(20)
    ok(post(client, "leave"))
    assert watch(visitor).open_count == 0 and watch(visitor).seconds == 6 * 20


def test_a_heartbeat_without_a_join_counts_from_the_heartbeat(clock: Clock) -> None:
    client = Client()
    visitor = visitor_of_join(client, tab="other")
    clock.advance(30)
    ok(post(client, "heartbeat", tab=None))  # no tab: one session for the viewer's tab-less requests
    clock.advance(45)
    ok(post(client, "leave", tab=None))
    ok(post(client, "leave", tab="other"))
    assert watch(visitor).seconds == 75


def visitor_of_join(client: Client, tab: str) -> str:
    ok(post(client, "join", tab))
    return visitor_of(client)


def test_forged_visitor_ids_and_bad_requests_are_refused_and_record_nothing(clock: Clock) -> None:
    real = sign_visitor("visitor:0123456789abcdef01234567")
    forged = [
        "visitor:fake",  # not signed at all
        signing.dumps("visitor:fake", salt="another-salt"),  # signed, not as a visitor id
        signing.dumps("visitor:fake", key="not-our-secret", salt="saleor_livedist.visitor"),
        real[:-3] + ("xyz" if not real.endswith("xyz") else "abc"),  # altered
        sign_visitor("user:1"),  # ours, but not a visitor id: a visitor cannot pose as a customer
    ]
    before = InboxEvent.objects.count()
    for value in forged:
        for action in ("join", "heartbeat"):
            client = Client()
            client.cookies[VISITOR_COOKIE] = value
            refused = post(client, action)
            assert error(refused, 403)["code"] == "FORBIDDEN_VISITOR"
            assert refused.cookies[VISITOR_COOKIE].value == ""  # dropped: the next join gets an id of ours
        header = error(post(Client(), "heartbeat", HTTP_X_LIVEDIST_VISITOR=value), 403)
        assert header["code"] == "FORBIDDEN_VISITOR"
    assert error(post(Client(), "heartbeat"), 400)["code"] == "VISITOR_REQUIRED"
    assert error(post(Client(), "join", live="nope"), 404)["code"] == "LIVE_NOT_FOUND"
    processing.submit({"id": "s-L2", "type": "live.scheduled", "at": clock.at.isoformat(), "live": "L2",
                       "starts_at": (clock.at + timedelta(hours=1)).isoformat()})
    assert error(post(Client(), "join", live="L2"), 409)["code"] == "LIVE_NOT_STARTED"
    processing.submit({"id": "e-L1", "type": "live.ended", "at": clock.at.isoformat(), "live": "L1"})
    assert error(post(Client(), "join"), 409)["code"] == "LIVE_ENDED"
    assert InboxEvent.objects.count() == before + 2  # the two live events above, nothing from a viewer
    assert not Watch.objects.exists()
    client = Client()
    assert client.get("/viewer/").status_code == 405
    assert error(client.post("/viewer/", "{not json", content_type="application/json"), 400)["code"] == "INVALID"
    assert "'action' must be one of" in error(post(client, "pause"), 400)["message"]
    assert error(post(client, "join", tab="x" * 65), 400)["code"] == "INVALID"


def test_bursts_beyond_the_rate_limits_are_refused_and_record_nothing(clock: Clock,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client()
    ok(post(client, "join", "t0"))  # issues the visitor id: not counted against them
    before = InboxEvent.objects.count()
    answers = [post(client, "join", f"t{n}") for n in range(1, 9)]  # 8 new tabs in the same instant
    assert [a.status_code for a in answers] == [200] * viewers.VIEWER_LIMIT + [429] * 3
    refused = answers[-1].json()["errors"][0]
    assert refused["code"] == "RATE_LIMITED" and 1 <= refused["retryAfter"] <= viewers.VIEWER_WINDOW
    assert answers[-1]["Retry-After"] == str(refused["retryAfter"])
    assert InboxEvent.objects.count() == before + viewers.VIEWER_LIMIT  # the refused three left no trace
    clock.advance(viewers.VIEWER_WINDOW)
    assert ok(post(client, "join", "t9"))["recorded"]

    monkeypatch.setattr(viewers, "IP_LIMIT", 3)
    clock.advance(viewers.VIEWER_WINDOW)
    statuses = [post(Client(), "join", REMOTE_ADDR="10.0.0.7").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert post(Client(), "join", REMOTE_ADDR="10.0.0.8").status_code == 200  # another address is not affected


def test_the_invite_task_is_granted_once_and_never_for_refused_viewers(
        clock: Clock, rules_with: Callable[..., None]) -> None:
    rules_with(guards="invitees: anyone")  # the viewer stays an anonymous visitor
    amy, token = distributor_with_live_link("amy")
    viewer = clicked(token)
    ok(post(viewer, "join"))
    for _ in range(7 * 4):  # 7 minutes, each heartbeat sent twice and replayed in a burst now and then
        clock.advance(15)
        ok(post(viewer, "heartbeat"))
        assert not ok(post(viewer, "heartbeat"))["recorded"]
    for _ in range(10):
        assert post(viewer, "heartbeat").status_code in (200, 429)
    assert sum(post(viewer, "heartbeat").status_code == 429 for _ in range(10)) > 0
    clock.advance(viewers.VIEWER_WINDOW)
    ok(post(viewer, "leave"))
    grants = PointsGrant.objects.filter(beneficiary=of_user(amy))
    assert [(g.reason, g.points, g.invitee) for g in grants] == [(INVITE, 5, visitor_of(viewer))]

    cheat = clicked(token)  # a real click, then an id we never issued to fake a second viewer
    clock.advance(1)
    for _ in range(7 * 4):
        clock.advance(15)
        cheat.cookies[VISITOR_COOKIE] = "visitor:" + "f" * 24
        assert error(post(cheat, "heartbeat"), 403)["code"] == "FORBIDDEN_VISITOR"
    assert not Watch.objects.filter(viewer="visitor:" + "f" * 24).exists()
    assert PointsGrant.objects.filter(beneficiary=of_user(amy)).count() == 1


def test_a_viewer_who_signs_in_keeps_their_anonymous_watch_time(clock: Clock) -> None:
    amy, token = distributor_with_live_link("amy")
    ben = get_user_model().objects.create_user(username="ben", email="ben@example.com", password="x")
    client = clicked(token)
    visitor = visitor_of(client)
    ok(post(client, "join"))
    watch_for(client, clock, 180)  # three minutes anonymous, then ben signs in without reloading
    client.force_login(ben)
    watch_for(client, clock, 180)
    ok(post(client, "leave"))
    assert Alias.objects.get(visitor=visitor).customer == of_user(ben)
    assert watch(of_user(ben)).seconds == 360 and watch(of_user(ben)).open_count == 0
    assert watch(visitor).seconds == 0
    assert InboxEvent.objects.filter(type="customer.registered").count() == 1  # stitched once
    grants = PointsGrant.objects.filter(beneficiary=of_user(amy))
    assert [(g.reason, g.invitee) for g in grants] == [(INVITE, of_user(ben))]



@pytest.mark.parametrize("body", [
    b'{"live": "L1\\u0000", "action": "join"}',  # NUL: PostgreSQL's text cannot hold it
    b'{"live": "L1\\ud800", "action": "join"}',  # an unpaired surrogate: not UTF-8
    b'{"live": "L1\\n", "action": "join"}',
    b'{"live": "L1", "action": "join", "tab": "t\\u0000"}',
    b'{"live": "L1", "action": "join", "tab": 5}',
    b'{"live": ["L1"], "action": "join"}',
    b'{"live": "L1", "action": ["join"]}',
    b'{"live": "L1", "action": "join\\u0000"}',
    b'{"live": "L1", "action": "join"' + b"\xff" + b"}",  # not UTF-8
    b'[' * 2000 + b']' * 2000,  # deeper than the JSON parser's recursion, within 4 KB
    b'{"live": {"nested": ' + b'[' * 1000 + b']' * 1000 + b'}, "action": "join"}',
    b"", b"null", b"[]", b'"L1"', b"1e999999", b"NaN",
])
def test_malformed_input_is_a_4xx_for_that_request_only(clock: Clock, body: bytes) -> None:
    refused = Client().generic("POST", "/viewer/", body, content_type="application/json")
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"][0]["code"] == "INVALID"
    assert not InboxEvent.objects.filter(type="live.joined").exists()
    assert ok(post(Client(), "join"))["recorded"]  # the next request is served as ever


def test_oversized_bodies_get_the_documented_json_413(clock: Clock) -> None:
    client = Client()
    for size in (4097, 100_000, 3_000_000):  # the last is over Django's DATA_UPLOAD_MAX_MEMORY_SIZE
        response = client.generic("POST", "/viewer/", b'{"live": "L1", "action": "join", "pad": "' +
                                  b"x" * size + b'"}', content_type="application/json")
        assert response.status_code == 413, (size, response.content[:200])
        assert response["Content-Type"] == "application/json"
        assert response.json()["errors"][0]["code"] == "TOO_LARGE"
    lying = client.generic("POST", "/viewer/", b'{"live": "L1", "action": "join"}', content_type="application/json",
                           CONTENT_LENGTH="10000000")
    assert lying.status_code == 413 and lying.json()["errors"][0]["code"] == "TOO_LARGE"
    assert not InboxEvent.objects.filter(type="live.joined").exists()
    assert ok(post(client, "join"))["recorded"]


SHOP = "https://shop.example.com"


def test_cors_lets_the_storefronts_pages_call_it_and_no_other(clock: Clock, settings: Any) -> None:
    settings.LIVEDIST = {"VIEWER_ALLOWED_ORIGINS": [SHOP + "/", "http://localhost:3000"]}
    client = Client()
    ask = client.options("/viewer/", HTTP_ORIGIN=SHOP, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                         HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-livedist-visitor")
    assert ask.status_code == 204
    assert ask["Access-Control-Allow-Origin"] == SHOP and ask["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in ask["Access-Control-Allow-Methods"]
    assert {"content-type", "x-livedist-visitor", "authorization"} <= {
        h.strip().lower() for h in ask["Access-Control-Allow-Headers"].split(",")}
    assert "Origin" in ask["Vary"]
    joined = post(client, "join", HTTP_ORIGIN=SHOP)
    assert ok(joined)["recorded"] and joined["Access-Control-Allow-Origin"] == SHOP
    assert joined["Access-Control-Allow-Credentials"] == "true" and "Origin" in joined["Vary"]
    refused = post(client, "join", live="nope", HTTP_ORIGIN=SHOP)  # errors are readable by the page too
    assert refused.status_code == 404 and refused["Access-Control-Allow-Origin"] == SHOP
    local = post(Client(), "join", HTTP_ORIGIN="http://localhost:3000")
    assert local["Access-Control-Allow-Origin"] == "http://localhost:3000"
    for other in ("https://evil.example.com", "https://shop.example.com.evil.com", "null"):
        denied = client.options("/viewer/", HTTP_ORIGIN=other, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
        assert denied.status_code == 403 and "Access-Control-Allow-Origin" not in denied
        assert denied.json()["errors"][0]["code"] == "ORIGIN_NOT_ALLOWED"
        answered = post(Client(), "join", HTTP_ORIGIN=other)
        assert "Access-Control-Allow-Origin" not in answered and "Origin" in answered["Vary"]
    assert "Access-Control-Allow-Origin" not in post(client, "heartbeat")  # same-origin: no Origin, no CORS
    settings.LIVEDIST = {}
    assert "Access-Control-Allow-Origin" not in post(Client(), "join", HTTP_ORIGIN=SHOP)  # none allowed by default



def test_with_partitions_the_batches_events_are_routed_and_applied(clock: Clock, settings: Any) -> None:
    settings.LIVEDIST = {**settings.LIVEDIST, "PARTITIONS": 4}  # the live's events were kept before: unrouted
    client = Client()
    ok(post(client, "join"))
    visitor = visitor_of(client)
    watch_for(client, clock, 60)
    clock.advance(5)
    assert ok(post(client, "leave"))["watchedSeconds"] == 65
    rows = list(InboxEvent.objects.filter(payload__viewer=visitor))
    assert len(rows) >= 3 and all(r.routed and r.seq is not None for r in rows)
    assert len({r.partition for r in rows}) == 1 and {r.status for r in rows} == {"done"}
    assert watch(visitor).seconds == 65
