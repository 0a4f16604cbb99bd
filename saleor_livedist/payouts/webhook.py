"""A payout batch as the payment gateway gets it: a CSV for staff to upload by hand, and a signed JSON POST
to PAYOUT_WEBHOOK_URL (retried by Celery) whose idempotency key is the batch id; the gateway's callback that
marks a batch paid is signed the same way. The format, for writing a gateway adapter: docs/payouts.md."""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..conf import get_setting
from ..core.money import round_money
from ..inbox import broker
from ..models import PayoutBatch
from .accounts import unseal

logger = logging.getLogger(__name__)

SEND_PAYOUT_BATCH = "saleor_livedist.send_payout_batch"
SIGNATURE_HEADER, TIMESTAMP_HEADER, IDEMPOTENCY_HEADER = "X-Livedist-Signature", "X-Livedist-Timestamp", \
    "Idempotency-Key"
TOLERANCE_SECONDS = 300  # a signed request older (or newer) than this is refused: a replay
CSV_COLUMNS = ["batch", "withdrawal", "distributor", "amount", "currency", "method", "account_name",
               "account_number", "bank", "requested_at"]


def webhook_configured() -> bool:
    return bool(get_setting("PAYOUT_WEBHOOK_URL"))


def _items(batch: PayoutBatch) -> list[dict[str, Any]]:
    out = []
    for w in batch.withdrawals.order_by("id"):
        account = unseal(w.account)
        out.append({"withdrawal": w.pk, "distributor": w.distributor, "amount": str(round_money(w.amount, w.currency)),
                    "currency": w.currency, "method": w.method,
                    "account": {"name": account.name, "number": account.number, "bank": account.bank},
                    "requested_at": w.created_at.isoformat()})
    return out


def batch_body(batch: PayoutBatch) -> bytes:
    """The webhook's body: the batch and every withdrawal in it with the full account details to pay."""
    return json.dumps({"type": "payout.batch", "batch": batch.id, "currency": batch.currency,
                       "total": str(round_money(batch.total, batch.currency)), "count": batch.count,
                       "created_at": batch.created_at.isoformat(), "items": _items(batch)},
                      sort_keys=True, ensure_ascii=False).encode()


def batch_csv(batch: PayoutBatch) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    body = json.loads(batch_body(batch))
    for item in body["items"]:
        account = item["account"]
        writer.writerow([batch.id, item["withdrawal"], item["distributor"], item["amount"], item["currency"],
                         item["method"], account["name"], account["number"], account["bank"], item["requested_at"]])
    return out.getvalue()


def _secret() -> bytes:
    return str(get_setting("PAYOUT_WEBHOOK_SECRET")).encode()


def sign(body: bytes, timestamp: int) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>." + body>` with PAYOUT_WEBHOOK_SECRET."""
    return "sha256=" + hmac.new(_secret(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(body: bytes, timestamp: str | None, signature: str | None, now: float | None = None) -> bool:
    """A request signed by whoever holds PAYOUT_WEBHOOK_SECRET within the last TOLERANCE_SECONDS."""
    if not _secret() or not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(body, int(timestamp)), signature)


def send_batch_later(batch_id: str) -> None:
    """After the batch commits: a Celery task where a broker is configured (retried there), else at once."""
    if broker.broker_configured() and broker.publish(SEND_PAYOUT_BATCH, (batch_id,)):
        return
    try:
        deliver(batch_id)
    except Exception:  # recorded on the batch; staff send it again from the console
        logger.warning("livedist: payout batch %s not delivered", batch_id)


def deliver(batch_id: str) -> bool:
    """POST the batch to the gateway once; the outcome is kept on the batch. Raises if the gateway did not take
    it (the task retries); True if delivered, False if there is nothing to send."""
    url = get_setting("PAYOUT_WEBHOOK_URL")
    batch = PayoutBatch.objects.filter(id=batch_id).first()
    if batch is None or not url or batch.delivery == "sent":
        return False
    body, stamp = batch_body(batch), int(time.time())
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: sign(body, stamp),
        IDEMPOTENCY_HEADER: batch.id, "X-Livedist-Event": "payout.batch"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the merchant's own gateway
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        _record(batch_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    if status >= 300:
        _record(batch_id, "failed", f"the gateway answered {status}")
        raise OSError(f"the payment gateway answered {status} for payout batch {batch_id}")
    _record(batch_id, "sent", "")
    return True


def _record(batch_id: str, delivery: str, error: str) -> None:
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().get(id=batch_id)
        batch.delivery, batch.delivery_error = delivery, error[:2000]
        batch.delivery_attempts += 1
        if delivery == "sent":
            batch.delivered_at = timezone.now()
        batch.save(update_fields=["delivery", "delivery_error", "delivery_attempts", "delivered_at"])


def callback(request: Any) -> Any:
    """POST payouts/callback from the gateway: `{"type": "payout.paid", "batch": "<id>", "request_id": "..."}`,
    signed like the batches. Answers 200 (also for a batch marked paid already), 401 for a bad signature, 400 for
    a body it cannot use; the same callback twice changes nothing."""
    from django.http import JsonResponse
    from django.utils.translation import gettext as _

    from ..exceptions import ServiceError
    from .services import mark_batch_paid

    if request.method != "POST":
        return JsonResponse({"error": {"code": "METHOD", "message": _("send the callback as a POST")}}, status=405)
    body = request.body
    if not verify(body, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER)):
        return JsonResponse({"error": {"code": "BAD_SIGNATURE", "message": _(
            "the signature or its timestamp is missing, wrong or older than five minutes")}}, status=401)
    try:
        data = json.loads(body)
        assert isinstance(data, dict) and data.get("type") == "payout.paid" and isinstance(data.get("batch"), str)
    except (ValueError, AssertionError):
        return JsonResponse({"error": {"code": "INVALID", "message": _(
            "expected {\"type\": \"payout.paid\", \"batch\": \"<batch id>\"}")}}, status=400)
    request_id = str(data.get("request_id") or f"gateway:{data['batch']}")
    try:
        batch = mark_batch_paid(data["batch"], request_id, by="gateway")
    except ServiceError as exc:
        if exc.code != "ALREADY_PAID":
            return JsonResponse({"error": {"code": exc.code, "message": exc.message}}, status=400)
        batch = PayoutBatch.objects.get(id=data["batch"])
    return JsonResponse({"batch": batch.id, "status": batch.status})
