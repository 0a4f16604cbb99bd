"""The console's payouts page on real PostgreSQL through the sandbox's router: staff approve and refuse
withdrawals, export a batch, download its CSV, mark it paid; forms carry the console's token and a request id."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from saleor_livedist.models import Distributor, LedgerEntry, PayoutBatch, PayoutChange, Withdrawal
from saleor_livedist.payouts import services
from tests.integration.test_console import page, post, signed_in

pytestmark = pytest.mark.django_db
ALIPAY = {"name": "Zhang San", "number": "zhangsan@example.com"}


@pytest.fixture
def requests_() -> list[Withdrawal]:
    Distributor.objects.create(id="alice", joined_at=timezone.now(), rank="distributor", ranks=[])
    LedgerEntry.objects.create(id="o1:1:1:1", order="o1", line="1", beneficiary="alice", kind="commission", level=1,
                               amount=Decimal("100.00"), currency="CNY", status="approved", percent=Decimal(5),
                               rule_ids=["r"], rules_version="v", at=timezone.now())
    return [services.request_withdrawal("alice", "40", "alipay", ALIPAY, "r1"),
            services.request_withdrawal("alice", "25", "bank", {"name": "Li Si", "number": "6222021234567890",
                                                                 "bank": "ICBC"}, "r2")]


def test_staff_decide_export_and_mark_paid(requests_: list[Withdrawal]) -> None:
    a, b = requests_
    manager = signed_in("manager", superuser=True)
    html = page(manager, "payouts/")
    assert "z***@example.com Z***" in html and "ICBC •••• 7890 L***" in html
    assert "zhangsan@example.com" not in html and "6222021234567890" not in html
    request_id = re.search(r'name="request_id" value="([^"]+)"', html).group(1)
    done = post(manager, "payouts/decide", {"withdrawal": a.pk, "decision": "approve", "request_id": request_id})
    assert "Approved: 40.00 CNY" in done
    post(manager, "payouts/decide", {"withdrawal": a.pk, "decision": "approve", "request_id": request_id})  # twice
    assert PayoutChange.objects.filter(action="approved").count() == 1
    refused = post(manager, "payouts/decide", {"withdrawal": b.pk, "decision": "refuse", "request_id": "x2"}, 400)
    assert "say why the withdrawal is refused" in refused
    post(manager, "payouts/decide", {"withdrawal": b.pk, "decision": "refuse", "reason": "wrong bank",
                                     "request_id": "x3"})
    assert Withdrawal.objects.get(pk=b.pk).reason == "wrong bank"
    html = post(manager, "payouts/batch", {"currency": "CNY", "request_id": "x4"})
    batch = PayoutBatch.objects.get()
    assert f"Payout batch {batch.id}: 1 withdrawals, 40.00 CNY." in html
    csv = manager.get(f"/console/payouts/batches/{batch.id}.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "zhangsan@example.com" in csv.content.decode() and "40.00" in csv.content.decode()
    assert "is marked paid" in post(manager, "payouts/paid", {"batch": batch.id, "request_id": "x5"})
    assert Withdrawal.objects.get(pk=a.pk).status == "paid"
    assert services.balance("alice")["CNY"].available == Decimal("60.00")


def test_the_forms_need_the_token_and_the_permission(requests_: list[Withdrawal]) -> None:
    a = requests_[0]
    manager = signed_in("manager", superuser=True)
    post(manager, "payouts/decide", {"withdrawal": a.pk, "decision": "approve", "request_id": "y"}, 403,
         with_token=False)
    clerk = signed_in("clerk", perms=("saleor_livedist.view_ledgerentry",))
    html = page(clerk, "payouts/")
    assert "z***@example.com" in html and 'action="/console/payouts/decide' not in html
    post(clerk, "payouts/decide", {"withdrawal": a.pk, "decision": "approve", "request_id": "y"}, 403)
    services.approve_withdrawal(a.pk, "d1", by="user:1")
    batch = services.create_payout_batch("CNY", "b1", by="user:1")
    assert clerk.get(f"/console/payouts/batches/{batch.id}.csv").status_code == 403
    assert Withdrawal.objects.get(pk=a.pk).status == "exported"
    assert Client().get("/console/payouts/").status_code in (302, 401)


def test_the_page_in_chinese(requests_: list[Withdrawal]) -> None:
    manager = signed_in("manager", superuser=True)
    html = manager.get("/console/payouts/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "提现" in html and "支付宝" in html
