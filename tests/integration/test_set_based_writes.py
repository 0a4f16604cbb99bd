"""The database path writes a batch set-based: a statement count that does not grow with the batch, rows in
their order, the last of two rows with one key kept, and a value the table refuses refused as a data error
(never cut to fit), so the event that carries it is isolated (real PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from saleor_livedist import models as m
from saleor_livedist.db.rows import any_of, upsert
from saleor_livedist.inbox import processing

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def orders(count: int, prefix: str, target: dict[str, str] | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for n in range(count):
        at = (T0 + timedelta(seconds=n)).isoformat()
        who = f"{prefix}c{n}"
        events += [
            {"id": f"{who}:click", "type": "link.clicked", "at": at, "distributor": "alice", "visitor": who,
             "target": target or {"product": "p1"}},
            {"id": f"{who}:created", "type": "order.created", "at": at, "order": f"{prefix}o{n}", "customer": who,
             "channel": "default", "currency": "CNY", "lines": [{"line": "1", "product": "p1", "amount": "10.00"}]},
            {"id": f"{who}:paid", "type": "order.paid", "at": at, "order": f"{prefix}o{n}"},
        ]
    return events


def executions(events: list[dict[str, Any]]) -> int:
    for event in events:
        processing.submit(event, process=False)
    count = 0

    def counting(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        nonlocal count
        count += len(params) if many else 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        processing.process_pending()
    return count


def test_a_batch_runs_as_many_statements_for_200_orders_as_for_10() -> None:
    processing.submit({"id": "join", "type": "distributor.joined", "at": T0.isoformat(), "customer": "alice"})
    small = executions(orders(10, "a"))
    large = executions(orders(200, "b"))
    assert m.LedgerEntry.objects.filter(order__startswith="bo").count() == 200
    assert m.Order.objects.filter(id__startswith="bo").count() == 200
    # per-row writes would be about 9 executions an order (1,700 more for 190 more orders); a larger batch may add a
    # few (another flush, a staging table first used)
    assert small < 100 and large <= small + 20, (small, large)


def test_orders_through_a_live_link_read_their_invitations_and_watches_with_the_batch() -> None:
    """A live link counts the viewer for the live's leaderboard and its first payment asks for their watch of
    that live: both read ahead with the batch, not once per event."""
    processing.submit({"id": "join", "type": "distributor.joined", "at": T0.isoformat(), "customer": "alice"})
    processing.submit({"id": "sched", "type": "live.scheduled", "at": (T0 - timedelta(days=1)).isoformat(),
                       "live": "L1", "starts_at": T0.isoformat(), "host": "alice"})
    processing.submit({"id": "start", "type": "live.started", "at": T0.isoformat(), "live": "L1"})
    small = executions(orders(10, "a", {"live": "L1"}))
    large = executions(orders(200, "b", {"live": "L1"}))
    assert m.LiveInvitation.objects.filter(live="L1", viewer__startswith="bc").count() == 200
    assert m.LiveStat.objects.get(live="L1", distributor="alice").invited == 210
    assert small < 100 and large <= small + 20, (small, large)


def test_rows_keep_their_order_and_the_last_row_of_a_key_wins() -> None:
    rows = [(f"v{n}", T0 + timedelta(seconds=n % 3), "alice", "product", f"p{n}") for n in range(50)]
    upsert(m.Click, ["identity", "at", "distributor", "kind", "target"], rows)
    stored = list(m.Click.objects.order_by("id").values_list("target", flat=True))
    assert stored == [f"p{n}" for n in range(50)]
    upsert(m.Distributor, ["id", "upline", "joined_at", "rank", "ranks", "last_sale_at", "paying_invitees"],
           [("d1", None, T0, "member", [], None, 1), ("d1", None, T0, "leader", [[T0.isoformat(), "leader"]], None, 2)],
           conflict=["id"], json_columns=("ranks",))
    row = m.Distributor.objects.get(id="d1")
    assert (row.rank, row.paying_invitees, row.ranks) == ("leader", 2, [[T0.isoformat(), "leader"]])


def test_a_value_too_long_is_refused_as_a_data_error_not_cut() -> None:
    too_long = "x" * (m.Click._meta.get_field("target").max_length + 1)
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        upsert(m.Click, ["identity", "at", "distributor", "kind", "target"],
               [("v1", T0, "alice", "product", "p1"), ("v2", T0, "alice", "product", too_long)])
    assert processing.caused_by_data(caught.value)  # SQLSTATE class 22: the event is isolated, the batch goes on
    assert caught.value.__cause__.sqlstate == "22001"
    assert not m.Click.objects.exists()


def test_any_of_matches_a_list_as_one_array_parameter() -> None:
    upsert(m.Click, ["identity", "at", "distributor", "kind", "target"],
           [(f"v{n}", T0, "alice", "product", "p1") for n in range(5)])
    sent: list[tuple[str, Any]] = []

    def recording(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(recording):
        found = set(m.Click.objects.filter(any_of("identity", {"v1", "v3", "nobody"}))
                    .values_list("identity", flat=True))
        ids = sorted(m.Click.objects.values_list("id", flat=True))
        by_id = m.Click.objects.filter(any_of("id", ids[:2])).count()
        assert not m.Click.objects.filter(any_of("identity", [])).exists()  # nothing matches: no query
    assert found == {"v1", "v3"} and by_id == 2
    assert len(sent) == 3 and "= ANY(" in sent[0][0] and len(sent[0][1]) == 1  # one parameter: the array
