"""Payouts on real PostgreSQL: the balance from the engine's own ledger (approval, a refund after approval),
withdrawal requests with their minimum, method and encrypted account, staff decisions, batches, exactly once."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from saleor_livedist.exceptions import ServiceError
from saleor_livedist.inbox import processing
from saleor_livedist.models import Distributor, LedgerEntry, PayoutChange, Withdrawal
from saleor_livedist.payouts import services
from saleor_livedist.payouts.accounts import unseal
from saleor_livedist.payouts.webhook import batch_csv
from tests.builders import T0, Stream

pytestmark = pytest.mark.django_db
ALIPAY = {"name": "Zhang San", "number": "zhangsan@example.com"}
BANK = {"name": "Li Si", "number": "6222 0212 3456 7890", "bank": "ICBC"}


def sell(stream: Stream, order: str, amount: str, minute: float, fulfil: bool = True) -> None:
    stream.click("alice", f"c-{order}", minute=minute, product="p-plain")
    stream.order(order, f"c-{order}", minute=minute + 0.5, lines=[("p-plain", amount)])
    if fulfil:
        stream.add("order.fulfilled", minute + 2, order=order)


def play(stream: Stream, settle_days: float | None = 8) -> None:
    for event in stream.raw[len(getattr(stream, "_played", [])):]:
        processing.submit(dict(event))
    stream._played = list(stream.raw)  # type: ignore[attr-defined]
    processing.process_pending()
    if settle_days is not None:
        processing.settle(T0 + timedelta(days=settle_days))


@pytest.fixture
def alice() -> Stream:
    """alice sold 1,000.00 (5%: 50.00 approved) and 400.00 still in its after-sale window (20.00 pending)."""
    s = Stream()
    s.distributor("alice")
    sell(s, "o1", "1000.00", 1)
    play(s)
    sell(s, "o2", "400.00", 60 * 24 * 7)  # fulfilled a week later: still pending at the settle below
    play(s)
    return s


def cny(distributor: str = "alice") -> services.Balance:
    return services.balance(distributor)["CNY"]


def test_approved_commission_is_the_balance_and_pending_is_not_withdrawable(alice: Stream) -> None:
    b = cny()
    assert (b.approved, b.earning, b.offsets, b.withdrawn, b.pending, b.available) == (
        Decimal("50.00"), Decimal("20.00"), 0, 0, 0, Decimal("50.00"))
    with pytest.raises(ServiceError) as error:
        services.request_withdrawal("alice", "50.01", "alipay", ALIPAY, "r1")
    assert (error.value.code, error.value.field) == ("INSUFFICIENT_BALANCE", "amount")
    assert "50.00 CNY" in error.value.message
    w = services.request_withdrawal("alice", "50.00", "alipay", ALIPAY, "r2")
    assert (w.amount, w.currency, w.status) == (Decimal("50.00"), "CNY", "requested")
    assert cny().available == 0 and cny().requested == Decimal("50.00")


def test_minimum_method_and_account_are_checked(alice: Stream, settings: Any) -> None:
    def code(*args: Any, **kwargs: Any) -> tuple[str | None, str]:
        with pytest.raises(ServiceError) as error:
            services.request_withdrawal("alice", *args, **kwargs)
        return error.value.field, error.value.code

    assert code("9.99", "alipay", ALIPAY, "a") == ("amount", "BELOW_MINIMUM")
    settings.LIVEDIST = {"WITHDRAWAL_MINIMUM": {"CNY": "30"}}
    assert code("29.99", "alipay", ALIPAY, "a") == ("amount", "BELOW_MINIMUM")
    assert code("10.001", "alipay", ALIPAY, "a") == ("amount", "INVALID_AMOUNT")
    assert code(30.5, "alipay", ALIPAY, "a") == ("amount", "INVALID_AMOUNT")  # a float is never money
    assert code("-5", "alipay", ALIPAY, "a") == ("amount", "INVALID_AMOUNT")
    assert code("30", "cash", ALIPAY, "a") == ("method", "INVALID_METHOD")
    assert code("30", "bank", {"name": "Li Si", "number": "6222021234567890"}, "a") == ("account", "BANK_REQUIRED")
    assert code("30", "bank", {**BANK, "number": "12ab"}, "a") == ("account", "INVALID_NUMBER")
    assert code("30", "paypal", {"name": "Li", "number": "not-an-email"}, "a") == ("account", "INVALID_NUMBER")
    assert code("30", "alipay", {"number": "x@example.com"}, "a") == ("account", "NAME_REQUIRED")
    assert code("30", "alipay", {**ALIPAY, "iban": "x"}, "a") == ("account", "INVALID")
    assert code("30", "alipay", ALIPAY, "") == ("requestId", "REQUEST_ID_REQUIRED")
    assert code("30", "alipay", ALIPAY, "a", currency="USD") == ("amount", "INSUFFICIENT_BALANCE")
    assert not Withdrawal.objects.exists() and not PayoutChange.objects.exists()
    with pytest.raises(ServiceError) as error:
        services.request_withdrawal("bob", "30", "alipay", ALIPAY, "a")
    assert error.value.code == "NOT_A_DISTRIBUTOR"


def test_the_account_is_encrypted_at_rest_and_shown_masked(alice: Stream) -> None:
    w = services.request_withdrawal("alice", "20", "bank", BANK, "r1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT account, account_masked FROM livedist_withdrawal WHERE id = %s", [w.pk])
        stored, masked = cursor.fetchone()
    assert "6222" not in stored and "7890" not in stored and "Li Si" not in stored
    assert masked == "ICBC •••• 7890 L***"
    assert unseal(stored).number == "6222 0212 3456 7890"
    other = services.request_withdrawal("alice", "20", "paypal", {"name": "Ann", "number": "ann@example.com"}, "r2")
    assert other.account_masked == "a***@example.com A***"


def test_the_same_request_id_is_one_withdrawal(alice: Stream) -> None:
    first = services.request_withdrawal("alice", "20.00", "alipay", ALIPAY, "same")
    again = services.request_withdrawal("alice", "20", "alipay", ALIPAY, "same")
    assert again.pk == first.pk and Withdrawal.objects.count() == 1 and PayoutChange.objects.count() == 1
    with pytest.raises(ServiceError) as error:
        services.request_withdrawal("alice", "25", "alipay", ALIPAY, "same")
    assert error.value.code == "REQUEST_ID_REUSED"
    assert cny().requested == Decimal("20.00")


def test_staff_decide_once_and_a_refusal_frees_the_amount(alice: Stream) -> None:
    a = services.request_withdrawal("alice", "30", "alipay", ALIPAY, "r1")
    b = services.request_withdrawal("alice", "20", "alipay", ALIPAY, "r2")
    assert cny().available == 0
    services.approve_withdrawal(a.pk, "d1", by="user:1")
    assert services.approve_withdrawal(a.pk, "d1", by="user:1").status == "approved"  # the same click twice
    with pytest.raises(ServiceError) as error:
        services.refuse_withdrawal(a.pk, "changed my mind", "d2", by="user:1")
    assert error.value.code == "ALREADY_DECIDED"
    with pytest.raises(ServiceError) as error:
        services.refuse_withdrawal(b.pk, "  ", "d3", by="user:1")
    assert error.value.code == "REASON_REQUIRED"
    refused = services.refuse_withdrawal(b.pk, "account name does not match", "d4", by="user:2")
    assert (refused.status, refused.reason, refused.decided_by) == ("refused", "account name does not match", "user:2")
    b_ = cny()
    assert (b_.approved_withdrawals, b_.requested, b_.available) == (Decimal("30.00"), 0, Decimal("20.00"))
    actions = list(PayoutChange.objects.order_by("id").values_list("action", "by", "withdrawal"))
    assert actions == [("requested", "alice", a.pk), ("requested", "alice", b.pk), ("approved", "user:1", a.pk),
                       ("refused", "user:2", b.pk)]
    with pytest.raises(ServiceError) as error:
        services.approve_withdrawal(b.pk, "d4", by="user:1")  # d4 refused b: not an approval
    assert error.value.code == "REQUEST_ID_REUSED"


def test_a_batch_exports_approved_withdrawals_and_paid_counts_as_withdrawn(alice: Stream) -> None:
    a = services.request_withdrawal("alice", "30", "bank", BANK, "r1")
    b = services.request_withdrawal("alice", "15", "alipay", ALIPAY, "r2")
    services.approve_withdrawal(a.pk, "d1", by="user:1")
    services.approve_withdrawal(b.pk, "d2", by="user:1")
    with pytest.raises(ServiceError) as error:
        services.create_payout_batch("USD", "b0", by="user:1")
    assert error.value.code == "NOTHING_TO_PAY"
    batch = services.create_payout_batch("CNY", "b1", by="user:1")
    assert services.create_payout_batch("CNY", "b1", by="user:1").id == batch.id
    assert (batch.total, batch.count, batch.delivery) == (Decimal("45.00"), 2, "none")
    assert cny().exported == Decimal("45.00")
    rows = list(csv.DictReader(io.StringIO(batch_csv(batch))))
    assert [(r["withdrawal"], r["amount"], r["method"], r["account_number"], r["bank"]) for r in rows] == [
        (str(a.pk), "30.00", "bank", "6222 0212 3456 7890", "ICBC"),
        (str(b.pk), "15.00", "alipay", "zhangsan@example.com", "")]
    paid = services.mark_batch_paid(batch.id, "p1", by="user:1")
    assert services.mark_batch_paid(batch.id, "p1", by="user:1").paid_at == paid.paid_at
    with pytest.raises(ServiceError) as error:
        services.mark_batch_paid(batch.id, "p2", by="user:1")
    assert error.value.code == "ALREADY_PAID"
    b_ = cny()
    assert (b_.withdrawn, b_.pending, b_.available) == (Decimal("45.00"), 0, Decimal("5.00"))
    assert set(Withdrawal.objects.values_list("status", flat=True)) == {"paid"}
    assert PayoutChange.objects.filter(action="paid").count() == 3  # the batch and each withdrawal


def test_a_refund_after_approval_is_offset_against_the_next_payout(alice: Stream) -> None:
    w = services.request_withdrawal("alice", "50", "alipay", ALIPAY, "r1")
    services.approve_withdrawal(w.pk, "d1", by="user:1")
    services.mark_batch_paid(services.create_payout_batch("CNY", "b1", by="user:1").id, "p1", by="user:1")
    alice.add("order.refunded", 60 * 24 * 9, order="o1", lines=[{"line": "1", "amount": "600.00"}])
    play(alice, settle_days=9.5)
    clawback = LedgerEntry.objects.get(beneficiary="alice", kind="clawback")
    assert (clawback.amount, clawback.status) == (Decimal("-30.00"), "approved")
    b = cny()
    assert (b.approved, b.offsets, b.withdrawn, b.available) == (
        Decimal("50.00"), Decimal("30.00"), Decimal("50.00"), Decimal("-30.00"))
    with pytest.raises(ServiceError) as error:
        services.request_withdrawal("alice", "10", "alipay", ALIPAY, "r2")
    assert error.value.code == "INSUFFICIENT_BALANCE" and "30.00 CNY" in error.value.message
    play(alice, settle_days=16)  # o2 (20.00) approved: still 10.00 short
    assert cny().available == Decimal("-10.00")
    sell(alice, "o3", "1000.00", 60 * 24 * 16)
    play(alice, settle_days=24)
    assert cny().available == Decimal("40.00")  # 50 + 20 + 50 - 30 clawed back - 50 paid
    assert services.request_withdrawal("alice", "40", "alipay", ALIPAY, "r3").amount == Decimal("40.00")


def test_a_clawback_between_request_and_approval_blocks_the_approval(alice: Stream) -> None:
    w = services.request_withdrawal("alice", "50", "alipay", ALIPAY, "r1")
    alice.add("order.refunded", 60 * 24 * 9, order="o1", lines=[{"line": "1", "amount": "200.00"}])
    play(alice, settle_days=9.5)
    with pytest.raises(ServiceError) as error:
        services.approve_withdrawal(w.pk, "d1", by="user:1")
    assert error.value.code == "NOT_COVERED" and "10.00 CNY" in error.value.message
    assert services.refuse_withdrawal(w.pk, "refund after approval", "d2", by="user:1").status == "refused"
    assert cny().available == Decimal("40.00")


def test_withdrawals_of_lists_newest_first_without_the_account(alice: Stream) -> None:
    services.request_withdrawal("alice", "10", "alipay", ALIPAY, "r1")
    services.request_withdrawal("alice", "12", "wechat", {"name": "Zhang San", "number": "wxid_zhangsan"}, "r2")
    rows = list(services.withdrawals_of("alice"))
    assert [(w.amount, w.method, w.account_masked) for w in rows] == [
        (Decimal("12.00"), "wechat", "w*** Z***"), (Decimal("10.00"), "alipay", "z***@example.com Z***")]
    assert Distributor.objects.filter(id="alice").exists() and list(services.withdrawals_of("bob")) == []


def test_the_payout_settings_are_checked(settings: Any) -> None:
    from saleor_livedist.checks import check_payouts
    from saleor_livedist.conf import get_setting

    settings.LIVEDIST = {}
    assert [m.id for m in check_payouts()] == ["saleor_livedist.W005"]  # no key of its own: derived, with a warning
    settings.LIVEDIST = {"PAYOUT_KEY": "not-a-fernet-key"}
    assert [m.id for m in check_payouts()] == ["saleor_livedist.E005"]
    settings.LIVEDIST = {"PAYOUT_KEY": "A" * 43 + "=", "PAYOUT_WEBHOOK_URL": "https://gw.example/payouts"}
    assert [m.id for m in check_payouts()] == ["saleor_livedist.E006"]
    settings.LIVEDIST = {"WITHDRAWAL_MINIMUM": 10.5}
    assert [m.id for m in check_payouts()] == ["saleor_livedist.E005"]  # a float is never money
    settings.LIVEDIST = {"WITHDRAWAL_MINIMUM": {"cny": "20", "*": 5}, "PAYOUT_METHODS": "alipay, bank"}
    assert get_setting("WITHDRAWAL_MINIMUM") == {"CNY": Decimal("20"), "*": Decimal("5")}
    assert services.minimum_for("USD") == Decimal("5") and get_setting("PAYOUT_METHODS") == ["alipay", "bank"]
    settings.LIVEDIST = {"PAYOUT_METHODS": ["alipay", "cash"]}
    assert [m.id for m in check_payouts()] == ["saleor_livedist.E005"]


def test_a_new_key_first_still_reads_accounts_sealed_with_the_old(alice: Stream, settings: Any) -> None:
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.LIVEDIST = {"PAYOUT_KEY": old}
    w = services.request_withdrawal("alice", "20", "alipay", ALIPAY, "r1")
    settings.LIVEDIST = {"PAYOUT_KEY": f"{new},{old}"}
    assert unseal(Withdrawal.objects.get(pk=w.pk).account).number == "zhangsan@example.com"
    settings.LIVEDIST = {"PAYOUT_KEY": new}
    from cryptography.fernet import InvalidToken

    with pytest.raises(InvalidToken):
        unseal(Withdrawal.objects.get(pk=w.pk).account)


def test_a_banned_distributor_withdraws_nothing_until_the_ban_is_lifted(alice: Stream) -> None:
    """Commission booked before a ban stays theirs, but it is held: no new request, and staff cannot approve one
    made before; they may refuse it. After the unban the whole approved balance can be withdrawn again."""
    from saleor_livedist.distribution.services import ban_distributor, unban_distributor

    earlier = services.request_withdrawal("alice", "20", "alipay", ALIPAY, "r1")
    ban_distributor("alice", "fake orders", banned_by="user:1")
    with pytest.raises(ServiceError) as error:
        services.request_withdrawal("alice", "10", "alipay", ALIPAY, "r2")
    assert error.value.code == "BANNED"
    with pytest.raises(ServiceError) as error:
        services.approve_withdrawal(earlier.pk, "d1", by="user:1")
    assert (error.value.code, Withdrawal.objects.get(pk=earlier.pk).status) == ("BANNED", "requested")
    assert services.refuse_withdrawal(earlier.pk, "banned: fake orders", "d2", by="user:1").status == "refused"
    unban_distributor("alice", unbanned_by="user:1")
    assert services.request_withdrawal("alice", "50.00", "alipay", ALIPAY, "r3").status == "requested"
    assert cny().available == 0
