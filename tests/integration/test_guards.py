"""The fraud guards on the real path (PostgreSQL, the endpoints): only customers count as invitees by default,
past the daily limit invitees are held for staff's review, and the share-link endpoint limits clicks per
address (429) and, by the rules' guards, which clicks count."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from saleor_livedist.distribution.guards import review_held_invitee
from saleor_livedist.exceptions import ServiceError
from saleor_livedist.identity import of_user
from saleor_livedist.inbox import processing
from saleor_livedist.models import HeldInvitee, InboxEvent, LiveStat, PointsGrant, ShareLink

from .test_viewers import Clock, clicked, clock, distributor_with_live_link, ok, post, visitor_of, watch_for

__all__ = ["clock"]  # a fixture, used by name

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "- id: invite-watcher\n  scope: live\n  qualify: {watched_minutes: 5}\n  each: {points: 5}"


def points_of(person: Any) -> list[tuple[str | None, int]]:
    return sorted(PointsGrant.objects.filter(beneficiary=of_user(person)).values_list("invitee", "points"))


def test_an_anonymous_viewer_counts_once_signed_up_a_signed_in_one_at_once(clock: Clock) -> None:
    amy, token = distributor_with_live_link("amy")
    anonymous, member = clicked(token), clicked(token)
    ben = get_user_model().objects.create_user(username="ben", email="ben@example.com", password="x")
    member.force_login(ben)
    for viewer in (anonymous, member):
        ok(post(viewer, "join"))
    watch_for(anonymous, clock, 6 * 60)  # both watch 6 minutes
    watch_for(member, clock, 0)
    for _ in range(6 * 4):
        ok(post(member, "heartbeat"))
        clock.advance(15)
    for viewer in (anonymous, member):
        ok(post(viewer, "leave"))
    assert points_of(amy) == [(of_user(ben), 5)]  # the visitor id alone does not count
    cat = get_user_model().objects.create_user(username="cat", email="cat@example.com", password="x")
    processing.submit({"id": "reg-cat", "type": "customer.registered", "at": clock.at.isoformat(),
                       "customer": of_user(cat), "visitor": visitor_of(anonymous)})  # signs up in that browser
    assert points_of(amy) == sorted([(of_user(ben), 5), (of_user(cat), 5)])


def _watchers(distributor: str, count: int, clock: Clock) -> None:
    start = clock.at
    for n in range(count):
        viewer, at = f"user:9{n}", start + timedelta(seconds=n)
        events = [
            {"id": f"k-{n}", "type": "link.clicked", "at": at.isoformat(), "distributor": distributor,
             "visitor": viewer, "target": {"live": "L1"}},
            {"id": f"j-{n}", "type": "live.joined", "at": at.isoformat(), "live": "L1", "viewer": viewer,
             "signed_in": True},
        ] + [{"id": f"h-{n}-{m}", "type": "live.heartbeat", "live": "L1", "viewer": viewer,
              "at": (at + timedelta(minutes=m)).isoformat()} for m in range(1, 7)]
        for event in events:
            processing.submit(event)


def test_past_the_daily_limit_invitees_wait_for_staff(rules_with: Callable[..., None], clock: Clock) -> None:
    rules_with(guards="invitees_per_distributor_per_day: 2", tasks=TASK)
    amy, _ = distributor_with_live_link("amy")
    _watchers(of_user(amy), 4, clock)
    assert points_of(amy) == [("user:90", 5), ("user:91", 5)]
    held = list(HeldInvitee.objects.order_by("invitee"))
    assert [(h.invitee, h.inviter, h.status) for h in held] == [
        ("user:92", of_user(amy), "held"), ("user:93", of_user(amy), "held")]
    assert LiveStat.objects.get(live="L1", distributor=of_user(amy)).qualified == 2

    assert review_held_invitee(held[0].key, "approve", by="user:1").status == "approved"
    assert review_held_invitee(held[1].key, "reject").status == "rejected"
    assert points_of(amy) == [("user:90", 5), ("user:91", 5), ("user:92", 5)]
    assert LiveStat.objects.get(live="L1", distributor=of_user(amy)).qualified == 3
    for key, decision, code in [(held[0].key, "reject", "ALREADY_REVIEWED"), ("task:nope", "approve", "NOT_FOUND"),
                                (held[1].key, "maybe", "INVALID")]:
        with pytest.raises(ServiceError) as refused:
            review_held_invitee(key, decision)
        assert refused.value.code == code
    assert InboxEvent.objects.filter(type="invitee.reviewed").count() == 2  # refusals record nothing


def clicks(link: str) -> int:
    return InboxEvent.objects.filter(type="link.clicked", payload__target__live="L1").count()


def test_the_click_endpoint_refuses_bursts_with_429_and_counts_an_address_once(settings: Any, clock: Clock) -> None:
    settings.LIVEDIST = {**getattr(settings, "LIVEDIST", {}), "CLICK_RATE_PER_LINK_ADDRESS": 3}
    _, token = distributor_with_live_link("amy")
    browser = Client()
    assert [browser.get(f"/click/{token}").status_code for _ in range(3)] == [302] * 3
    refused = browser.get(f"/click/{token}")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["errors"][0]["code"] == "RATE_LIMITED"
    assert clicks(token) == 3  # the refused one left no trace
    assert ShareLink.objects.get(token=token).clicks == 1  # the public count: one address, one click
    assert Client(REMOTE_ADDR="10.0.0.9").get(f"/click/{token}").status_code == 302  # another address
    assert ShareLink.objects.get(token=token).clicks == 2


def test_clicks_past_the_rules_daily_limits_still_redirect_but_count_for_nobody(
        rules_with: Callable[..., None], clock: Clock) -> None:
    rules_with(guards="clicks_per_source_per_day: 3\nclicks_per_visitor_per_day: 2")
    _, token = distributor_with_live_link("amy")
    fresh = [Client().get(f"/click/{token}") for _ in range(5)]  # five new visitors from one address
    assert [r.status_code for r in fresh] == [302] * 5
    assert clicks(token) == 3
    same = Client(REMOTE_ADDR="10.0.0.9")
    assert [same.get(f"/click/{token}").status_code for _ in range(3)] == [302] * 3
    assert clicks(token) == 3 + 2  # one visitor: two a day


def test_staff_approve_a_held_invitee_in_the_admin(rules_with: Callable[..., None], clock: Clock) -> None:
    rules_with(guards="invitees_per_distributor_per_day: 1", tasks=TASK)
    amy, _ = distributor_with_live_link("amy")
    _watchers(of_user(amy), 3, clock)
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    admin = Client()
    admin.force_login(boss)
    page = admin.get("/admin/saleor_livedist/heldinvitee/?status=held").content.decode()
    assert "amy (a***@example.com)" in page and page.count("invite-watcher") >= 2  # the distributor, by name
    first, second = HeldInvitee.objects.order_by("invitee")
    done = admin.post("/admin/saleor_livedist/heldinvitee/", {"action": "approve",
                                                              "_selected_action": [first.pk]}, follow=True)
    assert "1 invitee approved" in done.content.decode()
    again = admin.post("/admin/saleor_livedist/heldinvitee/", {"action": "reject",
                                                               "_selected_action": [first.pk, second.pk]}, follow=True)
    said = [str(m) for m in again.context["messages"]]
    assert "1 invitee rejected" in said and any("already approved" in m for m in said), said
    assert points_of(amy) == [("user:90", 5), ("user:91", 5)]
    assert InboxEvent.objects.get(type="invitee.reviewed", payload__decision="approve").payload["by"] == of_user(boss)


def test_staff_review_held_invitees_in_the_console(rules_with: Callable[..., None], clock: Clock) -> None:
    from .test_console import page, post, signed_in

    rules_with(guards="invitees_per_distributor_per_day: 1", tasks=TASK)
    amy, _ = distributor_with_live_link("amy")
    _watchers(of_user(amy), 3, clock)
    manager = signed_in("manager", superuser=True)
    html = page(manager, "held/")
    assert html.count('<tr data-key="task:invite-watcher:L1:') == 2 and "amy (a***@example.com)" in html
    first, second = HeldInvitee.objects.order_by("invitee")
    done = post(manager, "held/review", {"key": first.key, "decision": "approve"})
    assert "Approved: user:91 counts for" in done
    assert "this invitee was already" in post(manager, "held/review", {"key": first.key, "decision": "reject"}, 400)
    assert "decide with approve or reject" in post(manager, "held/review", {"key": second.key, "decision": "x"}, 400)
    assert points_of(amy) == [("user:90", 5), ("user:91", 5)]
    assert 'data-key="' + second.key + '"' in page(manager, "held/")
    assert 'data-key="' + first.key + '"' in page(manager, "held/", status="approved")
