"""A property of payouts on real PostgreSQL: whatever sequence of approvals, clawbacks, withdrawal requests,
staff decisions, batches and paid marks happens, the balance is approved - withdrawn - pending - offsets to the
cent, no withdrawal is accepted above the balance, and the rows reconcile (batches, changes, statuses)."""
from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings, strategies as st

from saleor_livedist.exceptions import ServiceError
from saleor_livedist.models import Distributor, LedgerEntry, Payee, PayoutBatch, PayoutChange, Withdrawal
from saleor_livedist.payouts import services

pytestmark = pytest.mark.django_db
PEOPLE = ["d0", "d1"]
ALIPAY = {"name": "Zhang San", "number": "zhangsan@example.com"}
cents = st.integers(1, 9000).map(lambda n: Decimal(n).scaleb(-2))
operations = st.lists(st.one_of(
    st.tuples(st.just("approve"), st.sampled_from(PEOPLE), cents),
    st.tuples(st.just("earn"), st.sampled_from(PEOPLE), cents),  # pending in the ledger: not withdrawable
    st.tuples(st.just("clawback"), st.sampled_from(PEOPLE), cents),
    st.tuples(st.just("request"), st.sampled_from(PEOPLE), cents, st.integers(0, 5)),  # request ids repeat
    st.tuples(st.just("decide"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("batch"), st.integers(0, 3)),
    st.tuples(st.just("paid"), st.integers(0, 5), st.integers(0, 3)),
), max_size=40)


class Model:
    """What the balance must be, kept by the test from what it did and what the services answered."""

    def __init__(self) -> None:
        self.approved = {p: Decimal(0) for p in PEOPLE}
        self.offsets = {p: Decimal(0) for p in PEOPLE}
        self.withdrawals: dict[int, tuple[str, Decimal]] = {}  # pk -> (who, amount)

    def by_status(self, who: str, *statuses: str) -> Decimal:
        pks = [pk for pk, (w, _) in self.withdrawals.items() if w == who]
        return sum((w.amount for w in Withdrawal.objects.filter(pk__in=pks, status__in=statuses)), Decimal(0))

    def available(self, who: str) -> Decimal:
        return self.approved[who] - self.offsets[who] - self.by_status(who, "paid") - self.by_status(
            who, "requested", "approved", "exported")


def book(who: str, amount: Decimal, kind: str, status: str, n: itertools.count) -> None:
    k = next(n)
    LedgerEntry.objects.create(id=f"o{k}:1:1:1", order=f"o{k}", line="1", beneficiary=who, kind=kind, level=1,
                               amount=amount, currency="CNY", status=status, percent=Decimal(5), rule_ids=["r"],
                               rules_version="v", at=timezone.now())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops=operations)
def test_the_balance_reconciles_to_the_cent_whatever_happens(ops: list[tuple[Any, ...]], settings: Any) -> None:
    for model in (PayoutChange, Withdrawal, PayoutBatch, Payee, LedgerEntry, Distributor):
        model.objects.all().delete()
    for who in PEOPLE:
        Distributor.objects.create(id=who, joined_at=timezone.now(), rank="distributor", ranks=[])
    model, n, batches, request_ids = Model(), itertools.count(), [], itertools.count()
    for op in ops:
        kind = op[0]
        if kind in ("approve", "earn"):
            book(op[1], op[2], "commission", "approved" if kind == "approve" else "pending", n)
            if kind == "approve":
                model.approved[op[1]] += op[2]
        elif kind == "clawback":
            book(op[1], -op[2], "clawback", "approved", n)
            model.offsets[op[1]] += op[2]
        elif kind == "request":
            who, amount, rid = op[1], op[2], f"r{op[3]}"
            before = model.available(who)
            earlier = Withdrawal.objects.filter(distributor=who, request_id=rid).first()
            try:
                w = services.request_withdrawal(who, amount, "alipay", ALIPAY, rid, currency="CNY")
            except ServiceError as exc:
                assert exc.code in ("INSUFFICIENT_BALANCE", "BELOW_MINIMUM", "REQUEST_ID_REUSED"), exc.code
                if exc.code == "INSUFFICIENT_BALANCE":
                    assert amount > before and earlier is None
                if exc.code == "BELOW_MINIMUM":
                    assert amount < 10 and earlier is None
                if exc.code == "REQUEST_ID_REUSED":
                    assert earlier is not None and earlier.amount != amount
            else:
                if earlier is not None:
                    assert w.pk == earlier.pk and w.amount == amount  # the same request: nothing new
                else:
                    assert Decimal(10) <= amount <= before, "a withdrawal above the balance was accepted"
                    model.withdrawals[w.pk] = (who, amount)
        elif kind == "decide" and model.withdrawals:
            pk = sorted(model.withdrawals)[op[1] % len(model.withdrawals)]
            try:
                if op[2]:
                    services.approve_withdrawal(pk, f"d{next(request_ids)}", by="user:1")
                else:
                    services.refuse_withdrawal(pk, "no", f"d{next(request_ids)}", by="user:1")
            except ServiceError as exc:
                assert exc.code in ("ALREADY_DECIDED", "NOT_COVERED"), exc.code
                if exc.code == "NOT_COVERED":
                    assert model.available(model.withdrawals[pk][0]) < 0
        elif kind == "batch":
            try:
                batches.append(services.create_payout_batch("CNY", f"b{op[1]}", by="user:1").id)
            except ServiceError as exc:
                assert exc.code == "NOTHING_TO_PAY"
        elif kind == "paid" and batches:
            try:
                services.mark_batch_paid(batches[op[1] % len(batches)], f"p{op[2]}", by="user:1")
            except ServiceError as exc:
                assert exc.code in ("ALREADY_PAID", "REQUEST_ID_REUSED"), exc.code
        for who in PEOPLE:
            b = services.balance(who).get("CNY")
            if b is None:
                assert model.approved[who] == model.offsets[who] == 0 and not model.by_status(who, "requested")
                continue
            assert b.approved == model.approved[who] and b.offsets == model.offsets[who]
            assert b.withdrawn == model.by_status(who, "paid")
            assert b.pending == model.by_status(who, "requested", "approved", "exported")
            assert b.available == b.approved - b.withdrawn - b.pending - b.offsets == model.available(who)
            assert b.available.as_tuple().exponent == -2  # to the cent
    assert Withdrawal.objects.count() == len(model.withdrawals)
    for batch in PayoutBatch.objects.all():
        rows = list(batch.withdrawals.all())
        assert batch.total == sum((w.amount for w in rows), Decimal(0)) and batch.count == len(rows)
        assert {w.status for w in rows} == {"paid" if batch.status == "paid" else "exported"}
    for w in Withdrawal.objects.all():
        actions = list(w.changes.order_by("id").values_list("action", flat=True))
        expected = {"requested": ["requested"], "approved": ["requested", "approved"],
                    "refused": ["requested", "refused"], "exported": ["requested", "approved", "exported"],
                    "paid": ["requested", "approved", "exported", "paid"]}[w.status]
        assert actions == expected, (w.status, actions)
