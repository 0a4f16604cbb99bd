"""Reminders a set time before a live starts (REMINDER_OFFSETS, or a live's own offsets): each offset once per
person, a late clicker gets only the offsets still to come, rescheduling moves the reminders not sent yet, bad
offsets are refused; and with real Celery workers and the beat's task published many times at once, each person
is reminded once per offset through the merchant's gateway (a real HTTP server on loopback)."""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from saleor_livedist.inbox import processing
from saleor_livedist.inbox.broker import SEND_DUE_REMINDERS
from saleor_livedist.live_room.reminders import send_due_reminders
from saleor_livedist.models import LiveSession, Reminder
from tests.integration import test_celery_worker as real
from tests.integration.test_api import gql, join, user
from tests.integration.test_lives import START, staff

pytestmark = pytest.mark.django_db(transaction=True)

SCHEDULE = """mutation($id: String!, $start: DateTime!, $offsets: [Int!]) { liveSchedule(id: $id, title: "Autumn dresses",
    scheduledStart: $start, featuredProducts: [], reminderOffsets: $offsets) { live { id reminderOffsets }
    errors { field code message } } }"""
RESCHEDULE = """mutation($id: String!, $start: DateTime!, $offsets: [Int!]) { liveReschedule(id: $id,
    scheduledStart: $start, reminderOffsets: $offsets) { live { id scheduledStart reminderOffsets }
    errors { field code message } } }"""


def click(distributor: Any, person: str, at: datetime, live: str = "l1") -> None:
    processing.submit({"id": f"k-{person}-{live}", "type": "link.clicked", "at": at.isoformat(),
                       "distributor": "user:%d" % distributor.pk, "visitor": person, "target": {"live": live}})


def sent() -> list[tuple[str, int]]:
    """(address, minutes before) of each reminder e-mail, in order."""
    out = []
    for message in mail.outbox:
        minutes = message.subject.split(" starts in ")[1].split(" ")[0] if " starts in " in message.subject else "0"
        out.append((message.to[0], int(minutes)))
    return out


def test_the_invited_are_reminded_30_and_5_minutes_before_and_at_the_start_once_each() -> None:
    client, boss, amy, ann, bo, cy = Client(), staff(), user("amy"), user("ann"), user("bo"), user("cy")
    join(client, amy)
    now = timezone.now()
    start = now + timedelta(minutes=25)  # the 30-minute reminder was due 5 minutes ago
    live = gql(client, SCHEDULE, boss, id="l1", start=start.isoformat())["data"]["liveSchedule"]["live"]
    assert live["reminderOffsets"] == [30, 5]  # the REMINDER_OFFSETS default
    click(amy, "user:%d" % ann.pk, now - timedelta(minutes=10))
    click(amy, "user:%d" % bo.pk, now - timedelta(minutes=10))
    assert send_due_reminders(now=start - timedelta(minutes=31)) == 0  # not yet
    assert send_due_reminders(now=now - timedelta(minutes=1)) == 2
    assert sent() == [("ann@example.com", 30), ("bo@example.com", 30)]
    message = mail.outbox[0]
    assert message.subject == "Autumn dresses starts in 30 minutes"
    assert "Autumn dresses starts at " in message.body and ", in 30 minutes. Watch it here: l1" in message.body

    click(amy, "user:%d" % cy.pk, now)  # cy clicks late, before the 5-minute reminder is due
    assert send_due_reminders(now=now + timedelta(seconds=30)) == 1  # only cy: ann and bo had theirs
    assert send_due_reminders(now=now + timedelta(minutes=1)) == 0
    assert sent()[2:] == [("cy@example.com", 30)]
    mail.outbox.clear()

    assert send_due_reminders(now=start - timedelta(minutes=5)) == 3
    assert send_due_reminders(now=start - timedelta(minutes=4)) == 0  # a second beat, a redelivery: nothing
    assert sorted(sent()) == [("ann@example.com", 5), ("bo@example.com", 5), ("cy@example.com", 5)]
    mail.outbox.clear()
    assert gql(client, START, boss, id="l1")["data"]["liveStart"]["errors"] == []
    assert sorted(sent()) == [("ann@example.com", 0), ("bo@example.com", 0), ("cy@example.com", 0)]
    assert send_due_reminders(now=start + timedelta(minutes=1)) == 0  # started: nothing before the start any more
    assert sorted(Reminder.objects.values_list("offset", "status").distinct()) == [
        (0, "sent"), (5, "sent"), (30, "sent")]
    assert Reminder.objects.count() == 9


def test_a_late_clicker_gets_only_the_reminders_still_to_come() -> None:
    client, boss, amy, dan = Client(), staff(), user("amy"), user("dan")
    join(client, amy)
    now = timezone.now()
    start = now + timedelta(minutes=4)  # the 5-minute reminder is due: the 30-minute one is past
    gql(client, SCHEDULE, boss, id="l1", start=start.isoformat())
    click(amy, "user:%d" % dan.pk, now - timedelta(minutes=1))
    assert send_due_reminders(now=now) == 1
    assert sent() == [("dan@example.com", 5)]


def test_rescheduling_moves_the_reminders_not_sent_yet() -> None:
    client, boss, amy, ann = Client(), staff(), user("amy"), user("ann")
    join(client, amy)
    now = timezone.now()
    start = now + timedelta(minutes=20)
    gql(client, SCHEDULE, boss, id="l1", start=start.isoformat())
    click(amy, "user:%d" % ann.pk, now - timedelta(minutes=10))
    assert send_due_reminders(now=now) == 1  # the 30-minute one
    later = start + timedelta(hours=1)
    moved = gql(client, RESCHEDULE, boss, id="l1", start=later.isoformat())["data"]["liveReschedule"]
    assert moved["errors"] == [] and datetime.fromisoformat(moved["live"]["scheduledStart"]) == later
    assert send_due_reminders(now=start - timedelta(minutes=5)) == 0  # the old 5-minute time: moved
    assert send_due_reminders(now=later - timedelta(minutes=30)) == 0  # the 30-minute one was sent already
    assert send_due_reminders(now=later - timedelta(minutes=5)) == 1
    assert sent() == [("ann@example.com", 30), ("ann@example.com", 5)]


def test_a_lives_own_offsets_and_the_setting(settings: Any) -> None:
    client, boss, amy, ann = Client(), staff(), user("amy"), user("ann")
    join(client, amy)
    now = timezone.now()
    start = now + timedelta(minutes=8)
    live = gql(client, SCHEDULE, boss, id="l1", start=start.isoformat(), offsets=[10])["data"]["liveSchedule"]
    assert live["live"]["reminderOffsets"] == [10]
    gql(client, SCHEDULE, boss, id="l2", start=start.isoformat(), offsets=[])  # none before the start
    click(amy, "user:%d" % ann.pk, now - timedelta(minutes=1))
    click(amy, "user:%d" % ann.pk, now - timedelta(minutes=1), live="l2")
    assert send_due_reminders(now=now) == 1
    assert list(Reminder.objects.values_list("live_id", "offset")) == [("l1", 10)]

    settings.LIVEDIST = {**settings.LIVEDIST, "REMINDER_OFFSETS": "60"}
    gql(client, SCHEDULE, boss, id="l3", start=(now + timedelta(minutes=50)).isoformat())
    click(amy, "user:%d" % ann.pk, now - timedelta(minutes=1), live="l3")
    assert send_due_reminders(now=now) == 1
    assert Reminder.objects.get(live_id="l3").offset == 60


@pytest.mark.parametrize("offsets", [[0], [30, -5], [2000]])
def test_bad_offsets_and_rescheduling_a_started_live_are_refused(offsets: list[int]) -> None:
    client, boss = Client(), staff()
    start = (timezone.now() + timedelta(hours=1)).isoformat()
    bad = gql(client, SCHEDULE, boss, id="l1", start=start, offsets=offsets)["data"]["liveSchedule"]
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [("reminderOffsets", "INVALID")]
    assert "from 1 to 1440, e.g. [30, 5]" in bad["errors"][0]["message"]
    assert not LiveSession.objects.exists()
    gql(client, SCHEDULE, boss, id="l1", start=start)
    gql(client, START, boss, id="l1")
    late = gql(client, RESCHEDULE, boss, id="l1", start=start)["data"]["liveReschedule"]
    assert [(e["field"], e["code"]) for e in late["errors"]] == [("id", "INVALID_STATE")]


# ---------------------------------------------------------------------- real Celery workers


class Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with Gateway.lock:
            Gateway.received.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    Gateway.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.mark.skipif(not real._broker_reachable(real.BROKER), reason="no message broker reachable: start Redis "
                    "(or set CELERY_TEST_BROKER) to run the real-worker tests")
def test_beats_published_at_once_to_two_real_workers_remind_each_person_once(
        gateway_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client, boss, amy = Client(), staff(), user("amy")
    join(client, amy)
    now = timezone.now()
    gql(client, SCHEDULE, boss, id="l1", start=(now + timedelta(minutes=20)).isoformat())  # the 30-minute one is due
    visitors = [f"visitor:{n:024x}" for n in range(6)]  # anonymous viewers: only the gateway reaches them
    for visitor in visitors:
        click(amy, visitor, now - timedelta(minutes=5))

    monkeypatch.setenv("LIVEDIST_REMINDER_WEBHOOK_URL", gateway_url)
    queue = real._unique_queue()
    workers = [real.Worker(f"w{n}", real.SANDBOX_APP, queue, real._database_url()) for n in range(2)]
    try:
        for worker in workers:
            worker.wait_ready()
        with real.publishing_to(queue) as app:
            for _ in range(6):  # six beats (two beat processes, redeliveries) in the same minute
                app.send_task(SEND_DUE_REMINDERS)
        real.wait_until(lambda: Reminder.objects.filter(status="sent").count() == len(visitors) and len(
            Gateway.received) >= len(visitors), "the workers to send the reminders", *workers)
        real.wait_until(lambda: all(w.log().count("succeeded") >= 1 for w in workers) and sum(
            w.log().count("succeeded") for w in workers) == 6, "every published task to finish", *workers)
    finally:
        for worker in workers:
            worker.stop()
        real._purge(queue, delete=True)
    assert sorted(body["person"] for body in Gateway.received) == sorted(visitors)  # once each
    assert {(body["live"], body["minutes_before"]) for body in Gateway.received} == {("l1", 30)}
    assert sorted(Reminder.objects.values_list("person", "offset", "channel")) == [
        (v, 30, "by_webhook") for v in sorted(visitors)]
    assert os.environ["LIVEDIST_REMINDER_WEBHOOK_URL"] == gateway_url
