"""The live room run by staff through the API: schedule, start (the engine's live clock starts at that
second), end, replay, clips; state checks and staff-only access."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from saleor_livedist.inbox import processing
from saleor_livedist.web.endpoints import sandbox_token
from saleor_livedist.models import LedgerEntry, Live, LiveSession, Replay
from tests.integration.test_api import gql, join, share, user

pytestmark = pytest.mark.django_db(transaction=True)

SCHEDULE = """mutation($id: String!, $start: DateTime!) { liveSchedule(id: $id, title: "Autumn dresses",
    scheduledStart: $start, featuredProducts: ["p-dress"]) { live { id status } errors { field code } } }"""
START = "mutation($id: String!) { liveStart(id: $id) { live { status actualStart } errors { field code } } }"
END = "mutation($id: String!) { liveEnd(id: $id) { live { status } errors { field code } } }"
REPLAY = """mutation($id: String!) { replayPublish(liveId: $id, id: "r1", url: "https://v.example.com/r1") {
    replay { id url } errors { field code } } }"""
CLIP = """mutation($s: Int!, $e: Int!) { clipCreate(liveId: "l1", id: "c1", startSeconds: $s, endSeconds: $e,
    title: "the blue dress") { clip { id } errors { field code } } }"""


def staff() -> Any:
    return get_user_model().objects.create_user("boss", "boss@example.com", "x", is_staff=True)


def order(customer: str, order_id: str, product: str) -> None:
    now = timezone.now().isoformat()
    processing.submit({"id": f"c-{order_id}", "type": "order.created", "at": now, "order": order_id,
                       "customer": customer, "channel": "default", "currency": "CNY",
                       "lines": [{"line": "1", "product": product, "amount": "100.00"}]})
    processing.submit({"id": f"p-{order_id}", "type": "order.paid", "at": now, "order": order_id})


def test_a_live_from_schedule_to_replay_drives_the_engine() -> None:
    client, boss, amy = Client(), staff(), user("amy")
    start = (timezone.now() + timedelta(hours=1)).isoformat()
    assert gql(client, SCHEDULE, boss, id="l1", start=start)["data"]["liveSchedule"] == {
        "live": {"id": "l1", "status": "scheduled"}, "errors": []}
    assert Live.objects.get(id="l1").products == ["p-dress"]  # the engine knows the featured products
    join(client, amy)
    link = share(client, amy, "live", "l1")
    client.get(link["url"])  # a viewer clicks amy's live link...
    viewer = "visitor:" + "0" * 24
    processing.submit({"id": "k1", "type": "link.clicked", "at": timezone.now().isoformat(),
                       "distributor": "user:%d" % amy.pk, "visitor": viewer, "target": {"live": "l1"}})
    started = gql(client, START, boss, id="l1")["data"]["liveStart"]
    assert started["live"]["status"] == "live" and started["errors"] == []
    assert Live.objects.get(id="l1").started_at is not None
    order(viewer, "o1", "p-dress")  # in the first hour of the live, featured: 10% + 2%
    entry = LedgerEntry.objects.get(order="o1")
    assert (entry.amount, entry.rule_ids) == (Decimal("12.0000"), ["live-featured", "first-live-hour"])
    assert gql(client, START, boss, id="l1")["data"]["liveStart"]["errors"] == [
        {"field": "id", "code": "INVALID_STATE"}]  # starting twice is refused
    assert gql(client, END, boss, id="l1")["data"]["liveEnd"]["live"]["status"] == "ended"
    assert gql(client, REPLAY, boss, id="l1")["data"]["replayPublish"]["replay"] == {
        "id": "r1", "url": "https://v.example.com/r1"}
    assert Replay.objects.get(id="r1").live == "l1"
    public = gql(client, '{ live(id: "l1") { status featuredProducts replays { id } } }')["data"]["live"]
    assert public == {"status": "ended", "featuredProducts": ["p-dress"], "replays": [{"id": "r1"}]}


def test_live_mutations_are_for_staff_and_check_their_input() -> None:
    client, boss, amy = Client(), staff(), user("amy")
    start = (timezone.now() + timedelta(hours=1)).isoformat()
    assert gql(client, SCHEDULE, amy, id="l1", start=start)["data"]["liveSchedule"]["errors"][0]["code"] == \
        "PERMISSION_DENIED"
    assert not LiveSession.objects.exists()
    gql(client, SCHEDULE, boss, id="l1", start=start)
    assert gql(client, SCHEDULE, boss, id="l1", start=start)["data"]["liveSchedule"]["errors"] == [
        {"field": "id", "code": "UNIQUE"}]
    assert gql(client, END, boss, id="l1")["data"]["liveEnd"]["errors"][0]["code"] == "INVALID_STATE"
    assert gql(client, REPLAY, boss, id="l1")["data"]["replayPublish"]["errors"][0]["code"] == "INVALID_STATE"
    assert gql(client, CLIP, boss, s=50, e=20)["data"]["clipCreate"]["errors"] == [
        {"field": "endSeconds", "code": "INVALID"}]
    assert gql(client, CLIP, boss, s=20, e=50)["data"]["clipCreate"] == {"clip": {"id": "c1"}, "errors": []}
    assert gql(client, START, boss, id="nope")["data"]["liveStart"]["errors"][0]["code"] == "NOT_FOUND"


LEADERBOARD = """query($live: String!, $by: String) { leaderboard(live: $live, by: $by) {
    rank name invited qualified orders gmv currency } }"""


def test_the_leaderboard_ranks_distributors_of_a_live_with_masked_names() -> None:
    client, amy, ben = Client(), user("amy"), user("ben")
    join(client, amy)
    join(client, ben)
    now = timezone.now()
    events = [{"id": "ls", "type": "live.scheduled", "at": now.isoformat(), "live": "l2",
               "starts_at": now.isoformat(), "products": ["p-dress"]},
              {"id": "st", "type": "live.started", "at": now.isoformat(), "live": "l2"}]
    for n, (who, viewer) in enumerate([(amy, "v1"), (amy, "v2"), (ben, "v3")]):
        events.append({"id": f"k{n}", "type": "link.clicked", "at": now.isoformat(),
                       "distributor": "user:%d" % who.pk, "visitor": viewer, "target": {"live": "l2"}})
    for event in events:
        processing.submit(event)
    order("v3", "o1", "p-dress")  # ben's viewer buys on air
    board = gql(client, LEADERBOARD, live="l2")["data"]["leaderboard"]
    assert board == [
        {"rank": 1, "name": "b***@example.com", "invited": 1, "qualified": 0, "orders": 1, "gmv": "100.00",
         "currency": "CNY"},
        {"rank": 2, "name": "a***@example.com", "invited": 2, "qualified": 0, "orders": 0, "gmv": "0",
         "currency": ""},
    ]
    by_invited = gql(client, LEADERBOARD, live="l2", by="invited")["data"]["leaderboard"]
    assert [row["name"] for row in by_invited] == ["a***@example.com", "b***@example.com"]
    bad = gql(client, LEADERBOARD, live="l2", by="vibes")
    assert bad["errors"][0]["extensions"]["code"] == "INVALID" and "'by' must be one of" in bad["errors"][0]["message"]


ASK = """mutation($live: String!, $text: String!, $customer: String) { liveQuestionAsk(live: $live, text: $text,
    customer: $customer) { question { id text status askedBy customer } errors { field code } } }"""
ANSWER = "mutation($id: Int!) { liveQuestionAnswer(id: $id) { question { status } errors { code } } }"
QUEUE = 'query($s: String) { liveQuestions(live: "l1", status: $s) { text status askedBy } }'


def test_distributors_queue_questions_and_the_host_answers_them() -> None:
    client, boss, amy, ben, cat = Client(), staff(), user("amy"), user("ben"), user("cat")
    host = user("host")
    start = (timezone.now() + timedelta(hours=1)).isoformat()
    gql(client, SCHEDULE, boss, id="l1", start=start)
    LiveSession.objects.filter(id="l1").update(host="user:%d" % host.pk)
    join(client, amy)
    join(client, ben)
    # Questions name only customers bound to the distributor: cat is no one's yet, then clicks amy's link.
    refused = gql(client, ASK, amy, live="l1", text="please show the blue dress", customer="user:%d" % cat.pk)
    assert refused["data"]["liveQuestionAsk"]["errors"] == [{"field": "customer", "code": "NOT_YOUR_CUSTOMER"}]
    link = share(client, amy, "live", "l1")
    assert client.get(link["url"], HTTP_AUTHORIZATION=f"Bearer {sandbox_token(cat)}").status_code == 302
    for someone_else in ("user:%d" % ben.pk, "user:%d" % host.pk, "user:999999", "visitor:" + "0" * 24, "x"):
        refused = gql(client, ASK, amy, live="l1", text="hi", customer=someone_else)["data"]["liveQuestionAsk"]
        assert refused["errors"] == [{"field": "customer", "code": "NOT_YOUR_CUSTOMER"}], someone_else
    not_bens = gql(client, ASK, ben, live="l1", text="hi", customer="user:%d" % cat.pk)["data"]["liveQuestionAsk"]
    assert not_bens["errors"] == [{"field": "customer", "code": "NOT_YOUR_CUSTOMER"}]
    asked = gql(client, ASK, amy, live="l1", text="please show the blue dress", customer="user:%d" % cat.pk)
    question = asked["data"]["liveQuestionAsk"]["question"]
    assert question["askedBy"] == "a***@example.com" and question["customer"] == "c***@example.com"
    gql(client, ASK, ben, live="l1", text="is it machine washable?")
    assert gql(client, ASK, cat, live="l1", text="hi")["data"]["liveQuestionAsk"]["errors"][0]["code"] == \
        "NOT_A_DISTRIBUTOR"
    assert gql(client, ASK, amy, live="l1", text=" ")["data"]["liveQuestionAsk"]["errors"] == [
        {"field": "text", "code": "INVALID"}]
    assert [q["text"] for q in gql(client, QUEUE, host)["data"]["liveQuestions"]] == [
        "please show the blue dress", "is it machine washable?"]
    assert [q["text"] for q in gql(client, QUEUE, ben)["data"]["liveQuestions"]] == ["is it machine washable?"]
    assert gql(client, ANSWER, ben, id=question["id"])["data"]["liveQuestionAnswer"]["errors"][0]["code"] == \
        "PERMISSION_DENIED"
    assert gql(client, ANSWER, host, id=question["id"])["data"]["liveQuestionAnswer"]["question"] == {
        "status": "answered"}
    assert [q["text"] for q in gql(client, QUEUE, host, s="open")["data"]["liveQuestions"]] == [
        "is it machine washable?"]


TASKS = 'query($live: String!) { me { tasks(live: $live) { task invited entered qualified target completedAt points } } }'


def test_a_distributor_sees_their_invite_task_progress_live() -> None:
    client, amy = Client(), user("amy")
    join(client, amy)
    start = timezone.now() - timedelta(minutes=30)
    events = [{"id": "ls", "type": "live.scheduled", "at": start.isoformat(), "live": "l4",
               "starts_at": start.isoformat(), "products": []},
              {"id": "st", "type": "live.started", "at": start.isoformat(), "live": "l4"}]
    for n in range(12):  # 12 invited, 11 entered, 10 watched 6 minutes (the default task: 10 who watched >= 5)
        viewer = f"v{n}"
        events.append({"id": f"k{n}", "type": "link.clicked", "at": (start + timedelta(minutes=1)).isoformat(),
                       "distributor": "user:%d" % amy.pk, "visitor": viewer, "target": {"live": "l4"}})
        if n < 11:
            events.append({"id": f"j{n}", "type": "live.joined", "at": (start + timedelta(minutes=2)).isoformat(),
                           "live": "l4", "viewer": viewer, "signed_in": True})  # customers: they count
        for minute in range(3, 9) if n < 10 else ():  # a heartbeat a minute: 6 minutes watched
            events.append({"id": f"h{n}-{minute}", "type": "live.heartbeat", "live": "l4", "viewer": viewer,
                           "at": (start + timedelta(minutes=minute)).isoformat()})
    for event in events:
        processing.submit(event)
    tasks = {t["task"]: t for t in gql(client, TASKS, amy, live="l4")["data"]["me"]["tasks"]}
    assert tasks["invite-watcher"] | {"completedAt": None} == {
        "task": "invite-watcher", "invited": 12, "entered": 11, "qualified": 10, "target": None,
        "completedAt": None, "points": 50}
    ten = tasks["ten-watchers"]
    assert (ten["qualified"], ten["target"], ten["points"]) == (10, 10, 50) and ten["completedAt"] is not None


def test_one_tap_in_the_live_room_joins_under_the_host_when_the_rules_say_so(settings: Any, tmp_path: Any) -> None:
    import shutil

    from saleor_livedist.rules.loader import default_rules_dir

    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "join.yaml").write_text("schema: livedist/v1\njoin:\n  fee: 0\n  upline_fallback: host\n")
    settings.LIVEDIST = {**getattr(settings, "LIVEDIST", {}), "RULES_DIR": str(rules)}
    processing.reset_rules_source()
    try:
        client, boss, mei, walk_in = Client(), staff(), user("mei"), user("walkin")
        join(client, mei)
        start = (timezone.now() + timedelta(hours=1)).isoformat()
        gql(client, """mutation($s: DateTime!, $h: String!) { liveSchedule(id: "l7", title: "Mei live",
            scheduledStart: $s, featuredProducts: [], host: $h) { errors { code } } }""", boss, s=start,
            h="user:%d" % mei.pk)
        tap = """mutation { becomeDistributor(consent: true, live: "l7") { distributor { id upline { name } }
            errors { code } } }"""
        joined = gql(client, tap, walk_in)["data"]["becomeDistributor"]
        assert joined["errors"] == [] and joined["distributor"]["upline"]["name"] == "m***@example.com"
    finally:
        processing.reset_rules_source()


def test_the_public_board_is_served_from_a_two_second_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from saleor_livedist.graphql import live as board

    calls: list[str] = []
    monkeypatch.setattr(board, "leaderboard", lambda live, by, first: calls.append(live) or [live])
    monkeypatch.setattr(board, "_boards", {})
    clock = [1000.0]
    monkeypatch.setattr(board.time, "monotonic", lambda: clock[0])
    assert board.cached_leaderboard("l1", "gmv", 20) == ["l1"] and calls == ["l1"]
    clock[0] += 1.9
    board.cached_leaderboard("l1", "gmv", 20)
    board.cached_leaderboard("l2", "gmv", 20)  # another board: its own query
    assert calls == ["l1", "l2"]
    clock[0] += 0.2  # l1's copy is now 2.1 s old
    board.cached_leaderboard("l1", "gmv", 20)
    assert calls == ["l1", "l2", "l1"]
