"""A payout batch sent to a real HTTP server standing in for the payment gateway: signed body, timestamp,
idempotency key; a gateway that fails is recorded; the gateway's signed callback marks the batch paid once."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from saleor_livedist.models import Distributor, LedgerEntry, PayoutBatch, Withdrawal
from saleor_livedist.payouts import services, webhook

pytestmark = pytest.mark.django_db
SECRET = "shared-with-the-gateway"


class Gateway(http.server.ThreadingHTTPServer):
    answer = 200
    received: list[tuple[dict[str, str], bytes]]


@pytest.fixture
def gateway(settings: Any) -> Iterator[Gateway]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.server.received.append((dict(self.headers), body))  # type: ignore[attr-defined]
            self.send_response(self.server.answer)  # type: ignore[attr-defined]
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = Gateway(("127.0.0.1", 0), Handler)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.LIVEDIST = {"PAYOUT_WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/payouts",
                         "PAYOUT_WEBHOOK_SECRET": SECRET}
    yield server
    server.shutdown()


def approved_batch() -> PayoutBatch:
    Distributor.objects.create(id="alice", joined_at=timezone.now(), rank="distributor", ranks=[])
    LedgerEntry.objects.create(id="o1:1:1:1", order="o1", line="1", beneficiary="alice", kind="commission", level=1,
                               amount=Decimal("80.00"), currency="CNY", status="approved", percent=Decimal(5),
                               rule_ids=["r"], rules_version="v", at=timezone.now())
    w = services.request_withdrawal("alice", "60.50", "bank",
                                    {"name": "Li Si", "number": "6222 0212 3456 7890", "bank": "ICBC"}, "r1")
    services.approve_withdrawal(w.pk, "d1", by="user:1")
    return services.create_payout_batch("CNY", "b1", by="user:1")


def signed(body: bytes, stamp: int) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_the_batch_reaches_the_gateway_signed_with_its_id_as_idempotency_key(gateway: Gateway,
                                                                             django_capture_on_commit_callbacks: Any
                                                                             ) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        batch = approved_batch()
    assert len(gateway.received) == 1
    headers, body = gateway.received[0]
    stamp = int(headers["X-Livedist-Timestamp"])
    assert abs(stamp - time.time()) < 60
    assert headers["X-Livedist-Signature"] == signed(body, stamp)
    assert headers["Idempotency-Key"] == batch.id
    data = json.loads(body)
    assert (data["type"], data["batch"], data["currency"], data["total"], data["count"]) == (
        "payout.batch", batch.id, "CNY", "60.50", 1)
    assert data["items"][0]["account"] == {"name": "Li Si", "number": "6222 0212 3456 7890", "bank": "ICBC"}
    batch.refresh_from_db()
    assert (batch.delivery, batch.delivery_attempts) == ("sent", 1)
    assert webhook.deliver(batch.id) is False and len(gateway.received) == 1  # delivered batches are not resent


def test_a_failing_gateway_is_recorded_and_tried_again(gateway: Gateway,
                                                       django_capture_on_commit_callbacks: Any) -> None:
    gateway.answer = 503
    with django_capture_on_commit_callbacks(execute=True):
        batch = approved_batch()
    batch.refresh_from_db()
    assert (batch.delivery, batch.delivery_attempts, batch.delivery_error) == ("failed", 1,
                                                                               "the gateway answered 503")
    gateway.answer = 200
    assert webhook.deliver(batch.id) is True
    batch.refresh_from_db()
    assert (batch.delivery, batch.delivery_attempts) == ("sent", 2)
    first, second = gateway.received
    assert first[0]["Idempotency-Key"] == second[0]["Idempotency-Key"] == batch.id


def test_the_gateway_callback_marks_the_batch_paid_once(gateway: Gateway) -> None:
    batch = approved_batch()
    client = Client()

    def call(payload: dict[str, Any], stamp: int | None = None, signature: str | None = None) -> Any:
        body = json.dumps(payload).encode()
        stamp = stamp or int(time.time())
        return client.post("/payouts/callback", body, content_type="application/json",
                           HTTP_X_LIVEDIST_TIMESTAMP=str(stamp),
                           HTTP_X_LIVEDIST_SIGNATURE=signature or signed(body, stamp))

    paid = {"type": "payout.paid", "batch": batch.id, "request_id": "gw-1"}
    assert call(paid, signature="sha256=" + "0" * 64).status_code == 401
    assert call(paid, stamp=int(time.time()) - 600).status_code == 401  # a replay of an old callback
    assert call({"type": "payout.paid"}).status_code == 400
    assert call({**paid, "batch": "pb_nope"}).json()["error"]["code"] == "NOT_FOUND"
    assert Withdrawal.objects.get().status == "exported"
    answer = call(paid)
    assert (answer.status_code, answer.json()) == (200, {"batch": batch.id, "status": "paid"})
    assert call({**paid, "request_id": "gw-2"}).status_code == 200  # told twice: still paid once
    w = Withdrawal.objects.get()
    assert w.status == "paid" and w.changes.filter(action="paid").get().by == "gateway"
    assert services.balance("alice")["CNY"].available == Decimal("19.50")
