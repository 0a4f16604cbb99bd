"""A banned distributor is left off a live's public leaderboard, and ranked again after the unban: the board is
read through the API's resolver, with orders placed through the engine."""
from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from saleor_livedist.distribution import services
from saleor_livedist.graphql.live import leaderboard
from saleor_livedist.inbox import processing
from saleor_livedist.models import LiveStat
from tests.integration.test_api import join, user
from tests.integration.test_lives import order

pytestmark = pytest.mark.django_db(transaction=True)


def board() -> list[tuple[int, str, Any]]:
    return [(row.rank, row.name, row.gmv) for row in leaderboard("l9")]


def test_a_banned_distributor_is_off_the_board_until_unbanned() -> None:
    client, amy, ben = Client(), user("amy"), user("ben")
    join(client, amy)
    join(client, ben)
    now = timezone.now()
    for event in [
        {"id": "ls", "type": "live.scheduled", "at": now.isoformat(), "live": "l9", "starts_at": now.isoformat(),
         "products": ["p-dress"]},
        {"id": "st", "type": "live.started", "at": now.isoformat(), "live": "l9"},
        {"id": "k1", "type": "link.clicked", "at": now.isoformat(), "distributor": f"user:{amy.pk}",
         "visitor": "v1", "target": {"live": "l9"}},
        {"id": "k2", "type": "link.clicked", "at": now.isoformat(), "distributor": f"user:{ben.pk}",
         "visitor": "v2", "target": {"live": "l9"}},
    ]:
        processing.submit(event)
    order("v1", "o1", "p-dress")
    order("v1", "o2", "p-dress")  # amy: 200.00
    order("v2", "o3", "p-dress")  # ben: 100.00
    assert [(rank, name) for rank, name, _ in board()] == [(1, "a***@example.com"), (2, "b***@example.com")]

    services.ban_distributor(f"user:{amy.pk}", "fake orders", banned_by="staff")
    processing.process_pending()
    assert [(rank, name) for rank, name, _ in board()] == [(1, "b***@example.com")]
    assert LiveStat.objects.get(live="l9", distributor=f"user:{amy.pk}").orders == 2  # kept, only not shown

    services.unban_distributor(f"user:{amy.pk}", unbanned_by="staff")
    processing.process_pending()
    assert [str(gmv) for _, _, gmv in board()] == ["200.00", "100.00"]
