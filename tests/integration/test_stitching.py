"""One person on several devices, on real PostgreSQL: when their visitor ids are stitched to their account,
their watch time is the union of their intervals, never the sum, and they are one invitee (one invitation on the
leaderboard, one qualification, one reward)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum

from saleor_livedist.inbox import processing
from saleor_livedist.graphql.schema import task_progress
from saleor_livedist.identity import of_user
from saleor_livedist.models import LiveStat, PointsGrant, TaskProgress, Watch

from .test_viewers import Clock, clicked, clock, distributor_with_live_link, fresh_limits, ok, post, visitor_of

__all__ = ["clock", "fresh_limits"]  # fixtures, used by name

pytestmark = pytest.mark.django_db(transaction=True)


def stitch(visitors: list[str], customer: str, clock: Clock) -> None:
    """The person signs up (or checks out) on each device: each visitor id is stitched to the account."""
    for n, visitor in enumerate(visitors):
        processing.submit({"id": f"reg-{n}", "type": "customer.registered", "at": clock.at.isoformat(),
                           "customer": customer, "visitor": visitor})


def watch_overlapping(devices: list[Any], clock: Clock, stagger: int, length: int) -> None:
    """Device n joins `stagger` * n seconds after the first, sends heartbeats, and all leave together
    `length` seconds after the first joined."""
    elapsed = 0
    for device in devices:
        ok(post(device, "join"))
        clock.advance(stagger)
        elapsed += stagger
    while elapsed + 15 <= length:
        clock.advance(15)
        elapsed += 15
        for device in devices:
            ok(post(device, "heartbeat"))
    clock.advance(length - elapsed)
    for device in devices:
        ok(post(device, "leave"))


def test_three_devices_overlapping_for_53_seconds_count_53_seconds_and_one_invitee(clock: Clock) -> None:
    amy, token = distributor_with_live_link("amy")
    ben = get_user_model().objects.create_user(username="ben", email="ben@example.com", password="x")
    devices = [clicked(token) for _ in range(3)]
    visitors = [visitor_of(d) for d in devices]
    watch_overlapping(devices, clock, stagger=10, length=53)  # 0-53, 10-53 and 20-53 s: 53 s of one person
    assert sorted(Watch.objects.filter(viewer__in=visitors).values_list("seconds", flat=True)) == [33, 43, 53]
    assert LiveStat.objects.get(live="L1", distributor=of_user(amy)).invited == 3

    stitch(visitors, of_user(ben), clock)
    assert Watch.objects.get(live="L1", viewer=of_user(ben)).seconds == pytest.approx(53)
    assert set(Watch.objects.filter(viewer__in=visitors).values_list("seconds", flat=True)) == {0}
    assert LiveStat.objects.get(live="L1", distributor=of_user(amy)).invited == 1


def test_a_person_who_qualified_on_three_devices_is_one_invitee_once_stitched(
        clock: Clock, rules_with: Callable[..., None]) -> None:
    rules_with(guards="invitees: anyone")  # anonymous ids count, so each device qualified on its own first
    amy, token = distributor_with_live_link("amy")
    ben = get_user_model().objects.create_user(username="ben", email="ben@example.com", password="x")
    devices = [clicked(token) for _ in range(3)]
    visitors = [visitor_of(d) for d in devices]
    watch_overlapping(devices, clock, stagger=5, length=6 * 60)  # each id watched over 5 minutes
    points = PointsGrant.objects.filter(beneficiary=of_user(amy))
    assert points.aggregate(total=Sum("points"))["total"] == 15  # three ids, as far as anyone could tell
    assert TaskProgress.objects.get(task="ten-watchers", distributor=of_user(amy)).qualified == 3

    stitch(visitors, of_user(ben), clock)
    assert Watch.objects.get(live="L1", viewer=of_user(ben)).seconds == pytest.approx(6 * 60)
    assert points.aggregate(total=Sum("points"))["total"] == 5  # one person: one invitee's reward
    assert TaskProgress.objects.get(task="ten-watchers", distributor=of_user(amy)).qualified == 1
    stat = LiveStat.objects.get(live="L1", distributor=of_user(amy))
    assert (stat.invited, stat.qualified) == (1, 1)
    progress = {p.task: p for p in task_progress(of_user(amy), "L1")}  # what the distributor sees in the API
    assert (progress["ten-watchers"].invited, progress["ten-watchers"].entered) == (1, 1)
    assert progress["invite-watcher"].points == 5
    stitch(visitors, of_user(ben), clock)  # told again: nothing changes
    assert points.aggregate(total=Sum("points"))["total"] == 5
