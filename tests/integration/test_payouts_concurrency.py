"""Withdrawal requests at the same time, on real PostgreSQL with real transactions on separate connections:
together they never take more than the balance."""
from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections, transaction

from saleor_livedist.exceptions import ServiceError
from saleor_livedist.inbox import processing
from saleor_livedist.models import Payee, Withdrawal
from saleor_livedist.payouts import services
from tests.builders import T0, Stream
from tests.integration.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)
ALIPAY = {"name": "Zhang San", "number": "zhangsan@example.com"}


@pytest.fixture
def fifty() -> None:
    """alice has 50.00 CNY approved (5% of a 1,000.00 order)."""
    s = Stream()
    s.distributor("alice")
    s.click("alice", "c1", minute=1, product="p-plain")
    s.order("o1", "c1", minute=2, lines=[("p-plain", "1000.00")])
    s.add("order.fulfilled", 3, order="o1")
    for event in s.raw:
        processing.submit(dict(event))
    processing.process_pending()
    processing.settle(T0 + timedelta(days=8))
    assert services.balance("alice")["CNY"].available == Decimal("50.00")


def test_four_requests_at_once_take_no_more_than_the_balance(fifty: None) -> None:
    refused: list[str] = []

    def ask(n: int) -> None:
        try:
            services.request_withdrawal("alice", "20.00", "alipay", ALIPAY, f"r{n}")
        except ServiceError as exc:
            refused.append(exc.code)

    assert race(4, ask) == []
    assert sorted(refused) == ["INSUFFICIENT_BALANCE", "INSUFFICIENT_BALANCE"]
    assert Withdrawal.objects.count() == 2
    assert services.balance("alice")["CNY"].available == Decimal("10.00")


def test_a_second_request_waits_for_the_first_and_then_sees_its_withdrawal(fifty: None) -> None:
    second: dict[str, object] = {}
    Payee.objects.create(distributor="alice")  # as after any earlier request: only the row lock can hold it back

    def ask_second() -> None:
        try:
            services.request_withdrawal("alice", "30.00", "alipay", ALIPAY, "second")
            second["outcome"] = "accepted"
        except ServiceError as exc:
            second["outcome"] = exc.code
        finally:
            connections.close_all()

    with transaction.atomic():
        services.request_withdrawal("alice", "30.00", "alipay", ALIPAY, "first")  # holds alice's payee row
        thread = threading.Thread(target=ask_second)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), "the second request did not wait for the first one's transaction"
    thread.join(30)
    assert second == {"outcome": "INSUFFICIENT_BALANCE"}
    assert list(Withdrawal.objects.values_list("request_id", flat=True)) == ["first"]
