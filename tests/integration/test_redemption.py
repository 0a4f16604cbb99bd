"""Points redemption in the sandbox, on real PostgreSQL: what points buy, a redemption through the API that
makes a sandbox voucher or gift card, exactly once per request id, clear refusals, points given back when the
store fails, an interrupted redemption finished later, and concurrent redemptions that never overspend."""
from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any, Callable

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from saleor_livedist.distribution import redemption
from saleor_livedist.exceptions import ServiceError
from saleor_livedist.identity import of_user
from saleor_livedist.live_room.coupons import SandboxVouchers, StoreGrant
from saleor_livedist.models import PointsGrant, PointsRedemption, SandboxGiftCard, SandboxVoucher
from tests.integration.test_api import gql, join, user

pytestmark = pytest.mark.django_db(transaction=True)

OPTIONS = """{ me { points redemptionOptions { balance step stepValue currency minimum maxPoints maxValue validDays
    reason offers { kind points value currency } } } }"""
REDEEM = """mutation($r: String!, $p: Int!, $k: String!) { redeemPoints(requestId: $r, points: $p, kind: $k) {
    redemption { requestId points kind value currency status code validUntil } errors { field code message } } }"""
HISTORY = "{ me { redemptions { requestId points status code } } }"


def grant(distributor: str, points: int, key: str = "g1") -> None:
    PointsGrant.objects.create(key=f"{distributor}:{key}", beneficiary=distributor, points=points, reason="task",
                               rule_ids=["invite-watcher"], rules_version="test", at=timezone.now())


def distributor_with(points: int, name: str = "amy") -> tuple[Client, Any, str]:
    client, who = Client(), user(name)
    join(client, who)
    grant(of_user(who), points)
    return client, who, of_user(who)


class FailingStore(SandboxVouchers):
    """A store that is down: every voucher and gift card it is asked for fails."""

    def grant_voucher(self, grant: StoreGrant) -> Any:
        raise ConnectionError("store unreachable")

    grant_gift_card = grant_voucher


def test_points_buy_a_voucher_once_per_request_at_the_rules_rate() -> None:
    client, amy, amy_id = distributor_with(125)
    options = gql(client, OPTIONS, amy)["data"]["me"]
    assert options["points"] == 125
    assert options["redemptionOptions"] == {  # the default rules: 10 points = 1.00 CNY, from 50 points
        "balance": 125, "step": 10, "stepValue": "1.00", "currency": "CNY", "minimum": 50, "maxPoints": 120,
        "maxValue": "12.00", "validDays": 90, "reason": "",
        "offers": [{"kind": "voucher", "points": 50, "value": "5.00", "currency": "CNY"},
                   {"kind": "gift_card", "points": 50, "value": "5.00", "currency": "CNY"}]}

    first = gql(client, REDEEM, amy, r="r-1", p=60, k="voucher")["data"]["redeemPoints"]
    assert first["errors"] == []
    made = first["redemption"]
    assert (made["points"], made["value"], made["currency"], made["status"]) == (60, "6.00", "CNY", "issued")
    voucher = SandboxVoucher.objects.get(codes__contains=[made["code"]])
    assert (voucher.value, voucher.currency, voucher.kind, voucher.channel) == (Decimal(6), "CNY", "fixed",
                                                                                "default-channel")
    assert voucher.start_date <= timezone.now() < voucher.end_date
    assert SandboxVouchers.redeem(made["code"], Decimal("30"), "CNY") == Decimal("6.00")  # the store honours it

    again = gql(client, REDEEM, amy, r="r-1", p=60, k="voucher")["data"]["redeemPoints"]
    assert again == first  # the same redemption, not a second one
    assert SandboxVoucher.objects.filter(grant__isnull=False).count() == 1
    assert gql(client, OPTIONS, amy)["data"]["me"]["redemptionOptions"]["balance"] == 65
    other = gql(client, REDEEM, amy, r="r-1", p=50, k="voucher")["data"]["redeemPoints"]
    assert [(e["field"], e["code"]) for e in other["errors"]] == [("requestId", "UNIQUE")]
    assert "used for another redemption (60 points, voucher)" in other["errors"][0]["message"]

    card = gql(client, REDEEM, amy, r="r-2", p=50, k="gift_card")["data"]["redeemPoints"]["redemption"]
    gift = SandboxGiftCard.objects.get(code=card["code"])
    assert (gift.initial_balance, gift.current_balance, gift.currency, gift.person) == (
        Decimal(5), Decimal(5), "CNY", amy_id)
    assert [r["requestId"] for r in gql(client, HISTORY, amy)["data"]["me"]["redemptions"]] == ["r-2", "r-1"]
    left = gql(client, OPTIONS, amy)["data"]["me"]["redemptionOptions"]
    assert (left["balance"], left["maxPoints"]) == (15, 0)
    assert left["reason"] == "you have 15 points; a redemption needs at least 50"


@pytest.mark.parametrize(("points", "kind", "request_id", "field", "code", "words"), [
    (55, "voucher", "r", "points", "INVALID", "at least 50 and a multiple of 10 (10 points = 1.00 CNY), got 55"),
    (40, "voucher", "r", "points", "INVALID", "got 40"),
    (200, "voucher", "r", "points", "INSUFFICIENT", "you have 100 points, not 200"),
    (50, "cash", "r", "kind", "INVALID", "points buy voucher | gift_card here, not 'cash'"),
    (50, "voucher", " ", "requestId", "INVALID", "requestId must be 1 to 100 characters"),
])
def test_bad_redemptions_are_refused_with_the_reason_and_spend_nothing(
        points: int, kind: str, request_id: str, field: str, code: str, words: str) -> None:
    client, amy, amy_id = distributor_with(100)
    result = gql(client, REDEEM, amy, r=request_id, p=points, k=kind)["data"]["redeemPoints"]
    assert result["redemption"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)]
    assert words in result["errors"][0]["message"]
    assert redemption.points_balance(amy_id) == 100 and not PointsRedemption.objects.exists()


def test_only_distributors_redeem_and_only_where_the_rules_allow_it(rules_with: Callable[..., None]) -> None:
    client, bob = Client(), user("bob")
    result = gql(client, REDEEM, bob, r="r", p=50, k="voucher")["data"]["redeemPoints"]
    assert [e["code"] for e in result["errors"]] == ["NOT_DISTRIBUTOR"]
    assert gql(client, REDEEM, None, r="r", p=50, k="voucher")["data"]["redeemPoints"]["errors"][0]["code"] == (
        "UNAUTHENTICATED")

    client, amy, _amy_id = distributor_with(100)
    rules_with(tasks="- id: t\n  scope: all\n  qualify: {entered: true}\n  each: {points: 1}")  # no redemption
    assert gql(client, OPTIONS, amy)["data"]["me"]["redemptionOptions"] is None
    result = gql(client, REDEEM, amy, r="r", p=50, k="voucher")["data"]["redeemPoints"]
    assert [e["code"] for e in result["errors"]] == ["NOT_AVAILABLE"]


def test_when_the_store_fails_the_points_come_back_and_the_same_request_can_be_retried() -> None:
    _client, _amy, amy_id = distributor_with(100)
    with pytest.raises(ServiceError) as failed:
        redemption.redeem(amy_id, "r-1", 80, "voucher", port=FailingStore())
    assert failed.value.code == "STORE_FAILED"
    assert "so no points were spent" in failed.value.message and "store unreachable" in failed.value.message
    row = PointsRedemption.objects.get()
    assert (row.status, row.error) == ("failed", "ConnectionError: store unreachable")
    assert redemption.points_balance(amy_id) == 100  # given back
    assert not SandboxVoucher.objects.exists()

    done = redemption.redeem(amy_id, "r-1", 80, "voucher")  # the store is back
    assert done.pk == row.pk and done.status == "issued" and done.error == ""
    assert redemption.points_balance(amy_id) == 20
    assert SandboxVoucher.objects.get().codes == [done.code]


def test_an_interrupted_redemption_keeps_its_points_held_and_is_finished_once() -> None:
    _client, _amy, amy_id = distributor_with(100)
    rules = redemption._rules()
    held = redemption._hold(amy_id, "r-1", 70, "gift_card", "default-channel", rules)  # then the process died
    assert held.status == "pending" and redemption.points_balance(amy_id) == 30
    with pytest.raises(ServiceError) as refused:  # the held points cannot be spent again meanwhile
        redemption.redeem(amy_id, "r-2", 50, "voucher")
    assert refused.value.code == "INSUFFICIENT"

    assert redemption.resume_pending(older_than=timezone.timedelta(0)) == 1
    assert redemption.resume_pending(older_than=timezone.timedelta(0)) == 0
    again = redemption.redeem(amy_id, "r-1", 70, "gift_card")  # the client's retry: the same one
    assert again.status == "issued" and SandboxGiftCard.objects.get().code == again.code
    assert redemption.points_balance(amy_id) == 30


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """`count` threads, each with its own database connection, released at one barrier."""
    barrier, results = threading.Barrier(count), [None] * count

    def target(n: int) -> None:
        try:
            barrier.wait()
            results[n] = work(n)
        except ServiceError as exc:
            results[n] = exc.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_redemptions_never_take_the_balance_below_zero() -> None:
    _client, _amy, amy_id = distributor_with(230)
    results = run_together(8, lambda n: redemption.redeem(amy_id, f"r-{n}", 50, "voucher").status)
    assert sorted(results) == ["INSUFFICIENT"] * 4 + ["issued"] * 4
    assert redemption.points_balance(amy_id) == 30
    assert SandboxVoucher.objects.filter(grant__isnull=False).count() == 4
    assert PointsRedemption.objects.filter(status="issued").count() == 4


def test_the_same_request_sent_concurrently_is_one_redemption() -> None:
    _client, _amy, amy_id = distributor_with(100)
    results = run_together(6, lambda n: redemption.redeem(amy_id, "same", 50, "gift_card").code)
    assert len(set(results)) == 1 and results[0] and SandboxGiftCard.objects.count() == 1
    assert PointsRedemption.objects.get().status == "issued"
    assert redemption.points_balance(amy_id) == 50
