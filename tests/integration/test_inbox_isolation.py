"""One bad event never blocks the others: refused at the door when the parser can tell, isolated in the inbox
when only the database can (real PostgreSQL)."""
from __future__ import annotations

import copy
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from saleor_livedist.inbox import processing
from saleor_livedist.core.events import MAX_ID, parse_event
from saleor_livedist.exceptions import EventError
from saleor_livedist.models import InboxEvent, Order
from tests.builders import default_rules
from tests.integration.test_db_engine import db_outcome, fixture_events, memory_outcome

pytestmark = pytest.mark.django_db

T = "2026-11-20T20:00:00+08:00"


def order(order_id: str, customer: str, amount: str = "100.00", ref: str = "alice") -> dict[str, Any]:
    return {"id": f"{order_id}:created", "type": "order.created", "at": T, "order": order_id,
            "customer": customer, "channel": "default", "currency": "CNY", "ref": ref,
            "lines": [{"line": f"{order_id}-1", "product": "p1", "amount": amount}]}


def distributor(customer: str) -> dict[str, Any]:
    return {"id": f"join:{customer}", "type": "distributor.joined", "at": T, "customer": customer}


def test_a_guest_with_a_254_character_email_flows_through_the_inbox() -> None:
    email = "a" * 64 + "@" + ("b" * 63 + ".") * 2 + "c" * 61  # 254 characters, valid in Saleor
    assert len(email) == 254
    processing.submit(distributor("alice"), process=False)
    processing.submit(order("o-guest", f"guest:{email}"), process=False)
    processing.submit(order("o-next", "user:2"), process=False)
    assert processing.process_pending() == 3
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}
    stored = Order.objects.get(id="o-guest")
    assert len(stored.customer) == MAX_ID and stored.customer.startswith("guest:aaaa")
    assert InboxEvent.objects.get(event_id="o-guest:created").payload["customer"] == f"guest:{email}"  # the original
    assert Order.objects.filter(id="o-next").exists()


def test_an_event_the_database_refuses_is_isolated_and_the_others_go_on() -> None:
    processing.submit(distributor("alice"), process=False)
    for n in range(5):
        processing.submit(order(f"o-{n}", f"user:{n}"), process=False)
    with connection.cursor() as cursor:  # data the parser cannot know is bad: only this database refuses it
        cursor.execute("ALTER TABLE livedist_order ADD CONSTRAINT poison CHECK (id <> 'o-2')")
    assert processing.process_pending() == 5
    rows = dict(InboxEvent.objects.values_list("event_id", "status"))
    assert rows.pop("o-2:created") == "failed"
    assert set(rows.values()) == {"done"}
    failed = InboxEvent.objects.get(event_id="o-2:created")
    assert "poison" in failed.error
    assert sorted(Order.objects.values_list("id", flat=True)) == ["o-0", "o-1", "o-3", "o-4"]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE livedist_order DROP CONSTRAINT poison")
    assert processing.rerun(["o-2:created"]) == 1
    processing.process_pending()
    assert InboxEvent.objects.get(event_id="o-2:created").status == "done"
    assert Order.objects.filter(id="o-2").exists()


def test_a_used_id_with_a_different_body_is_kept_visible_and_not_applied() -> None:
    processing.submit(distributor("alice"), process=False)
    first = order("o-1", "user:1")
    assert processing.submit(first, process=False)
    assert not processing.submit({**first, "at": "2026-11-20T20:05:00+08:00"}, process=False)  # a redelivery
    changed = copy.deepcopy(first)
    changed["lines"][0]["amount"] = "999.00"
    assert not processing.submit(changed, process=False)
    conflict = InboxEvent.objects.get(event_id__startswith="o-1:created~conflict~")
    assert conflict.status == "failed" and "different body" in conflict.error
    assert conflict.payload["lines"][0]["amount"] == "999.00"
    assert InboxEvent.objects.count() == 3  # the distributor, the order and the refused copy; no second redelivery
    processing.process_pending()
    snapshot = str(Order.objects.get(id="o-1").snapshot)
    assert "100" in snapshot and "999" not in snapshot


def test_a_valid_event_under_the_id_of_an_old_unparseable_row_is_a_visible_conflict() -> None:
    """A row kept before the parser's limits were this strict (a 200-digit amount) is not the same event as a
    valid one with its id: the valid one is kept beside it, failed and visible, never silently dropped."""
    old = order("o-9", "user:1", amount="9" * 200)
    InboxEvent.objects.create(event_id=old["id"], type="order.created", at=T, payload=old,
                              status=InboxEvent.FAILED, error="EventError: amount too long")
    assert not processing.submit(order("o-9", "user:1"), process=False)
    conflict = InboxEvent.objects.get(event_id__startswith="o-9:created~conflict~")
    assert conflict.status == "failed" and "different body" in conflict.error
    assert conflict.payload["lines"][0]["amount"] == "100.00"


BAD_VALUES = [None, "", 10**200, "x\x00y", "\ud800", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9" * 50,
              "1000000000000", [[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]], "e" * 1025, {"a": {"b": 1.5}}, -1]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)


@st.composite
def junk(draw: st.DrawFn, valid: list[dict[str, Any]]) -> tuple[int, Any]:
    """(position, junk): random JSON, a valid event with one field spoiled, or a used id with another body."""
    kind = draw(st.sampled_from(["random", "spoiled", "conflict"]))
    n = draw(st.integers(0, len(valid) - 1))
    if kind == "random":
        return draw(st.integers(0, len(valid))), draw(json_values)
    event = copy.deepcopy(valid[n])
    if kind == "conflict":
        event["at"] = T
        event["type"] = "order.paid" if event["type"] != "order.paid" else "order.cancelled"
        event["order"] = "junk-order"
        return draw(st.integers(n + 1, len(valid))), event  # after the event whose id it takes
    key = draw(st.sampled_from(sorted(event)))
    event[key] = draw(st.sampled_from(BAD_VALUES))
    event["id"] = f"junk-{draw(st.integers(0, 10**6))}" if key != "id" else event["id"]
    return draw(st.integers(0, len(valid))), event


VALID = fixture_events()


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(junk(VALID), max_size=12))
@example([(0, None), (0, {"id": [["deep"]], "type": "order.paid", "at": T, "order": "o-100"})])
def test_junk_in_a_valid_stream_leaves_the_valid_events_ledger_as_it_is(items: list[tuple[int, Any]]) -> None:
    stream: list[Any] = list(VALID)
    for position, item in sorted(items, key=lambda pair: pair[0], reverse=True):
        if isinstance(item, dict) and not (isinstance(item.get("id"), str) and item["id"] in {e["id"] for e in VALID}):
            try:
                parse_event(item)
                continue  # a spoiled field the parser rightly accepts (e.g. an extra field): not junk
            except EventError:
                pass
        stream.insert(position, item)
    with transaction.atomic():
        for raw in stream:
            try:
                processing.submit(raw, process=False)
            except EventError:
                pass
        processing.process_pending()
        now = max(parse_event(e).at for e in VALID)
        processing.settle(now)
        assert db_outcome() == memory_outcome(VALID, default_rules(), now)
        transaction.set_rollback(True)
