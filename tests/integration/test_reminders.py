"""Reminders when a live starts: once per person per live, to those who clicked an invite link before the
start and did not join, not to those who opted out; by e-mail and through a signed webhook (a real HTTP
server on loopback)."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from saleor_livedist.inbox import processing
from saleor_livedist.models import Reminder
from saleor_livedist.live_room.reminders import send_reminders
from tests.integration.test_api import gql, join, user
from tests.integration.test_lives import SCHEDULE, START, staff

pytestmark = pytest.mark.django_db(transaction=True)


class Gateway(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, Any], str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append((json.loads(body), self.headers["X-Livedist-Signature"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway(settings: Any) -> Any:
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    Gateway.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LIVEDIST = {**settings.LIVEDIST, "REMINDER_WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/hook",
                         "REMINDER_WEBHOOK_SECRET": "s3cret"}
    yield Gateway
    server.shutdown()


def click(distributor: Any, person: str, minutes_ago: int = 10) -> None:
    processing.submit({"id": f"k-{person}", "type": "link.clicked",
                       "at": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(),
                       "distributor": "user:%d" % distributor.pk, "visitor": person, "target": {"live": "l1"}})


def test_the_invited_are_reminded_once_when_the_live_starts(gateway: Any) -> None:
    client, boss, amy = Client(), staff(), user("amy")
    ann, bo, cy = user("ann"), user("bo"), user("cy")
    join(client, amy)
    gql(client, SCHEDULE, boss, id="l1", start=(timezone.now() + timedelta(hours=1)).isoformat())
    for person in (ann, bo, cy):
        click(amy, "user:%d" % person.pk)
    processing.submit({"id": "j-bo", "type": "live.joined", "at": timezone.now().isoformat(), "live": "l1",
                       "viewer": "user:%d" % bo.pk})  # bo is already watching
    optout = gql(client, "mutation { reminderOptOut(optOut: true) { optedOut errors { code } } }", cy)
    assert optout["data"]["reminderOptOut"] == {"optedOut": True, "errors": []}
    assert gql(client, START, boss, id="l1")["data"]["liveStart"]["errors"] == []
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert "Autumn dresses is live now" in mail.outbox[0].subject
    [(payload, signature, body)] = gateway.received
    assert payload["person"] == "user:%d" % ann.pk and payload["live"] == "l1"
    assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert send_reminders("l1") == 0  # signalled again: nobody is reminded twice
    assert len(mail.outbox) == 1 and len(gateway.received) == 1
    assert list(Reminder.objects.values_list("status", "channel")) == [("sent", "by_email,by_webhook")]


def test_a_failing_gateway_is_recorded_and_not_retried_in_a_loop(settings: Any) -> None:
    client, boss, amy, ann = Client(), staff(), user("amy"), user("ann")
    settings.LIVEDIST = {**settings.LIVEDIST, "REMINDER_WEBHOOK_URL": "http://127.0.0.1:9/closed"}
    join(client, amy)
    gql(client, SCHEDULE, boss, id="l1", start=(timezone.now() + timedelta(hours=1)).isoformat())
    click(amy, "user:%d" % ann.pk)
    gql(client, START, boss, id="l1")  # the start itself succeeds
    reminder = Reminder.objects.get()
    # the e-mail went out, the gateway did not answer: both are on the row, and neither is tried again
    assert (reminder.status, reminder.channel) == ("partial", "by_email")
    assert reminder.error.startswith("by_webhook: ") and "Connection refused" in reminder.error
    assert len(mail.outbox) == 1
    assert send_reminders("l1") == 0 and len(mail.outbox) == 1


def sms(live: Any, person: str, email: str | None) -> bool:
    """A merchant's own notifier (REMINDER_NOTIFIERS): here it fails for every anonymous visitor."""
    if not person.startswith("user:"):
        raise OSError("no phone number on file")
    SENT_SMS.append((live.id, person))
    return True


SENT_SMS: list[tuple[str, str]] = []


def test_notifiers_are_pluggable_and_each_outcome_is_recorded(settings: Any) -> None:
    settings.LIVEDIST = {**settings.LIVEDIST, "REMINDER_NOTIFIERS": [f"{__name__}.sms"]}
    SENT_SMS.clear()
    client, boss, amy, ann = Client(), staff(), user("amy"), user("ann")
    join(client, amy)
    gql(client, SCHEDULE, boss, id="l1", start=(timezone.now() + timedelta(hours=1)).isoformat())
    click(amy, "user:%d" % ann.pk)
    click(amy, "visitor:" + "e" * 24)
    gql(client, START, boss, id="l1")
    assert SENT_SMS == [("l1", "user:%d" % ann.pk)] and mail.outbox == []  # only the configured notifier
    rows = {r.person: (r.status, r.channel) for r in Reminder.objects.all()}
    assert rows == {"user:%d" % ann.pk: ("sent", "sms"), "visitor:" + "e" * 24: ("failed", "")}
    admin = Client()
    admin.force_login(boss)
    boss.is_superuser = True
    boss.save()
    page = admin.get("/admin/saleor_livedist/reminder/?status=failed")
    assert page.status_code == 200 and b"visitor:" in page.content
